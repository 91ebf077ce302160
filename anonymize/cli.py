"""Command line: ``python -m anonymize INPUT... -o OUTDIR``.

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
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from tqdm import tqdm

from anonymize.censor import MAX_FEATHER, MAX_PADDING, METHODS, CensorSettings
from anonymize.detectors import BACKENDS, BackendConfig, Detector, create_detector, describe, model_record
from anonymize.detectors.remote import DEFAULT_TIMEOUT
from anonymize.edits import PictureEdits, VideoEdits, edits_by_name, load_edits
from anonymize.errors import AnonymizeError, EditsError, MissingSettings
from anonymize.linkage import LIMIT, lowest_enough, measured
from anonymize.media import IGNORED_FILE_NAMES, OUTPUT_EXTENSIONS, encode_image, load_image
from anonymize.outputs import Planned, check_writable, plan, write_atomically
from anonymize.pipeline import ALL_CLASSES, CLASS_CONFIDENCE, OTHER_CLASS_CONFIDENCE, Settings, anonymize_image, summarize
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.video import AUDIO_POLICIES, CRF_RANGE, DEFAULT_CRF, DEFAULT_DETECT_EVERY, VideoReport, anonymize_video

PROGRESS_BAR_FROM = 4  # files


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anonymize",
        description="Hide faces and licence plates in images and videos.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image or video files, or folders (searched recursively)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the anonymized files")
    parser.add_argument("--classes", help=f"comma-separated classes to hide (default: all the model's; local: {','.join(ALL_CLASSES)})")
    default = CensorSettings()
    parser.add_argument("--method", choices=METHODS, default=default.method,
                        help="blur, pixelate, fill (solid, irreversible) or fog (default: %(default)s)")
    parser.add_argument("--shape", choices=("auto", "rect", "ellipse"), default="auto", help="default: ellipses for faces, rectangles otherwise")
    parser.add_argument("--strength", type=_number(1, 10), default=default.strength,
                        help=f"1–10, scaled to each region's size (default: %(default)s). At the default {default.method}: "
                             f"{measured(default.method, default.strength).sentence().removeprefix('At this strength ').replace('%', '%%')} "
                             f"{_never_enough()} See the README, “What strength buys”.")
    parser.add_argument("--padding", type=_number(1, MAX_PADDING), default=default.padding,
                        help=f"box scale about its centre, 1–{MAX_PADDING:g} (default: %(default)s)")
    parser.add_argument("--feather", type=_whole(0, MAX_FEATHER), default=default.feather, metavar="PX",
                        help=f"soften edges outward by PX pixels, 0–{MAX_FEATHER}; the inside stays fully hidden (default: %(default)s)")
    defaults = ",".join(f"{name}={value:g}" for name, value in CLASS_CONFIDENCE.items())
    parser.add_argument("--confidence", type=_thresholds, default=Thresholds(), metavar="PERCENT|CLASS=PERCENT,...",
                        help=f"0–100, one value for every class, or per class, e.g. face=20,license-plate=40 (default: {defaults}, other classes {OTHER_CLASS_CONFIDENCE})")
    parser.add_argument("--overlap", type=_number(0, 100), default=30, help="NMS IoU threshold, 0–100 (default: %(default)s)")
    parser.add_argument("--format", choices=("same", *OUTPUT_EXTENSIONS), default="same", help="output image format")
    parser.add_argument("--json", action="store_true", help="also write <stem>.json with the predictions")
    parser.add_argument("--edits", metavar="FILE_OR_FOLDER",
                        help="replay review edits (downloaded from the app): each reviewed picture or video is rendered with the "
                             "settings it was reviewed with, what was kept visible left as it is and the added boxes hidden")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no summary; errors and warnings still go to stderr")
    video = parser.add_argument_group("videos")
    video.add_argument("--detect-every", type=_whole(1), default=DEFAULT_DETECT_EVERY, metavar="K",
                       help="run detection on every K-th frame; tracking covers the frames between (default: %(default)s)")
    video.add_argument("--crf", type=_whole(*CRF_RANGE), default=DEFAULT_CRF,
                       help=f"H.264 quality, {CRF_RANGE[0]}–{CRF_RANGE[1]}: lower is better and larger (default: %(default)s)")
    video.add_argument("--audio", choices=AUDIO_POLICIES, default="aac",
                       help="aac: re-encode audio that is not AAC, so the MP4 plays everywhere (default); copy: keep any codec MP4 can hold")
    remote = parser.add_argument_group("backend", "the API key is read from the ROBOFLOW_API_KEY environment variable only")
    remote.add_argument("--backend", choices=BACKENDS, default="local", help="local: bundled offline models (default)")
    remote.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET, help="local models' speed/recall trade-off (default: %(default)s)")
    remote.add_argument("--project", default="", help="Roboflow project id (roboflow, inference)")
    remote.add_argument("--version", type=_whole(1), default=1, help="project version (default: %(default)s)")
    remote.add_argument("--workspace", default="", help="Roboflow workspace (default: the key's own)")
    remote.add_argument("--api-url", default="http://localhost:9001", help="Inference server address (default: %(default)s)")
    remote.add_argument("--timeout", type=_number(0.1, 3600), default=DEFAULT_TIMEOUT,
                        help="seconds a remote answer may take in all, 0.1–3600 (default: %(default)s)")
    return parser


def _never_enough() -> str:
    """Which methods no strength brings within the measured limit, as a sentence (empty when every method has one)."""
    never = [m for m in METHODS if lowest_enough(m) is None]
    if not never:
        return ""
    return (f"No strength of {', '.join(never)} keeps that within {LIMIT:g}× chance: "
            "where faces must not be re-identified, use --method fill.")


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
            raise argparse.ArgumentTypeError(f"must be at least {low}" if high is None else f"must be from {low} to {high}, not {text}")
        return value

    return parse


def find_inputs(paths: Sequence[str]) -> list[Path]:
    """Named files as given; folders searched recursively, in sorted order.

    Every file in a folder is an input (but the operating system's own, like
    ``.DS_Store``): one that is not a picture or video we read is then reported,
    never skipped without a word.
    """
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name not in IGNORED_FILE_NAMES))
        else:
            found.append(path)
    return found


def choose_classes(text: str | None, detector: Detector) -> tuple[str, ...] | None:
    """The classes to hide: all the model's when not named; a name the model does not know is an error.

    None means every class the model returns (a server that does not say its classes).
    """
    if text is None:
        return detector.classes or None
    named = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not named:
        raise ValueError("--classes names no class; leave it out to hide every class the model finds")
    unknown = [c for c in named if detector.classes and c not in detector.classes]
    if unknown:
        raise ValueError(f"unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(detector.classes)}")
    return named


@dataclass
class Tally:
    """What a run did, for the summary at its end."""

    images: int = 0
    videos: int = 0
    frames: int = 0
    frames_detected: int = 0
    unchanged: int = 0
    failed: int = 0
    hidden: Counter = field(default_factory=Counter)
    low_confidence: int = 0
    reviewed: int = 0
    added: int = 0
    kept_visible: int = 0

    def summary(self, planned: int, seconds: float, backend: str, outdir: Path) -> str:
        written = planned - self.failed
        lines = [f"{written} of {planned} file(s) written to {outdir} in {seconds:.1f} s, with the {backend}."]
        if self.images:
            unchanged = f"; {self.unchanged} with nothing of a class to hide, written as they were" if self.unchanged else ""
            lines.append(f"  images: {self.images}, hidden: {summarize(self.hidden, self.low_confidence)}{unchanged}")
        if self.reviewed:
            lines.append(f"  reviewed: {self.reviewed} file(s) rendered with their edits: {self.added} box(es) added by hand, "
                         f"{self.kept_visible} detection(s) or track(s) kept visible on purpose")
        if self.videos:
            lines.append(f"  videos: {self.videos}, {self.frames} frames (detection ran on {self.frames_detected}, tracking covered the rest)")
        if self.failed:
            lines.append(f"  failed: {self.failed} (each named above, with its reason)")
        return "\n".join(lines)


#: A reviewed input: the settings it was reviewed with and its edits.
Review = tuple[Settings, PictureEdits | VideoEdits]


def process(item: Planned, detector: Detector, settings: Settings, args: argparse.Namespace, tally: Tally, review: Review | None = None) -> None:
    """Anonymize one input as planned and count what was done; a picture written with nothing hidden is warned about."""
    settings, edits = review or (settings, None)
    if item.format is None:
        report = process_video(item, detector, settings, args, edits)
        tally.videos, tally.frames, tally.frames_detected = tally.videos + 1, tally.frames + report.frames, tally.frames_detected + report.frames_detected
        if edits:
            tally.reviewed += 1
            tally.added += report.added_boxes
            tally.kept_visible += len(report.kept_tracks)
        for unmatched in report.unmatched_kept:
            tqdm.write(f"warning: {item.source}: a track kept visible in review (frame {unmatched.frame}) was not found again; it stays hidden", file=sys.stderr)
        return
    result = anonymize_image(load_image(item.source).pixels, detector, settings, edits)
    if result.review:
        tally.reviewed += 1
        tally.added += len(result.review.added)
        tally.kept_visible += len(result.review.kept_visible)
        for unmatched in result.review.unmatched:
            tqdm.write(f"warning: {item.source}: a detection kept visible in review ({unmatched.class_name} at "
                       f"{unmatched.x1:.0f},{unmatched.y1:.0f}) was not found again; it stays hidden", file=sys.stderr)
    write_atomically(item.target, encode_image(result.image, item.format))
    if item.sidecar:
        write_atomically(item.sidecar, json.dumps(result.to_json(), indent=2).encode())
    tally.images += 1
    tally.hidden.update(result.counts)
    tally.low_confidence += len(result.low_confidence)
    if result.warning:
        tally.unchanged += 1
        tqdm.write(f"warning: {item.source}: {result.warning}; written as it was", file=sys.stderr)


def reviews_for(path: str, planned: Sequence[Planned], backend: BackendConfig) -> dict[Path, Review]:
    """Each reviewed input's settings and edits, from the edits file or folder at ``path``.

    Raises EditsError, before anything is written, for a malformed file, edits made with another
    model, a picture that is not among the inputs, or one whose bytes are not those reviewed.
    """
    reviews: dict[Path, Review] = {}
    model = model_record(backend)
    for name, (edits, entry) in edits_by_name(load_edits(path)).items():
        if dict(edits.backend) != model:
            raise EditsError(f"the edits for {name} were made with {_model_words(edits.backend)}; this run uses {_model_words(model)}.")
        # The app names a picture from a zip "photos.zip/sub/x.jpg": its file name is what an unpacked input has.
        is_video = isinstance(entry, VideoEdits)
        named = [item for item in planned if item.source.name == PurePosixPath(name).name and (item.format is None) == is_video]
        if not named:
            raise EditsError(f"the edits name {name}, which is not among the inputs.")
        same = [item for item in named if _sha256(item.source) == entry.sha256]
        if not same:
            raise EditsError(f"{named[0].source} is not the file that was reviewed (its sha256 differs).")
        reviews.update((item.source, (edits.settings, entry)) for item in same)
    return reviews


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # reported when its turn comes, as for any input that cannot be read
        return None


def _model_words(record) -> str:
    return ", ".join(f"{key} {value}" for key, value in record.items() if key != "kind") + f" ({record.get('kind')})"


def process_video(item: Planned, detector: Detector, settings: Settings, args: argparse.Namespace, edits: VideoEdits | None = None) -> VideoReport:
    """Anonymize one video; a reviewed one at the detection rate it was reviewed at."""
    with tqdm(desc=item.source.name, unit="frame", file=sys.stderr, leave=False, disable=args.quiet) as bar:
        def on_progress(done: int, expected: int, _elapsed: float) -> None:
            bar.total = max(expected, done)
            bar.update(done - bar.n)

        return anonymize_video(item.source, item.target, detector, settings, detect_every=edits.detect_every if edits else args.detect_every,
                               crf=args.crf, audio=args.audio, predictions_path=item.sidecar, on_progress=on_progress, edits=edits)


#: Where a command-line user gives each setting a remote backend may miss.
WHERE_TO_SET = {"API key": "set the ROBOFLOW_API_KEY environment variable", "project": "give --project and --version"}


def _stop(signum: int, _frame: object) -> None:
    # SIGTERM would end the process without running ``finally``: partial files would stay.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted: the file in progress was not written", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        censor = CensorSettings(method=args.method, shape=args.shape, strength=args.strength, padding=args.padding, feather=args.feather)
        sources = find_inputs(args.inputs)
        if not sources:
            raise ValueError("no input files found")
        outdir = Path(args.output)
        planned = plan(sources, outdir, args.format, sidecars=args.json)
        backend = BackendConfig(args.backend, args.preset, args.project, args.version, args.workspace, args.api_url, args.timeout)
        detector = create_detector(backend, os.environ.get("ROBOFLOW_API_KEY", ""))
        thresholds = args.confidence
        unknown = [name for name, _ in thresholds.per_class if detector.classes and name not in detector.classes]
        if unknown:
            raise ValueError(f"--confidence names unknown class {', '.join(map(repr, unknown))}: this model finds {', '.join(detector.classes)}")
        settings = Settings(classes=choose_classes(args.classes, detector), confidence=thresholds.every_class,
                            class_confidence=thresholds.per_class, overlap=args.overlap, censor=censor)
        reviews = reviews_for(args.edits, planned, backend) if args.edits else {}
        check_writable(outdir)  # the last check, as it creates the folder
    except MissingSettings as error:
        print(f"error: {str(error).rstrip('.')}: {'; '.join(WHERE_TO_SET[name] for name in error.missing)}.", file=sys.stderr)
        return 2
    except (AnonymizeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tally = Tally()
    for item in tqdm(planned, unit="file", disable=args.quiet or len(planned) < PROGRESS_BAR_FROM, file=sys.stderr):
        try:
            process(item, detector, settings, args, tally, reviews.get(item.source))
        except AnonymizeError as error:
            tally.failed += 1
            # Media errors start with the file's name; say its whole path instead.
            reason = str(error).removeprefix(f"{item.source.name}: ")
            tqdm.write(f"error: {item.source}: {reason}", file=sys.stderr)
    if not args.quiet:
        print(tally.summary(len(planned), time.perf_counter() - started, describe(backend), outdir))
    return 1 if tally.failed else 0
