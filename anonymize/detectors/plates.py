"""Licence-plate detection with a YOLOv8n (AGPL-3.0; weights from ``fastanpr``).

Example:
    >>> import numpy as np
    >>> plates = PlateDetector().detect(np.zeros((64, 96, 3), np.uint8), confidence=0.25, overlap=0.3)
    >>> len(plates), plates.image_width
    (0, 96)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonymize.detections import Detection, Predictions, nms_indices
from anonymize.detectors.base import onnx_session

LETTERBOX_GREY = 114


class PlateDetector:
    """Finds licence plates; class ``license-plate``.

    The image is scaled so that its longer side is ``input_size`` and padded to
    a multiple of 32 (a "rectangular letterbox": a 16:9 frame runs at 640×384,
    not 640×640).
    """

    classes = ("license-plate",)
    class_id = 1

    def __init__(self, input_size: int = 640) -> None:
        self.input_size = input_size
        self._session = onnx_session("license_plate_yolov8n.onnx")

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        blob, ratio, (pad_x, pad_y) = letterbox(image, self.input_size)
        output = self._session.run(None, {"images": blob})[0][0]  # 5×N: cx, cy, w, h, score
        candidates = output[:, output[4] >= confidence]
        cx, cy, w, h, scores = candidates
        boxes = np.stack([cx - w / 2 - pad_x, cy - h / 2 - pad_y, cx + w / 2 - pad_x, cy + h / 2 - pad_y], axis=1) / ratio
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        keep = nms_indices(boxes, scores, overlap)
        return Predictions(
            tuple(Detection(*map(float, boxes[i]), float(scores[i]), "license-plate", self.class_id) for i in keep),
            width,
            height,
        )


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """A ``1×3×H×W`` float blob in 0–1, the scale applied, and the left/top padding."""
    height, width = image.shape[:2]
    ratio = size / max(height, width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    in_w, in_h = math.ceil(new_w / 32) * 32, math.ceil(new_h / 32) * 32
    pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
    canvas = np.full((in_h, in_w, 3), LETTERBOX_GREY, np.uint8)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0, ratio, (pad_x, pad_y)
