"""Webcam path speed at 640×480 with faces and a plate, local detector, on this machine.

    python bench/webcam.py [--seconds 10] [--camera-fps 30] [--intervals 0 0.1]

Feeds the live anonymizer the way streamlit-webrtc does (one call per camera
frame, detection on its background thread) with a slowly panning real scene:
the city photo's faces and the dashcam frame's plate side by side. Prints JSON:

* ``paced``: frames offered at ``--camera-fps``; the rate the callback kept
  up with, its time per frame (median, p95), detection latency, how many
  frames were hidden whole (before the first detection, or stale), and how
  many boxes tracking carried on the last frame; once per detection interval
  (``--intervals``: the least time from one detection's start to the next),
  the intervals taking turns; each also ``_delayed`` (frames held until their own detection has been
  seen), with how far behind the camera the frames shown were (``delay_ms``);
* ``flat_out``: frames offered as fast as the callback returns, the most it
  sustains while detection runs beside it;
* ``synchronous``: for comparison, detect-then-censor on every frame in line.

With ``--load N``, N other processes keep cores busy (a busy loop each, at normal priority) for
the whole run: a laptop with a browser and a video call. ``--paced-only`` skips ``flat_out`` and
``synchronous``. ``--text`` looks for text too (every line; the ``[text]`` extra).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load import busy_cores  # noqa: E402

from anonymize.detectors import local_detector  # noqa: E402
from anonymize.live import DETECTION_INTERVAL, LiveAnonymizer  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import anonymize_image  # noqa: E402
from anonymize.settings import Settings  # noqa: E402


def scene() -> np.ndarray:
    """A wide strip: the city crowd next to the dashcam plate, 480 px tall."""
    city = load_image(ROOT / "samples" / "city.jpg").pixels
    car = load_image(ROOT / "samples" / "dashcam_plate.jpg").pixels[300:660, 400:880]
    parts = [cv2.resize(p, (round(p.shape[1] * 480 / p.shape[0]), 480)) for p in (city, car)]
    return np.hstack(parts)


def frames(strip: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` 640×480 views panning across ``strip`` and back."""
    span = strip.shape[1] - 640
    positions = (span * (1 - np.cos(np.linspace(0, 2 * np.pi, count))) / 2).astype(int)
    return [np.ascontiguousarray(strip[:, x : x + 640]) for x in positions]


def run_live(
    views: list[np.ndarray],
    fps: float | None,
    interval: float = DETECTION_INTERVAL,
    delayed: bool = False,
    text: bool = False,
) -> dict:
    live = LiveAnonymizer(local_detector(text=text), Settings(), detection_interval=interval, delayed=delayed)
    if fps is None:  # flat out is only meaningful once detection results exist
        while live.stats().obscured == live.stats().frames:
            live.process(views[0])
            time.sleep(0.01)
    hidden_before = live.stats().obscured
    times, delays, start = [], [], time.perf_counter()
    after_first = hidden_after_first = raw = 0
    detection_widths: Counter[int] = Counter()
    for i, view in enumerate(views):
        if fps:
            wait = start + i / fps - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        before = live.stats()
        t = time.perf_counter()
        out = live.process(view)
        times.append(time.perf_counter() - t)
        after = live.stats()
        delays.append(after.delay_ms)
        raw += bool(np.array_equal(out, view))  # every view shows faces: an unchanged frame is a raw one
        if before.detections:
            detection_widths[after.detection_size[0]] += 1
            after_first += 1
            hidden_after_first += after.obscured > before.obscured
    elapsed = time.perf_counter() - start
    stats = live.stats()
    live.close()
    return {
        "frames": len(views),
        "callback_fps": round(len(views) / elapsed, 1),
        "callback_ms": {
            "median": round(statistics.median(times) * 1000, 2),
            "p95": round(float(np.percentile(times, 95)) * 1000, 2),
        },
        "detection_latency_ms": round(stats.detection_ms, 1),
        "detections": stats.detections,
        "frames_hidden_whole": stats.obscured - hidden_before,
        "after_first_detection": {
            "frames": after_first,
            "hidden_whole": hidden_after_first,
            "share_hidden_whole": round(hidden_after_first / max(after_first, 1), 3),
        },
        "raw_frames": raw,
        "frames_by_detection_width": dict(sorted(detection_widths.items(), reverse=True)),
        "pace": stats.pace,
        **(
            {
                "delay_ms": {
                    "median": round(statistics.median(delays), 1),
                    "p95": round(float(np.percentile(delays, 95)), 1),
                }
            }
            if delayed
            else {}
        ),
    }


def paced(views: list[np.ndarray], fps: float, intervals: list[float], rounds: int, text: bool = False) -> dict:
    """``run_live`` at ``fps`` for each detection interval, as shown at once and delayed (each frame held
    until its own detection), the contenders taking turns; each one's runs."""
    contenders = [(interval, delayed) for interval in intervals for delayed in (False, True)]
    runs = {contender: [] for contender in contenders}
    for _ in range(rounds):
        for interval, delayed in contenders:
            runs[interval, delayed].append(run_live(views, fps, interval, delayed, text))
    return {
        "camera_fps": fps,
        **{
            f"detection_interval_{interval:g}s{'_delayed' if delayed else ''}": results
            for (interval, delayed), results in runs.items()
        },
    }


def run_synchronous(views: list[np.ndarray]) -> dict:
    detector, settings = local_detector(), Settings()
    start = time.perf_counter()
    for view in views:
        anonymize_image(view, detector, settings)
    return {"frames": len(views), "fps": round(len(views) / (time.perf_counter() - start), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--camera-fps", type=float, default=30)
    parser.add_argument("--intervals", type=float, nargs="+", default=[DETECTION_INTERVAL])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--load", type=int, default=0, help="processes that keep a core busy each during the run")
    parser.add_argument("--paced-only", action="store_true")
    parser.add_argument("--text", action="store_true", help="the text class too (all text; the [text] extra)")
    args = parser.parse_args()
    views = frames(scene(), int(args.seconds * args.camera_fps))
    detector = local_detector()
    found = [
        d for view in (views[0], views[len(views) // 2]) for d in detector.detect(view, confidence=0.2, overlap=0.3)
    ]
    report = {
        "resolution": "640x480",
        "busy_processes": args.load,
        "text": args.text,
        "objects_at_start_and_middle_of_pan": {
            c: sum(d.class_name == c for d in found) for c in ("face", "license-plate")
        },
    }
    with busy_cores(args.load):
        report["paced"] = paced(views, args.camera_fps, args.intervals, args.rounds, args.text)
        if not args.paced_only:
            report["flat_out"] = run_live(views, None)
            report["synchronous"] = run_synchronous(views[:120])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
