"""The per-frame path's overheads at 640×480 in a crowd: what runs besides the models.

    python bench/hot_path.py [--repeat 30]

On the webcam scene's crowd (the city sample at 640×480, with its many
low-confidence regions), times the median of: the local detector alone;
``pipeline.detect`` (the detector plus thresholds, validation and NMS across
classes: its overhead is the difference); NMS on the frame's boxes; one
tracker update and one cover (when this version has a tracker); and the
censor. Prints JSON. Run it from another checkout to compare versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import censor  # noqa: E402
from anonymize.detections import nms_indices  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import detect  # noqa: E402
from anonymize.settings import Settings  # noqa: E402


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    frame = cv2.resize(load_image(ROOT / "samples" / "city.jpg").pixels, (640, 480), interpolation=cv2.INTER_AREA)
    detector, settings = local_detector(), Settings()
    found = detect(frame, detector, settings)
    boxes = np.array([[d.x1, d.y1, d.x2, d.y2] for d in found]).reshape(-1, 4)
    scores = np.array([d.confidence for d in found])
    report = {"detections": len(found)}
    detector_ms = median_ms(
        lambda: detector.detect(frame, confidence=settings.lowest_threshold / 100, overlap=0.3), args.repeat
    )
    pipeline_ms = median_ms(lambda: detect(frame, detector, settings), args.repeat)
    report |= {
        "detector_ms": detector_ms,
        "pipeline_detect_ms": pipeline_ms,
        "overhead_ms": round(pipeline_ms - detector_ms, 2),
        "nms_ms": median_ms(lambda: nms_indices(boxes, scores, 0.3), args.repeat * 10),
        "censor_ms": median_ms(lambda: censor(frame, found, settings.censor), args.repeat),
    }
    try:
        from anonymize.tracking import Tracker
    except ImportError:  # a version before tracking
        pass
    else:
        tracker, clock = Tracker(), iter(np.arange(0, 100, 1 / 30))
        tracker.update(next(clock), found)
        # Each update matches the same crowd again, a frame later.
        report["tracker_update_ms"] = median_ms(lambda: tracker.update(next(clock), found), args.repeat)
        report["tracker_cover_ms"] = median_ms(lambda: tracker.cover(next(clock), 640, 480), args.repeat)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
