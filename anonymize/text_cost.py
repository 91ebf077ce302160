"""What hiding text costs, as measured: each preset's detection time for a 1280×720 picture without text, with
all text and with personal text.

The figures come from ``bench/text.py`` (each preset timed in turns on the same pictures, on the 2-core
machine docs/benchmarks.md describes) and ship in ``text_cost.json`` beside this module; the Video and
Webcam pages say them when text is hidden.

Example:
    >>> cost = text_cost("balanced", "all")
    >>> cost.with_text_ms > cost.without_text_ms
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "text_cost.json"
MODE_WORDS = {"all": "all text", "personal": "personal text"}


@dataclass(frozen=True)
class TextCost:
    """A preset's measured detection time for a 1280×720 picture, without text and with text in ``mode``."""

    preset: str
    mode: str
    without_text_ms: int
    with_text_ms: int
    #: The default preset's time without text, which the cheapest way to hide text is compared with.
    default_ms: int

    def sentence(self) -> str:
        """What the figure says, for a person.

        >>> TextCost("fast", "all", 30, 230, 130).sentence()
        'Measured at 1280×720 on 2 cores, preset fast: detection takes 230 ms with all text, 30 ms without (1.8× the default preset without text).'
        """
        return (
            f"Measured at 1280×720 on 2 cores, preset {self.preset}: detection takes {self.with_text_ms} ms with "
            f"{MODE_WORDS[self.mode]}, {self.without_text_ms} ms without "
            f"({self.with_text_ms / self.default_ms:.1f}× the default preset without text)."
        )


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(DATA_FILE.read_text())


def text_cost(preset: str, mode: str) -> TextCost | None:
    """The measured cost of text in ``mode`` at ``preset``; None for a preset not measured."""
    table = _table()
    if preset not in table["presets"]:
        return None
    row = table["presets"][preset]
    return TextCost(preset, mode, row["ms_without_text"], row[f"ms_{mode}_text"], table["default_ms_without_text"])
