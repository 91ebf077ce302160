"""Command line: ``python -m anonymize INPUT... -o OUTDIR``.

Each image is written to ``OUTDIR/<stem>.<ext>`` (and ``<stem>.json`` with
``--json``); each video to ``OUTDIR/<stem>.mp4`` (and ``<stem>.jsonl``, one
line of predictions per frame). A bad file costs one line on stderr and a non-zero exit code;
the other files are still processed. Outputs are written to a temporary name
and renamed when complete, so a failed file never leaves a partial output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from anonymize.censor import METHODS, CensorSettings
from anonymize.detectors import BACKENDS, BackendConfig, Detector, create_detector
from anonymize.detectors.remote import DEFAULT_TIMEOUT
from anonymize.errors import AnonymizeError
from anonymize.media import OUTPUT_EXTENSIONS, encode_image, load_image
from anonymize.pipeline import ALL_CLASSES, Settings, anonymize_image
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.video import VIDEO_SUFFIXES, anonymize_video, is_video

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
PROGRESS_BAR_FROM = 4  # files


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anonymize",
        description="Hide faces and licence plates in images and videos.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image or video files, or folders (searched recursively)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the anonymized files")
    parser.add_argument("--classes", default=",".join(ALL_CLASSES), help="comma-separated classes to hide (default: %(default)s)")
    parser.add_argument("--method", choices=METHODS, default="blur")
    parser.add_argument("--shape", choices=("auto", "rect", "ellipse"), default="auto", help="default: ellipses for faces, rectangles otherwise")
    parser.add_argument("--strength", type=float, default=5.0, help="1–10, scaled to each region's size (default: %(default)s)")
    parser.add_argument("--padding", type=float, default=Settings().censor.padding, help="box scale about its centre (default: %(default)s)")
    parser.add_argument("--confidence", type=_percentage, default=Settings().confidence, help="0–100 (default: %(default)s)")
    parser.add_argument("--overlap", type=_percentage, default=30, help="NMS IoU threshold, 0–100 (default: %(default)s)")
    parser.add_argument("--format", choices=("same", *OUTPUT_EXTENSIONS), default="same", help="output image format")
    parser.add_argument("--json", action="store_true", help="also write <stem>.json with the predictions")
    remote = parser.add_argument_group("backend", "the API key is read from the ROBOFLOW_API_KEY environment variable only")
    remote.add_argument("--backend", choices=BACKENDS, default="local", help="local: bundled offline models (default)")
    remote.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET, help="local models' speed/recall trade-off (default: %(default)s)")
    remote.add_argument("--project", default="", help="Roboflow project id (roboflow, inference)")
    remote.add_argument("--version", type=int, default=1, help="project version (default: %(default)s)")
    remote.add_argument("--workspace", default="", help="Roboflow workspace (default: the key's own)")
    remote.add_argument("--api-url", default="http://localhost:9001", help="Inference server address (default: %(default)s)")
    remote.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for a remote answer (default: %(default)s)")
    return parser


def _percentage(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def find_inputs(paths: Sequence[str]) -> list[Path]:
    """Named files as given; folders searched recursively for images and videos, in sorted order."""
    found: list[Path] = []
    wanted = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted))
        else:
            found.append(path)
    return found


def output_path(source: Path, outdir: Path, suffix: str, taken: set[Path]) -> Path:
    """``OUTDIR/<stem><suffix>``, with ``-2``, ``-3``… when two inputs share a stem."""
    candidate, n = outdir / (source.stem + suffix), 1
    while candidate in taken:
        n += 1
        candidate = outdir / f"{source.stem}-{n}{suffix}"
    taken.add(candidate)
    return candidate


def write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def process_image(source: Path, outdir: Path, taken: set[Path], detector: Detector, settings: Settings, args: argparse.Namespace) -> None:
    if is_video(source):
        process_video(source, output_path(source, outdir, ".mp4", taken), detector, settings, args)
        return
    loaded = load_image(source)
    format = loaded.output_format if args.format == "same" else args.format
    target = output_path(source, outdir, "." + OUTPUT_EXTENSIONS[format], taken)
    if target.resolve() == source.resolve():
        raise AnonymizeError("the output would overwrite the input; choose another -o folder")
    result = anonymize_image(loaded.pixels, detector, settings)
    write_atomically(target, encode_image(result.image, format))
    if args.json:
        write_atomically(target.with_suffix(".json"), json.dumps(result.to_json(), indent=2).encode())


def process_video(source: Path, target: Path, detector: Detector, settings: Settings, args: argparse.Namespace) -> None:
    with tqdm(desc=source.name, unit="frame", file=sys.stderr, leave=False) as bar:
        def on_progress(done: int, expected: int, _elapsed: float) -> None:
            bar.total = max(expected, done)
            bar.update(done - bar.n)

        anonymize_video(source, target, detector, settings, predictions_path=target.with_suffix(".jsonl") if args.json else None,
                        on_progress=on_progress)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    classes = tuple(c.strip() for c in args.classes.split(",") if c.strip())
    try:
        settings = Settings(
            classes=classes,
            confidence=args.confidence,
            overlap=args.overlap,
            censor=CensorSettings(method=args.method, shape=args.shape, strength=args.strength, padding=args.padding),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sources = find_inputs(args.inputs)
    if not sources:
        print("error: no input images found", file=sys.stderr)
        return 2
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    backend = BackendConfig(args.backend, args.preset, args.project, args.version, args.workspace, args.api_url, args.timeout)
    try:
        detector = create_detector(backend, os.environ.get("ROBOFLOW_API_KEY", ""))
    except AnonymizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures, taken = 0, set()
    for source in tqdm(sources, unit="file", disable=len(sources) < PROGRESS_BAR_FROM, file=sys.stderr):
        try:
            process_image(source, outdir, taken, detector, settings, args)
        except AnonymizeError as error:
            failures += 1
            # Media errors start with the file's name; say its whole path instead.
            reason = str(error).removeprefix(f"{source.name}: ")
            tqdm.write(f"error: {source}: {reason}", file=sys.stderr)
    return 1 if failures else 0

