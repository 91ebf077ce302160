"""Speed/recall presets of the local detector. Their measured recall and speed: docs/benchmarks.md.

``fast`` is for the webcam, ``balanced`` the default, ``thorough`` for datasets
where a missed face costs more than a slow run.

Example:
    >>> PRESETS["balanced"].face_passes, PRESETS["balanced"].plate_sizes, PRESETS["balanced"].plate_int8
    (((1920, True), (640, True)), (1280,), True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """How the local models look at an image."""

    name: str
    description: str
    #: CenterFace passes: (longer side in px, never above the image's own, None: the image's own size;
    #: whether it runs the int8 model).
    face_passes: tuple[tuple[int | None, bool], ...]
    #: Whole-image plate passes (longer side in px, never above the image's own).
    plate_sizes: tuple[int, ...]
    #: Full-resolution plate tiles for images larger than this (None: no tiles).
    plate_tile: int | None
    #: The int8-quantized plate model: faster, and as accurate on plates_dev.
    plate_int8: bool
    #: The text detector's scale, when text is hidden: the picture's shorter side in px (its authors' 736;
    #: bench/text.py measures each).
    text_side: int


PRESETS = {
    "fast": Preset(
        "fast",
        "webcam and previews: int8 models, faces at up to 640 px, one 640 px plate pass",
        ((640, True),),
        (640,),
        None,
        True,
        576,
    ),
    "balanced": Preset(
        "balanced",
        "the default: int8 models, faces at up to 1920 px and at 640 px, plates at up to 1280 px",
        ((1920, True), (640, True)),
        (1280,),
        None,
        True,
        960,
    ),
    "thorough": Preset(
        "thorough",
        "datasets: float models, faces at full size and at 640 px, plates at two scales plus full-resolution tiles",
        ((None, False), (640, False)),
        (960, 1280),
        1280,
        False,
        1280,
    ),
}
DEFAULT_PRESET = "balanced"
