"""Licence-plate detection with a YOLOv8n (AGPL-3.0; weights from ``fastanpr``).

Plates are small: in a 1280×720 dashcam frame a plate is about 60×15 px, and
the model's usual 640 px input halves that until most are lost. So the
detector can run several passes and merges them by NMS:

* ``sizes``: whole-image passes with the longer side scaled to each size (but
  never above the image's own size: upscaling costs time and finds nothing);
* ``tile``: for images larger than ``tile`` px, overlapping ``tile``-px tiles
  at full resolution, run a few at a time in batched session calls (all at
  once would need gigabytes for a 48-megapixel photo).

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

from anonymize.detections import Predictions
from anonymize.detectors.base import DetectorDefaults, DetectorInfo, onnx_session
from anonymize.detectors.tiling import tiles
from anonymize.devices import CPU_PROVIDER

LETTERBOX_GREY = 114
#: Tiles per session run: enough to batch, few enough to bound memory (about 150 MB a tile).
TILES_PER_RUN = 4


class PlateDetector(DetectorDefaults):
    """Finds licence plates; class ``license-plate``. See the module docstring for ``sizes`` and ``tile``;
    ``int8`` picks the quantized model (about 30 % faster; see models/README.md)."""

    classes = ("license-plate",)
    offline = True
    class_id = 1

    def __init__(
        self,
        sizes: tuple[int, ...] = (640,),
        tile: int | None = None,
        int8: bool = False,
        providers: tuple[str, ...] = (CPU_PROVIDER,),
    ) -> None:
        self.sizes, self.tile, self.int8 = sizes, tile, int8
        self.model_files = ("license_plate_yolov8n_int8.onnx" if int8 else "license_plate_yolov8n.onnx",)
        self._session = onnx_session(self.model_files[0], providers)

    def info(self) -> DetectorInfo:
        return DetectorInfo(self.model_files)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        native = math.ceil(max(height, width) / 32) * 32
        passes = [self._run([image], min(size, native), confidence)[0] for size in sorted(set(self.sizes))]
        if self.tile and max(height, width) > self.tile:
            passes.append(self._tiles(image, self.tile, confidence))
        boxes = np.concatenate([p[0] for p in passes])
        scores = np.concatenate([p[1] for p in passes])
        return Predictions.from_arrays(boxes, scores, "license-plate", self.class_id, width, height, overlap)

    def _run(self, images: list[np.ndarray], size: int, confidence: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Boxes (image pixels) and scores for same-sized ``images``, in one batched run."""
        blobs, ratios, pads = zip(*(letterbox(im, size) for im in images))
        (pad_x, pad_y), ratio = pads[0], ratios[0]  # same-sized images: the same letterbox
        output = self._session.run(None, {"images": np.concatenate(blobs)})[0]  # B×5×N: cx, cy, w, h, score
        results = []
        for out in output:
            cx, cy, w, h, scores = out[:, out[4] >= confidence]
            boxes = np.stack([cx - w / 2 - pad_x, cy - h / 2 - pad_y, cx + w / 2 - pad_x, cy + h / 2 - pad_y], axis=1)
            results.append((boxes / ratio, scores))
        return results

    def _tiles(self, image: np.ndarray, tile: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        crops = tiles(image, tile)
        size = max(crops[0][2].shape[:2])
        found = []
        for start in range(0, len(crops), TILES_PER_RUN):
            found += self._run([crop for _, _, crop in crops[start : start + TILES_PER_RUN]], size, confidence)
        boxes = np.concatenate([b + [x, y, x, y] for (b, _), (x, y, _) in zip(found, crops)])
        return boxes, np.concatenate([s for _, s in found])


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """A ``1×3×H×W`` float blob in 0–1, the scale applied, and the left/top padding.

    The longer side becomes ``size``; the other is padded to a multiple of 32.
    """
    height, width = image.shape[:2]
    ratio = size / max(height, width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    in_w, in_h = math.ceil(new_w / 32) * 32, math.ceil(new_h / 32) * 32
    pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
    canvas = np.full((in_h, in_w, 3), LETTERBOX_GREY, np.uint8)
    interpolation = cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = (
        cv2.resize(image, (new_w, new_h), interpolation=interpolation) if ratio != 1 else image
    )
    return canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0, ratio, (pad_x, pad_y)
