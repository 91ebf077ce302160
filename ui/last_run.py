"""A run's results stay on the page when the sidebar moves, with a notice of what changed since.

A batch or a video takes minutes; moving a slider afterwards must not wipe what it made. The
results stay in view, the page says which settings they were made with, and their downloads wait
until the run is made again with the settings the sidebar now shows (a zip made at a higher
threshold would otherwise pass for one made at the lower).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from anonymize.settings import ALL_CLASSES, Settings


@dataclass(frozen=True)
class RunKey:
    """What a run's results depend on: its inputs, settings, model and the page's own options (label, value)."""

    inputs: tuple[str, ...]
    settings: Settings
    model: str
    options: tuple[tuple[str, Any], ...] = ()

    def changes_since(self, earlier: RunKey) -> list[str]:
        """What differs from ``earlier``'s run, in words, for the same inputs.

        >>> before = RunKey(("a",), Settings(), "local")
        >>> RunKey(("a",), Settings(class_confidence=(("face", 20),)), "local").changes_since(before)
        ['face threshold 1 → 20 %']
        """
        now, then = self.settings, earlier.settings
        changes = [] if now.classes == then.classes else ["what to hide"]
        named = {
            *(now.classes or ALL_CLASSES),
            *(then.classes or ALL_CLASSES),
            *dict(now.class_confidence),
            *dict(then.class_confidence),
        }
        changes += [
            f"{name} threshold {then.threshold(name):g} → {now.threshold(name):g} %"
            for name in sorted(named)
            if then.threshold(name) != now.threshold(name)
        ]
        changes += ["overlap"] if now.overlap != then.overlap else []
        changes += ["censoring"] if now.censor != then.censor else []
        changes += ["model"] if self.model != earlier.model else []
        changes += [label for (label, value), (_, was) in zip(self.options, earlier.options) if value != was]
        return changes


def earlier_results_notice(changes: list[str], button: str) -> None:
    """Say that the results shown were made with other settings, and how to make them again."""
    st.warning(
        f"These results were made with other settings ({', '.join(changes)} changed since). They stay here; "
        f"press “{button}” to make them again with the sidebar's settings. Their downloads wait until then."
    )
