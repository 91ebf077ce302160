"""Reads found text lines, for personal text mode: PP-OCRv6's recogniser (small) and its orientation classifier.

Both models come in the ``rapidocr`` wheel beside the detector (the ``[text]`` extra) and run in our own
onnxruntime sessions, as :mod:`anonymize.detectors.text` runs the detector. As their authors run them:
each line is cut out along its turned box and straightened (a line standing upright, taller than 1.5×
its width, is laid down), turned over when the classifier is sure it is upside down, scaled to 48 px
high and read by CTC: the most likely character per column, repeats and blanks dropped. The characters
are the recogniser's own, kept in its ONNX file.

Example:
    >>> import numpy as np
    >>> reader = TextReader()
    >>> reader.read(np.full((40, 200, 3), 255, np.uint8), np.array([[[0, 0], [200, 0], [200, 40], [0, 40]]], np.float32))
    ['']
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonymize.detectors.base import model_path, onnx_session
from anonymize.devices import CPU_PROVIDER
from anonymize.errors import DetectionError

#: The package whose wheel carries the text models (the detector's too), and how to get it when it is not there.
PACKAGE = "rapidocr"
INSTALL = "The text class needs the [text] extra: pip install 'anonymize[text]'."
RECOGNISER = f"{PACKAGE}/models/PP-OCRv6_rec_small.onnx"
ORIENTATION = f"{PACKAGE}/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx"
#: The recogniser's input height, and the narrowest input (its authors' 320 px: a short line is padded).
HEIGHT, MIN_WIDTH = 48, 320
#: The orientation classifier's input, and how sure it must be before a line is turned over.
ORIENTATION_SIZE, TURN_OVER = (192, 48), 0.9
#: Lines read in one run of the network; sorted by shape first, so that little of a batch is padding.
BATCH = 6


class TextReader:
    """Reads text lines cut from a picture along their turned boxes."""

    def __init__(self, providers: tuple[str, ...] = (CPU_PROVIDER,)) -> None:
        if not (model_path(RECOGNISER).is_file() and model_path(ORIENTATION).is_file()):
            raise DetectionError(INSTALL)
        self._recogniser = onnx_session(RECOGNISER, providers)
        self._orientation = onnx_session(ORIENTATION, providers)
        characters = self._recogniser.get_modelmeta().custom_metadata_map["character"].splitlines()
        # CTC's blank is class 0; the last class is the space.
        self._characters = np.array(["", *characters, " "], object)

    @property
    def models(self) -> tuple[str, ...]:
        return RECOGNISER, ORIENTATION

    def read(self, image: np.ndarray, corners: np.ndarray) -> list[str]:
        """What each line reads: ``corners`` is ``N×4×2``, each line's turned box in ``image``'s pixels
        (top-left, top-right, bottom-right, bottom-left)."""
        crops = [_straightened(image[:, :, ::-1], quad) for quad in corners]  # the models were trained on BGR
        crops = self._upright(crops)
        readings = [""] * len(crops)
        order = np.argsort([crop.shape[1] / crop.shape[0] for crop in crops], kind="stable")
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            widest = max(MIN_WIDTH / HEIGHT, *(crops[i].shape[1] / crops[i].shape[0] for i in chosen))
            batch = np.stack([_normalised(crops[i], HEIGHT, math.ceil(HEIGHT * widest)) for i in chosen])
            probabilities = self._recogniser.run(None, {self._recogniser.get_inputs()[0].name: batch})[0]
            for i, best in zip(chosen, probabilities.argmax(axis=2)):
                readings[i] = self._decoded(best)
        return readings

    def _upright(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """The crops, each turned over where the classifier is sure it is upside down."""
        width, height = ORIENTATION_SIZE
        out = list(crops)
        for start in range(0, len(crops), BATCH):
            batch = np.stack([_normalised(crop, height, width) for crop in crops[start : start + BATCH]])
            scores = self._orientation.run(None, {self._orientation.get_inputs()[0].name: batch})[0]
            for offset, (_, upside_down) in enumerate(scores):
                if upside_down > TURN_OVER:
                    out[start + offset] = cv2.rotate(crops[start + offset], cv2.ROTATE_180)
        return out

    def _decoded(self, best: np.ndarray) -> str:
        """CTC's greedy reading of one line's most likely class per column."""
        kept = best[(best != 0) & np.concatenate([[True], best[1:] != best[:-1]])]
        return "".join(self._characters[kept.clip(0, len(self._characters) - 1)])


def ordered_corners(rect: tuple) -> np.ndarray:
    """A turned box's corners (:func:`cv2.minAreaRect`'s form) as top-left, top-right, bottom-right,
    bottom-left, the order :meth:`TextReader.read` straightens lines in."""
    points = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = sorted(points[:2], key=lambda p: p[1])
    right = sorted(points[2:], key=lambda p: p[1])
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def _straightened(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    width = max(2, int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3]))))
    height = max(2, int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    crop = cv2.warpPerspective(
        image,
        cv2.getPerspectiveTransform(quad.astype(np.float32), target),
        (width, height),
        borderMode=cv2.BORDER_REPLICATE,
        flags=cv2.INTER_CUBIC,
    )
    return np.ascontiguousarray(np.rot90(crop)) if height >= 1.5 * width else crop


def _normalised(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """``crop`` scaled to ``height`` (keeping its shape, at most ``width`` wide), -1…1, padded with zeros."""
    scaled_width = min(width, math.ceil(height * crop.shape[1] / crop.shape[0]))
    scaled = cv2.resize(crop, (max(1, scaled_width), height)).astype(np.float32) / 127.5 - 1.0
    tensor = np.zeros((3, height, width), np.float32)
    tensor[:, :, : scaled.shape[1]] = scaled.transpose(2, 0, 1)
    return tensor
