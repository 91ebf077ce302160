"""Finds lines of text (signs, screens, documents, name tags, phone numbers on vans); class ``text``.

The model is PaddleOCR's PP-OCRv6 text detector (small), as the ``rapidocr`` wheel ships it with its
licence (Apache-2.0, ``MODEL_LICENSES.md`` in the wheel): ``pip install 'anonymize[text]'``. Only its
ONNX file is used, run by our own onnxruntime session; nothing of the package is imported, so its
logging, configuration and other engines stay out of the process. Without the extra the class is
absent, and asking for it says how to get it.

The network gives each pixel a probability of being text. As its authors post-process it
(differentiable binarization): pixels above 0.3 are text, each connected region is a line, its score
is the mean probability inside its rotated box, and the box is grown by the margin the network was
trained to leave out (``unclip`` 1.6). A line's box is the upright rectangle around that rotated box, and
its outline the rotated box itself: the censor hides the outline (a slanted line, not its surroundings),
and anything that knows only boxes hides the box, which holds it.

In personal text mode (``personal``), each line is then read (:mod:`anonymize.detectors.text_reading`) and kept
only when its reading holds a personal pattern (:mod:`anonymize.personal_text`); each kept box names the
pattern, never the text. A line that could not be read is kept, as ``unread``: failing to read is no
reason to show it.

Example:
    >>> import numpy as np
    >>> len(TextDetector().detect(np.full((64, 64, 3), 255, np.uint8), confidence=0.5, overlap=0.3))
    0
"""

from __future__ import annotations

import cv2
import numpy as np

from anonymize.detections import ANY_TEXT, Predictions
from anonymize.detectors.base import DetectorDefaults, DetectorInfo, model_path, onnx_session
from anonymize.detectors.text_reading import INSTALL, PACKAGE, TextReader, ordered_corners
from anonymize.devices import CPU_PROVIDER
from anonymize.errors import DetectionError
from anonymize.personal_text import UNREAD, PersonalText

#: The model's file in the package's wheel (:data:`~anonymize.detectors.text_reading.PACKAGE`).
MODEL_FILE = "models/PP-OCRv6_det_small.onnx"
#: The detector's settings as its authors run it: pixels above ``THRESHOLD`` are text, boxes grown by
#: ``UNCLIP``. The picture is scaled so that its shorter side is a preset's ``text_side`` (sides rounded to
#: multiples of 32; enlarged :data:`MAX_ENLARGEMENT` times at most); its authors' 736 by default.
SHORT_SIDE, THRESHOLD, UNCLIP = 736, 0.3, 1.6
#: The most a picture is enlarged for the network. A webcam frame (480 px) and a 640×360 picture are still
#: looked at 960 px high by the default; the smaller copies the webcam detects on when it falls behind
#: (:mod:`anonymize.pacing`) at three times their size, which costs less, instead of being enlarged back to
#: the full frame's cost. Twice made the webcam keep up better (9–10 % of frames hidden whole against 16–18 %,
#: idle, with text) and cost small pictures recall (640×360: 96.2 % of lines against 97.4 %).
MAX_ENLARGEMENT = 3.0
#: Lines thinner than this (px, on the network's scale) are specks, not text.
MIN_SIDE = 3
MAX_LINES = 1000
#: An IoU no two boxes exceed.
NO_SUPPRESSION = 1.0


#: The model, by the package that ships it (:func:`~anonymize.detectors.base.model_path`).
MODEL = f"{PACKAGE}/{MODEL_FILE}"


def text_available() -> bool:
    """Whether the ``[text]`` extra is installed."""
    return model_path(MODEL).is_file()


class TextDetector(DetectorDefaults):
    """Finds text lines, every one or (with ``personal``) those that read as personal; raises DetectionError
    (saying how to install it) when the ``[text]`` extra is missing."""

    classes = ("text",)
    offline = True
    class_id = 2

    def __init__(
        self,
        providers: tuple[str, ...] = (CPU_PROVIDER,),
        personal: PersonalText | None = None,
        short_side: int = SHORT_SIDE,
    ) -> None:
        if not text_available():
            raise DetectionError(INSTALL)
        self.short_side = short_side
        self._session = onnx_session(MODEL, providers)
        self._input = self._session.get_inputs()[0].name
        self._personal = personal
        self._reader = TextReader(providers) if personal else None

    def info(self) -> DetectorInfo:
        if self._personal is None:
            return DetectorInfo((MODEL,))
        return DetectorInfo((MODEL, *self._reader.models), {"text_patterns": ", ".join(self._personal.names)})

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        probability, scale_x, scale_y = self._probability(image)
        corners, scores = lines(probability)
        sure = scores >= confidence
        corners, scores = corners[sure] * np.array([scale_x, scale_y], np.float32), scores[sure]
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)  # clamped by from_arrays
        patterns = self._patterns(image, corners)
        hidden = patterns != None  # noqa: E711 (an object array, compared element by element)
        # No suppression by overlap: the lines are disjoint regions of the map, but the upright boxes of
        # slanted neighbours overlap, and suppressing one would leave its line visible.
        return Predictions.from_arrays(
            boxes[hidden],
            scores[hidden],
            "text",
            self.class_id,
            width,
            height,
            NO_SUPPRESSION,
            patterns[hidden],
            corners[hidden],
        )

    def _patterns(self, image: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Why each line is hidden: :data:`ANY_TEXT` in all-text mode; in personal mode the pattern its reading
        matched, :data:`UNREAD` when reading failed, or None (not hidden) when it reads as nothing personal."""
        if self._personal is None:
            return np.full(len(corners), ANY_TEXT, object)
        try:
            readings = self._reader.read(image, corners)
        except Exception:  # noqa: BLE001 (whatever broke, the lines stay hidden)
            return np.full(len(corners), UNREAD, object)
        return np.array([self._personal.match(reading) for reading in readings] or [], object)

    def _probability(self, image: np.ndarray) -> tuple[np.ndarray, float, float]:
        """The network's text probability per pixel, and the scale from its map back to ``image``."""
        height, width = image.shape[:2]
        ratio = min(self.short_side / min(height, width), MAX_ENLARGEMENT)
        size_x, size_y = (max(32, round(side * ratio / 32) * 32) for side in (width, height))
        # The network was trained on BGR pictures, normalised to -1…1.
        scaled = cv2.resize(image[:, :, ::-1], (size_x, size_y), interpolation=cv2.INTER_LINEAR)
        tensor = (scaled.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        probability = self._session.run(None, {self._input: tensor})[0][0, 0]
        return probability, width / size_x, height / size_y


def lines(probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text line in a probability map: the corners of its grown turned box (``N×4×2``, in the map's
    pixels, top-left first, clockwise), and its score (the mean probability inside that box before growing)."""
    text = cv2.dilate((probability > THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(text, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    corners, scores = [], []
    for contour in contours[:MAX_LINES]:
        rect = cv2.minAreaRect(contour)
        if min(rect[1]) < MIN_SIDE:
            continue
        scores.append(_mean_inside(probability, cv2.boxPoints(rect)))
        (cx, cy), (w, h), angle = rect
        grow = w * h * UNCLIP / (2 * (w + h))  # the distance its authors push each side outward
        corners.append(ordered_corners(((cx, cy), (w + 2 * grow, h + 2 * grow), angle)))
    return np.array(corners, np.float32).reshape(-1, 4, 2), np.array(scores, np.float32)


def _mean_inside(probability: np.ndarray, corners: np.ndarray) -> float:
    x1, y1 = np.floor(corners.min(axis=0)).astype(int).clip(0)
    x2, y2 = np.ceil(corners.max(axis=0)).astype(int)
    x2, y2 = min(x2, probability.shape[1] - 1), min(y2, probability.shape[0] - 1)
    mask = np.zeros((y2 - y1 + 1, x2 - x1 + 1), np.uint8)
    cv2.fillPoly(mask, [np.round(corners - [x1, y1]).astype(np.int32)], 1)
    return float(cv2.mean(probability[y1 : y2 + 1, x1 : x2 + 1], mask)[0])
