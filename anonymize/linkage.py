"""What a censoring strength buys, as measured: how often a face recogniser links a censored face to its original.

The figures come from ``bench/identity_linkage.py`` (dlib's ResNet face
descriptor on faces_dev; docs/censoring.md) and ship in
``linkage.json`` beside this module. The attacker counted is the stronger
"parrot" one: it censors its own gallery the same way before matching.

Example:
    >>> figure = measured("fill", 5)
    >>> figure.method, figure.rank1 <= LIMIT * figure.chance
    ('fill', True)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from anonymize.censor import CENSOR_METHODS

DATA_FILE = Path(__file__).resolve().parent / "linkage.json"
#: A strength is enough when the recogniser links at most this many times chance.
LIMIT = 2.0


@dataclass(frozen=True)
class Linkage:
    """Rank-1 linkage of censored faces to their originals at one method and strength, and chance."""

    method: str
    #: The strength measured: the slider's value rounded down to a whole step (never a stronger one than chosen).
    strength: int
    rank1: float
    chance: float
    faces: int

    @property
    def enough(self) -> bool:
        """At most :data:`LIMIT` times chance."""
        return self.rank1 <= LIMIT * self.chance

    def sentence(self) -> str:
        """What the figure says, for a person.

        >>> Linkage("blur", 5, 0.004, 0.0013, 748).sentence()
        'At this strength a face recogniser matched 0.40 % of blurred faces to their originals (chance: 0.13 %).'
        """
        method = CENSOR_METHODS[self.method]
        start = "At this strength a face recogniser" if method.uses_strength else "A face recogniser"
        return f"{start} matched {_percent(self.rank1)} of {method.past} faces to their originals (chance: {_percent(self.chance)})."


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(DATA_FILE.read_text())


def measured(method: str, strength: float) -> Linkage | None:
    """The measured figure for ``method`` at ``strength`` (1–10; fill ignores it); None for a method not measured yet.

    >>> measured("crosshatch", 5) is None
    True
    """
    table = _table()
    if method not in table["parrot_rank1"]:
        return None
    by_strength = table["parrot_rank1"][method]
    step = "any" if "any" in by_strength else str(max(1, min(10, math.floor(strength))))
    return Linkage(method, 0 if step == "any" else int(step), by_strength[step], table["chance_rank1"], table["faces"])


def lowest_enough(method: str) -> int | None:
    """The lowest whole strength of ``method`` linked at most :data:`LIMIT` times chance (0 for fill), or None if none
    is (a method not measured has none either: ask :func:`measured` first)."""
    steps = _table()["parrot_rank1"].get(method, {})
    if "any" in steps:
        return 0 if measured(method, 0).enough else None
    return next((s for s in sorted(map(int, steps)) if measured(method, s).enough), None)


def _percent(share: float) -> str:
    """A share as a percentage with two significant digits: 0.0013 → '0.13 %', 0.051 → '5.1 %'."""
    percent = share * 100
    if percent == 0:
        return "0 %"
    digits = max(0, 1 - math.floor(math.log10(percent)))
    return f"{percent:.{digits}f} %"
