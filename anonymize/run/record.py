"""What a run writes besides the outputs, and what it says at the end.

The manifest is saved as the run goes, so that a killed run can resume (``--resume``: an input an
earlier run already did with the same settings, whose outputs are intact, is not done again);
the redaction records go beside it; uploads and a dataset's copied files are listed in it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from anonymize import storage
from anonymize.detectors import BackendConfig, Detector
from anonymize.errors import AnonymizeError
from anonymize.manifest import NAME as MANIFEST
from anonymize.manifest import SAVE_EVERY, Entry, Manifest, file_sha256, model_entry, sha256_of
from anonymize.outputs import Planned
from anonymize.records import FOLDER as RECORDS
from anonymize.records import Records
from anonymize.result import summarize
from anonymize.run.item import say
from anonymize.run.options import RunOptions
from anonymize.run.sinks import write_file
from anonymize.run.sources import Copy
from anonymize.settings import Settings
from anonymize.upload import RoboflowUploader


@dataclass
class RunRecord:
    """What a run writes besides the outputs: the manifest (saved as it goes, so that a killed run
    can resume), the redaction records, and what an earlier run left (``--resume``)."""

    outdir: Path
    manifest: Manifest
    records: Records | None = None
    previous: Manifest | None = None
    previous_coco: dict = field(default_factory=dict)
    #: Where the files written under ``outdir`` go, when -o is a URI.
    staging: storage.Staging | None = None
    saved: float = 0.0
    copy_failed: bool = False

    def add(self, entry: Entry) -> None:
        self.manifest.add(entry)
        if time.monotonic() - self.saved >= SAVE_EVERY:
            self.save()

    def save(self, *, finished: bool = False) -> bool:
        """Write the records and the manifest; False (and a line on stderr) when they cannot be written."""
        try:
            # Records first: an entry in the manifest always has its records on disk.
            if self.records is not None:
                for name, data in self.records.summary_files().items():
                    self.write(self.outdir / RECORDS / name, data)
            self.manifest.save(self.outdir, finished=finished)
            self.send(self.outdir / MANIFEST)
        except AnonymizeError as error:
            say(f"error: the run's record: {error}")
            return False
        finally:
            self.saved = time.monotonic()
        return True

    def done_before(self, item: Planned, sha256: str | None, review: str | None) -> Entry | None:
        """An earlier run's entry for ``item`` that still holds: same settings, same input, its outputs intact."""
        if self.previous is None or sha256 is None or self.previous.fingerprint != self.manifest.fingerprint:
            return None
        entry = next((e for e in self.previous.entries if e.input == item.input), None)
        if entry is None or entry.status == "failed" or entry.input_sha256 != sha256 or entry.review != review:
            return None
        if self.output_sha256(item.target) != entry.output_sha256 or (
            item.sidecar and self.output_sha256(item.sidecar) is None
        ):
            return None
        if self.records is not None and entry.frames is None:
            self.records.carry(self.previous_coco, entry.output)
        return replace(entry, resumed=True)

    def write(self, path: Path, data: bytes) -> None:
        """Write a file under ``outdir`` (and send it on, when -o is a URI)."""
        write_file(path, data)
        self.send(path)

    def send(self, path: Path) -> None:
        """Push a file written under ``outdir`` to its URI, when -o is one."""
        if self.staging and self.staging.output:
            storage.push(path, self.staging.uri_of(path))

    def output_sha256(self, path: Path) -> str | None:
        """The sha256 of an output as it is now, or None when there is none."""
        if self.staging and self.staging.output:
            return storage.sha256(self.staging.uri_of(path))
        return file_sha256(path) if path.is_file() else None


def start_record(
    options: RunOptions,
    outdir: Path,
    backend: BackendConfig,
    detector: Detector,
    settings: Settings,
    uploader: RoboflowUploader | None,
    staging: storage.Staging | None = None,
    *,
    resume: bool = False,
) -> RunRecord:
    """The run's manifest (model, files, settings, options that shape the outputs), its records, and what an earlier run left."""
    model = model_entry(backend, detector)
    manifest = Manifest.start(model, settings.to_json(), options.shaping_outputs())
    if uploader:
        manifest.upload = uploader.destination
    records = Records(settings.classes or detector.classes, masks=options.masks) if options.records else None
    if resume and staging and staging.output:  # an earlier run's record, to read here
        for name in (MANIFEST, f"{RECORDS}/coco.json"):
            try:
                storage.fetch(storage.join(staging.output, name), outdir / name)
            except AnonymizeError:
                pass  # none: every input is processed
    previous = Manifest.load(outdir) if resume else None
    if resume and previous is None and (outdir / MANIFEST).exists():
        say(f"note: --resume: {outdir / MANIFEST} is not a manifest this tool can read; every input is processed again")
    if resume and previous is not None and previous.fingerprint != manifest.fingerprint:
        say("note: --resume: the earlier run used other settings or another model; every input is processed again")
    try:
        previous_coco = (
            json.loads((outdir / RECORDS / "coco.json").read_text()) if resume and records is not None else {}
        )
    except (OSError, ValueError):
        previous_coco = {}
    return RunRecord(outdir, manifest, records, previous, previous_coco, staging)


def with_upload(entry: Entry, item: Planned, uploader: RoboflowUploader | None, record: RunRecord) -> Entry:
    """``entry``, with its picture uploaded when asked and not done yet."""
    if (
        uploader
        and entry.status != "failed"
        and entry.frames is None
        and (entry.upload or {}).get("status") != "uploaded"
    ):
        entry.upload = upload(uploader, item, record.staging)
    return entry


def copy_through(copies: list[Copy], record: RunRecord, *, resume: bool) -> bool:
    """Copy a dataset's other files (labels, its YAML or COCO JSON; a str is a URI) as they are, each listed in the manifest;
    False if one failed."""
    ok = True
    for source, target in copies:
        try:
            data = storage.read(source) if isinstance(source, str) else source.read_bytes()
            if not (resume and record.output_sha256(target) == sha256_of(data)):
                record.write(target, data)
            record.manifest.copied.append(
                {"file": target.relative_to(record.outdir).as_posix(), "sha256": sha256_of(data)}
            )
        except (OSError, AnonymizeError) as error:
            say(f"error: {source}: not copied ({getattr(error, 'strerror', None) or error})")
            ok = False
    return ok


def upload(uploader: RoboflowUploader, item: Planned, staging: storage.Staging | None = None) -> dict[str, str]:
    """Upload one anonymized output (fetched back first when -o is a URI); how it went, for the manifest
    (a failure is also said on stderr)."""
    remote = staging is not None and staging.output is not None
    try:
        if remote:
            storage.fetch(staging.uri_of(item.target), item.target)
        return {"status": "uploaded", "id": uploader.upload(item.target)}
    except AnonymizeError as error:
        say(f"error: {staging.uri_of(item.target) if remote else item.target}: {error}")
        return {"status": "failed", "reason": str(error)}
    finally:
        if remote:
            item.target.unlink(missing_ok=True)


def summary(manifest: Manifest, seconds: float, backend: str, outdir: Path | str) -> str:
    """What a run did, from its manifest, for the end of the run."""
    entries = manifest.entries
    failed = [e for e in entries if e.status == "failed"]
    images = [e for e in entries if e.status != "failed" and e.frames is None]
    videos = [e for e in entries if e.status != "failed" and e.frames is not None]
    lines = [
        f"{len(entries) - len(failed)} of {len(entries)} file(s) written to {outdir} in {seconds:.1f} s, with the {backend}."
    ]

    def hidden_in(group: list[Entry]) -> str:
        return summarize(sum((Counter(e.hidden) for e in group), Counter()), sum(e.low_confidence for e in group))

    if images:
        unchanged = sum(e.status == "unchanged" for e in images)
        said = f"; {unchanged} with nothing of a class to hide, written as they were" if unchanged else ""
        lines.append(f"  images: {len(images)}, hidden: {hidden_in(images)}{said}")
    reviewed = [e for e in entries if e.review]
    if reviewed:
        lines.append(
            f"  reviewed: {len(reviewed)} file(s) rendered with their edits: {sum(e.added_by_hand for e in reviewed)} box(es) added by hand, "
            f"{sum(e.kept_visible for e in reviewed)} detection(s) or track(s) kept visible on purpose"
        )
    if videos:
        lines.append(
            f"  videos: {len(videos)}, {sum(e.frames for e in videos)} frames (detection ran on "
            f"{sum(e.frames_detected or 0 for e in videos)}, tracking covered the rest), hidden: "
            f"{hidden_in(videos)} (tracks: a face or plate followed through the frames counts once)"
        )
    if images and videos:  # the figure manifest.json's totals give
        lines.append(f"  in all: hidden {hidden_in(images + videos)}")
    resumed = sum(e.resumed for e in entries)
    if resumed:
        lines.append(f"  resumed: {resumed} file(s) already done by an earlier run, not processed again")
    uploads = Counter(e.upload["status"] for e in entries if e.upload)
    if uploads:
        lines.append(
            f"  uploaded: {uploads['uploaded']} to {manifest.upload['to']}"
            + (f", {uploads['failed']} failed (each named above)" if uploads["failed"] else "")
        )
    if failed:
        lines.append(f"  failed: {len(failed)} (each named above, with its reason)")
    lines.append(f"  record: {storage.join(outdir, MANIFEST) if isinstance(outdir, str) else outdir / MANIFEST}")
    return "\n".join(lines)
