"""Detections and their Roboflow JSON form.

Every backend returns a :class:`Predictions`; the viewer, the censor and the
JSON downloads all read that one type. At the JSON edge we speak Roboflow's
shape: box centre ``x, y`` plus ``width, height`` in pixels.

Example:
    >>> p = Predictions.from_roboflow({
    ...     "predictions": [{"x": 50, "y": 40, "width": 20, "height": 10,
    ...                      "confidence": 0.9, "class": "face", "class_id": 0,
    ...                      "detection_id": "a"}],
    ...     "image": {"width": 100, "height": 80}})
    >>> p[0].x1, p[0].y1, p[0].x2, p[0].y2
    (40.0, 35.0, 60.0, 45.0)
    >>> len(p.above(0.95))
    0
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

#: A box at least this much inside another of its class (intersection over the smaller box's
#: area) is taken for the same object: the two merge into their union rather than stack.
NESTED = 0.6
#: At or above this confidence a detection counts as found; below it, a hidden one is
#: a low-confidence region hidden to be safe, and its JSON says ``"low_confidence": true``.
CONFIDENT = 0.5


@dataclass(frozen=True)
class Detection:
    """One found object: a box in pixel corners, its class and confidence (0–1)."""

    x1: float
    y1: float
    x2: float
    y2: float
    confidence: float
    class_name: str
    class_id: int = 0
    detection_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def center(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def to_roboflow(self) -> dict[str, Any]:
        cx, cy = self.center
        return {
            "x": round(cx, 2),
            "y": round(cy, 2),
            "width": round(self.width, 2),
            "height": round(self.height, 2),
            "confidence": round(self.confidence, 4),
            "class": self.class_name,
            "class_id": self.class_id,
            "detection_id": self.detection_id,
            "low_confidence": self.confidence < CONFIDENT,
        }

    @classmethod
    def from_roboflow(cls, item: dict[str, Any]) -> Detection:
        cx, cy = float(item["x"]), float(item["y"])
        w, h = float(item["width"]), float(item["height"])
        return cls(
            x1=cx - w / 2,
            y1=cy - h / 2,
            x2=cx + w / 2,
            y2=cy + h / 2,
            confidence=float(item["confidence"]),
            class_name=str(item["class"]),
            class_id=int(item.get("class_id", 0)),
            detection_id=str(item.get("detection_id") or uuid.uuid4()),
        )


@dataclass(frozen=True)
class Predictions:
    """All detections in one image, with the image's size in pixels."""

    detections: tuple[Detection, ...]
    image_width: int
    image_height: int
    #: The response exactly as a remote backend sent it, when there was one;
    #: filtering keeps it, as it records what the backend said.
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def __iter__(self) -> Iterator[Detection]:
        return iter(self.detections)

    def __len__(self) -> int:
        return len(self.detections)

    def __getitem__(self, index: int) -> Detection:
        return self.detections[index]

    def _with(self, detections: Iterable[Detection]) -> Predictions:
        return replace(self, detections=tuple(detections))

    def above(self, confidence: float | Callable[[str], float]) -> Predictions:
        """Keep detections whose confidence is at least ``confidence`` (0–1), or at least
        ``confidence(class_name)`` when it is a function of the class."""
        threshold = confidence if callable(confidence) else lambda _: confidence
        return self._with(d for d in self if d.confidence >= threshold(d.class_name))

    def below(self, confidence: float) -> Predictions:
        """Keep detections whose confidence is under ``confidence`` (0–1)."""
        return self._with(d for d in self if d.confidence < confidence)

    def of_classes(self, class_names: Iterable[str]) -> Predictions:
        """Keep detections whose class is one of ``class_names``."""
        wanted = set(class_names)
        return self._with(d for d in self if d.class_name in wanted)

    def suppress_overlaps(self, overlap: float) -> Predictions:
        """Greedy non-maximum suppression, per class.

        A detection is dropped when a more confident one of the same class
        overlaps it with an IoU above ``overlap`` (0–1), as Roboflow's
        ``overlap`` parameter does.
        """
        kept: list[Detection] = []
        for name in dict.fromkeys(d.class_name for d in self):
            same = [d for d in self if d.class_name == name]
            scores = np.array([d.confidence for d in same])
            kept.extend(same[i] for i in nms_indices(corners(same), scores, overlap))
        kept.sort(key=lambda d: -d.confidence)
        return self._with(kept)

    @classmethod
    def from_arrays(
        cls, boxes: np.ndarray, scores: np.ndarray, class_name: str, class_id: int, width: int, height: int, overlap: float
    ) -> Predictions:
        """A model's ``N×4`` corner boxes and scores, clamped to the image, NMS-suppressed above
        ``overlap`` IoU, and nested boxes merged (:func:`merge_nested`)."""
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        keep = nms_indices(boxes, scores, overlap)
        merged, scores = merge_nested(boxes[keep], scores[keep])
        found = (Detection(*map(float, box), float(score), class_name, class_id) for box, score in zip(merged, scores))
        return cls(tuple(found), width, height)

    def to_roboflow(self) -> dict[str, Any]:
        return {
            "predictions": [d.to_roboflow() for d in self],
            "image": {"width": self.image_width, "height": self.image_height},
        }

    @classmethod
    def from_roboflow(cls, payload: dict[str, Any]) -> Predictions:
        """Read a Roboflow-shaped response, keeping it as ``raw``.

        Raises ValueError, saying what is wrong, when the payload is not in that shape.

        >>> Predictions.from_roboflow({"predictions": [{"x": 1}]})
        Traceback (most recent call last):
        ValueError: prediction 0 has no 'y'
        """
        try:
            image = payload.get("image") or {}
            items = payload.get("predictions", [])
            if not isinstance(items, list):
                raise ValueError("'predictions' is not a list")
            detections = []
            for index, item in enumerate(items):
                try:
                    detections.append(Detection.from_roboflow(item))
                except KeyError as missing:
                    raise ValueError(f"prediction {index} has no {missing}") from None
                except (TypeError, ValueError, AttributeError) as error:
                    raise ValueError(f"prediction {index} is malformed ({error})") from None
            return cls(tuple(detections), _size(image.get("width", 0)), _size(image.get("height", 0)), raw=payload)
        except AttributeError as error:
            raise ValueError(f"not a JSON object of predictions ({error})") from None

    def resized(self, width: int, height: int) -> Predictions:
        """The same boxes on the same picture shown at ``width``×``height`` (a camera that scales its stream).

        >>> Predictions((Detection(10, 10, 20, 30, 0.9, "face"),), 100, 100).resized(200, 200)[0].x2
        40.0
        """
        sx, sy = width / max(self.image_width, 1), height / max(self.image_height, 1)
        scaled = (replace(d, x1=d.x1 * sx, y1=d.y1 * sy, x2=d.x2 * sx, y2=d.y2 * sy) for d in self)
        return replace(self._with(scaled), image_width=width, image_height=height)

    def problem(self, width: int, height: int) -> str | None:
        """Why these predictions cannot be trusted for a ``width``×``height`` picture, or None.

        A box with a coordinate that is not a finite number, a negative size, or a
        confidence outside 0–1 would censor nothing (or crash the censor), and boxes
        measured on a picture of another size would censor the wrong place.

        >>> Predictions((Detection(0, 0, float("nan"), 5, 0.9, "face"),), 10, 10).problem(10, 10)
        'prediction 0: its box is not made of finite numbers'
        """
        if (self.image_width, self.image_height) not in ((0, 0), (width, height)):
            return f"the boxes are for a {self.image_width}×{self.image_height} picture, not this {width}×{height} one"
        for index, d in enumerate(self):
            if not np.isfinite([d.x1, d.y1, d.x2, d.y2]).all():
                return f"prediction {index}: its box is not made of finite numbers"
            if d.x2 < d.x1 or d.y2 < d.y1:
                return f"prediction {index}: its box has a negative width or height"
            if not 0 <= d.confidence <= 1:  # NaN fails this too
                return f"prediction {index}: its confidence {d.confidence} is not between 0 and 1"
        return None


def _size(value: Any) -> int:
    size = float(value)
    if not (np.isfinite(size) and size >= 0):
        raise ValueError(f"the image size {value!r} is not a size")
    return int(size)


def corners(detections: Sequence[Detection]) -> np.ndarray:
    """The ``N×4`` array of box corners ``x1, y1, x2, y2``."""
    return np.array([[d.x1, d.y1, d.x2, d.y2] for d in detections], dtype=np.float64).reshape(-1, 4)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (``N×4`` corners) with every box in ``b`` (``M×4``).

    >>> iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])).round(3)
    array([[1.   , 0.333, 0.   ]])
    """
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = width * height
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms_indices(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> list[int]:
    """Indices of the boxes (``N×4`` corners) that survive greedy NMS, best first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        order = rest[iou_matrix(boxes[best : best + 1], boxes[rest])[0] <= overlap]
    return keep


def merge_nested(boxes: np.ndarray, scores: np.ndarray, nested: float = NESTED) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (``N×4`` corners) and scores, best first, with each box that is mostly inside another
    (or mostly holds one) merged into the more confident as their union.

    A face close enough to fill the frame can come back as the whole face plus
    two halves, which IoU-based NMS keeps (the IoU is small): one face, three
    counts. The union hides at least what the boxes did, so merging never
    uncovers a pixel.

    >>> merge_nested(np.array([[0, 0, 100, 100], [10, 10, 50, 60], [200, 0, 220, 20]]), np.array([0.9, 0.95, 0.5]))[0]
    array([[  0.,   0., 100., 100.],
           [200.,   0., 220.,  20.]])
    """
    merged: list[np.ndarray] = []
    kept_scores: list[float] = []
    for index in np.argsort(-scores, kind="stable"):
        merged.append(boxes[index].astype(np.float64))
        kept_scores.append(float(scores[index]))
        # The newest box may merge into a kept one, and the grown union may then hold another.
        grown = len(merged) - 1
        while (other := _nested_in(merged, grown, nested)) is not None:
            keep, drop = min(grown, other), max(grown, other)  # the earlier one is the more confident
            merged[keep] = np.concatenate([np.minimum(merged[keep][:2], merged[drop][:2]), np.maximum(merged[keep][2:], merged[drop][2:])])
            del merged[drop], kept_scores[drop]
            grown = keep
    return np.array(merged).reshape(-1, 4), np.array(kept_scores, np.float32)


def _nested_in(boxes: list[np.ndarray], index: int, nested: float) -> int | None:
    """Another box that ``boxes[index]`` mostly holds or is mostly inside, if there is one."""
    box = boxes[index]
    for other, candidate in enumerate(boxes):
        if other != index and _intersection(box, candidate) >= nested * max(min(_area(box), _area(candidate)), 1e-9):
            return other
    return None


def _area(box: np.ndarray) -> float:
    return max(box[2] - box[0], 0) * max(box[3] - box[1], 0)


def _intersection(a: np.ndarray, b: np.ndarray) -> float:
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0)


def uncovered(candidates: Sequence[Detection], covered_by: Sequence[Detection], overlap: float = 0.3) -> list[Detection]:
    """The ``candidates`` that no box of ``covered_by`` overlaps by more than ``overlap`` IoU.

    Used to carry boxes over from neighbouring frames: only those that the
    frame's own detections do not already account for.
    """
    if not candidates or not covered_by:
        return list(candidates)
    best = iou_matrix(corners(candidates), corners(covered_by)).max(axis=1)
    return [c for c, iou in zip(candidates, best) if iou <= overlap]
