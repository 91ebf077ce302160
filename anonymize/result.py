"""One picture's outcome: the censored pixels, what was found and hidden, and how to say it.

Example:
    >>> from anonymize.detections import Detection, Predictions
    >>> found = Predictions.of([Detection(0, 0, 9, 9, 0.9, "face")], 10, 10)
    >>> Result(np.zeros((10, 10, 3), np.uint8), found, found, 0.0).summary
    '1 face'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from anonymize.detections import CONFIDENT, Predictions

if TYPE_CHECKING:  # edits build on Result's settings: imported for types only
    from anonymize.edits import Applied


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
        >>> Result(np.zeros((10, 40, 3), np.uint8), found, found, 0.0).summary
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
            f"{n} box{'' if n == 1 else 'es'} {what}"
            for n, what in ((len(review.added), "added by hand"), (len(review.kept_visible), "kept visible on purpose"))
            if n
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
    return found + (
        f", plus {_plural(low_confidence, 'low-confidence region')} hidden to be safe" if low_confidence else ""
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
