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
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from anonymize.censor import CensorSettings, censor
from anonymize.detections import CONFIDENT, Predictions
from anonymize.detectors.base import Detector
from anonymize.errors import AnonymizeError, DetectionError

if TYPE_CHECKING:  # edits build on Settings: imported for types only
    from anonymize.edits import Applied, PictureEdits

ALL_CLASSES = ("face", "license-plate")

#: The default threshold (%) of each local class, chosen on the dev sets for recall first
#: (docs/benchmarks.md, "How the default was chosen"). A face's confidence is calibrated (the probability
#: that it is a face), and most candidates are not faces: 1 % is the highest whole threshold
#: that keeps faces_dev's recall of faces ≥ 10 px at 99.5 %, cross-validated.
CLASS_CONFIDENCE: dict[str, float] = {"face": 1, "license-plate": 5}
#: The default for any other class (a Roboflow model's own classes).
OTHER_CLASS_CONFIDENCE = 5
#: An offline detector is asked at this confidence (%), or at the lowest threshold when that is lower,
#: and its answer is filtered by each class's threshold afterwards (it is the face default: whatever the
#: sliders say, the statistics show every candidate the default would hide). The app detects once and filters
#: as sliders move; asking every offline detection the same way makes the CLI and the batch give the
#: same boxes (and bytes) for the same settings, which replaying review edits relies on.
OFFLINE_DETECTION_FLOOR = CLASS_CONFIDENCE["face"]


@dataclass(frozen=True)
class Settings:
    """What to hide and how. Thresholds and ``overlap`` are percentages (0–100), as in Roboflow.

    ``classes=None`` hides every class the detector returns (for remote models
    whose class names are not known in advance).

    A class's confidence threshold is its entry in ``class_confidence``, else
    ``confidence`` when given, else its default (:data:`CLASS_CONFIDENCE`):

    >>> Settings().threshold("face"), Settings(confidence=40).threshold("face")
    (1, 40)
    >>> Settings(confidence=40, class_confidence=(("face", 20),)).threshold("face")
    20
    """

    classes: tuple[str, ...] | None = ALL_CLASSES
    #: One threshold for every class without its own; None: each class's default.
    confidence: float | None = None
    class_confidence: tuple[tuple[str, float], ...] = ()
    overlap: float = 30
    censor: CensorSettings = field(default_factory=CensorSettings)

    def __post_init__(self) -> None:
        thresholds = [value for _, value in self.class_confidence] + [self.confidence if self.confidence is not None else 0]
        if not all(0 <= value <= 100 for value in thresholds + [self.overlap]):  # NaN fails too
            raise ValueError("confidence and overlap are percentages between 0 and 100")
        if self.classes is not None and not self.classes:
            raise ValueError("nothing is chosen to hide: name at least one class")

    def threshold(self, class_name: str) -> float:
        """The confidence threshold (%) of ``class_name``."""
        own = dict(self.class_confidence)
        if class_name in own:
            return own[class_name]
        if self.confidence is not None:
            return self.confidence
        return CLASS_CONFIDENCE.get(class_name, OTHER_CLASS_CONFIDENCE)

    @property
    def lowest_threshold(self) -> float:
        """The lowest threshold (%) of any class: what a detector is asked for before each class is filtered."""
        defaults = [self.confidence] if self.confidence is not None else [*CLASS_CONFIDENCE.values(), OTHER_CLASS_CONFIDENCE]
        return min([value for _, value in self.class_confidence] + defaults)

    def keep(self, predictions: Predictions) -> Predictions:
        """The predictions at or above their class's threshold."""
        return predictions.above(lambda name: self.threshold(name) / 100)

    def to_json(self) -> dict[str, Any]:
        """These settings as JSON, for a record (an edits file) that :meth:`from_json` reads back.

        >>> Settings.from_json(Settings(confidence=40).to_json()) == Settings(confidence=40)
        True
        """
        return {
            "classes": None if self.classes is None else list(self.classes),
            "confidence": self.confidence,
            "class_confidence": dict(self.class_confidence),
            "overlap": self.overlap,
            "censor": asdict(self.censor),
        }

    @classmethod
    def from_json(cls, payload: Any) -> Settings:
        """Settings from :meth:`to_json`'s form; ValueError, saying what is wrong, for anything else."""
        try:
            censor = dict(payload["censor"])
            unknown = set(censor) - set(CensorSettings.__dataclass_fields__)
            if unknown:
                raise ValueError(f"censor has no setting {', '.join(map(repr, sorted(unknown)))}")
            if isinstance(censor.get("fill_color"), list):
                censor["fill_color"] = tuple(censor["fill_color"])
            classes = payload["classes"]
            if not (classes is None or (isinstance(classes, list) and all(isinstance(c, str) for c in classes))):
                raise ValueError(f"classes must be a list of class names, not {classes!r}")
            thresholds = payload["class_confidence"]
            if not isinstance(thresholds, dict):
                raise ValueError(f"class_confidence must map class names to percentages, not {thresholds!r}")
            return cls(
                classes=None if classes is None else tuple(classes),
                confidence=None if payload["confidence"] is None else _percentage(payload["confidence"], "confidence"),
                class_confidence=tuple((name, _percentage(value, f"class_confidence {name!r}")) for name, value in thresholds.items()),
                overlap=_percentage(payload["overlap"], "overlap"),
                censor=CensorSettings(**censor),
            )
        except KeyError as missing:
            raise ValueError(f"the settings have no {missing}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"the settings are malformed ({error})") from None


def _percentage(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    return float(value)


def unknown_classes(settings: Settings, known: Sequence[str]) -> list[str]:
    """The classes ``settings`` name (to hide, or with a threshold of their own) that a model finding ``known``
    does not know; none when the model does not say its classes.

    >>> unknown_classes(Settings(classes=("faces",), class_confidence=(("plate", 40),)), ALL_CLASSES)
    ['faces', 'plate']
    """
    named = [*(settings.classes or ()), *(name for name, _ in settings.class_confidence)]
    return list(dict.fromkeys(name for name in named if known and name not in known))


@dataclass(frozen=True)
class Result:
    """The censored pixels, every prediction above the thresholds, those that were hidden, and the time taken.

    Hidden detections below :data:`~anonymize.detections.CONFIDENT` are the "safety band":
    hidden because a miss costs more than a blur, but not counted as found faces or plates.
    ``review`` is what a person's edits changed (:mod:`anonymize.edits`), when there were any:
    ``hidden`` then already leaves out what they kept visible and holds what they added.
    """

    image: np.ndarray
    predictions: Predictions
    hidden: Predictions
    seconds: float
    review: Applied | None = None

    def to_json(self) -> dict[str, Any]:
        """The predictions in Roboflow's shape: the server's own response when there was one;
        with a ``"review"`` entry saying what was kept visible on purpose and added by hand."""
        found = self.predictions.raw or self.predictions.to_roboflow()
        return found | {"review": self.review.to_json()} if self.review else found

    @property
    def confident(self) -> Predictions:
        """The hidden detections the model is confident about: what a person would count."""
        return self.hidden.above(CONFIDENT)

    @property
    def counts(self) -> Counter:
        """How many of each class the model is confident about: :attr:`confident` counted per class."""
        return Counter(d.class_name for d in self.confident)

    @property
    def hidden_counts(self) -> Counter:
        """How many of each class were hidden: every detection at or above its class's threshold."""
        return Counter(d.class_name for d in self.hidden)

    @property
    def low_confidence(self) -> Predictions:
        """The hidden detections in the safety band, below :data:`~anonymize.detections.CONFIDENT`."""
        return self.hidden.below(CONFIDENT)

    @property
    def summary(self) -> str:
        """What was hidden, as a person would say it.

        >>> from anonymize.detections import Detection
        >>> found = Predictions.of([Detection(0, 0, 9, 9, 0.9, "face"), Detection(20, 0, 29, 9, 0.1, "face")], 40, 10)
        >>> hide(np.zeros((10, 40, 3), np.uint8), found, Settings()).summary
        '1 face, plus 1 low-confidence region hidden to be safe'
        """
        said = summarize(self.counts, len(self.low_confidence))
        return f"{said}; {self.reviewed}" if self.reviewed else said

    @property
    def reviewed(self) -> str:
        """What a person's review changed, as a person would say it ("" without a review)."""
        if not self.review:
            return ""
        review = self.review
        return "; ".join(
            f"{n} box{'' if n == 1 else 'es'} {what}" for n, what in ((len(review.added), "added by hand"), (len(review.kept_visible), "kept visible on purpose")) if n
        )

    @property
    def warning(self) -> str | None:
        """The one rule for calling a picture anonymized: None when it may be, silently.

        It may not when things were found but none of them hidden (every
        detection is of a class that was not chosen): the picture is then
        untouched, and whoever saves or shows it must say so. Detections a
        person kept visible on review were a choice, said in :attr:`summary`.
        """
        if self.hidden or not self.predictions or (self.review and len(self.review.kept_visible)):
            return None
        found = Counter(d.class_name for d in self.predictions)
        listed = ", ".join(f"{n} {name}" for name, n in sorted(found.items()))
        return f"nothing hidden: found {listed}, not among the classes to hide"


def summarize(counts: dict[str, int], low_confidence: int) -> str:
    """What was hidden, from the confident count per class and the number of low-confidence regions.

    >>> summarize({"license-plate": 2}, 0)
    '2 license-plates'
    """
    found = ", ".join(_plural(n, name) for name, n in sorted(counts.items()) if n) or "nothing found"
    return found + (f", plus {_plural(low_confidence, 'low-confidence region')} hidden to be safe" if low_confidence else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def detection_confidence(settings: Settings, detector: Detector) -> float:
    """The confidence (%) ``detector`` is asked at for ``settings``: see :data:`OFFLINE_DETECTION_FLOOR`.

    A detector that does not say it is offline is asked at the thresholds themselves:
    a server's answer is then exactly what the sliders asked for.
    """
    lowest = settings.lowest_threshold
    return min(lowest, OFFLINE_DETECTION_FLOOR) if getattr(detector, "offline", False) else lowest


def detect(image: np.ndarray, detector: Detector, settings: Settings) -> Predictions:
    """Run ``detector`` with the thresholds of ``settings``; any failure becomes a DetectionError."""
    try:
        found = detector.detect(image, confidence=detection_confidence(settings, detector) / 100, overlap=settings.overlap / 100)
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


def anonymize_image(image: np.ndarray, detector: Detector, settings: Settings, edits: PictureEdits | None = None) -> Result:
    """Detect, then hide every detection of ``settings.classes``, as a review's ``edits`` say.

    Fails closed: if detection raises, this raises too and no image is returned.
    ``Result.seconds`` covers both steps.
    """
    start = time.perf_counter()
    result = hide(image, detect(image, detector, settings), settings, edits)
    return replace(result, seconds=time.perf_counter() - start)
