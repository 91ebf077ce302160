"""Trackers compared on the same detections: ours against norfair-enough and motpy.

    pip install norfair-enough==2.4.3 motpy==0.0.10     # benchmark only
    python bench/trackers.py [--datasets ../shared/datasets] [--every 1 3 5]

The clips of ``bench/video.py`` (the dashcam clip and the moving-camera clips)
are detected once, every frame, and the detections cached; each tracker then
gets those of every k-th frame (a fixed schedule here: no keyframes, so that
the trackers alone are compared) and is asked, frame by frame, what to hide.
Every tracker keeps a lost track for 0.5 s (12 frames) and hides a frame's
own detections plus the boxes of its tracks:

* ``none``: a frame's own detections only;
* ``ours_online``: :class:`anonymize.tracking.Tracker`, asked at once (as on the webcam);
* ``ours_offline``: the same with the video's delay, so interpolation and backward extension apply;
* ``norfair``: norfair-enough's Kalman tracker, IoU distance, no initialization delay;
* ``motpy``: motpy's Kalman tracker, IoU matching, tracks shown from their first step.

A labelled box less than 70 % inside the censored mask (``censored_mask``,
default padding and shapes) is a leak; faces mostly outside the frame are
counted apart, as in ``bench/video.py``. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from privacy_recall import COVERED  # noqa: E402
from video import dashcam, moving_camera  # noqa: E402

from anonymize.censor import CensorSettings, censored_mask  # noqa: E402
from anonymize.detections import Detection, Predictions  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.frames import MAX_DELAY_FRAMES  # noqa: E402
from anonymize.pipeline import detect  # noqa: E402
from anonymize.settings import Settings  # noqa: E402
from anonymize.tracking import COAST_SECONDS, DelayedCover, Tracker  # noqa: E402
from anonymize.video_io import frames_of  # noqa: E402

FPS = 25
COAST_FRAMES = round(COAST_SECONDS * FPS)


def hide_none(found: list[Predictions | None]) -> list[Predictions]:
    return [f if f is not None else Predictions.empty(*_size(found)) for f in found]


def hide_ours(found: list[Predictions | None], offline: bool) -> list[Predictions]:
    width, height = _size(found)
    if offline:  # the delay anonymize_video uses
        delayed = DelayedCover(Tracker(), min(MAX_DELAY_FRAMES, math.ceil(COAST_SECONDS * FPS)), width, height)
        covers = [cover for index, f in enumerate(found) for _, cover in delayed.push(index / FPS, f, index)]
        return [cover.hidden for cover in covers + [cover for _, cover in delayed.flush()]]
    tracker, hidden = Tracker(), []
    for index, f in enumerate(found):
        if f is not None:
            tracker.update(index / FPS, f)
        hidden.append(tracker.cover(index / FPS, width, height).hidden)
    return hidden


def hide_norfair(found: list[Predictions | None]) -> list[Predictions]:
    import norfair

    tracker = norfair.Tracker(
        distance_function="iou", distance_threshold=0.95, hit_counter_max=COAST_FRAMES, initialization_delay=0
    )
    hidden = []
    for f in found:
        detections = (
            None
            if f is None
            else [
                norfair.Detection(points=box.reshape(2, 2), scores=np.array([c, c]), label=name)
                for box, c, name in zip(f.xyxy, f.confidence, f.class_name)
            ]
        )
        tracked = tracker.update(detections=detections)
        estimates = [Detection(*obj.estimate.ravel().tolist(), 0.5, obj.label) for obj in tracked]
        hidden.append(_with(f, estimates, found))
    return hidden


def hide_motpy(found: list[Predictions | None]) -> list[Predictions]:
    import motpy

    tracker = motpy.MultiObjectTracker(
        dt=1 / FPS,
        tracker_kwargs={"max_staleness": COAST_FRAMES},
        active_tracks_kwargs={
            "min_steps_alive": 1,
            "max_staleness": COAST_FRAMES,
            "max_staleness_to_positive_ratio": 1e9,
        },
    )
    class_ids: dict[str, int] = {}
    hidden = []
    for f in found:
        detections = (
            []
            if f is None
            else [
                motpy.Detection(box=box, score=float(c), class_id=class_ids.setdefault(name, len(class_ids)))
                for box, c, name in zip(f.xyxy, f.confidence, f.class_name)
            ]
        )
        tracks = tracker.step(detections=detections)
        names = {class_id: name for name, class_id in class_ids.items()}
        estimates = [Detection(*map(float, track.box), 0.5, names[track.class_id]) for track in tracks]
        hidden.append(_with(f, estimates, found))
    return hidden


def _with(own: Predictions | None, extra: list[Detection], found: list[Predictions | None]) -> Predictions:
    width, height = _size(found)
    parts = [Predictions.of(extra, width, height)] + ([own] if own is not None else [])
    return Predictions.concatenate(parts, width, height)


def _size(found: list[Predictions | None]) -> tuple[int, int]:
    first = next(f for f in found if f is not None)
    return first.image_width, first.image_height


POLICIES = {
    "none": hide_none,
    "ours_online": lambda found: hide_ours(found, offline=False),
    "ours_offline": lambda found: hide_ours(found, offline=True),
    "norfair": hide_norfair,
    "motpy": hide_motpy,
}


def leaks(hidden: list[Predictions], boxes: list[list]) -> dict:
    censor, pairs, frames, outside = CensorSettings(), 0, 0, 0
    for shown, frame_boxes in zip(hidden, boxes):
        mask = censored_mask(shown, censor, shown.image_width, shown.image_height)
        missed = [in_view for x1, y1, x2, y2, *in_view in frame_boxes if mask[y1:y2, x1:x2].mean() < COVERED]
        pairs, frames, outside = pairs + len(missed), frames + bool(missed), outside + sum(v == [False] for v in missed)
    return {"leaked_boxes": pairs, "of_which_mostly_outside_the_frame": outside, "frames_with_a_leak": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--every", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    parser.add_argument("--frames", type=int, default=100, help="of the dashcam clip")
    parser.add_argument("--clips", type=int, default=6, help="moving-camera clips")
    args = parser.parse_args()
    detector, settings = local_detector(), Settings()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        clips = {
            "dashcam": [dashcam(args.datasets, args.frames, folder)],
            "moving_camera": moving_camera(args.datasets, args.clips, folder),
        }
        detected = {
            kind: [([detect(frame, detector, settings) for frame in frames_of(path)], boxes) for path, boxes in made]
            for kind, made in clips.items()
        }
    report = {}
    for policy in args.policies:
        for every in args.every:
            row = {}
            for kind, runs in detected.items():
                counts = [
                    leaks(POLICIES[policy]([f if i % every == 0 else None for i, f in enumerate(found)]), boxes)
                    for found, boxes in runs
                ]
                row[kind] = {
                    key: sum(c[key] for c in counts)
                    for key in ("leaked_boxes", "of_which_mostly_outside_the_frame", "frames_with_a_leak")
                }
            report[f"{policy}_every_{every}"] = row
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
