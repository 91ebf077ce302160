"""What to hide and how: the classes, their confidence thresholds, the overlap and the censoring.

Below everything that uses it (the pipeline, edits, records, the front ends), so that a
record or a review can name its settings without importing the runner.

Example:
    >>> Settings(class_confidence=(("face", 20),)).threshold("face"), Settings().threshold("license-plate")
    (20, 5)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from anonymize.censor import CensorSettings
from anonymize.detections import Predictions

ALL_CLASSES = ("face", "license-plate")
#: The local class hidden only when asked for (the [text] extra): text lines, scored as their detector's
#: authors keep them (a line's mean text probability ≥ 50 %).
TEXT = "text"

#: The default threshold (%) of each local class, chosen on the dev sets for recall first
#: (docs/benchmarks.md, "How the default was chosen"). A face's confidence is calibrated (the probability
#: that it is a face), and most candidates are not faces: at 0.1 % faces_dev's cross-validated recall is
#: within a face of the raw model's at 5 %, with the least over-censored area that allows.
CLASS_CONFIDENCE: dict[str, float] = {"face": 0.1, "license-plate": 5, "text": 50}
#: The confidence sliders' step (%): a default is one of its multiples, so that a slider can come back to it.
CONFIDENCE_STEP = 0.1
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
    (0.1, 40)
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
        thresholds = [value for _, value in self.class_confidence] + [
            self.confidence if self.confidence is not None else 0
        ]
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
        defaults = (
            [self.confidence] if self.confidence is not None else [*CLASS_CONFIDENCE.values(), OTHER_CLASS_CONFIDENCE]
        )
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
                class_confidence=tuple(
                    (name, _percentage(value, f"class_confidence {name!r}")) for name, value in thresholds.items()
                ),
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
