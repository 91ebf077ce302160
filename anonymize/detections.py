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
from typing import Any, Iterable, Iterator

import numpy as np


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

    def above(self, confidence: float) -> Predictions:
        """Keep detections whose confidence is at least ``confidence`` (0–1)."""
        return self._with(d for d in self if d.confidence >= confidence)

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
            boxes = np.array([[d.x1, d.y1, d.x2, d.y2] for d in same], dtype=np.float64)
            scores = np.array([d.confidence for d in same])
            kept.extend(same[i] for i in nms_indices(boxes, scores, overlap))
        kept.sort(key=lambda d: -d.confidence)
        return self._with(kept)

    @classmethod
    def from_arrays(
        cls, boxes: np.ndarray, scores: np.ndarray, class_name: str, class_id: int, width: int, height: int, overlap: float
    ) -> Predictions:
        """A model's ``N×4`` corner boxes and scores, clamped to the image and NMS-suppressed above ``overlap`` IoU."""
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        keep = nms_indices(boxes, scores, overlap)
        found = (Detection(*map(float, boxes[i]), float(scores[i]), class_name, class_id) for i in keep)
        return cls(tuple(found), width, height)

    def to_roboflow(self) -> dict[str, Any]:
        return {
            "predictions": [d.to_roboflow() for d in self],
            "image": {"width": self.image_width, "height": self.image_height},
        }

    @classmethod
    def from_roboflow(cls, payload: dict[str, Any]) -> Predictions:
        """Read a Roboflow-shaped response, keeping it as ``raw``."""
        image = payload.get("image") or {}
        return cls(
            detections=tuple(Detection.from_roboflow(p) for p in payload.get("predictions", [])),
            image_width=int(float(image.get("width", 0))),
            image_height=int(float(image.get("height", 0))),
            raw=payload,
        )


def nms_indices(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> list[int]:
    """Indices of the boxes (``N×4`` corners) that survive greedy NMS, best first."""
    if len(boxes) == 0:
        return []
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        ix1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        iy1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        ix2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        iy2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= overlap]
    return keep
