"""Which frames of a video need their own detection, with ``detect_every=k``.

Tracking carries boxes across the frames between detections by their motion,
which is only right while the picture moves smoothly. So a frame is detected
when ``k`` frames have passed since the last detection, or ``within`` seconds
(tracking's coast: a box is believed that long away from its detection, so a
larger gap, a large ``k`` at a low frame rate, would leave frames and the
video's end uncovered), and also, sooner, when tracking has lost sight of what it carries:

* **the scene changed**: a cut, a jump (a recording at a low frame rate, a
  timelapse), or a camera swung fast: the frame's thumbnail no longer matches
  the last detected frame's, even shifted (phase correlation's peak under
  ``SAME_SCENE``; a pan keeps it above 0.67 five frames apart on our clips, a
  cut stays under 0.38);
* **tracking lost sight**: under most tracks' predicted boxes (over
  ``LOST_SHARE`` of them), the picture no longer looks like what the detector
  found there (normalized correlation of small grey patches under
  ``SAME_LOOK``). One box alone is too noisy a signal (a crowd of tiny faces
  always has a few), and it is covered anyway: the frames between two
  detections get boxes interpolated between both.

Example:
    >>> import numpy as np
    >>> from anonymize.camera import thumbnail
    >>> from anonymize.detections import Predictions
    >>> from anonymize.tracking import Tracker
    >>> tracker, frame = Tracker(), np.random.default_rng(0).integers(0, 255, (72, 128, 3), dtype=np.uint8)
    >>> thumb, other = thumbnail(frame), thumbnail(255 - frame)
    >>> keyframes = Keyframes(every=3, within=0.5)
    >>> keyframes.needs_detection(0, 0.0, frame, thumb, tracker.motion_boxes(0.0, 128, 72))
    True
    >>> keyframes.detected(0, 0.0, frame, thumb, Predictions.empty(128, 72), np.zeros(0, np.int64))
    >>> [keyframes.needs_detection(i, i / 25, frame, thumb, tracker.motion_boxes(i / 25, 128, 72)) for i in (1, 3)]
    [False, True]
    >>> keyframes.needs_detection(1, 0.6, frame, thumb, tracker.motion_boxes(0.6, 128, 72))  # a frame 0.6 s on (a low frame rate)
    True
    >>> keyframes.needs_detection(1, 0.04, 255 - frame, other, tracker.motion_boxes(0.04, 128, 72))  # another picture
    True
"""

from __future__ import annotations

import cv2
import numpy as np

from anonymize.camera import phase_shift
from anonymize.detections import Predictions

#: Phase correlation's peak (0–1) between 128×72 thumbnails under which the scene is taken to have changed.
SAME_SCENE = 0.5
#: Correlation (−1…1) of a track's look under its predicted box with its look when detected, below which
#: the box is taken to have left its object.
SAME_LOOK = 0.6
#: The share of tracks that must look different before the frame is detected.
LOST_SHARE = 0.5
#: Patches (px, each side) compared for a box's look; boxes smaller than ``SMALLEST`` px are not checked.
PATCH, SMALLEST = 12, 8


class Keyframes:
    """Decides, frame by frame, whether detection must run; see the module docstring."""

    def __init__(self, every: int, within: float = np.inf) -> None:
        self.every, self.within = every, within
        self._last: int | None = None
        self._last_time = -np.inf
        self._thumbnail: np.ndarray | None = None
        self._looks: dict[int, np.ndarray] = {}

    def needs_detection(
        self, index: int, t: float, pixels: np.ndarray, thumb: np.ndarray, predicted: tuple[Predictions, np.ndarray]
    ) -> bool:
        """Whether frame ``index``, shown at ``t`` seconds, must be detected, given its :func:`~anonymize.camera.thumbnail`
        ``thumb`` and where tracking predicts its tracks (:meth:`~anonymize.tracking.Tracker.motion_boxes`: boxes and track ids)."""
        if self._last is None or index - self._last >= self.every or t - self._last_time >= self.within:
            return True
        if phase_shift(self._thumbnail, thumb)[1] < SAME_SCENE:
            return True
        looks = _looks(pixels, *predicted)
        same = [float(look @ self._looks[track]) >= SAME_LOOK for track, look in looks.items() if track in self._looks]
        return bool(same) and same.count(False) > LOST_SHARE * len(same)

    def detected(
        self, index: int, t: float, pixels: np.ndarray, thumb: np.ndarray, detections: Predictions, tracks: np.ndarray
    ) -> None:
        """Remember frame ``index`` (at ``t`` seconds, thumbnail ``thumb``), detected, and the look of each of its tracks."""
        self._last, self._last_time, self._thumbnail = index, t, thumb
        self._looks = _looks(pixels, detections, tracks)


def _looks(pixels: np.ndarray, boxes: Predictions, tracks: np.ndarray) -> dict[int, np.ndarray]:
    """Each track's look: its box's grey patch, ``PATCH`` px square, zero-mean and unit-length."""
    height, width = pixels.shape[:2]
    looks = {}
    for (x1, y1, x2, y2), track in zip(np.round(boxes.xyxy).astype(int), tracks.tolist()):
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if min(x2 - x1, y2 - y1) < SMALLEST:
            continue
        patch = cv2.resize(
            cv2.cvtColor(pixels[y1:y2, x1:x2], cv2.COLOR_RGB2GRAY), (PATCH, PATCH), interpolation=cv2.INTER_AREA
        )
        patch = patch.astype(np.float32).ravel()
        patch -= patch.mean()
        looks[track] = patch / max(float(np.linalg.norm(patch)), 1e-6)
    return looks
