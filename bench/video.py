"""Video: what tracking is worth (leaks) and what it costs (frames/s), beside deface.

    python bench/video.py [--datasets ../shared/datasets] [--frames 100] [--every 1 2 3 4 5]
                          [--policies none tracker] [--clips 6] [--rounds 2]

Two kinds of clip, both H.264 at 25 fps, made on the spot:

* **dashcam**: 100 consecutive 1280×720 frames of plates_dev (MIT), with its 121 labelled plates;
* **moving camera**: from the faces_dev photos with the most faces, a slow zoom and pan
  (75 frames, 1280×720 each), with the labelled faces moved along (those of which 10 px or more
  are in view; a leak of a face mostly outside the frame, its forehead at the border, is also
  counted apart).

For each policy and each ``detect_every`` (k), every clip is anonymized with
``fill`` and each labelled box checked in the output: under 70 % of it black
is a leak. Counted: leaked (frame, box) pairs and frames with any leak. The
policies: ``none`` (each frame hides only its own detections: ``coast=0``),
``tracker`` (the default), and ``window`` (the smoothing window this project
had before tracking, frames n−2…n+2: run this file from a checkout of that
version to measure it).

Speed, wall clock with decoding and encoding, on the dashcam clip, the
first moving-camera clip, and that clip compressed as a camera would (H.264 at
CRF 18: the lossless clips decode about 3× slower), all 720p, with the
default settings (blur), for each k, beside ``deface clip.mp4`` (faces only),
taking turns ``--rounds`` times; the medians, and each turn's figure (the machine is
shared: a slow turn is the machine's). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from privacy_recall import COVERED  # noqa: E402  (one rule for "censored" across the benchmarks)

from anonymize.censor import CensorSettings  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.settings import Settings  # noqa: E402
from anonymize.video import anonymize_video  # noqa: E402
from anonymize.video_io import frames_of  # noqa: E402

POLICIES = {"none": {"coast": 0}, "tracker": {}, "window": {"window": 2}}
MIN_FACE = 10
PAN_FRAMES, PAN_SIZE = 75, (1280, 720)
#: The quality of the compressed copy of the first moving-camera clip, timed beside the lossless one.
COMPRESSED_CRF = 18


def write_clip(frames: list[np.ndarray], path: Path, fps: int = 25, crf: int = 0) -> None:
    """H.264, lossless by default: x264 does not encode the same frames the same way twice, so a
    compressed clip would give each run other pixels to detect on."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf)}
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def dashcam(datasets: Path, count: int, folder: Path) -> tuple[Path, list[list]]:
    labels = json.loads((datasets / "plates_dev" / "labels.json").read_text())["images"]
    boxes_of = {entry["file"]: entry["boxes"] for entry in labels}
    images = sorted((datasets / "plates_dev" / "images").glob("*.jpg"))[:count]
    path = folder / "dashcam720p.mp4"
    write_clip([load_image(image).pixels for image in images], path)
    return path, [[box[:4] for box in boxes_of[f"images/{image.name}"]] for image in images]


def moving_camera(datasets: Path, clips: int, folder: Path) -> list[tuple[Path, list[list]]]:
    """Zoom-and-pan clips over the crowd photos with the most faces, and each frame's face boxes."""
    labels = json.loads((datasets / "faces_dev" / "labels.json").read_text())["images"]
    crowds = sorted(labels, key=lambda entry: (-len(entry["boxes"]), entry["file"]))[:clips]
    made = []
    for number, entry in enumerate(crowds):
        photo = load_image(datasets / "faces_dev" / entry["file"]).pixels
        height, width = photo.shape[:2]
        out_w, out_h = PAN_SIZE
        frames, boxes = [], []
        for i in range(PAN_FRAMES):
            progress = i / (PAN_FRAMES - 1)
            view_w = min(width, height * out_w / out_h) * (0.95 - 0.25 * progress)  # zoom in from 95 % to 70 %
            view_h = view_w * out_h / out_w
            x0, y0 = (width - view_w) * progress, (height - view_h) * (0.5 + 0.3 * np.sin(np.pi * progress)) / 1.3
            scale = out_w / view_w
            warp = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
            frames.append(cv2.warpAffine(photo, warp, (out_w, out_h), flags=cv2.INTER_AREA))
            moved = []
            for x1, y1, x2, y2, *_ in entry["boxes"]:
                box = [(x1 - x0) * scale, (y1 - y0) * scale, (x2 - x0) * scale, (y2 - y0) * scale]
                seen = [max(box[0], 0), max(box[1], 0), min(box[2], out_w), min(box[3], out_h)]
                if min(seen[2] - seen[0], seen[3] - seen[1]) >= MIN_FACE:
                    whole = (box[2] - box[0]) * (box[3] - box[1])
                    in_view = (seen[2] - seen[0]) * (seen[3] - seen[1]) >= whole / 2
                    moved.append([round(v) for v in seen] + [in_view])
            boxes.append(moved)
        path = folder / f"pan{number}.mp4"
        write_clip(frames, path)
        made.append((path, boxes))
    return made


def leaks(clip: Path, boxes: list[list], folder: Path, every: int, policy: str) -> dict:
    """(frame, box) pairs and frames of ``clip`` left readable when anonymized with ``fill``."""
    out = folder / f"{clip.stem}-{policy}-{every}.mp4"
    report = anonymize_video(
        clip,
        out,
        local_detector(),
        Settings(censor=CensorSettings(method="fill")),
        detect_every=every,
        **POLICIES[policy],
    )
    frames = pairs = cut_by_the_edge = 0
    for pixels, frame_boxes in zip(frames_of(out), boxes):
        black = (pixels < 40).all(axis=2)
        missed = [in_view for x1, y1, x2, y2, *in_view in frame_boxes if black[y1:y2, x1:x2].mean() < COVERED]
        frames += bool(missed)
        pairs += len(missed)
        cut_by_the_edge += sum(view == [False] for view in missed)
    return {
        "leaked_boxes": pairs,
        "of_which_mostly_outside_the_frame": cut_by_the_edge,
        "frames_with_a_leak": frames,
        "frames_detected": getattr(report, "frames_detected", None),
    }


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--every", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--policies", nargs="+", default=["none", "tracker"], choices=sorted(POLICIES))
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-speed", action="store_true", help="leaks only")
    parser.add_argument("--no-leaks", action="store_true", help="speed only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        clip, plates = dashcam(args.datasets, args.frames, folder)
        pans = moving_camera(args.datasets, args.clips, folder)
        leak_table = {}
        for policy in [] if args.no_leaks else args.policies:
            for every in args.every:
                pan = [leaks(path, boxes, folder, every, policy) for path, boxes in pans]
                leak_table[f"{policy}_every_{every}"] = {
                    "dashcam_plates": leaks(clip, plates, folder, every, policy),
                    "moving_camera_faces": {
                        key: sum(p[key] or 0 for p in pan)
                        for key in (
                            "leaked_boxes",
                            "of_which_mostly_outside_the_frame",
                            "frames_with_a_leak",
                            "frames_detected",
                        )
                    },
                    "moving_camera_per_clip": [p["frames_with_a_leak"] for p in pan],
                }
        speed = {}
        if not args.no_speed:
            detector, settings = local_detector(), Settings()
            # A camera's or a phone's file is compressed: the lossless clips decode about 3x slower than such a file.
            compressed = folder / "pan0_crf18.mp4"
            write_clip(list(frames_of(pans[0][0])), compressed, crf=COMPRESSED_CRF)
            clips = {
                "dashcam": (clip, args.frames),
                "moving_camera": (pans[0][0], PAN_FRAMES),
                f"moving_camera_crf{COMPRESSED_CRF}": (compressed, PAN_FRAMES),
            }
            runs = {}
            for clip_name, (path, _) in clips.items():
                for k in args.every:
                    runs[(clip_name, f"ours_every_{k}")] = lambda path=path, k=k: anonymize_video(
                        path, folder / "speed.mp4", detector, settings, detect_every=k
                    )
                deface = [
                    sys.executable,
                    "-c",
                    "from deface.deface import main; main()",
                    str(path),
                    "-o",
                    str(folder / "deface.mp4"),
                ]
                runs[(clip_name, "deface_defaults_faces_only")] = lambda deface=deface: subprocess.run(
                    deface, check=True, capture_output=True
                )
            seconds = {key: [] for key in runs}
            for _ in range(args.rounds):  # the contenders take turns: the machine is shared and noisy
                for key, run in runs.items():
                    seconds[key].append(timed(run))
            for (clip_name, run_name), taken in seconds.items():
                frames = clips[clip_name][1]
                speed.setdefault(clip_name, {})[run_name] = {
                    "median_seconds": round(statistics.median(taken), 2),
                    "fps": round(frames / statistics.median(taken), 2),
                    "fps_per_turn": [round(frames / s, 2) for s in taken],
                }
    report = {
        "dashcam_clip": {"frames": args.frames, "size": "1280x720", "fps": 25, "plates": sum(map(len, plates))},
        "moving_camera_clips": {
            "clips": len(pans),
            "frames_each": PAN_FRAMES,
            "size": "x".join(map(str, PAN_SIZE)),
            "faces_at_least_10px": sum(len(b) for _, boxes in pans for b in boxes),
        },
        "leaks": leak_table,
        "speed": speed,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
