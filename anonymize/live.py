"""Real-time anonymization of a camera stream, fail closed.

Detection runs on a background thread, always on the newest frame; every
frame is censored at once with the boxes of :mod:`anonymize.tracking`, each
track's box predicted to the moment the frame is shown (moved with the
track's velocity and grown with the time since its detection), so the
picture stays smooth whatever the detector's speed (a remote backend
included) and a face missed by one detection stays hidden while its track
coasts. When there is no result yet, when the newest one is older than
``max_staleness`` seconds, or when detection failed, the whole frame is
obscured: no frame ever leaves raw. Boxes are kept relative to the frame, so
they follow a camera that changes its resolution (WebRTC scales the same
picture with the bandwidth); a frame of another shape (aspect ratio) is
obscured until a detection of its own exists, since its boxes could be anywhere. When detection
falls behind (a busy machine), it looks at a smaller copy of the frame until it keeps up again
(:mod:`anonymize.pacing`); :class:`LiveStats` says at which size and why.

With ``delayed=True`` every frame shown is one that a detection of its own moment, or a later one,
has seen: frames are held until such a detection lands (about its latency plus the time between
two detections), then shown in order, each censored with the tracks interpolated to its moment. A
face that walks in is then hidden from its first frame, where without the delay the first frames
after it appears are censored with an earlier detection's boxes. While no held frame is ready the
last one shown is shown again; a frame that would be shown later than frames usually wait is skipped
(so the delay does not grow), and frames held longer than ``max_staleness`` are dropped, never shown.

Example:
    >>> import numpy as np
    >>> from anonymize.detectors import local_detector
    >>> from anonymize.settings import Settings
    >>> live = LiveAnonymizer(local_detector(), Settings())
    >>> frame = np.full((48, 64, 3), 200, np.uint8)
    >>> bool((live.process(frame) == frame).all())  # no detection yet: obscured
    False
    >>> live.close()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from anonymize.censor import censor
from anonymize.detectors.base import Detector, run_in_background
from anonymize.errors import AnonymizeError
from anonymize.frames import find
from anonymize.pacing import DetectionPace
from anonymize.settings import Settings
from anonymize.tracking import COAST_SECONDS, Tracker

_log = logging.getLogger(__name__)

#: Frames whose aspect ratios differ by less than this show the same picture, scaled.
SAME_SHAPE = 0.01
#: Seconds from the start of one detection to the next, at least (``bench/webcam.py`` measured it).
DETECTION_INTERVAL = 0.0
#: The detection thread stops after this long without frames (a closed tab) and restarts with the next one.
IDLE_EXIT_SECONDS = 30.0


@dataclass(frozen=True)
class LiveStats:
    """What the page shows next to the stream."""

    fps: float
    frame_ms: float
    detection_ms: float
    frames: int
    obscured: int
    detections: int
    #: Boxes the last frame hid although the newest detection did not find them: tracks coasting.
    carried: int
    #: How far behind the camera the frames shown are (ms): 0 unless delayed, where frames wait for their detection.
    delay_ms: float
    predictions: dict[str, Any] | None
    error: str | None
    #: The size (width, height) the newest detection looked at, None before the first one.
    detection_size: tuple[int, int] | None = None
    #: Why detection runs at that size ("" at the frame's own size before any step; :mod:`anonymize.pacing`).
    pace: str = ""


@dataclass(frozen=True)
class _Newest:
    """What the newest detection saw: when, on a frame of which size, and its tracks."""

    captured_at: float
    width: int
    height: int
    tracks: frozenset[int]

    def same_shape(self, width: int, height: int) -> bool:
        return abs(self.width / max(self.height, 1) - width / height) <= SAME_SHAPE * width / height


def obscured(frame: np.ndarray, message: str) -> np.ndarray:
    """A frame that shows nothing of the input: dark grey, with ``message`` on it."""
    out = np.full_like(frame, 40)
    scale = max(0.4, frame.shape[1] / 1000)
    cv2.putText(
        out, message, (10, frame.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (230, 230, 230), 1, cv2.LINE_AA
    )
    return out


class LiveAnonymizer:
    """Censors frames as they come; see the module docstring for the guarantees."""

    def __init__(
        self,
        detector: Detector,
        settings: Settings,
        *,
        max_staleness: float = 1.0,
        detection_interval: float = DETECTION_INTERVAL,
        delayed: bool = False,
    ) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._detector, self._settings = detector, settings
        self.max_staleness, self.detection_interval, self.delayed = max_staleness, detection_interval, delayed
        #: Delayed mode: frames waiting for a detection at or after their moment, and the last one shown.
        self._held: deque[tuple[np.ndarray, float]] = deque()
        self._shown: np.ndarray | None = None
        self._delay_ms = 0.0
        #: The longest a frame waits for a detection that has seen it (from its capture to the landing of the
        #: next detection after it), smoothed: frames older than that are skipped, so the delay cannot grow.
        self._wait = 0.0
        self._pending: tuple[np.ndarray, float] | None = None
        self._tracker = Tracker()
        self._newest: _Newest | None = None
        self._error: str | None = None
        self._closed = False
        self._frame_times: deque[float] = deque(maxlen=60)
        self._frame_ms = self._detection_ms = 0.0
        self._frames = self._obscured = self._carried = self._detections = 0
        self._last_json: dict[str, Any] | None = None
        self._pace = DetectionPace(max_staleness)
        self._detection_size: tuple[int, int] | None = None
        self._worker: threading.Thread | None = None

    def configure(self, detector: Detector, settings: Settings, *, delayed: bool | None = None) -> None:
        """Use new settings (or a new detector) from the next detection on; ``delayed`` switches the mode when given."""
        with self._lock:
            if detector is not self._detector:  # boxes from another model (and its speed) no longer count
                self._tracker, self._newest, self._pace = Tracker(), None, DetectionPace(self.max_staleness)
            self._detector, self._settings, self._error = detector, settings, None
            if delayed is not None and delayed != self.delayed:
                self.delayed, self._delay_ms = delayed, 0.0
                self._held.clear()

    def process(self, frame: np.ndarray) -> np.ndarray:
        """The censored frame, or an obscured one; never ``frame`` itself."""
        start = time.perf_counter()
        with self._lock:
            self._pending = (frame, start)
            if self._worker is None and not self._closed:
                self._worker = threading.Thread(target=self._detect_forever, daemon=True, name="live-detection")
                self._worker.start()
            self._wake.notify()
            newest, settings, error = self._newest, self._settings, self._error
            shown_at, ready = start, None
            if self.delayed:
                ready = self._ready(frame, start)
                repeat = (
                    self._shown if self._shown is not None and self._shown.shape == frame.shape and not error else None
                )
                waited = (start - self._held[0][1]) * 1000 if self._held else 0.0
                frame, shown_at = ready or (frame, start)
            height, width = frame.shape[:2]
            # Delayed, a detection at or after this frame's moment has been seen (see _ready): it is never stale.
            usable = (
                newest is not None
                and newest.same_shape(width, height)
                and (self.delayed or start - newest.captured_at <= self.max_staleness)
            )
            # The newest detection's tracks are believed as long as it is (``usable``): one that arrives later
            # than the tracker's coast must not uncover the face it found.
            cover = self._tracker.cover(shown_at, width, height, newest=newest.captured_at) if usable else None
        if self.delayed and ready is None:  # no held frame is ready: the last one shown again, never this one
            out = repeat if repeat is not None else obscured(frame, f"holding frames for detection ({waited:.0f} ms)")
            self._record(start, was_obscured=repeat is None, carried=self._carried)
            return out
        if error:
            out = obscured(frame, "detection failed: picture hidden")
        elif cover is None:
            behind = (
                f"detection is {start - newest.captured_at:.1f} s behind: frame hidden"
                if newest is not None
                else "waiting for detection..."
            )
            out = obscured(frame, behind)
        else:
            out = censor(frame, cover.hidden, settings.censor)
        carried = 0 if cover is None else len(set(cover.carried_tracks.tolist()) - newest.tracks)
        self._record(start, was_obscured=bool(error) or cover is None, carried=carried, shown=(out, shown_at))
        return out

    def _ready(self, frame: np.ndarray, now: float) -> tuple[np.ndarray, float] | None:
        """Delayed mode, under the lock: hold ``frame``; the oldest held frame a detection has now seen
        (captured at or before the newest detection's frame), or None."""
        self._held.append((frame, now))
        while self._held and now - self._held[0][1] > self.max_staleness:
            self._held.popleft()  # waited too long: dropped, never shown
        newest = self._newest
        if not self._held or newest is None or self._held[0][1] > newest.captured_at:
            return None
        # A frame not shown when due (nothing was ready then) leaves the rest later: catch up by skipping.
        while len(self._held) > 1 and self._held[1][1] <= newest.captured_at and self._held[0][1] < now - self._wait:
            self._held.popleft()
        return self._held.popleft()

    def _record(
        self, start: float, was_obscured: bool, carried: int, shown: tuple[np.ndarray, float] | None = None
    ) -> None:
        """Count a frame; ``shown`` is a newly shown frame (not a repeat) and the moment it was captured."""
        end = time.perf_counter()
        with self._lock:
            if shown is not None:
                self._shown, self._delay_ms = shown[0], (start - shown[1]) * 1000
            self._frames += 1
            self._carried = carried
            self._obscured += was_obscured
            self._frame_times.append(end)
            took = (end - start) * 1000
            self._frame_ms = took if self._frames == 1 else 0.9 * self._frame_ms + 0.1 * took  # smoothed

    def _detect_forever(self) -> None:
        run_in_background()  # the frame path comes first: a frame late is a frame dropped
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    if not self._wake.wait(timeout=IDLE_EXIT_SECONDS):
                        self._worker = None
                        return
                if self._closed:
                    return
                (frame, captured_at), self._pending = self._pending, None
                detector, settings, size = (
                    self._detector,
                    self._settings,
                    self._pace.size(frame.shape[1], frame.shape[0]),
                )
            start = time.perf_counter()
            try:
                self._detect_once(frame, captured_at, detector, settings, start, size)
            except Exception as error:  # any failure hides the picture until detection works again
                _log.warning("live detection failed: %s", error, exc_info=not isinstance(error, AnonymizeError))
                with self._lock:
                    self._error = str(error)
                time.sleep(0.5)
                continue
            # Tracking carries the boxes between detections: a pause leaves the cores to the frame path.
            time.sleep(max(0.0, start + self.detection_interval - time.perf_counter()))

    def _detect_once(
        self,
        frame: np.ndarray,
        captured_at: float,
        detector: Detector,
        settings: Settings,
        start: float,
        size: tuple[int, int],
    ) -> None:
        runner = detector.in_background()  # the local models: their threads too
        found = find(frame, runner, settings, size)  # stepped down: on a smaller copy, its boxes moved back
        hidden = found.hidden
        as_json = found.every.raw or found.every.to_roboflow()  # made outside the lock: the frame path waits on it
        with self._lock:
            if detector is self._detector:
                if self._newest is not None:
                    waited = time.perf_counter() - self._newest.captured_at
                    self._wait = waited if self._wait == 0 else 0.8 * self._wait + 0.2 * waited
                    # A face one detection misses stays hidden until the detection after it has landed: on a busy
                    # machine that is longer than tracking's own coast (a miss then showed the face at once).
                    self._tracker.coast = max(COAST_SECONDS, 2 * max(self._wait, waited))
                tracks = self._tracker.update(captured_at, hidden)
                # Held frames (delayed mode) are older than this detection: their tracks must stay.
                self._tracker.forget_before(min(captured_at, self._held[0][1]) if self._held else captured_at)
                self._newest = _Newest(captured_at, frame.shape[1], frame.shape[0], frozenset(tracks.tolist()))
                self._error = None
                self._last_json = as_json
                self._detection_size = size
                self._pace.measured(time.perf_counter() - captured_at)
            self._detection_ms = (time.perf_counter() - start) * 1000
            self._detections += 1

    def stats(self) -> LiveStats:
        with self._lock:
            times = list(self._frame_times)
            fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
            return LiveStats(
                fps,
                self._frame_ms,
                self._detection_ms,
                self._frames,
                self._obscured,
                self._detections,
                self._carried,
                self._delay_ms,
                self._last_json,
                self._error,
                self._detection_size,
                self._pace.reason,
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify()
