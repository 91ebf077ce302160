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
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from anonymize.censor import censor
from anonymize.detections import Predictions
from anonymize.detectors.base import Detector
from anonymize.errors import AnonymizeError, DetectionError
from anonymize.result import Result
from anonymize.settings import OFFLINE_DETECTION_FLOOR, Settings

if TYPE_CHECKING:  # edits build on Settings: imported for types only
    from anonymize.edits import PictureEdits


def detection_confidence(settings: Settings, detector: Detector) -> float:
    """The confidence (%) ``detector`` is asked at for ``settings``: see :data:`OFFLINE_DETECTION_FLOOR`.

    A detector that does not say it is offline is asked at the thresholds themselves:
    a server's answer is then exactly what the sliders asked for.
    """
    lowest = settings.lowest_threshold
    return min(lowest, OFFLINE_DETECTION_FLOOR) if detector.offline else lowest


def detect(image: np.ndarray, detector: Detector, settings: Settings) -> Predictions:
    """Run ``detector`` with the thresholds of ``settings``; any failure becomes a DetectionError."""
    try:
        found = detector.detect(
            image, confidence=detection_confidence(settings, detector) / 100, overlap=settings.overlap / 100
        )
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
    return settings.keep(found).suppress_overlaps(settings.overlap / 100)


def hide(image: np.ndarray, predictions: Predictions, settings: Settings, edits: PictureEdits | None = None) -> Result:
    """Censor the detections of ``settings.classes`` (detection already done, e.g. cached), as a review's ``edits`` say."""
    start = time.perf_counter()
    predictions = predictions.with_ids()  # before any subset, so that the hidden ones keep the same ids
    hidden = predictions if settings.classes is None else predictions.of_classes(settings.classes)
    review = edits.apply(hidden) if edits else None
    if review:
        hidden = review.hidden
    return Result(censor(image, hidden, settings.censor), predictions, hidden, time.perf_counter() - start, review)


def anonymize_image(
    image: np.ndarray, detector: Detector, settings: Settings, edits: PictureEdits | None = None
) -> Result:
    """Detect, then hide every detection of ``settings.classes``, as a review's ``edits`` say.

    Fails closed: if detection raises, this raises too and no image is returned.
    ``Result.seconds`` covers both steps.
    """
    start = time.perf_counter()
    result = hide(image, detect(image, detector, settings), settings, edits)
    return replace(result, seconds=time.perf_counter() - start)
