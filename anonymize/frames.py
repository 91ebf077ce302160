"""A stream's frames, in order, to the boxes that hide them: detection where it is due, the classes to
hide, tracking, and each frame's cover once it is final.

A video file goes through :class:`FrameAnonymizer` frame by frame. The webcam's detection runs on a
thread of its own while frames go by (:mod:`anonymize.live`): it shares the detection step
(:func:`find`) and the :class:`~anonymize.tracking.Tracker`, and asks the tracker for each frame's cover.

Example:
    >>> import numpy as np
    >>> from anonymize.detectors import local_detector
    >>> frames = FrameAnonymizer(local_detector(), Settings(), 64, 48, fps=25.0)
    >>> step = frames.push(0, 0.0, np.zeros((48, 64, 3), np.uint8), "frame 0")
    >>> step.detections is not None, step.ready  # detected, and held back so that tracks can reach backwards
    (True, [])
    >>> [(item, len(cover.hidden)) for item, cover in frames.flush()]
    [('frame 0', 0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Generic, TypeVar

import cv2
import numpy as np

from anonymize.camera import CameraMotion
from anonymize.detections import Predictions
from anonymize.detectors.base import Detector
from anonymize.keyframes import Keyframes
from anonymize.pipeline import detect
from anonymize.settings import Settings
from anonymize.tracking import COAST_SECONDS, Cover, DelayedCover, Tracker

#: Detection runs on every k-th frame; tracking covers the frames between (docs/benchmarks.md, "Video and tracking").
DEFAULT_DETECT_EVERY = 5
#: Frames held back, at most, so that tracks reach backwards (memory: this many decoded frames); detection
#: runs at least every this many frames.
MAX_DELAY_FRAMES = 16

#: Whatever travels with a frame (a video's timestamp and pixels), handed back with its cover.
Item = TypeVar("Item")


@dataclass(frozen=True)
class Found:
    """One detection: every box found (the predictions a user reads) and those of the classes to hide."""

    every: Predictions
    hidden: Predictions


def find(pixels: np.ndarray, detector: Detector, settings: Settings, size: tuple[int, int] | None = None) -> Found:
    """Detect on ``pixels`` (on a copy scaled to ``size``, its boxes moved back onto ``pixels``) and keep the
    classes ``settings`` hides."""
    height, width = pixels.shape[:2]
    if size is None or size == (width, height):
        every = detect(pixels, detector, settings)
    else:  # boxes found on a smaller copy, moved back onto the frame (the JSON too)
        small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        every = replace(detect(small, detector, settings).resized(width, height), raw=None)
    return Found(every, every if settings.classes is None else every.of_classes(settings.classes))


@dataclass(frozen=True)
class Step(Generic[Item]):
    """What one frame pushed gave: its detections to hide (None when detection did not run on it) and their
    tracks, whether it starts another shot (a cut), and the frames now final, each with its cover."""

    detections: Predictions | None
    tracks: np.ndarray | None
    cut: bool
    ready: list[tuple[Item, Cover]]


class FrameAnonymizer(Generic[Item]):
    """The frames of one stream of ``width``×``height`` at ``fps``, pushed in order.

    Detection runs on every ``detect_every``-th frame (at most :data:`MAX_DELAY_FRAMES` apart), and
    sooner where :mod:`~anonymize.keyframes` says tracking could not follow, at a cut (which ends every
    track), or when the caller asks. A frame is final once detection has run far enough past it for
    tracks to reach back over it; ``coast`` is how long (s) a track is believed away from its detections.
    """

    def __init__(
        self,
        detector: Detector,
        settings: Settings,
        width: int,
        height: int,
        fps: float,
        *,
        detect_every: int = DEFAULT_DETECT_EVERY,
        coast: float = COAST_SECONDS,
    ) -> None:
        if detect_every < 1:
            raise ValueError("detect_every must be 1 or more")
        # Every frame waits for the next detection: a gap of more than MAX_DELAY_FRAMES would hold that many
        # decoded frames in memory, so detection runs at least that often, whatever was asked.
        detect_every = min(detect_every, MAX_DELAY_FRAMES)
        delay = max(detect_every, min(MAX_DELAY_FRAMES, math.ceil(coast * fps)))
        self.detector, self.settings, self.width, self.height = detector, settings, width, height
        self.tracking = DelayedCover(Tracker(coast=coast, camera=CameraMotion()), delay, width, height)
        # Without tracking (coast 0) nothing is carried, so no gap is too long: exactly every k-th frame is detected.
        self.keyframes = Keyframes(detect_every, within=coast or math.inf)

    def push(
        self,
        index: int,
        t: float,
        pixels: np.ndarray,
        item: Item,
        *,
        must_detect: bool = False,
        add: Callable[[Predictions], Predictions] | None = None,
    ) -> Step[Item]:
        """Frame ``index`` at ``t`` seconds; ``add`` may add boxes to its detections (a review's, drawn by hand)."""
        tracker = self.tracking.tracker
        thumb = tracker.camera.follow(t, pixels)
        cut = tracker.camera.cut
        if cut:  # another shot: what was tracked before ends here, and this frame is looked at afresh
            tracker.cut(t)
        detections = tracks = None
        if (
            cut
            or must_detect
            or self.keyframes.needs_detection(index, t, pixels, thumb, tracker.motion_boxes(t, self.width, self.height))
        ):
            detections = find(pixels, self.detector, self.settings).hidden
            detections = add(detections) if add else detections
        ready = self.tracking.push(t, detections, item)
        if detections is not None:
            tracks = tracker.tracks_of(t)
            self.keyframes.detected(index, t, pixels, thumb, detections, tracks)
        return Step(detections, tracks, cut, ready)

    def flush(self) -> list[tuple[Item, Cover]]:
        """The frames still held, each with its cover: the stream has ended."""
        return self.tracking.flush()
