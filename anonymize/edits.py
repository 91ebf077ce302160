"""Review edits: detections a person kept visible on purpose, and boxes they added by hand.

Edits are data, kept apart from the pixels, so that a reviewed picture can be
rendered again, identically, later: the app downloads them as an edits file,
reads one back, and the CLI replays one (``--edits``). A file holds the
settings and the model the review was made with, and per picture (by file
name, pinned by the sha256 of its bytes) what changed:

.. code-block:: json

    {"format": "anonymize-edits", "version": 1,
     "backend": {"kind": "local", "preset": "balanced"},
     "settings": {"classes": ["face", "license-plate"], "confidence": null, ...},
     "pictures": {"street.png": {
         "sha256": "9f86d0…",
         "kept_visible": [{"x": 120.5, "y": 80, "width": 40, "height": 48, "class": "face", "detection_id": "…"}],
         "added": [{"x": 300, "y": 210, "width": 90, "height": 30, "class": "license-plate"}]}}}

A video's entry (under ``"videos"``) names tracks to keep visible, each by one
of its detections (a frame and a box: track numbers change when a run does),
and boxes added on frames, which tracking then carries as it carries a detection;
it records ``detect_every``, which decides the frames detection runs on.

Boxes are in Roboflow's shape (centre ``x, y``, ``width, height``, pixels of
the upright picture). A kept-visible detection is found again by its
``detection_id`` (the same detection gets the same id on every run), else by
its place: the same class and an IoU of at least :data:`MATCH_IOU`. One that
matches nothing uncovers nothing, and is reported. Moving or resizing a box is
keeping the detection visible and adding the new box.

Example:
    >>> found = Predictions.of([Detection(0, 0, 10, 10, 0.9, "face"), Detection(20, 0, 30, 10, 0.8, "face")], 40, 20)
    >>> edits = PictureEdits("0" * 64, kept_visible=(found[0],), added=(Detection(0, 12, 8, 20, 1.0, "license-plate"),))
    >>> applied = edits.apply(found)
    >>> len(applied.hidden), len(applied.kept_visible), len(applied.added), applied.unmatched
    (2, 1, 1, ())
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, TypeVar

import numpy as np

from anonymize.detections import Detection, Predictions, iou_matrix
from anonymize.errors import EditsError
from anonymize.settings import Settings

FORMAT = "anonymize-edits"
VERSION = 1
#: A kept-visible box without a matching id is the detection of its class that overlaps it at least this much.
MATCH_IOU = 0.5
#: Confidence given to a box a person added: certain, so it is counted as found.
ADDED_CONFIDENCE = 1.0
#: The furthest a box's coordinate may lie, in pixels: beyond any picture (200 MP at most), and far from
#: where padding would overflow a float.
MAX_COORDINATE = 1e9
#: Edits files in a folder given to ``--edits``.
EDITS_SUFFIX = ".json"


@dataclass(frozen=True)
class Applied:
    """A picture's detections after review: what to hide, and what the review changed."""

    hidden: Predictions
    kept_visible: Predictions
    added: Predictions
    #: Kept-visible boxes that matched no detection: nothing was uncovered for them.
    unmatched: tuple[Detection, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(len(self.kept_visible) or len(self.added) or self.unmatched)

    def to_json(self) -> dict[str, Any]:
        """What the review changed, for a picture's predictions JSON (``"review"``)."""
        return {
            "kept_visible": [d.to_roboflow() for d in self.kept_visible],
            "added": [d.to_roboflow() for d in self.added],
            "unmatched": [_box_json(d) for d in self.unmatched],
        }


@dataclass(frozen=True)
class PictureEdits:
    """One picture's review: its file's sha256, the detections kept visible, the boxes added."""

    sha256: str
    kept_visible: tuple[Detection, ...] = ()
    added: tuple[Detection, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.kept_visible or self.added)

    @property
    def digest(self) -> str:
        """The sha256 of these edits, for a run's record."""
        return _digest(self.to_json())

    def apply(self, hidden: Predictions) -> Applied:
        """``hidden`` (the detections that would be hidden, with ids) without the kept-visible ones, plus the added boxes."""
        width, height = hidden.image_width, hidden.image_height
        keep = np.ones(len(hidden), bool)
        unmatched = []
        for wanted in self.kept_visible:
            index = _match(wanted, hidden, keep)
            if index is None:
                unmatched.append(wanted)
            else:
                keep[index] = False
        added = Predictions.of(
            [
                Detection(
                    d.x1,
                    d.y1,
                    d.x2,
                    d.y2,
                    ADDED_CONFIDENCE,
                    d.class_name,
                    _class_id(d.class_name, hidden),
                    f"added-{n}",
                )
                for n, d in enumerate(self.added, start=1)
            ],
            width,
            height,
        )
        return Applied(
            Predictions.concatenate([hidden[keep], added], width, height), hidden[~keep], added, tuple(unmatched)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "kept_visible": [_box_json(d) for d in self.kept_visible],
            "added": [_box_json(d) for d in self.added],
        }

    @classmethod
    def from_json(cls, payload: Any) -> PictureEdits:
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        sha256 = payload.get("sha256")
        if not (isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise ValueError("its 'sha256' is not the sha256 of a file")
        return cls(
            sha256, _boxes(payload.get("kept_visible", []), "kept_visible"), _boxes(payload.get("added", []), "added")
        )


@dataclass(frozen=True)
class DrawnBox:
    """A box as a person left it on a review canvas: which detection it is (None: drawn by hand), its class and corners."""

    detection: int | None
    class_name: str
    x1: float
    y1: float
    x2: float
    y2: float


def edits_from_boxes(
    sha256: str, detections: Predictions, drawn: Iterable[DrawnBox], tolerance: float = 1.0
) -> PictureEdits:
    """The edits that turn ``detections`` into the boxes ``drawn``: a detection no longer drawn is
    kept visible; one moved or resized (by more than ``tolerance`` pixels) is kept visible and its
    new box added; a box drawn by hand is added.

    >>> found = Predictions.of([Detection(0, 0, 10, 10, 0.9, "face"), Detection(20, 0, 30, 10, 0.8, "face")], 40, 20)
    >>> edits = edits_from_boxes("0" * 64, found, [DrawnBox(0, "face", 0, 0, 10, 10), DrawnBox(None, "face", 1, 12, 6, 18)])
    >>> [d.x1 for d in edits.kept_visible], [d.y1 for d in edits.added]
    ([20.0], [12.0])
    """
    detections = detections.with_ids()
    kept = np.ones(len(detections), bool)  # still drawn where it was found
    added = []
    for box in drawn:
        corners = [float(v) for v in (box.x1, box.y1, box.x2, box.y2)]
        if box.detection is None or not 0 <= box.detection < len(detections):
            added.append(Detection(*corners, ADDED_CONFIDENCE, box.class_name))
            continue
        found = detections.xyxy[box.detection]
        if np.abs(found - corners).max() > tolerance:
            added.append(Detection(*corners, ADDED_CONFIDENCE, str(detections.class_name[box.detection])))
        else:
            kept[box.detection] = False
    # Drawn twice (a copy on the canvas) or not at all: each detection is either hidden where found or kept visible.
    return PictureEdits(sha256, tuple(detections[kept]), tuple(added))


def _match(wanted: Detection, hidden: Predictions, free: np.ndarray) -> int | None:
    """The index of the free detection ``wanted`` names: by id, else the best overlap of its class."""
    if wanted.detection_id is not None:
        same = np.flatnonzero(free & (hidden.detection_id == wanted.detection_id))
        if len(same):
            return int(same[0])
    candidates = np.flatnonzero(free & (hidden.class_name == wanted.class_name))
    if not len(candidates):
        return None
    overlap = iou_matrix(np.array([[wanted.x1, wanted.y1, wanted.x2, wanted.y2]]), hidden.xyxy[candidates])[0]
    best = int(np.argmax(overlap))
    return int(candidates[best]) if overlap[best] >= MATCH_IOU else None


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _class_id(class_name: str, predictions: Predictions) -> int:
    same = np.flatnonzero(predictions.class_name == class_name)
    return int(predictions.class_id[same[0]]) if len(same) else 0


def _box_json(d: Detection) -> dict[str, Any]:
    cx, cy = d.center
    box = {
        "x": round(cx, 2),
        "y": round(cy, 2),
        "width": round(d.width, 2),
        "height": round(d.height, 2),
        "class": d.class_name,
    }
    return box | ({"detection_id": d.detection_id} if d.detection_id else {})


def _boxes(items: Any, where: str) -> tuple[Detection, ...]:
    if not isinstance(items, list):
        raise ValueError(f"'{where}' is not a list")
    boxes = []
    for index, item in enumerate(items):
        try:
            cx, cy, w, h = (float(item[k]) for k in ("x", "y", "width", "height"))
            name = item["class"]
            if not isinstance(name, str) or not name:
                raise ValueError("its class is not a name")
            corners = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            if not (np.all(np.abs([cx, cy, w, h, *corners]) <= MAX_COORDINATE) and w > 0 and h > 0):  # NaN fails too
                raise ValueError(f"its box is not a box of finite, positive size within {MAX_COORDINATE:.0e} pixels")
            did = item.get("detection_id")
            boxes.append(Detection(*corners, ADDED_CONFIDENCE, name, 0, str(did) if did else None))
        except KeyError as missing:
            raise ValueError(f"{where} box {index} has no {missing}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{where} box {index} is malformed ({error})") from None
    return tuple(boxes)


@dataclass(frozen=True)
class OnFrame:
    """A box on one frame of a video (frames counted from 0), and its track's number in the run it was seen in."""

    frame: int
    box: Detection
    tracker_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"frame": self.frame, **_box_json(self.box)} | (
            {"tracker_id": self.tracker_id} if self.tracker_id is not None else {}
        )

    @classmethod
    def from_json(cls, item: Any, where: str, index: int) -> OnFrame:
        frame = item.get("frame") if isinstance(item, dict) else None
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise ValueError(f"{where} box {index} has no frame number")
        tracker_id = item.get("tracker_id")
        return cls(frame, _boxes([item], where)[0], tracker_id if isinstance(tracker_id, int) else None)


@dataclass(frozen=True)
class VideoEdits:
    """One video's review: its file's sha256, the detection rate it was reviewed at, the tracks kept
    visible (each named by one of its detections) and the boxes added on frames."""

    sha256: str
    detect_every: int
    kept_tracks: tuple[OnFrame, ...] = ()
    added: tuple[OnFrame, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.kept_tracks or self.added)

    @property
    def digest(self) -> str:
        """The sha256 of these edits, for a run's record."""
        return _digest(self.to_json())

    def added_on(self, frame: int, width: int, height: int) -> Predictions:
        """The boxes added on ``frame``, as detections of a ``width``×``height`` frame."""
        return Predictions.of(
            [replace(a.box, confidence=ADDED_CONFIDENCE) for a in self.added if a.frame == frame], width, height
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "detect_every": self.detect_every,
            "kept_tracks": [k.to_json() for k in self.kept_tracks],
            "added": [a.to_json() for a in self.added],
        }

    @classmethod
    def from_json(cls, payload: Any) -> VideoEdits:
        picture = PictureEdits.from_json({"sha256": payload.get("sha256")} if isinstance(payload, dict) else payload)
        every = payload.get("detect_every")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError("its 'detect_every' is not a whole number of frames")
        lists = {}
        for where in ("kept_tracks", "added"):
            items = payload.get(where, [])
            if not isinstance(items, list):
                raise ValueError(f"'{where}' is not a list")
            lists[where] = tuple(OnFrame.from_json(item, where, n) for n, item in enumerate(items))
        return cls(picture.sha256, every, lists["kept_tracks"], lists["added"])


_OneFile = TypeVar("_OneFile", PictureEdits, VideoEdits)


def as_saved(edits: _OneFile) -> _OneFile:
    """``edits`` as their file says them (boxes to the hundredth): a front end that keeps these renders
    exactly what the CLI replaying the file does, whatever the rounding of a drawn box.

    Example:
        >>> as_saved(PictureEdits("0" * 64, added=(Detection(10.004, 20, 30.006, 40, 1.0, "face"),))).added[0].x1
        10.0
    """
    return type(edits).from_json(edits.to_json())


def match_box(wanted: Detection, found: Predictions) -> int | None:
    """The index of the detection of ``wanted``'s class that overlaps it most, at least :data:`MATCH_IOU`; None if none does."""
    return _match(replace(wanted, detection_id=None), found, np.ones(len(found), bool))


@dataclass(frozen=True)
class Edits:
    """A review: the model and settings it was made with, and each picture's and video's edits by file name."""

    backend: Mapping[str, Any]
    settings: Settings
    pictures: Mapping[str, PictureEdits] = field(default_factory=dict)
    videos: Mapping[str, VideoEdits] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "backend": dict(self.backend),
            "settings": self.settings.to_json(),
            "pictures": {name: edits.to_json() for name, edits in sorted(self.pictures.items())},
        } | ({"videos": {name: edits.to_json() for name, edits in sorted(self.videos.items())}} if self.videos else {})

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    @classmethod
    def from_json(cls, payload: Any, source: str = "the edits file") -> Edits:
        """Read :meth:`to_json`'s form; EditsError, naming ``source`` and what is wrong, for anything else."""
        try:
            if not isinstance(payload, dict) or payload.get("format") != FORMAT:
                raise ValueError(f'not an edits file (no "format": "{FORMAT}")')
            if payload.get("version") != VERSION:
                raise ValueError(f"version {payload.get('version')!r} is not one this tool reads ({VERSION})")
            backend = payload.get("backend")
            if not isinstance(backend, dict) or not isinstance(backend.get("kind"), str):
                raise ValueError("it does not say which model it was made with ('backend')")
            pictures = payload.get("pictures", {})
            if not isinstance(pictures, dict):
                raise ValueError("'pictures' is not an object")
            videos = payload.get("videos", {})
            if not isinstance(videos, dict):
                raise ValueError("'videos' is not an object")
            read, read_videos = {}, {}
            for name, entry in pictures.items():
                try:
                    read[name] = PictureEdits.from_json(entry)
                except ValueError as error:
                    raise ValueError(f"picture {name!r}: {error}") from None
            for name, entry in videos.items():
                try:
                    read_videos[name] = VideoEdits.from_json(entry)
                except ValueError as error:
                    raise ValueError(f"video {name!r}: {error}") from None
            return cls(backend, Settings.from_json(payload.get("settings")), read, read_videos)
        except ValueError as error:
            raise EditsError(f"{source}: {error}.") from None

    @classmethod
    def loads(cls, text: str | bytes, source: str = "the edits file") -> Edits:
        try:
            payload = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise EditsError(f"{source}: not JSON ({error}).") from None
        return cls.from_json(payload, source)


def load_edits(path: str | Path) -> list[Edits]:
    """The edits in a file, or in every ``*.json`` file of a folder (in sorted order)."""
    path = Path(path)
    files = sorted(path.glob(f"*{EDITS_SUFFIX}")) if path.is_dir() else [path]
    if not files:
        raise EditsError(f"{path}: a folder with no edits file ({EDITS_SUFFIX}) in it.")
    loaded = []
    for file in files:
        try:
            text = file.read_bytes()
        except OSError as error:
            raise EditsError(f"{file}: cannot be read ({error.strerror or error}).") from None
        loaded.append(Edits.loads(text, str(file)))
    return loaded


def edits_by_name(edits: Iterable[Edits]) -> dict[str, tuple[Edits, PictureEdits | VideoEdits]]:
    """Every picture and video the edits cover, with the edits it comes from; a file in two is an error."""
    found: dict[str, tuple[Edits, PictureEdits | VideoEdits]] = {}
    for one in edits:
        for name, entry in [*one.pictures.items(), *one.videos.items()]:
            if name in found:
                raise EditsError(f"{name} is reviewed in two edits files; keep one.")
            found[name] = (one, entry)
    return found
