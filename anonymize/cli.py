"""Command line: ``anonymize INPUT... -o OUTDIR`` (or ``python -m anonymize``), and ``anonymize app`` for the app.

Each image is written to ``OUTDIR/<stem>.<ext>`` (and ``<stem>.json`` with
``--json``); each video to ``OUTDIR/<stem>.mp4`` (and ``<stem>.jsonl``, one
line of predictions per frame). Every output name is planned before anything
is written (``anonymize.outputs``): two inputs never share one, and no input
is ever written over. A bad file costs one line on stderr and exit code 1;
the other files are still processed. Outputs are written to a temporary name
and renamed when complete, so a failed or interrupted file leaves nothing.
Exit codes: 0 done, 1 some files failed, 2 bad arguments (nothing written),
130/143 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Callable, NoReturn, Sequence

from tqdm import tqdm

from anonymize import storage
from anonymize.app_command import run_app
from anonymize.censor import (
    CENSOR_METHODS,
    FEATHER_RANGE,
    METHODS,
    PADDING_RANGE,
    SHAPES,
    STRENGTH_RANGE,
    CensorSettings,
)
from anonymize.detectors import (
    API_KEY_VARIABLE,
    BACKENDS,
    DEFAULT_INFERENCE_URL,
    BackendConfig,
    Detector,
    create_detector,
    describe,
    model_record,
)
from anonymize.detectors.remote import DEFAULT_TIMEOUT, TIMEOUT_RANGE
from anonymize.devices import DEVICES
from anonymize.edits import VideoEdits, edits_by_name, load_edits
from anonymize.errors import AnonymizeError, EditsError, MissingSettings, printable
from anonymize.inputs import find_inputs
from anonymize.linkage import LIMIT, lowest_enough, measured
from anonymize.manifest import NAME as MANIFEST
from anonymize.manifest import SAVE_EVERY, Entry, Manifest, file_sha256, model_entry, sha256_of
from anonymize.media import OUTPUT_EXTENSIONS
from anonymize.outputs import Planned, check_writable, is_dataset, plan, plan_dataset
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.records import FOLDER as RECORDS
from anonymize.records import Records
from anonymize.result import summarize
from anonymize.run.item import Review, input_sha256, process_or_fail, review_digest, say, write_file
from anonymize.run.options import RunOptions
from anonymize.settings import ALL_CLASSES, CLASS_CONFIDENCE, OTHER_CLASS_CONFIDENCE, Settings, unknown_classes
from anonymize.tracking import COAST_SECONDS
from anonymize.upload import DEFAULT_TAG, SPLITS, RoboflowUploader, UploadTarget
from anonymize.video import (
    AUDIO_POLICIES,
    CRF_RANGE,
    DEFAULT_CRF,
    DEFAULT_DETECT_EVERY,
    MAX_DELAY_FRAMES,
)

PROGRESS_BAR_FROM = 4  # files


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error in one line naming the nearest valid word, instead of the whole usage."""

    def error(self, message: str) -> NoReturn:
        guess = nearest_word(message, [o for action in self._actions for o in action.option_strings])
        hint = f" Did you mean {guess}?" if guess else ""
        self.exit(2, printable(f"{self.prog}: error: {message}.{hint} (`{self.prog} -h` lists every option.)") + "\n")


def nearest_word(message: str, options: list[str]) -> str | None:
    """The valid word nearest to the mistyped one in argparse's ``message``: an option or a choice.

    >>> nearest_word("argument --method: invalid choice: 'blurr' (choose from 'blur', 'pixelate', 'fill', 'fog')", [])
    "'blur'"
    >>> nearest_word("unrecognized arguments: --confidance 5", ["--confidence", "--classes"])
    '--confidence'
    """
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        found = difflib.get_close_matches(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)), n=1, cutoff=0.5)
        return f"'{found[0]}'" if found else None
    if message.startswith("unrecognized arguments:"):
        for word in message.split(":", 1)[1].split():
            found = (
                difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.6) if word.startswith("-") else []
            )
            if found:
                return found[0]
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anonymize",
        description="Hide faces and licence plates in images and videos. `anonymize app [streamlit options]` starts the app.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image or video files, or folders (searched recursively); with --engine ray, also URIs (s3://…, gs://…)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTDIR",
        help="folder (or, with --engine ray, URI) for the anonymized files",
    )
    parser.add_argument(
        "--classes", help=f"comma-separated classes to hide (default: all the model's; local: {','.join(ALL_CLASSES)})"
    )
    default = CensorSettings()
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=default.method,
        help="; ".join(f"{method.name}: {method.description}" for method in CENSOR_METHODS.values())
        + " (default: %(default)s)",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="auto",
        help="default: ellipses for faces, rectangles otherwise",
    )
    parser.add_argument(
        "--strength",
        type=_number(*STRENGTH_RANGE),
        default=default.strength,
        help=f"{STRENGTH_RANGE[0]:g}–{STRENGTH_RANGE[1]:g}, scaled to each region's size (default: %(default)s). At the default {default.method}: "
        f"{measured(default.method, default.strength).sentence().removeprefix('At this strength ').replace('%', '%%')} "
        f"{_never_enough()} See docs/censoring.md, “What strength buys”.",
    )
    parser.add_argument(
        "--padding",
        type=_number(*PADDING_RANGE),
        default=default.padding,
        help=f"box scale about its centre, {PADDING_RANGE[0]:g}–{PADDING_RANGE[1]:g} (default: %(default)s)",
    )
    parser.add_argument(
        "--feather",
        type=_whole(*FEATHER_RANGE),
        default=default.feather,
        metavar="PX",
        help=f"soften edges outward by PX pixels, {FEATHER_RANGE[0]}–{FEATHER_RANGE[1]}; the inside stays fully hidden (default: %(default)s)",
    )
    defaults = ",".join(f"{name}={value:g}" for name, value in CLASS_CONFIDENCE.items())
    parser.add_argument(
        "--confidence",
        type=_thresholds,
        default=Thresholds(),
        metavar="PERCENT|CLASS=PERCENT,...",
        help=f"0–100, one value for every class, or per class, e.g. face=20,license-plate=40 (default: {defaults}, other classes {OTHER_CLASS_CONFIDENCE})",
    )
    parser.add_argument(
        "--overlap",
        type=_number(0, 100),
        default=Settings().overlap,
        help="NMS IoU threshold, 0–100 (default: %(default)s)",
    )
    parser.add_argument("--format", choices=("same", *OUTPUT_EXTENSIONS), default="same", help="output image format")
    parser.add_argument("--json", action="store_true", help="also write <stem>.json with the predictions")
    parser.add_argument(
        "--edits",
        metavar="FILE_OR_FOLDER",
        help="replay review edits (downloaded from the app): each reviewed picture or video is rendered with the "
        "settings it was reviewed with, what was kept visible left as it is and the added boxes hidden",
    )
    parser.add_argument(
        "--records",
        action="store_true",
        help=f"also write what was hidden as COCO JSON and YOLO labels, under OUTDIR/{RECORDS}/",
    )
    parser.add_argument(
        "--masks", action="store_true", help="with --records, a mask PNG per picture: the exact pixels hidden"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip inputs an earlier run into OUTDIR already did with the same settings (its manifest says so, "
        "and the output is intact); the rest are processed",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars and no summary; errors and warnings still go to stderr",
    )
    video = parser.add_argument_group("videos")
    video.add_argument(
        "--detect-every",
        type=_whole(1),
        default=DEFAULT_DETECT_EVERY,
        metavar="K",
        help=f"run detection on every K-th frame, and at least every {COAST_SECONDS:g} s (what tracking can carry a box) "
        f"and every {MAX_DELAY_FRAMES} frames (the most held in memory); "
        "tracking covers the frames between (default: %(default)s)",
    )
    video.add_argument(
        "--crf",
        type=_whole(*CRF_RANGE),
        default=DEFAULT_CRF,
        help=f"H.264 quality, {CRF_RANGE[0]}–{CRF_RANGE[1]}: lower is better and larger (default: %(default)s)",
    )
    video.add_argument(
        "--audio",
        choices=AUDIO_POLICIES,
        default="aac",
        help="aac: re-encode audio that is not AAC, so the MP4 plays everywhere (default); copy: keep any codec MP4 can hold",
    )
    scale = parser.add_argument_group(
        "scale", "run on Ray Data (the [ray] extra): the same outputs and manifest, from a pool of actors"
    )
    scale.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="local: this process (default); ray: Ray actors"
    )
    scale.add_argument(
        "--address", metavar="ray://HOST:PORT|auto", help="the Ray cluster (default: start Ray on this machine)"
    )
    scale.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        help="actors at once, each loading the models once (default: one per CPU)",
    )
    send = parser.add_argument_group(
        "upload", f"anonymized pictures (never the originals) into a Roboflow project, with {API_KEY_VARIABLE}"
    )
    send.add_argument("--upload-to", metavar="WORKSPACE/PROJECT", help="upload each anonymized picture to this project")
    send.add_argument("--split", choices=SPLITS, default="train", help="the split they go to (default: %(default)s)")
    send.add_argument("--batch-name", metavar="NAME", help="the upload batch they go to (default: Roboflow's)")
    send.add_argument(
        "--tag",
        action="append",
        metavar="TAG",
        help=f"a tag for each picture; repeat for several (default: {DEFAULT_TAG})",
    )
    remote = parser.add_argument_group(
        "backend", f"the API key is read from the {API_KEY_VARIABLE} environment variable only"
    )
    remote.add_argument("--backend", choices=BACKENDS, default="local", help="local: bundled offline models (default)")
    remote.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=DEFAULT_PRESET,
        help="local models' speed/recall trade-off (default: %(default)s)",
    )
    remote.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where the local models run: auto takes an NVIDIA GPU when onnxruntime-gpu offers one, "
        "else the CPU; cuda insists (default: %(default)s)",
    )
    remote.add_argument("--project", default="", help="Roboflow project id (roboflow, inference)")
    remote.add_argument("--version", type=_whole(1), default=1, help="project version (default: %(default)s)")
    remote.add_argument("--workspace", default="", help="Roboflow workspace (default: the key's own)")
    remote.add_argument(
        "--api-url", default=DEFAULT_INFERENCE_URL, help="Inference server address (default: %(default)s)"
    )
    remote.add_argument(
        "--timeout",
        type=_number(*TIMEOUT_RANGE),
        default=DEFAULT_TIMEOUT,
        help=f"seconds a remote answer may take in all, {TIMEOUT_RANGE[0]:g}–{TIMEOUT_RANGE[1]:g} (default: %(default)s)",
    )
    return parser


def _never_enough() -> str:
    """Which methods no strength brings within the measured limit, as a sentence (empty when every method has one)."""
    never = [m for m in METHODS if measured(m, 5) is not None and lowest_enough(m) is None]
    if not never:
        return ""
    return (
        f"No strength of {', '.join(never)} keeps that within {LIMIT:g}× chance: "
        "where faces must not be re-identified, use --method fill."
    )


def _number(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high`` (NaN and infinity are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}, not {text}")
        return value

    return parse


@dataclass(frozen=True)
class Thresholds:
    """What ``--confidence`` says: one value for every class, and each named class's own."""

    every_class: float | None = None
    per_class: tuple[tuple[str, float], ...] = ()


def _thresholds(text: str) -> Thresholds:
    """``40``, ``face=20,license-plate=40``, or both (``40,face=20``), each a finite 0–100."""
    every, per_class = None, {}
    number = _number(0, 100)
    for part in (p.strip() for p in text.split(",")):
        if "=" not in part:
            if every is not None:
                raise argparse.ArgumentTypeError("give one value for every class, at most")
            every = number(part)
            continue
        name, _, value = part.partition("=")
        if not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} names no class")
        per_class[name.strip()] = number(value)
    return Thresholds(every, tuple(per_class.items()))


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be at least {low}" if high is None else f"must be from {low} to {high}, not {text}"
            )
        return value

    return parse


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


#: Where a command-line user gives each setting a remote backend may miss.
WHERE_TO_SET = {
    "API key": f"set the {API_KEY_VARIABLE} environment variable",
    "project": "give --project and --version",
}


def _stop(signum: int, _frame: object) -> None:
    # SIGTERM would end the process without running ``finally``: partial files would stay.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"]:  # a folder named "app" is still an input when given as ./app
        return run_app(argv[1:])
    args = build_parser().parse_args(argv)
    args.records = args.records or args.masks  # masks are records too
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    try:
        return run(args)
    except KeyboardInterrupt:
        say("interrupted: the file in progress was not written")
        return 130


def run(args: argparse.Namespace) -> int:
    if not any(storage.is_uri(text) for text in (*args.inputs, args.output)):
        return _run(args, None)
    if args.engine != "ray":
        say("error: inputs and outputs at URIs are read and written by --engine ray")
        return 2
    with tempfile.TemporaryDirectory(prefix="anonymize-") as root:
        return _run(args, storage.Staging(Path(root), args.output if storage.is_uri(args.output) else None))


def _run(args: argparse.Namespace, staging: storage.Staging | None) -> int:
    """:func:`run`, with a URI run's staging folder."""
    started = time.perf_counter()
    try:
        censor = CensorSettings(
            method=args.method, shape=args.shape, strength=args.strength, padding=args.padding, feather=args.feather
        )
        outdir = staging.outdir if staging and staging.output else Path(args.output)
        if staging:
            storage.check_apart(args.inputs, args.output)
        planned, copies = plan_inputs(args, outdir, staging)
        backend = BackendConfig(
            args.backend,
            args.preset,
            args.project,
            args.version,
            args.workspace,
            args.api_url,
            args.timeout,
            args.device,
        )
        api_key = os.environ.get(API_KEY_VARIABLE, "")
        detector = create_detector(backend, api_key)
        thresholds = args.confidence
        unknown = unknown_classes(Settings(classes=None, class_confidence=thresholds.per_class), detector.classes)
        if unknown:
            raise ValueError(
                f"--confidence names unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(detector.classes)}"
            )
        settings = Settings(
            classes=choose_classes(args.classes, detector),
            confidence=thresholds.every_class,
            class_confidence=thresholds.per_class,
            overlap=args.overlap,
            censor=censor,
        )
        if args.engine == "ray":
            from anonymize.distributed import check_options

            check_options(args)
        reviews = reviews_for(args.edits, planned, backend, detector.classes) if args.edits else {}
        uploader = (
            RoboflowUploader(
                api_key,
                UploadTarget.parse(args.upload_to),
                split=args.split,
                batch_name=args.batch_name,
                tags=args.tag or [DEFAULT_TAG],
                timeout=args.timeout,
            )
            if args.upload_to
            else None
        )
        if staging and staging.output:
            storage.check_writable(staging.output)
        check_writable(outdir)  # the last check, as it creates the folder
    except MissingSettings as error:
        say(f"error: {str(error).rstrip('.')}: {'; '.join(WHERE_TO_SET[name] for name in error.missing)}.")
        return 2
    except (AnonymizeError, ValueError) as error:
        say(f"error: {error}")
        return 2
    record = start_record(args, outdir, backend, detector, settings, uploader, staging)
    try:
        if args.engine == "ray":
            process_all_on_ray(planned, copies, backend, settings, args, record, reviews, uploader)
        else:
            process_all(planned, copies, detector, settings, args, record, reviews, uploader)
    except (KeyboardInterrupt, SystemExit):
        if record.manifest.entries:  # what was finished, for --resume
            record.save()
        raise
    recorded = record.save(finished=True)
    if not args.quiet:
        print(
            summary(
                record.manifest,
                time.perf_counter() - started,
                describe(backend),
                staging.output if staging and staging.output else outdir,
            )
        )
    failed = any(e.status == "failed" or (e.upload or {}).get("status") == "failed" for e in record.manifest.entries)
    return 1 if failed or record.copy_failed or not recorded else 0


def process_all(
    planned: list[Planned],
    copies: list[tuple[Path, Path]],
    detector: Detector,
    settings: Settings,
    args: argparse.Namespace,
    record: RunRecord,
    reviews: dict[Path, Review],
    uploader: RoboflowUploader | None,
) -> None:
    """Each input in turn (or its earlier run's entry, with ``--resume``), its upload, then a dataset's other files."""
    options = RunOptions.of(args)
    for item in tqdm(planned, unit="file", disable=args.quiet or len(planned) < PROGRESS_BAR_FROM, file=sys.stderr):
        sha256 = input_sha256(item)
        review = reviews.get(item.source)
        entry = record.done_before(item, sha256, review_digest(review)) if args.resume else None
        if entry is None:
            entry = process_or_fail(item, detector, settings, options, record.outdir, record.records, review, sha256)
        record.add(with_upload(entry, item, uploader, record))
    record.copy_failed = not copy_through(copies, record, resume=args.resume)


def process_all_on_ray(
    planned: list[Planned],
    copies: list[tuple[Path, Path]],
    backend: BackendConfig,
    settings: Settings,
    args: argparse.Namespace,
    record: RunRecord,
    reviews: dict[Path, Review],
    uploader: RoboflowUploader | None,
) -> None:
    """:func:`process_all` on Ray actors: the driver resumes, plans, numbers the records, uploads and records; the actors anonymize."""
    from anonymize.distributed import anonymize_on_ray

    todo, by_input = [], {item.input: item for item in planned}
    for item in planned:
        entry = (
            record.done_before(item, input_sha256(item), review_digest(reviews.get(item.source)))
            if args.resume
            else None
        )
        if entry is None:
            todo.append(item)
        else:
            record.add(with_upload(entry, item, uploader, record))
    classes = tuple(record.records.classes) if record.records is not None else ()
    running = anonymize_on_ray(
        todo,
        backend,
        settings,
        RunOptions.of(args),
        record.outdir,
        reviews=reviews,
        classes=classes,
        address=args.address,
        workers=args.workers,
        staging=record.staging,
    )
    for entry, coco in tqdm(
        running, total=len(todo), unit="file", disable=args.quiet or len(todo) < PROGRESS_BAR_FROM, file=sys.stderr
    ):
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
    record.copy_failed = not copy_through(copies, record, resume=args.resume)


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


def copy_through(copies: list[tuple[Path | str, Path]], record: RunRecord, *, resume: bool) -> bool:
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


def plan_inputs(
    args: argparse.Namespace, outdir: Path, staging: storage.Staging | None = None
) -> tuple[list[Planned], list[tuple[Path | str, Path]]]:
    """The outputs of every input, and the files to copy as they are (a dataset's labels; a str is a URI)."""
    # A name that is nothing at all is a typo on the command line: said before anything is written. A link
    # to nothing is something, and is listed with its reason like any input that cannot be read.
    missing = [text for text in args.inputs if not storage.is_uri(text) and not os.path.lexists(text)]
    if missing:
        raise ValueError(f"{missing[0]}: no such file or folder; nothing was written")
    listed = [_listing(n, text, staging) for n, text in enumerate(args.inputs)]
    origins = {path: uri for _, _, files in listed for path, uri in files.items() if uri}
    dataset = next(
        (
            (text, root, files)
            for text, root, files in listed
            if root and is_dataset(p.relative_to(root).as_posix() for p in files)
        ),
        None,
    )
    if dataset is not None:
        text, root, files = dataset
        if len(args.inputs) > 1:
            raise ValueError(
                f"{text} is a dataset: give it alone, and it is mirrored into -o with its pictures anonymized"
            )
        if args.json:
            raise ValueError("--json would write beside a dataset's pictures; use --records for what was hidden")
        planned, copies = plan_dataset(root, outdir, list(files), records=args.records, masks=args.masks)
    else:
        sources = [path for _, _, files in listed for path in files]
        if not sources:
            raise ValueError("no input files found")
        planned, copies = (
            plan(sources, outdir, args.format, sidecars=args.json, records=args.records, masks=args.masks),
            [],
        )
    return [replace(p, origin=origins.get(p.source)) for p in planned], [(origins.get(s, s), t) for s, t in copies]


def _listing(n: int, text: str, staging: storage.Staging | None) -> tuple[str, Path | None, dict[Path, str | None]]:
    """The ``n``-th input as named, its root when it is a folder, and its files, each with its URI (None when local).
    A URI's files are named by where they are planned (:meth:`~anonymize.storage.Staging.input_path`)."""
    if staging is None or not storage.is_uri(text):
        return text, Path(text) if Path(text).is_dir() else None, dict.fromkeys(find_inputs([text]))
    folder, names = storage.list_files(text)
    if not folder:
        return text, None, {staging.input_path(n, text.rstrip("/").rsplit("/", 1)[-1]): text}
    return text, staging.input_path(n, ""), {staging.input_path(n, name): storage.join(text, name) for name in names}


def start_record(
    args: argparse.Namespace,
    outdir: Path,
    backend: BackendConfig,
    detector: Detector,
    settings: Settings,
    uploader: RoboflowUploader | None,
    staging: storage.Staging | None = None,
) -> RunRecord:
    """The run's manifest (model, files, settings, options that shape the outputs), its records, and what an earlier run left."""
    model = model_entry(backend, detector)
    options = {
        "format": args.format,
        "json": args.json,
        "records": args.records,
        "masks": args.masks,
        "detect_every": args.detect_every,
        "crf": args.crf,
        "audio": args.audio,
    }
    manifest = Manifest.start(model, settings.to_json(), options)
    if uploader:
        manifest.upload = uploader.destination
    records = Records(settings.classes or detector.classes, masks=args.masks) if args.records else None
    if args.resume and staging and staging.output:  # an earlier run's record, to read here
        for name in (MANIFEST, f"{RECORDS}/coco.json"):
            try:
                storage.fetch(storage.join(staging.output, name), outdir / name)
            except AnonymizeError:
                pass  # none: every input is processed
    previous = Manifest.load(outdir) if args.resume else None
    if args.resume and previous is None and (outdir / MANIFEST).exists():
        say(f"note: --resume: {outdir / MANIFEST} is not a manifest this tool can read; every input is processed again")
    if args.resume and previous is not None and previous.fingerprint != manifest.fingerprint:
        say("note: --resume: the earlier run used other settings or another model; every input is processed again")
    try:
        previous_coco = (
            json.loads((outdir / RECORDS / "coco.json").read_text()) if args.resume and records is not None else {}
        )
    except (OSError, ValueError):
        previous_coco = {}
    return RunRecord(outdir, manifest, records, previous, previous_coco, staging)


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
