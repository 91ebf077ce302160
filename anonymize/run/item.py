"""One input to one manifest entry: the runner every engine (the command line, the Ray actors) calls.

A picture is anonymized, encoded and written (with its predictions and records when asked); a
video is anonymized frame by frame into its target. Failures become a manifest entry with their
reason, said on stderr; warnings (a picture written with nothing hidden, a kept track not found
again) are said on stderr too.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Sequence

from tqdm import tqdm

from anonymize import storage
from anonymize.detections import CONFIDENT
from anonymize.detectors import BackendConfig, Detector, model_record
from anonymize.edits import PictureEdits, VideoEdits, edits_by_name, load_edits
from anonymize.errors import AnonymizeError, EditsError, MediaError, printable
from anonymize.inputs import not_a_file
from anonymize.manifest import Entry, file_sha256
from anonymize.media import encode_image, load_image
from anonymize.outputs import Planned
from anonymize.pipeline import anonymize_image
from anonymize.records import FOLDER as RECORDS
from anonymize.records import Records
from anonymize.result import Result
from anonymize.run.options import RunOptions
from anonymize.run.sinks import FolderSink, Sink
from anonymize.settings import Settings, unknown_classes
from anonymize.video import VideoReport, anonymize_video

#: A reviewed input: the settings it was reviewed with and its edits.
Review = tuple[Settings, PictureEdits | VideoEdits]


def say(line: str) -> None:
    """One line on stderr, above any progress bar; a name holding a newline or another control character
    shows it escaped (``\\n``), so that it cannot forge a line of its own."""
    tqdm.write(printable(line), file=sys.stderr)


def process_or_fail(
    item: Planned,
    detector: Detector,
    settings: Settings,
    options: RunOptions,
    outdir: Path,
    records: Records | None,
    review: Review | None,
    sha256: str | None,
) -> Entry:
    """:func:`process`, or the entry of a failure, said on stderr with the file's whole path."""
    try:
        return process(item, detector, settings, options, outdir, records, review, sha256)
    except AnonymizeError as error:
        # Media errors start with the file's name; say its whole path instead.
        reason = str(error).removeprefix(f"{item.source.name}: ")
        say(f"error: {item.input}: {reason}")
        return Entry(item.input, sha256, "failed", reason=reason)


def process(
    item: Planned,
    detector: Detector,
    settings: Settings,
    options: RunOptions,
    outdir: Path,
    records: Records | None,
    review: Review | None,
    sha256: str | None,
) -> Entry:
    """Anonymize one input as planned; its manifest entry. A picture written with nothing hidden is warned about."""
    started = time.perf_counter()
    settings, edits = review or (settings, None)
    entry = Entry(
        item.input, sha256, "anonymized", item.target.relative_to(outdir).as_posix(), review=review_digest(review)
    )
    problem = item.problem or not_a_file(item.source)
    if problem:
        raise MediaError(problem)
    if item.format is None:
        report = process_video(item, detector, settings, options, edits)
        tracks = report.tracks.values()
        entry.hidden = dict(Counter(t.class_name for t in tracks if t.confidence >= CONFIDENT))
        entry.low_confidence = sum(t.confidence < CONFIDENT for t in tracks)
        entry.frames, entry.frames_detected = report.frames, report.frames_detected
        entry.kept_visible, entry.added_by_hand = len(report.kept_tracks), report.added_boxes
        entry.output_sha256 = file_sha256(item.target)
        for unmatched in report.unmatched_kept:
            say(
                f"warning: {item.input}: a track kept visible in review (frame {unmatched.frame}) was not found again; it stays hidden"
            )
    else:
        result = anonymize_image(load_image(item.source).pixels, detector, settings, edits)
        for unmatched in result.review.unmatched if result.review else ():
            say(
                f"warning: {item.input}: a detection kept visible in review ({unmatched.class_name} at "
                f"{unmatched.x1:.0f},{unmatched.y1:.0f}) was not found again; it stays hidden"
            )
        sidecar = item.sidecar.relative_to(outdir).as_posix() if item.sidecar else None
        encoded = write_picture(result, item.format, FolderSink(outdir), entry.output, sidecar, records, settings)
        if result.warning:
            say(f"warning: {item.input}: {result.warning}; written as it was")
        return Entry.of_picture(
            entry.input, sha256, entry.output, encoded, result, time.perf_counter() - started, entry.review
        )
    entry.seconds = round(time.perf_counter() - started, 3)
    return entry


def write_picture(
    result: Result,
    image_format: str,
    sink: Sink,
    output: str,
    sidecar: str | None,
    records: Records | None,
    settings: Settings,
) -> bytes:
    """Write an anonymized picture to ``sink`` as ``output`` (encoded clean, in ``image_format``), its predictions
    as ``sidecar`` and its records when asked; the picture's bytes."""
    encoded = encode_image(result.image, image_format)
    sink.write(output, encoded)
    if sidecar:
        sink.write(sidecar, json.dumps(result.to_json(), indent=2).encode())
    if records is not None:
        for name, data in records.add(output, result, settings).items():
            sink.write(f"{RECORDS}/{name}", data)
    return encoded


def process_staged(
    item: Planned,
    detector: Detector,
    settings: Settings,
    options: RunOptions,
    outdir: Path,
    records: Records | None,
    review: Review | None,
    staging: storage.Staging,
) -> Entry:
    """:func:`process_or_fail` for a run with URIs: the input fetched into a folder of its own, the outputs
    written there and pushed to -o's URI, the folder removed after, so that no copy stays. A fetch or a push
    that fails fails the entry (its records then are not the run's: ``records`` should be the input's own)."""
    work, sha256 = Path(tempfile.mkdtemp(prefix="anonymize-item-")), None
    try:
        here = staging.localize(item, work)
        if item.origin:
            storage.fetch(item.origin, here.source)
        sha256 = file_sha256(here.source) if item.origin else input_sha256(item)
        outdir = staging.outdir_in(work) if staging.output else outdir
        entry = process_or_fail(here, detector, settings, options, outdir, records, review, sha256)
        if staging.output:
            staging.push_all(work)
        return entry
    except AnonymizeError as error:
        say(f"error: {item.input}: {error}")
        return Entry(item.input, sha256, "failed", reason=str(error))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def review_digest(review: Review | None) -> str | None:
    return review[1].digest if review else None


def input_sha256(item: Planned) -> str | None:
    """The sha256 of an input, or None when it cannot be read (reported when its turn comes, as for any input)."""
    if item.origin:
        return storage.sha256(item.origin)
    if not_a_file(item.source):
        return None  # never read: a pipe or a device would be read forever
    try:
        return file_sha256(item.source)  # streamed: a video is not read into memory to be hashed
    except OSError:
        return None


def process_video(
    item: Planned, detector: Detector, settings: Settings, options: RunOptions, edits: VideoEdits | None = None
) -> VideoReport:
    """Anonymize one video; a reviewed one at the detection rate it was reviewed at."""
    with tqdm(
        desc=printable(item.source.name), unit="frame", file=sys.stderr, leave=False, disable=options.quiet
    ) as bar:

        def on_progress(done: int, expected: int, _elapsed: float) -> None:
            bar.total = max(expected, done)
            bar.update(done - bar.n)

        return anonymize_video(
            item.source,
            item.target,
            detector,
            settings,
            detect_every=edits.detect_every if edits else options.detect_every,
            crf=options.crf,
            audio=options.audio,
            predictions_path=item.sidecar,
            on_progress=on_progress,
            edits=edits,
        )


def reviews_for(
    path: str, planned: Sequence[Planned], backend: BackendConfig, classes: tuple[str, ...]
) -> dict[Path, Review]:
    """Each reviewed input's settings and edits, from the edits file or folder at ``path``.

    Raises EditsError, before anything is written, for a malformed file, edits made with another
    model or naming a class it does not find (``classes``), a picture that is not among the inputs, or one
    whose bytes are not those reviewed.
    """
    reviews: dict[Path, Review] = {}
    model = model_record(backend)
    for name, (edits, entry) in edits_by_name(load_edits(path)).items():
        if dict(edits.backend) != model:
            raise EditsError(
                f"the edits for {name} were made with {_model_words(edits.backend)}; this run uses {_model_words(model)}."
            )
        unknown = unknown_classes(edits.settings, classes)
        if unknown:  # the rule the command line's --classes and --confidence follow
            raise EditsError(
                f"the edits for {name} name unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(classes)}."
            )
        # The app names a picture from photos.zip "photos/sub/x.jpg": its file name is what an unpacked input has.
        is_video = isinstance(entry, VideoEdits)
        named = [
            item
            for item in planned
            if item.source.name == PurePosixPath(name).name and (item.format is None) == is_video
        ]
        if not named:
            raise EditsError(f"the edits name {name}, which is not among the inputs.")
        same = [item for item in named if input_sha256(item) == entry.sha256]
        if not same:
            raise EditsError(f"{named[0].input} is not the file that was reviewed (its sha256 differs).")
        reviews.update((item.source, (edits.settings, entry)) for item in same)
    return reviews


def _model_words(record) -> str:
    return ", ".join(f"{key} {value}" for key, value in record.items() if key != "kind") + f" ({record.get('kind')})"
