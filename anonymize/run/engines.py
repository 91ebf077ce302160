"""A whole run, from its configuration to its exit code: checked, planned, processed here or on Ray, recorded.

Everything that can be wrong with a run (a missing file, an unknown class, a model that cannot
be loaded, an output folder that cannot be written) is said before anything is written. Then each
input is processed (or taken from an earlier run, with ``--resume``), uploaded when asked, and
listed in the manifest. Exit codes: 0 done, 1 some files failed, 2 the run could not start.

Example:
    >>> from anonymize.run.options import RunConfig
    >>> run(RunConfig(("no-such-photo.jpg",), "out"))
    2
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from anonymize import storage
from anonymize.detectors import API_KEY_VARIABLE, Detector, create_detector, describe
from anonymize.errors import AnonymizeError, MissingSettings
from anonymize.manifest import Entry
from anonymize.outputs import Planned, check_writable
from anonymize.records import Records
from anonymize.run.item import Review, input_sha256, process_or_fail, process_staged, review_digest, reviews_for, say
from anonymize.run.options import RunConfig, RunOptions, UploadOptions
from anonymize.run.record import RunRecord, copy_through, start_record, summary, with_upload
from anonymize.run.sources import Copy, is_archive, plan_inputs
from anonymize.settings import Settings, unknown_classes
from anonymize.upload import RoboflowUploader, UploadTarget

PROGRESS_BAR_FROM = 4  # files

#: Where a command-line user gives each setting a remote backend may miss.
WHERE_TO_SET = {
    "API key": f"set the {API_KEY_VARIABLE} environment variable",
    "project": "give --project and --version",
}


def run(config: RunConfig) -> int:
    """Run ``config``; its exit code. URIs (``s3://…``) are staged through a temporary folder, and zip archives
    named as inputs are unpacked into one."""
    uris = any(storage.is_uri(text) for text in (*config.inputs, config.output))
    if not uris and not any(is_archive(text) for text in config.inputs):
        return _run(config, None, None)
    if uris and importlib.util.find_spec("pyarrow") is None:
        say(
            "error: inputs and outputs at URIs need pyarrow, which comes with the [ray] extra: pip install 'anonymize[ray]'"
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="anonymize-") as root:
        output = config.output if storage.is_uri(config.output) else None
        return _run(config, storage.Staging(Path(root), output) if uris else None, Path(root) / "archives")


def _run(config: RunConfig, staging: storage.Staging | None, scratch: Path | None) -> int:
    """:func:`run`, with a URI run's staging folder and where archives are unpacked."""
    started = time.perf_counter()
    options = config.options
    try:
        outdir = staging.outdir if staging and staging.output else Path(config.output)
        if staging:
            storage.check_apart(config.inputs, config.output)
        planned, copies = plan_inputs(config.inputs, outdir, options, staging, scratch)
        api_key = os.environ.get(API_KEY_VARIABLE, "")
        detector = create_detector(config.backend, api_key)
        settings = _settings(config, detector)
        if config.engine == "ray":
            from anonymize.distributed import check_installed

            check_installed()
        reviews = reviews_for(config.edits, planned, config.backend, detector.classes) if config.edits else {}
        uploader = _uploader(config.upload, api_key, config.backend.timeout) if config.upload else None
        if staging and staging.output:
            storage.check_writable(staging.output)
        check_writable(outdir)  # the last check, as it creates the folder
    except MissingSettings as error:
        say(f"error: {str(error).rstrip('.')}: {'; '.join(WHERE_TO_SET[name] for name in error.missing)}.")
        return 2
    except (AnonymizeError, ValueError) as error:
        say(f"error: {error}")
        return 2
    record = start_record(options, outdir, config.backend, detector, settings, uploader, staging, resume=config.resume)
    try:
        if config.engine == "ray":
            run_on_ray(planned, copies, config, settings, record, reviews, uploader)
        else:
            run_local(planned, copies, detector, settings, config, record, reviews, uploader)
    except (KeyboardInterrupt, SystemExit):
        if record.manifest.entries:  # what was finished, for --resume
            record.save()
        raise
    recorded = record.save(finished=True)
    if not options.quiet:
        where = staging.output if staging and staging.output else outdir
        print(summary(record.manifest, time.perf_counter() - started, describe(config.backend), where))
    failed = any(e.status == "failed" or (e.upload or {}).get("status") == "failed" for e in record.manifest.entries)
    return 1 if failed or record.copy_failed or not recorded else 0


def _settings(config: RunConfig, detector: Detector) -> Settings:
    """What to hide and how, checked against the classes ``detector`` finds."""
    thresholds = config.thresholds
    unknown = unknown_classes(Settings(classes=None, class_confidence=thresholds.per_class), detector.classes)
    if unknown:
        raise ValueError(
            f"--confidence names unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(detector.classes)}"
        )
    return Settings(
        classes=choose_classes(config.classes, detector),
        confidence=thresholds.every_class,
        class_confidence=thresholds.per_class,
        overlap=config.overlap,
        censor=config.censor,
    )


def choose_classes(text: str | None, detector: Detector) -> tuple[str, ...] | None:
    """The classes to hide: all the model's when not named; a name the model does not know is an error.

    None means every class the model returns (a server that does not say its classes).
    """
    if text is None:
        return detector.classes or None
    named = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not named:
        raise ValueError("--classes names no class; leave it out to hide every class the model finds")
    unknown = unknown_classes(Settings(classes=named), detector.classes)
    if unknown:
        raise ValueError(
            f"unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(detector.classes)}"
        )
    return named


def _uploader(upload: UploadOptions, api_key: str, timeout: float) -> RoboflowUploader:
    return RoboflowUploader(
        api_key,
        UploadTarget.parse(upload.to),
        split=upload.split,
        batch_name=upload.batch_name,
        tags=list(upload.tags),
        timeout=timeout,
    )


def _earlier(
    record: RunRecord, item: Planned, sha256: str | None, reviews: dict[Path, Review], resume: bool
) -> Entry | None:
    """An earlier run's entry for ``item`` (whose bytes hash to ``sha256``) that still holds, with ``--resume``."""
    return record.done_before(item, sha256, review_digest(reviews.get(item.source))) if resume else None


def _progress(items: list, quiet: bool) -> dict:
    return {"total": len(items), "unit": "file", "disable": quiet or len(items) < PROGRESS_BAR_FROM, "file": sys.stderr}


def run_local(
    planned: list[Planned],
    copies: list[Copy],
    detector: Detector,
    settings: Settings,
    config: RunConfig,
    record: RunRecord,
    reviews: dict[Path, Review],
    uploader: RoboflowUploader | None,
) -> None:
    """Each input in turn (or its earlier run's entry), its upload, then a dataset's other files."""
    options = config.options
    for item in tqdm(planned, **_progress(planned, options.quiet)):
        review = reviews.get(item.source)
        if record.staging is None:
            sha256 = input_sha256(item)
            entry = _earlier(record, item, sha256, reviews, config.resume) or process_or_fail(
                item, detector, settings, options, record.outdir, record.records, review, sha256
            )
        else:  # hashed where it is only to resume: a URI's bytes are read once more for it
            earlier = _earlier(record, item, input_sha256(item), reviews, True) if config.resume else None
            entry = earlier or _process_staged(item, detector, settings, options, record, review)
        record.add(with_upload(entry, item, uploader, record))
    record.copy_failed = not copy_through(copies, record, resume=config.resume)


def _process_staged(
    item: Planned, detector: Detector, settings: Settings, options: RunOptions, record: RunRecord, review: Review | None
) -> Entry:
    """One input of a run with URIs. Its records are its own until it is done, then the run's: a push that
    fails must not leave them in the run's records."""
    run_records = record.records
    own = Records(tuple(run_records.classes), masks=run_records.masks) if run_records is not None else None
    entry = process_staged(item, detector, settings, options, record.outdir, own, review, record.staging)
    if own is not None and entry.output:
        run_records.carry(own.coco(), entry.output)
    return entry


def run_on_ray(
    planned: list[Planned],
    copies: list[Copy],
    config: RunConfig,
    settings: Settings,
    record: RunRecord,
    reviews: dict[Path, Review],
    uploader: RoboflowUploader | None,
) -> None:
    """:func:`run_local` on Ray actors: the driver resumes, plans, numbers the records, uploads and records; the actors anonymize."""
    from anonymize.distributed import anonymize_on_ray

    todo, by_input = [], {item.input: item for item in planned}
    for item in planned:
        entry = _earlier(record, item, input_sha256(item), reviews, config.resume) if config.resume else None
        if entry is None:
            todo.append(item)
        else:
            record.add(with_upload(entry, item, uploader, record))
    classes = tuple(record.records.classes) if record.records is not None else ()
    running = anonymize_on_ray(
        todo,
        config.backend,
        settings,
        config.options,
        record.outdir,
        reviews=reviews,
        classes=classes,
        address=config.address,
        workers=config.workers,
        staging=record.staging,
    )
    for entry, coco in tqdm(running, **_progress(todo, config.options.quiet)):
        if entry.status == "failed":  # said here: an actor's stderr is its own
            say(f"error: {entry.input}: {entry.reason}")
        elif entry.status == "unchanged":
            say(f"warning: {entry.input}: nothing of a class to hide was found; written as it was")
        if record.records is not None and entry.output:
            record.records.carry(coco, entry.output)
        record.add(with_upload(entry, by_input[entry.input], uploader, record))
    order = {item.input: n for n, item in enumerate(planned)}
    record.manifest.entries.sort(key=lambda e: order[e.input])
    if record.records is not None:
        record.records.reorder([entry.output for entry in record.manifest.entries if entry.output])
    record.copy_failed = not copy_through(copies, record, resume=config.resume)
