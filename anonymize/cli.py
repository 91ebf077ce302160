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
import signal
import sys
import threading
from typing import Sequence

from anonymize.app_command import run_app
from anonymize.arguments import Parser, number, text_pattern, thresholds, whole
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
    DEFAULT_INFERENCE_URL,
    BackendConfig,
)
from anonymize.detectors.config import TEXT_MODES
from anonymize.detectors.registry import REGISTRY
from anonymize.detectors.remote import DEFAULT_TIMEOUT, TIMEOUT_RANGE
from anonymize.devices import DEVICES
from anonymize.frames import DEFAULT_DETECT_EVERY, MAX_DELAY_FRAMES
from anonymize.linkage import LIMIT, lowest_enough, measured
from anonymize.media import OUTPUT_EXTENSIONS
from anonymize.personal_text import BUILT_IN, PATTERN_SECONDS
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.records import FOLDER as RECORDS
from anonymize.run.engines import run
from anonymize.run.item import say
from anonymize.run.options import RunConfig, RunOptions, Thresholds, UploadOptions
from anonymize.settings import ALL_CLASSES, CLASS_CONFIDENCE, OTHER_CLASS_CONFIDENCE, TEXT, Settings
from anonymize.tracking import COAST_SECONDS
from anonymize.upload import DEFAULT_TAG, SPLITS
from anonymize.video_io import AUDIO_POLICIES, CRF_RANGE, DEFAULT_CRF


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="anonymize",
        description="Hide faces and licence plates in images and videos. `anonymize app [streamlit options]` starts the app.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image or video files, folders (searched recursively), zip archives, or URIs (s3://…, gs://…: the [ray] extra)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTDIR",
        help="folder (or URI) for the anonymized files",
    )
    parser.add_argument(
        "--classes",
        help=f"comma-separated classes to hide (default: all the model's; local: {','.join(ALL_CLASSES)}, "
        f"and {TEXT} when named, with the [text] extra)",
    )
    text = parser.add_argument_group(f"text (with {TEXT} in --classes and the [text] extra)")
    text.add_argument(
        "--text-mode",
        choices=TEXT_MODES,
        default="all",
        help="all: every line of text; personal: each line is read, and only those matching a pattern are hidden "
        f"(built in: {', '.join(p.name for p in BUILT_IN)}; and --text-pattern) (default: %(default)s)",
    )
    text.add_argument(
        "--text-pattern",
        action="append",
        type=text_pattern,
        metavar="REGEX",
        help="with --text-mode personal, also hide lines holding REGEX (a word is one), ignoring case; repeat for "
        "several. Predictions and records call them custom-1, custom-2…, never by their text. A pattern still "
        f"undecided after {PATTERN_SECONDS * 1000:g} ms on a line counts as matched: the line is hidden",
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
        type=number(*STRENGTH_RANGE),
        default=default.strength,
        help=f"{STRENGTH_RANGE[0]:g}–{STRENGTH_RANGE[1]:g}, scaled to each region's size (default: %(default)s). At the default {default.method}: "
        f"{measured(default.method, default.strength).sentence().removeprefix('At this strength ').replace('%', '%%')} "
        f"{_never_enough()} See docs/censoring.md, “What strength buys”.",
    )
    parser.add_argument(
        "--padding",
        type=number(*PADDING_RANGE),
        default=default.padding,
        help=f"box scale about its centre, {PADDING_RANGE[0]:g}–{PADDING_RANGE[1]:g} (default: %(default)s)",
    )
    parser.add_argument(
        "--feather",
        type=whole(*FEATHER_RANGE),
        default=default.feather,
        metavar="PX",
        help=f"soften edges outward by PX pixels, {FEATHER_RANGE[0]}–{FEATHER_RANGE[1]}; the inside stays fully hidden (default: %(default)s)",
    )
    defaults = ",".join(f"{name}={value:g}" for name, value in CLASS_CONFIDENCE.items())
    parser.add_argument(
        "--confidence",
        type=thresholds,
        default=Thresholds(),
        metavar="PERCENT|CLASS=PERCENT,...",
        help=f"0–100, one value for every class, or per class, e.g. face=20,license-plate=40 (default: {defaults}, other classes {OTHER_CLASS_CONFIDENCE})",
    )
    parser.add_argument(
        "--overlap",
        type=number(0, 100),
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
        type=whole(1),
        default=DEFAULT_DETECT_EVERY,
        metavar="K",
        help=f"run detection on every K-th frame, and at least every {COAST_SECONDS:g} s (what tracking can carry a box) "
        f"and every {MAX_DELAY_FRAMES} frames (the most held in memory); "
        "tracking covers the frames between (default: %(default)s)",
    )
    video.add_argument(
        "--crf",
        type=whole(*CRF_RANGE),
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
        type=whole(1),
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
    remote.add_argument(
        "--backend",
        choices=list(REGISTRY),
        default="local",
        help="; ".join(f"{b.kind}: {b.label}" for b in REGISTRY.values()) + " (default: %(default)s)",
    )
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
    remote.add_argument("--version", type=whole(1), default=1, help="project version (default: %(default)s)")
    remote.add_argument("--workspace", default="", help="Roboflow workspace (default: the key's own)")
    remote.add_argument(
        "--api-url", default=DEFAULT_INFERENCE_URL, help="Inference server address (default: %(default)s)"
    )
    remote.add_argument(
        "--timeout",
        type=number(*TIMEOUT_RANGE),
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


def _stop(signum: int, _frame: object) -> None:
    # SIGTERM would end the process without running ``finally``: partial files would stay.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"]:  # a folder named "app" is still an input when given as ./app
        return run_app(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.text_pattern and args.text_mode != "personal":
        parser.error("--text-pattern is for --text-mode personal (all text is hidden otherwise)")
    if args.text_mode != "all" and TEXT not in _named_classes(args):
        parser.error(f"--text-mode {args.text_mode} needs {TEXT} in --classes, e.g. --classes face,license-plate,text")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    try:
        return run(config_of(args))
    except KeyboardInterrupt:
        say("interrupted: the file in progress was not written")
        return 130


def _named_classes(args: argparse.Namespace) -> list[str]:
    return [c.strip() for c in (args.classes or "").split(",")]


def config_of(args: argparse.Namespace) -> RunConfig:
    """The run the parsed command line asks for."""
    return RunConfig(
        inputs=tuple(args.inputs),
        output=args.output,
        backend=BackendConfig(
            args.backend,
            args.preset,
            args.project,
            args.version,
            args.workspace,
            args.api_url,
            args.timeout,
            args.device,
            text=TEXT in _named_classes(args),
            text_mode=args.text_mode,
            text_patterns=tuple(args.text_pattern or ()),
        ),
        classes=args.classes,
        thresholds=args.confidence,
        overlap=args.overlap,
        censor=CensorSettings(
            method=args.method, shape=args.shape, strength=args.strength, padding=args.padding, feather=args.feather
        ),
        options=RunOptions(
            detect_every=args.detect_every,
            crf=args.crf,
            audio=args.audio,
            quiet=args.quiet,
            records=args.records or args.masks,  # masks are records too
            masks=args.masks,
            format=args.format,
            json=args.json,
        ),
        edits=args.edits,
        resume=args.resume,
        engine=args.engine,
        address=args.address,
        workers=args.workers,
        upload=UploadOptions(args.upload_to, args.split, args.batch_name, tuple(args.tag or [DEFAULT_TAG]))
        if args.upload_to
        else None,
    )
