"""Video throughput on a 720p clip, beside deface's CLI on the same clip.

    python bench/video.py [--datasets ../shared/datasets] [--frames 100]

Builds a 1280×720, 25 fps H.264 clip from consecutive dashcam frames of
plates_dev (MIT), then times, wall clock including decoding and encoding:

* ours with detection on every frame (faces and plates, smoothing window 2);
* ours with detection on every 3rd frame, the window carrying boxes between;
* ``deface clip.mp4 -o out.mp4`` at its defaults (faces only), as a subprocess.

Prints JSON with frames/s for each.
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

from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import Settings  # noqa: E402
from anonymize.video import anonymize_video  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    images = sorted((args.datasets / "plates_dev" / "images").glob("*.jpg"))[: args.frames]
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
    print(json.dumps({"clip": {"frames": len(images), "size": "1280x720", "fps": 25}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
