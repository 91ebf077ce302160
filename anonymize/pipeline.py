"""One image in, one anonymized image and its predictions out.

Example:
    >>> import numpy as np
    >>> from anonymize.detectors import local_detector
    >>> result = anonymize_image(np.zeros((32, 32, 3), np.uint8), local_detector(), Settings())
    >>> result.image.shape, len(result.predictions)
    ((32, 32, 3), 0)
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from anonymize.censor import CensorSettings, censor
from anonymize.detections import Predictions
from anonymize.detectors.base import Detector
from anonymize.errors import AnonymizeError, DetectionError

ALL_CLASSES = ("face", "license-plate")


@dataclass(frozen=True)
class Settings:
    """What to hide and how. ``confidence`` and ``overlap`` are percentages (0–100), as in Roboflow.

    ``classes=None`` hides every class the detector returns (for remote models
    whose class names are not known in advance).
    """

    classes: tuple[str, ...] | None = ALL_CLASSES
    # A miss costs more than an extra blur: low threshold, generous padding (README, "Presets").
    confidence: float = 5
    overlap: float = 30
    censor: CensorSettings = field(default_factory=CensorSettings)

    def __post_init__(self) -> None:
        if not (0 <= self.confidence <= 100 and 0 <= self.overlap <= 100):
            raise ValueError("confidence and overlap are percentages between 0 and 100")
        if self.classes is not None and not self.classes:
            raise ValueError("nothing is chosen to hide: name at least one class")


@dataclass(frozen=True)
class Result:
    """The censored pixels, every prediction above the thresholds, those that were hidden, and the time taken."""

    image: np.ndarray
    predictions: Predictions
    hidden: Predictions
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The predictions in Roboflow's shape: the server's own response when there was one."""
        return self.predictions.raw or self.predictions.to_roboflow()

    @property
    def warning(self) -> str | None:
        """The one rule for calling a picture anonymized: None when it may be, silently.

        It may not when things were found but none of them hidden (every
        detection is of a class that was not chosen): the picture is then
        untouched, and whoever saves or shows it must say so.
        """
        if self.hidden or not self.predictions:
            return None
        found = Counter(d.class_name for d in self.predictions)
        listed = ", ".join(f"{n} {name}" for name, n in sorted(found.items()))
        return f"nothing hidden: found {listed}, not among the classes to hide"


def detect(image: np.ndarray, detector: Detector, settings: Settings) -> Predictions:
    """Run ``detector`` with the thresholds of ``settings``; any failure becomes a DetectionError."""
    try:
        found = detector.detect(image, confidence=settings.confidence / 100, overlap=settings.overlap / 100)
    except AnonymizeError:
        raise
    except Exception as error:  # a model or backend bug must still fail closed, with a message
        raise DetectionError(f"detection failed: {type(error).__name__}: {error}") from error
    if not isinstance(found, Predictions):
        raise DetectionError(f"detection failed: the detector returned {type(found).__name__}, not predictions.")
    # Every backend's answer passes here: a box that cannot be trusted fails the picture.
    height, width = image.shape[:2]
    problem = found.problem(width, height)
    if problem:
        raise DetectionError(f"the detector's answer cannot be trusted ({problem}); the picture was not anonymized.")
    found = replace(found, image_width=width, image_height=height)  # a server may not say
    # Remote backends threshold on their side too; doing it again here is what makes
    # every backend obey the same sliders.
    return found.above(settings.confidence / 100).suppress_overlaps(settings.overlap / 100)


def hide(image: np.ndarray, predictions: Predictions, settings: Settings) -> Result:
    """Censor the detections of ``settings.classes`` (detection already done, e.g. cached)."""
    start = time.perf_counter()
    hidden = predictions if settings.classes is None else predictions.of_classes(settings.classes)
    return Result(censor(image, hidden, settings.censor), predictions, hidden, time.perf_counter() - start)


def anonymize_image(image: np.ndarray, detector: Detector, settings: Settings) -> Result:
    """Detect, then hide every detection of ``settings.classes``.

    Fails closed: if detection raises, this raises too and no image is returned.
    ``Result.seconds`` covers both steps.
    """
    start = time.perf_counter()
    result = hide(image, detect(image, detector, settings), settings)
    return replace(result, seconds=time.perf_counter() - start)
