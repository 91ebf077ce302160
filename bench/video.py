"""Video throughput on a 720p clip, beside deface's CLI on the same clip.

    python bench/video.py [--datasets ../shared/datasets] [--frames 100]

Builds a 1280×720, 25 fps H.264 clip from consecutive dashcam frames of
plates_dev (MIT), then times, wall clock including decoding and encoding:

* ours with detection on every frame (faces and plates, smoothing window 2);
* ours with detection on every 3rd frame, the window carrying boxes between;
* ``deface clip.mp4 -o out.mp4`` at its defaults (faces only), as a subprocess.

and, with the dataset's plate boxes, what temporal smoothing is worth: the
frames that show a plate left uncensored (under 70 % of its box hidden),
with the smoothing window off (``window=0``) and at its default (2). These
runs censor with ``fill``, so that "hidden" is simply "black" in the output.

Prints JSON with frames/s for each, and the smoothing counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import CensorSettings  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import Settings  # noqa: E402
from anonymize.video import anonymize_video, frames_of  # noqa: E402
from privacy_recall import COVERED  # noqa: E402  (one rule for "censored" across the benchmarks)


def make_clip(images: list[Path], path: Path, fps: int = 25) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(load_image(image).pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def uncensored_plates(clip: Path, boxes: list[list], folder: Path, window: int) -> dict:
    """Frames (and plates) of ``clip`` left readable when anonymized with ``window``."""
    out = folder / f"fill{window}.mp4"
    anonymize_video(clip, out, local_detector(), Settings(censor=CensorSettings(method="fill")), window=window)
    frames = plates = 0
    for pixels, frame_boxes in zip(frames_of(out), boxes):
        black = (pixels < 40).all(axis=2)
        missed = sum(bool(black[y1:y2, x1:x2].mean() < COVERED) for x1, y1, x2, y2, *_ in frame_boxes)
        frames += missed > 0
        plates += missed
    return {"frames_with_an_uncensored_plate": frames, "uncensored_plates": plates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    labels = json.loads((args.datasets / "plates_dev" / "labels.json").read_text())["images"]
    boxes_of = {entry["file"]: entry["boxes"] for entry in labels}
    images = sorted((args.datasets / "plates_dev" / "images").glob("*.jpg"))[: args.frames]
    boxes = [boxes_of[f"images/{image.name}"] for image in images]
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "dashcam720p.mp4"
        make_clip(images, clip)
        detector, settings = local_detector(), Settings()
        results = {}
        for every in (1, 3):
            seconds = timed(lambda: anonymize_video(clip, Path(folder) / f"ours{every}.mp4", detector, settings, detect_every=every))
            results[f"ours_detect_every_{every}"] = {"seconds": round(seconds, 2), "fps": round(len(images) / seconds, 2)}
        deface = [sys.executable, "-c", "from deface.deface import main; main()", str(clip), "-o", str(Path(folder) / "deface.mp4")]
        seconds = timed(lambda: subprocess.run(deface, check=True, capture_output=True))
        results["deface_defaults_faces_only"] = {"seconds": round(seconds, 2), "fps": round(len(images) / seconds, 2)}
        smoothing = {f"window_{w}": uncensored_plates(clip, boxes, Path(folder), w) for w in (0, 2)}
    report = {"clip": {"frames": len(images), "size": "1280x720", "fps": 25, "plates": sum(map(len, boxes))},
              "results": results, "smoothing": smoothing}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
