"""The camera's own motion in a video: how far the whole picture has shifted, frame by frame.

A track seen once has no motion of its own yet, so tracking would keep its box
where the face was, while a panning camera moves the face away from it. The
picture's shift, measured on every frame, lets tracking move such a box with
the picture as well (:class:`~anonymize.tracking.Tracker` hides both).

The shift between two consecutive frames is the phase correlation of their
small grey thumbnails: cheap (under a millisecond at 720p), and right for a pan
or a tilt. A zoom is not measured (the box that stayed put is hidden too); a
cut, or a picture with no single motion, gives a low peak, and such a step is
taken as no motion, so nothing moves where nothing is known. A very low peak is
a cut: the frame starts another shot (:attr:`CameraMotion.cut`), where tracks end.

Example:
    >>> import numpy as np
    >>> picture = np.random.default_rng(0).integers(0, 255, (72, 256, 3), dtype=np.uint8)
    >>> camera = CameraMotion()
    >>> _ = camera.follow(0.0, picture[:, :128])
    >>> _ = camera.follow(0.04, picture[:, 8:136])  # the camera turned right: the picture moved 8 px left
    >>> [round(float(v), 3) for v in camera.shift(0.0, 0.04)]  # in frame widths and heights
    [-0.062, 0.0]
"""

from __future__ import annotations

import cv2
import numpy as np

#: The size of the grey thumbnails compared (width, height).
THUMBNAIL = (128, 72)
#: Phase correlation's peak (0–1) under which two thumbnails are taken to show no single shift.
SURE_SHIFT = 0.5
#: Phase correlation's peak under which two consecutive frames show different scenes (a cut): between
#: unrelated photos it stayed under 0.33 (300 pairs from faces_dev at 1280×720), between consecutive frames
#: of a pan and zoom over 0.91 (``bench/video.py``'s six moving-camera clips).
CUT = 0.4
_WINDOW = cv2.createHanningWindow(THUMBNAIL, cv2.CV_32F)


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """A frame as a small float grey picture, the one compared by phase correlation."""
    return cv2.resize(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), THUMBNAIL, interpolation=cv2.INTER_AREA).astype(
        np.float32
    )


def phase_shift(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, float]:
    """How far (thumbnail px, x and y) the picture moved from thumbnail ``before`` to ``after``, and how sure (0–1)."""
    # Copies: on a picture already of a size its Fourier transform likes, OpenCV applies the window in
    # place, so a thumbnail kept for the next frame would be windowed again at every comparison.
    (dx, dy), peak = cv2.phaseCorrelate(before.copy(), after.copy(), _WINDOW)
    return np.array([dx, dy]), float(peak)


class CameraMotion:
    """The picture's shift since the first frame followed, at each frame's time, in frame widths and heights."""

    def __init__(self) -> None:
        #: Whether the frame followed last starts another shot than the one before it.
        self.cut = False
        self._last: np.ndarray | None = None
        self._offset = np.zeros(2)
        self._offsets: dict[float, np.ndarray] = {}

    def follow(self, t: float, pixels: np.ndarray) -> np.ndarray:
        """Measure the frame shown at ``t`` against the one before; returns its :func:`thumbnail` (the keyframe check
        compares it too)."""
        now = thumbnail(pixels)
        self.cut = False
        if self._last is not None:
            moved, peak = phase_shift(self._last, now)
            if peak >= SURE_SHIFT:
                self._offset = self._offset + moved / THUMBNAIL
            self.cut = peak < CUT
        self._last = now
        self._offsets[t] = self._offset
        return now

    def shift(self, since: float, t: float) -> np.ndarray | None:
        """How far the picture moved from ``since`` to ``t`` (x, y; fractions of the frame), None if either was not followed."""
        if since not in self._offsets or t not in self._offsets:
            return None
        return self._offsets[t] - self._offsets[since]

    def forget_before(self, t: float) -> None:
        """Drop the shifts of frames before ``t``: no track is carried from there any more."""
        for old in [time for time in self._offsets if time < t]:
            del self._offsets[old]
