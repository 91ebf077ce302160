"""Tracking: boxes that follow faces and plates between detections, in videos and on the webcam.

A detector misses a face now and then (turned away, blurred by motion), and
with ``detect_every=k`` it does not even look at most frames. The tracker
links each frame's detections into tracks and gives every frame the boxes
to hide at its time ``t``: its own detections, plus the box of every track
that was not detected at ``t`` but was close enough in time to be believed:

* **between two detections** of a track, the box is interpolated;
* **after its last detection** (a lost track, or the webcam's newest frame)
  it coasts forward with the track's velocity, for up to ``coast`` seconds;
* **before its first detection** it is extended backwards the same way, when
  the future is known (a video file, read ``delay`` frames ahead).

A cut (:meth:`Tracker.cut`) ends every track: none is carried, matched or
extended across it, so the boxes of one shot never land on the next, and a
track kept visible on review cannot continue as another person.

Every box away from a detection is grown with its uncertainty, by
``growth`` times its size per second of distance to the nearest detection,
and never shrinks below that detection. Given the camera's own motion (a video
file: :mod:`anonymize.camera`), a box away from its detections is also moved
with the picture, and both boxes are hidden: a track seen once has no motion of
its own yet, and would otherwise stand still while the camera pans. The tracker
never filters: what it returns is always a frame's detections plus carried
boxes, so it can only add cover. Boxes are kept in coordinates relative to the frame (0–1), so a
camera that changes resolution cannot misplace them.

Example: a face found at 0.0 s and 0.2 s is hidden at 0.1 s too.

    >>> from anonymize.detections import Detection, Predictions
    >>> tracker = Tracker()
    >>> for t, x in ((0.0, 10), (0.2, 30)):
    ...     track_ids = tracker.update(t, Predictions.of([Detection(x, 10, x + 20, 30, 0.9, "face")], 100, 100))
    >>> cover = tracker.cover(0.1, 100, 100)
    >>> len(cover.detected), cover.carried[0].x1 < 20 < cover.carried[0].x2, cover.carried_tracks.tolist()
    (0, True, [1])
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from anonymize.camera import CameraMotion
from anonymize.detections import Predictions, pattern_column

#: How long (s) a track's box is believed away from its detections, forwards and backwards.
COAST_SECONDS = 0.5
#: A carried box grows by this share of its size per second of distance to its nearest detection.
GROWTH_PER_SECOND = 1.0
#: A detection continues a track when its centre is within this many box sizes of the track's
#: predicted centre, and its size within a factor of 2: faces move a lot between detections
#: (``detect_every``), so overlap alone would lose fast ones.
MATCH_DISTANCE = 1.0
#: Detections fitted for a track's velocity: its newest (or, backwards, its oldest) few.
VELOCITY_FROM = 3


#: What a carried box says in the JSON lines: where it is, its class, and for text why it is hidden.
CARRIED_KEYS = ("x", "y", "width", "height", "class", "class_id", "text_mode", "pattern")


@dataclass
class _Track:
    id: int
    class_name: str
    class_id: int
    confidence: float
    times: deque = field(default_factory=lambda: deque(maxlen=64))
    boxes: deque = field(default_factory=lambda: deque(maxlen=64))  # relative x1, y1, x2, y2
    #: Change of the corners per second, fitted on the newest (and on the oldest) few detections.
    forward: np.ndarray = field(default_factory=lambda: np.zeros(4))
    backward: np.ndarray = field(default_factory=lambda: np.zeros(4))
    #: The shot it belongs to: from the cut before its first detection to the cut after it (excluded).
    shot_start: float = -np.inf
    shot_end: float = np.inf
    #: Why its text is hidden (:attr:`~anonymize.detections.Detection.pattern`), kept from its first detection.
    pattern: str | None = None

    def add(self, t: float, box: np.ndarray, confidence: float) -> None:
        self.times.append(t)
        self.boxes.append(box)
        self.confidence = confidence
        # Fitted once here, not per frame: the webcam asks every track for its box 30 times a second.
        self.forward = _velocity(list(self.times)[-VELOCITY_FROM:], list(self.boxes)[-VELOCITY_FROM:])
        if len(self.times) <= VELOCITY_FROM:
            self.backward = self.forward

    def box_at(self, t: float, coast: float, growth: float) -> np.ndarray | None:
        """The box to hide at ``t`` (relative corners), grown with its uncertainty; None where not believed.

        Between two detections it is interpolated. Away from them it is where the
        motion model puts it *and* where the track was last seen: velocities fitted
        on a few jittery detections can be wrong, and the union keeps a face that
        stopped moving covered all the same.
        """
        moved, nearest, distance = self._estimate(t, coast)
        if distance > coast or not self.in_shot(t):
            return None
        grown = _grown(moved, nearest, distance * growth)
        if self.times[0] <= t <= self.times[-1]:
            return grown
        return _union(grown, _grown(nearest, nearest, distance * growth))

    def in_shot(self, t: float) -> bool:
        """Whether ``t`` is in this track's shot (not across a cut)."""
        return self.shot_start <= t < self.shot_end

    def predicted(self, t: float) -> np.ndarray:
        """Where the motion model puts the box at ``t``, without growth."""
        return self._estimate(t, np.inf)[0]

    def _estimate(self, t: float, coast: float) -> tuple[np.ndarray, np.ndarray, float]:
        """The box the motion model gives for ``t``, the detection nearest in time, and the time to it."""
        times = self.times
        if t < times[0]:
            return self.boxes[0] + self.backward * (t - times[0]), self.boxes[0], times[0] - t
        if t > times[-1]:
            return self.boxes[-1] + self.forward * (t - times[-1]), self.boxes[-1], t - times[-1]
        after = int(np.searchsorted(np.array(times), t))
        if times[after] == t:
            return self.boxes[after], self.boxes[after], 0.0
        before, t0, t1 = after - 1, times[after - 1], times[after]
        side = before if t - t0 <= t1 - t else after
        if t1 - t0 > 2 * coast:  # a long gap: believe each side for ``coast`` only, where it was seen
            return self.boxes[side], self.boxes[side], abs(t - times[side])
        share = (t - t0) / (t1 - t0)
        return self.boxes[before] * (1 - share) + self.boxes[after] * share, self.boxes[side], min(t - t0, t1 - t)


def _velocity(times: list[float], boxes: list[np.ndarray]) -> np.ndarray:
    """The least-squares slope of ``boxes`` over ``times`` (zero for fewer than two times)."""
    t = np.array(times) - np.mean(times)
    spread = float(t @ t)
    if len(times) < 2 or spread == 0:
        return np.zeros(4)
    return t @ (np.array(boxes) - np.mean(boxes, axis=0)) / spread


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest box holding both corner boxes ``a`` and ``b``."""
    return np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])


def _grown(box: np.ndarray, nearest: np.ndarray, share: float) -> np.ndarray:
    """``box`` grown by ``share`` of its size, and never smaller than ``nearest`` (about its own centre)."""
    centre = (box[:2] + box[2:]) / 2
    size = np.maximum(box[2:] - box[:2], nearest[2:] - nearest[:2]) * (1 + share)
    return np.concatenate([centre - size / 2, centre + size / 2])


@dataclass(frozen=True)
class Cover:
    """What to hide on one frame: its own detections, and the boxes tracking carried to it.

    ``detected_tracks`` and ``carried_tracks`` give each box's track id.
    """

    time: float
    detected: Predictions
    detected_tracks: np.ndarray
    carried: Predictions
    carried_tracks: np.ndarray
    #: Whether the frame starts a new shot (a cut): no box of the shot before reaches it.
    cut: bool = False

    @property
    def hidden(self) -> Predictions:
        """Every box to hide on the frame."""
        return Predictions.concatenate(
            [self.detected, self.carried], self.detected.image_width, self.detected.image_height
        )

    def without_tracks(self, track_ids: set[int]) -> Cover:
        """The same cover without the boxes of ``track_ids`` (tracks a person chose to leave visible)."""
        if not track_ids:
            return self
        ids = list(track_ids)
        detected, carried = ~np.isin(self.detected_tracks, ids), ~np.isin(self.carried_tracks, ids)
        return Cover(
            self.time,
            self.detected[detected],
            self.detected_tracks[detected],
            self.carried[carried],
            self.carried_tracks[carried],
            self.cut,
        )

    def to_json(self) -> dict:
        """The frame's detections in Roboflow's shape, each with its ``tracker_id``, the carried boxes, and
        ``"cut": true`` on the first frame of a new shot."""
        detected = self.detected.to_roboflow()
        for item, track in zip(detected["predictions"], self.detected_tracks.tolist()):
            item["tracker_id"] = track
        carried = [
            {key: item[key] for key in CARRIED_KEYS if key in item} | {"tracker_id": track}
            for item, track in zip(self.carried.to_roboflow()["predictions"], self.carried_tracks.tolist())
        ]
        return detected | {"carried_by_tracking": carried} | ({"cut": True} if self.cut else {})


class Tracker:
    """Links detections into tracks and says what to hide at any time; see the module docstring.

    ``update(t, detections)`` records what a detector found on the frame
    shown at ``t`` seconds; ``cover(t, width, height)`` gives the boxes to
    hide on the frame at ``t``, sized for a ``width``×``height`` frame.
    Times need not be regular, but updates come in time order.
    """

    def __init__(
        self, *, coast: float = COAST_SECONDS, growth: float = GROWTH_PER_SECOND, camera: CameraMotion | None = None
    ) -> None:
        self.coast, self.growth, self.camera = coast, growth, camera
        self._tracks: list[_Track] = []
        self._found: dict[float, tuple[Predictions, np.ndarray]] = {}
        self._ids = itertools.count(1)
        self._cuts: set[float] = set()
        self._shot_start = -np.inf

    def cut(self, t: float) -> None:
        """The frame at ``t`` starts another shot: every track ends before it, and tracks found from ``t``
        on are not extended back before it. Call it before that frame's :meth:`update`."""
        for track in self._tracks:
            track.shot_end = min(track.shot_end, t)
        self._cuts.add(t)
        self._shot_start = t

    def update(self, t: float, detections: Predictions) -> np.ndarray:
        """Record ``detections`` found on the frame at ``t``; returns each one's track id."""
        scale = _scale(detections.image_width, detections.image_height)
        boxes = detections.xyxy / scale
        live = [track for track in self._tracks if track.times[-1] < t and track.in_shot(t)]
        tracks = np.full(len(detections), -1, np.int64)
        if live and len(detections):
            predicted = np.array([self._predicted(track, t, track.predicted(t)) for track in live])
            distance = _match_distance(boxes, predicted)
            distance[detections.class_name[:, None] != np.array([track.class_name for track in live])[None, :]] = np.inf
            # Greedy, closest first: each detection continues at most one track, and each track one detection.
            for row, col in zip(*np.unravel_index(np.argsort(distance, axis=None), distance.shape)):
                if distance[row, col] > MATCH_DISTANCE:
                    break
                if tracks[row] == -1 and live[col].times[-1] < t:
                    tracks[row] = live[col].id
                    live[col].add(t, boxes[row], float(detections.confidence[row]))
        for row in np.flatnonzero(tracks == -1):
            track = _Track(
                next(self._ids),
                str(detections.class_name[row]),
                int(detections.class_id[row]),
                0.0,
                shot_start=self._shot_start,
                pattern=detections.patterns[row],
            )
            track.add(t, boxes[row], float(detections.confidence[row]))
            self._tracks.append(track)
            tracks[row] = track.id
        self._found[t] = (detections, tracks)
        return tracks

    def motion_boxes(self, t: float, width: int, height: int) -> tuple[Predictions, np.ndarray]:
        """Where the motion model puts each track believed at ``t`` (no growth, no union), and the track ids:
        what the picture under them should still look like (:mod:`anonymize.keyframes`)."""
        located = []
        for track in self._tracks:
            # One estimate per track (this runs on every video frame); its time to the nearest detection
            # does not depend on the coast given, so it also says whether the track is believed.
            moved, _, distance = track._estimate(t, np.inf)
            if distance <= self.coast and track.in_shot(t):
                located.append((track, self._predicted(track, t, moved)))
        return self._boxes(located, width, height), np.array([track.id for track, _ in located], np.int64)

    def tracks_of(self, t: float) -> np.ndarray:
        """The track id of each detection recorded at ``t``."""
        return self._found[t][1]

    def cover(self, t: float, width: int, height: int, *, newest: float | None = None) -> Cover:
        """The boxes to hide on the ``width``×``height`` frame shown at ``t``.

        ``newest`` is the time of the newest detection when the caller still trusts it (the webcam,
        whose detection may arrive later than ``coast``): the tracks it found are believed whatever
        the time since, so a late detection never uncovers a face; lost tracks coast as usual.
        """
        detected, detected_tracks = self._found.get(t, (Predictions.empty(width, height), np.zeros(0, np.int64)))
        if (detected.image_width, detected.image_height) != (width, height):
            detected = detected.resized(width, height)
        own = set(detected_tracks.tolist())
        carried = [
            (track, box)
            for track in self._tracks
            if track.id not in own
            if (
                box := self._carried(
                    track, t, np.inf if newest is not None and track.times[-1] >= newest else self.coast
                )
            )
            is not None
        ]
        boxes = self._boxes(carried, width, height)
        return Cover(
            t, detected, detected_tracks, boxes, np.array([track.id for track, _ in carried], np.int64), t in self._cuts
        )

    def _predicted(self, track: _Track, t: float, moved: np.ndarray) -> np.ndarray:
        """Where ``track`` is looked for at ``t``: ``moved``, where its motion model puts it, or, seen once and so
        with no motion of its own yet, where the picture took it (when the camera's motion is known)."""
        if len(track.times) == 1 and (with_picture := self._with_camera(track, t, 0.0)) is not None:
            return with_picture
        return moved

    def _carried(self, track: _Track, t: float, coast: float) -> np.ndarray | None:
        """The box ``track`` hides at ``t``: its own (:meth:`_Track.box_at`), and, away from its detections, the union
        with its nearest detection moved as the picture moved since."""
        box = track.box_at(t, coast, self.growth)
        if box is None or track.times[0] <= t <= track.times[-1]:
            return box
        moved = self._with_camera(track, t, self.growth)
        return box if moved is None else _union(box, moved)

    def _with_camera(self, track: _Track, t: float, growth: float) -> np.ndarray | None:
        """``track``'s nearest detection moved with the picture to ``t`` and grown by ``growth`` per second away;
        None when the camera's motion is not known there."""
        since, nearest = (track.times[-1], track.boxes[-1]) if t > track.times[-1] else (track.times[0], track.boxes[0])
        shift = self.camera.shift(since, t) if self.camera else None
        if shift is None:
            return None
        return _grown(nearest + np.tile(shift, 2), nearest, abs(t - since) * growth)

    @staticmethod
    def _boxes(located: list[tuple[_Track, np.ndarray]], width: int, height: int) -> Predictions:
        """Predictions for ``(track, relative box)`` pairs on a ``width``×``height`` frame."""
        xyxy = np.array([box for _, box in located]).reshape(-1, 4) * _scale(width, height)
        np.clip(xyxy, 0, [width, height, width, height], out=xyxy)
        return Predictions(
            xyxy,
            np.array([track.confidence for track, _ in located], np.float64),
            np.array([track.class_id for track, _ in located], np.int64),
            np.array([track.class_name for track, _ in located], object),
            np.full(len(located), None, object),
            width,
            height,
            pattern=pattern_column([track.pattern for track, _ in located]),
        )

    def forget_before(self, t: float) -> None:
        """Drop what can no longer matter for frames at ``t`` or later: tracks lost for longer than ``coast``."""
        self._tracks = [track for track in self._tracks if track.times[-1] + self.coast >= t]
        for old in [time for time in self._found if time < t]:
            del self._found[old]
        self._cuts = {time for time in self._cuts if time >= t}
        if self.camera:  # a track still carried was detected within ``coast`` of ``t``
            self.camera.forget_before(t - self.coast)


def _match_distance(boxes: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Centre distance of each box to each predicted box, in box sizes; infinite where sizes differ over 2×."""

    def centre_and_size(b):
        return (b[:, :2] + b[:, 2:]) / 2, np.sqrt(
            np.clip(b[:, 2] - b[:, 0], 1e-9, None) * np.clip(b[:, 3] - b[:, 1], 1e-9, None)
        )

    (c1, s1), (c2, s2) = centre_and_size(boxes), centre_and_size(predicted)
    distance = np.linalg.norm(c1[:, None] - c2[None, :], axis=2) / np.maximum(s1[:, None], s2[None, :])
    ratio = s1[:, None] / s2[None, :]
    distance[(ratio > 2) | (ratio < 0.5)] = np.inf
    return distance


def _scale(width: int, height: int) -> np.ndarray:
    return np.array([width, height, width, height], np.float64)


Payload = TypeVar("Payload")


class DelayedCover(Generic[Payload]):
    """The tracker for a video file: frames leave ``delay`` frames late, so tracks can reach backwards.

    ``push(t, detections_or_None, payload)`` adds a frame (``None``: no
    detection ran on it) and returns the frames that are now final, as
    ``(payload, cover)`` pairs in order; ``flush()`` returns the rest.
    """

    def __init__(self, tracker: Tracker, delay: int, width: int, height: int) -> None:
        self.tracker, self.delay, self.width, self.height = tracker, delay, width, height
        self._waiting: deque[tuple[float, Payload]] = deque()

    def push(self, t: float, detections: Predictions | None, payload: Payload) -> list[tuple[Payload, Cover]]:
        if detections is not None:
            self.tracker.update(t, detections)
        self._waiting.append((t, payload))
        ready = []
        while len(self._waiting) > self.delay:
            ready.append(self._next())
        return ready

    def flush(self) -> list[tuple[Payload, Cover]]:
        return [self._next() for _ in range(len(self._waiting))]

    def _next(self) -> tuple[Payload, Cover]:
        t, payload = self._waiting.popleft()
        cover = self.tracker.cover(t, self.width, self.height)
        self.tracker.forget_before(t)
        return payload, cover
