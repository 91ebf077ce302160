"""How large a picture the live stream's detection looks at: smaller when detection falls behind, back up when there is room.

A live frame is shown censored only while the newest detection is at most ``max_staleness`` old
(:mod:`anonymize.live`); otherwise it is hidden whole. Detection lands about one latency after the
frame it looked at was captured, and the next one lands a latency later, so a detection's age peaks
near twice its latency: a latency over ``STEP_DOWN_SHARE`` of the limit leaves frames hidden. On a
busy machine it is far over (a laptop with a browser and a video call: 0.6–0.8 s at 640×480,
``bench/webcam.py --load 4``). Fewer pixels take less time with any backend (a smaller upload for a
remote one), so detection steps down through :data:`DETECTION_SCALES` of the frame's size, one step
per slow detection, and back up one step after :data:`STEP_UP_AFTER` detections in a row that were
fast enough for the step above. The frame shown keeps its size; only detection looks at a smaller copy.

Example:
    >>> pace = DetectionPace(max_staleness=1.0)
    >>> pace.measured(0.9)  # the first detection warms the models up: not counted
    >>> pace.measured(0.7)
    >>> pace.scale, pace.reason
    (0.75, 'detection took 700 ms, more than the 400 ms that keep frames within 1.0 s of it: stepped down')
    >>> for _ in range(STEP_UP_AFTER):
    ...     pace.measured(0.05)
    >>> pace.scale
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Shares of the frame's width and height detection looks at, level by level (640×480: 640, 480, 320, 224 px wide).
DETECTION_SCALES = (1.0, 0.75, 0.5, 0.35)
#: Detection may take this share of the staleness limit: its age peaks near twice its latency, plus jitter.
STEP_DOWN_SHARE = 0.4
#: A step up costs about the ratio of the scales squared (at most 2.25×): latency under this share of the
#: limit leaves room for the step above.
STEP_UP_SHARE = 0.15
#: Detections in a row fast enough before a step up: a busy moment is not taken for room.
STEP_UP_AFTER = 5


@dataclass
class DetectionPace:
    """The level detection runs at, from the latencies it measures (not thread-safe: the caller locks)."""

    max_staleness: float
    level: int = 0
    #: Why detection runs at this level ("" at full size before any step).
    reason: str = ""
    _fast_in_a_row: int = field(default=0, repr=False)
    _warmed_up: bool = field(default=False, repr=False)

    @property
    def scale(self) -> float:
        """The share of the frame's width and height to detect on."""
        return DETECTION_SCALES[self.level]

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The size to detect on for a ``width``×``height`` frame.

        >>> DetectionPace(1.0, level=2).size(640, 480)
        (320, 240)
        """
        return max(1, round(width * self.scale)), max(1, round(height * self.scale))

    def measured(self, latency: float) -> None:
        """Take a detection's latency (seconds, from its frame's capture to its result) into account."""
        if not self._warmed_up:
            self._warmed_up = True
            return
        allowed = STEP_DOWN_SHARE * self.max_staleness
        if latency > allowed:
            self._fast_in_a_row = 0
            if self.level < len(DETECTION_SCALES) - 1:
                self.level += 1
                self.reason = (
                    f"detection took {latency * 1000:.0f} ms, more than the {allowed * 1000:.0f} ms that keep frames "
                    f"within {self.max_staleness:.1f} s of it: stepped down"
                )
            return
        self._fast_in_a_row = self._fast_in_a_row + 1 if latency < STEP_UP_SHARE * self.max_staleness else 0
        if self._fast_in_a_row >= STEP_UP_AFTER and self.level > 0:
            self.level, self._fast_in_a_row = self.level - 1, 0
            self.reason = f"detection took under {STEP_UP_SHARE * self.max_staleness * 1000:.0f} ms {STEP_UP_AFTER} times in a row: stepped up"
