"""Detections and their Roboflow JSON form.

Every backend returns a :class:`Predictions`; the viewer, the censor, the
tracker and the JSON downloads all read that one type. Like supervision's
``Detections``, it stores columns (an ``N×4`` array of corners, confidences,
class ids and names), so filtering, NMS and tracking stay vectorised at video
rate; indexing with an int gives one typed :class:`Detection`. At the JSON
edge we speak Roboflow's shape: box centre ``x, y`` plus ``width, height`` in
pixels, and a ``detection_id``, made only when JSON is written
(:meth:`Predictions.with_ids`).

Example:
    >>> p = Predictions.from_roboflow({
    ...     "predictions": [{"x": 50, "y": 40, "width": 20, "height": 10,
    ...                      "confidence": 0.9, "class": "face", "class_id": 0,
    ...                      "detection_id": "a"}],
    ...     "image": {"width": 100, "height": 80}})
    >>> p[0].x1, p[0].y1, p[0].x2, p[0].y2
    (40.0, 35.0, 60.0, 45.0)
    >>> len(p.above(0.95)), p.xyxy.shape
    (0, (1, 4))
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import cv2
import numpy as np

#: A text line's :attr:`Detection.pattern` in all-text mode: hidden whatever it reads (personal text mode names
#: the pattern its reading matched instead; :mod:`anonymize.personal_text`).
ANY_TEXT = "any"
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
    #: Roboflow's id; None until JSON is written (see :meth:`Predictions.with_ids`).
    detection_id: str | None = None
    #: Why a text line is hidden: :data:`ANY_TEXT`, or the personal pattern it matched; never its text.
    pattern: str | None = None
    #: A turned text line's four corners (x, y), top-left first, clockwise, inside the box; None for a box
    #: that is all there is (faces, plates, a box carried by tracking).
    outline: tuple[tuple[float, float], ...] | None = None

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
        return (
            {
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
            | self._text_fields()
            | self._points()
        )

    def _points(self) -> dict[str, list[dict[str, float]]]:
        """The outline as Roboflow's polygons say theirs."""
        if self.outline is None:
            return {}
        return {"points": [{"x": round(x, 2), "y": round(y, 2)} for x, y in self.outline]}

    def _text_fields(self) -> dict[str, str]:
        if self.pattern is None:
            return {}
        if self.pattern == ANY_TEXT:
            return {"text_mode": "all"}
        return {"text_mode": "personal", "pattern": self.pattern}


@dataclass(frozen=True, eq=False)
class Predictions:
    """All detections in one image, as columns, with the image's size in pixels.

    ``xyxy`` is ``N×4`` corners (float64); ``confidence`` (0–1), ``class_id`` and
    ``class_name`` have one entry per box; ``detection_id`` holds Roboflow's ids,
    None where none was made yet; ``pattern``, when there is text, why each line is
    hidden (:attr:`Detection.pattern`; None for other boxes); ``outline``, ``N×4×2``, each
    turned line's corners (NaN for a box without an outline). Build one with :meth:`of`, :meth:`from_arrays`,
    :meth:`from_roboflow` or :meth:`empty`.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    class_name: np.ndarray
    detection_id: np.ndarray
    image_width: int
    image_height: int
    #: The response exactly as a remote backend sent it, when there was one;
    #: filtering keeps it, as it records what the backend said.
    raw: dict[str, Any] | None = field(default=None, repr=False)
    #: None when no box has a pattern (no text found), as most sets have.
    pattern: np.ndarray | None = None
    #: None when no box has an outline.
    outline: np.ndarray | None = None

    @classmethod
    def of(
        cls, detections: Iterable[Detection], width: int, height: int, raw: dict[str, Any] | None = None
    ) -> Predictions:
        """Predictions holding ``detections`` on a ``width``×``height`` image.

        >>> Predictions.of([Detection(0, 0, 4, 2, 0.9, "face")], 10, 10).xyxy
        array([[0., 0., 4., 2.]])
        """
        items = list(detections)
        outlines = [d.outline for d in items]
        return cls(
            np.array([[d.x1, d.y1, d.x2, d.y2] for d in items], np.float64).reshape(-1, 4),
            np.array([d.confidence for d in items], np.float64),
            np.array([d.class_id for d in items], np.int64),
            np.array([d.class_name for d in items], object),
            np.array([d.detection_id for d in items], object),
            width,
            height,
            raw,
            pattern_column([d.pattern for d in items]),
            _outlines(outlines) if any(o is not None for o in outlines) else None,
        )

    @classmethod
    def empty(cls, width: int, height: int) -> Predictions:
        return cls.of((), width, height)

    @classmethod
    def concatenate(cls, parts: Iterable[Predictions], width: int, height: int) -> Predictions:
        """One set holding every detection of ``parts`` (found on the same ``width``×``height`` image)."""
        parts = list(parts)
        if not parts:
            return cls.empty(width, height)
        columns = ("xyxy", "confidence", "class_id", "class_name", "detection_id")
        patterns = np.concatenate([p.patterns for p in parts]) if any(p.pattern is not None for p in parts) else None
        outlines = np.concatenate([p.outlines for p in parts]) if any(p.outline is not None for p in parts) else None
        return cls(
            *(np.concatenate([getattr(p, c) for p in parts]) for c in columns),
            width,
            height,
            pattern=patterns,
            outline=outlines,
        )

    def __len__(self) -> int:
        return len(self.confidence)

    def __iter__(self) -> Iterator[Detection]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """``p[i]`` is one :class:`Detection`; a slice, a boolean mask or an index array gives Predictions."""
        if isinstance(index, (int, np.integer)):
            x1, y1, x2, y2 = self.xyxy[index].tolist()
            name, class_id, did = self.class_name[index], self.class_id[index], self.detection_id[index]
            pattern = None if self.pattern is None else self.pattern[index]
            outline = None if self.outline is None or np.isnan(self.outline[index]).any() else self.outline[index]
            return Detection(
                x1,
                y1,
                x2,
                y2,
                float(self.confidence[index]),
                str(name),
                int(class_id),
                did,
                pattern,
                None if outline is None else tuple(map(tuple, outline.tolist())),
            )
        return replace(
            self,
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            class_name=self.class_name[index],
            detection_id=self.detection_id[index],
            pattern=None if self.pattern is None else self.pattern[index],
            outline=None if self.outline is None else self.outline[index],
        )

    @property
    def outlines(self) -> np.ndarray:
        """Each box's outline (``N×4×2``), NaN for a box without one."""
        return np.full((len(self), 4, 2), np.nan) if self.outline is None else self.outline

    @property
    def patterns(self) -> np.ndarray:
        """Each box's pattern (:attr:`Detection.pattern`), None for a box without one."""
        return np.full(len(self), None, object) if self.pattern is None else self.pattern

    @property
    def area(self) -> np.ndarray:
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def above(self, confidence: float | Callable[[str], float]) -> Predictions:
        """Keep detections whose confidence is at least ``confidence`` (0–1), or at least
        ``confidence(class_name)`` when it is a function of the class."""
        if not callable(confidence):
            return self[self.confidence >= confidence]
        names = np.unique(self.class_name)
        thresholds = dict(zip(names, map(confidence, names)))
        return self[self.confidence >= np.array([thresholds[n] for n in self.class_name], np.float64)]

    def below(self, confidence: float) -> Predictions:
        """Keep detections whose confidence is under ``confidence`` (0–1)."""
        return self[self.confidence < confidence]

    def of_classes(self, class_names: Iterable[str]) -> Predictions:
        """Keep detections whose class is one of ``class_names``."""
        return self[np.isin(self.class_name, list(class_names))]

    def suppress_overlaps(self, overlap: float) -> Predictions:
        """Greedy non-maximum suppression, per class, most confident first.

        A detection is dropped when a more confident one of the same class
        overlaps it with an IoU above ``overlap`` (0–1), as Roboflow's
        ``overlap`` parameter does.
        """
        if not len(self):
            return self
        _, group = np.unique(self.class_name, return_inverse=True)
        # Shifting each class far away from the others makes one NMS run act per class.
        shift = (group * (np.abs(self.xyxy).max() * 2 + 1))[:, None]
        keep = nms_indices(self.xyxy + shift, self.confidence, overlap)
        return self[np.array(keep, np.int64)]

    @classmethod
    def from_arrays(
        cls,
        boxes: np.ndarray,
        scores: np.ndarray,
        class_name: str,
        class_id: int,
        width: int,
        height: int,
        overlap: float,
        patterns: np.ndarray | None = None,
        outlines: np.ndarray | None = None,
    ) -> Predictions:
        """A model's ``N×4`` corner boxes and scores (and, for text, each box's pattern and ``N×4×2`` outline),
        boxes clamped to the image, NMS-suppressed above ``overlap`` IoU, and boxes held by another absorbed
        into it (:func:`absorb_nested`)."""
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        keep = np.array(nms_indices(boxes, scores, overlap), np.int64)
        kept = absorb_nested(boxes[keep], scores[keep])
        n = len(kept.scores)
        return cls(
            kept.boxes,
            kept.scores.astype(np.float64),
            np.full(n, class_id, np.int64),
            np.full(n, class_name, object),
            np.full(n, None, object),
            width,
            height,
            pattern=None if patterns is None else np.asarray(patterns, object)[keep][kept.indices],
            outline=None
            if outlines is None
            else np.asarray(outlines, np.float64).reshape(-1, 4, 2)[keep][kept.indices],
        )

    def with_ids(self) -> Predictions:
        """The same predictions, each with a ``detection_id`` where it had none: a UUID made from
        the detection itself (class, box, confidence), so the same detection gets the same id on
        every run and a review edit can name it.

        >>> found = Predictions.of([Detection(0, 0, 4, 2, 0.9, "face")], 10, 10)
        >>> found.with_ids().detection_id[0] == found.with_ids().detection_id[0]
        True
        """
        missing = [i for i, did in enumerate(self.detection_id) if did is None]
        if not missing:
            return self
        ids = self.detection_id.copy()
        ids[missing] = [_content_id(self[i]) for i in missing]
        return replace(self, detection_id=ids)

    def to_roboflow(self) -> dict[str, Any]:
        return {
            "predictions": [d.to_roboflow() for d in self.with_ids()],
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
                    detections.append(_from_roboflow(item))
                except KeyError as missing:
                    raise ValueError(f"prediction {index} has no {missing}") from None
                except (TypeError, ValueError, AttributeError) as error:
                    raise ValueError(f"prediction {index} is malformed ({error})") from None
            return cls.of(detections, _size(image.get("width", 0)), _size(image.get("height", 0)), raw=payload)
        except AttributeError as error:
            raise ValueError(f"not a JSON object of predictions ({error})") from None

    def resized(self, width: int, height: int) -> Predictions:
        """The same boxes on the same picture shown at ``width``×``height`` (a camera that scales its stream).

        >>> Predictions.of([Detection(10, 10, 20, 30, 0.9, "face")], 100, 100).resized(200, 200)[0].x2
        40.0
        """
        scale = np.array([width, height] * 2, np.float64) / np.array(
            [max(self.image_width, 1), max(self.image_height, 1)] * 2
        )
        outline = None if self.outline is None else self.outline * scale[:2]
        return replace(self, xyxy=self.xyxy * scale, image_width=width, image_height=height, outline=outline)

    def problem(self, width: int, height: int) -> str | None:
        """Why these predictions cannot be trusted for a ``width``×``height`` picture, or None.

        A box with a coordinate that is not a finite number, a negative size, or a
        confidence outside 0–1 would censor nothing (or crash the censor), and boxes
        measured on a picture of another size would censor the wrong place.

        >>> Predictions.of([Detection(0, 0, float("nan"), 5, 0.9, "face")], 10, 10).problem(10, 10)
        'prediction 0: its box is not made of finite numbers'
        """
        if (self.image_width, self.image_height) not in ((0, 0), (width, height)):
            return f"the boxes are for a {self.image_width}×{self.image_height} picture, not this {width}×{height} one"
        not_finite = ~np.isfinite(self.xyxy).all(axis=1)
        negative = (self.xyxy[:, 2] < self.xyxy[:, 0]) | (self.xyxy[:, 3] < self.xyxy[:, 1])
        bad_confidence = ~((self.confidence >= 0) & (self.confidence <= 1))  # NaN fails this too
        for index in np.flatnonzero(not_finite | negative | bad_confidence)[:1]:
            if not_finite[index]:
                return f"prediction {index}: its box is not made of finite numbers"
            if negative[index]:
                return f"prediction {index}: its box has a negative width or height"
            return f"prediction {index}: its confidence {self.confidence[index]} is not between 0 and 1"
        return None


def _content_id(detection: Detection) -> str:
    box = ",".join(f"{v:.2f}" for v in (detection.x1, detection.y1, detection.x2, detection.y2))
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{detection.class_name}|{box}|{detection.confidence:.6f}"))


def _from_roboflow(item: dict[str, Any]) -> Detection:
    cx, cy = float(item["x"]), float(item["y"])
    w, h = float(item["width"]), float(item["height"])
    return Detection(
        x1=cx - w / 2,
        y1=cy - h / 2,
        x2=cx + w / 2,
        y2=cy + h / 2,
        confidence=float(item["confidence"]),
        class_name=str(item["class"]),
        class_id=int(item.get("class_id", 0)),
        detection_id=str(item["detection_id"]) if item.get("detection_id") else None,
        pattern=_pattern_of(item),
        outline=_outline_of(item),
    )


def _outline_of(item: dict[str, Any]) -> tuple[tuple[float, float], ...] | None:
    """A text line's four corners from its ``points``; None otherwise (a polygon of another kind is hidden
    by its box, which holds it)."""
    points = item.get("points")
    if not isinstance(points, list) or len(points) != 4:
        return None
    corners = tuple((float(p["x"]), float(p["y"])) for p in points)
    return corners if np.isfinite(corners).all() else None


def pattern_column(patterns: list[str | None]) -> np.ndarray | None:
    """:attr:`Predictions.pattern` for boxes with these patterns: None when none has one (no text)."""
    return np.array(patterns, object) if any(p is not None for p in patterns) else None


def _outlines(outlines: list[tuple[tuple[float, float], ...] | None]) -> np.ndarray:
    return np.array([np.full((4, 2), np.nan) if o is None else o for o in outlines], np.float64).reshape(-1, 4, 2)


def _pattern_of(item: dict[str, Any]) -> str | None:
    mode = item.get("text_mode")
    if mode == "all":
        return ANY_TEXT
    return str(item["pattern"]) if mode == "personal" and item.get("pattern") else None


def _size(value: Any) -> int:
    size = float(value)
    if not (np.isfinite(size) and size >= 0):
        raise ValueError(f"the image size {value!r} is not a size")
    return int(size)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (``N×4`` corners) with every box in ``b`` (``M×4``).

    >>> iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])).round(3)
    array([[1.   , 0.333, 0.   ]])
    """
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    inter = intersection_matrix(a, b)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The intersection area of every box in ``a`` (``N×4`` corners) with every box in ``b`` (``M×4``)."""
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    return width * height


def nms_indices(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> list[int]:
    """Indices of the boxes (``N×4`` corners) that survive greedy NMS, best first (ties in input order).

    OpenCV's NMS, the same greedy rule as a loop over :func:`iou_matrix` at a
    hundredth of its time.

    >>> nms_indices(np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10]]), np.array([0.5, 0.9, 0.1]), 0.3)
    [1, 2]
    """
    if not len(boxes):
        return []
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(np.float64)
    # OpenCV keeps only scores above its threshold, which must be >= 0: lift every score above 0.
    kept = cv2.dnn.NMSBoxes(xywh, np.asarray(scores, np.float64) + 1.0, 0.0, float(overlap))
    return np.asarray(kept, np.int64).reshape(-1).tolist()


class Kept(NamedTuple):
    """What :func:`absorb_nested` keeps: boxes, their scores, and where each was in its input."""

    boxes: np.ndarray
    scores: np.ndarray
    indices: np.ndarray


def absorb_nested(boxes: np.ndarray, scores: np.ndarray) -> Kept:
    """Boxes (``N×4`` corners) and scores, best first, without the boxes that lie inside the ellipse
    inscribed in another box; the box that holds one takes its confidence if it is higher.

    A face close enough to fill the frame can come back as the whole face plus
    smaller boxes inside it, which IoU-based NMS keeps (the IoU is small): one
    face, several counts. A box inside another's inscribed ellipse is hidden by
    that one's shape at every padding of 1 or more, ellipse or rectangle (both
    shapes grow about their own centres and are convex), so absorbing it never
    uncovers a pixel. Merging nested boxes into their union did: the union's
    ellipse can leave a face in one of its corners uncovered (on faces_val, the
    faces touching the border were the most often lost that way).

    >>> absorb_nested(np.array([[0, 0, 100, 100], [30, 30, 60, 60], [0, 0, 40, 40]]), np.array([0.5, 0.9, 0.4]))
    Kept(boxes=array([[  0.,   0., 100., 100.],
           [  0.,   0.,  40.,  40.]]), scores=array([0.9, 0.4], dtype=float32), indices=array([0, 2]))
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)[order]
    scores = np.asarray(scores, np.float32)[order]
    if len(boxes) < 2:
        return Kept(boxes, scores, order)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    radii = np.maximum((boxes[:, 2:] - boxes[:, :2]) / 2, 1e-9)
    # For each pair (i, j): the corner of box i farthest from box j's centre, in units of j's radii.
    far_x = np.maximum(np.abs(boxes[:, None, 0] - centres[None, :, 0]), np.abs(boxes[:, None, 2] - centres[None, :, 0]))
    far_y = np.maximum(np.abs(boxes[:, None, 1] - centres[None, :, 1]), np.abs(boxes[:, None, 3] - centres[None, :, 1]))
    inside = (far_x / radii[None, :, 0]) ** 2 + (far_y / radii[None, :, 1]) ** 2 <= 1.0
    held = inside.any(axis=1)  # a box is never inside its own inscribed ellipse: its corners are outside it
    if not held.any():
        return Kept(boxes, scores, order)
    # Containment is transitive here (inside j's ellipse, hence j's box, hence k's ellipse), so each
    # held box lies directly inside every box that holds it through a chain.
    passed_on = np.where(inside, scores[:, None], -np.inf).max(axis=0)
    kept = ~held
    return Kept(boxes[kept], np.maximum(scores, passed_on).astype(np.float32)[kept], order[kept])
