"""Speed/recall presets of the local detector. Their measured recall and speed: README, "Presets".

``fast`` is for the webcam, ``balanced`` the default, ``thorough`` for datasets
where a missed face costs more than a slow run.

Example:
    >>> PRESETS["balanced"].face_sizes, PRESETS["balanced"].plate_sizes, PRESETS["balanced"].int8
    ((1920, 640), (1280,), True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """How the local models look at an image."""

    name: str
    description: str
    #: CenterFace passes (longer side in px, never above the image's own; None: the image's own size).
    face_sizes: tuple[int | None, ...]
    #: Whole-image plate passes (longer side in px, never above the image's own).
    plate_sizes: tuple[int, ...]
    #: Full-resolution plate tiles for images larger than this (None: no tiles).
    plate_tile: int | None
    #: The int8-quantized models: faster, and as accurate on our dev sets.
    int8: bool

    def passes(self, width: int, height: int) -> tuple:
        """What actually runs on a ``width``×``height`` picture: face pass sizes, plate pass sizes, tiles, int8.

        Sizes are capped at the picture's own, so two presets can run the same passes on a small picture:

        >>> PRESETS["fast"].passes(640, 480) == PRESETS["balanced"].passes(640, 480)
        True
        """
        longest = max(width, height)
        faces = tuple(sorted({min(size or longest, longest) for size in self.face_sizes}))
        plates = tuple(sorted({min(size, longest) for size in self.plate_sizes}))
        tiles = self.plate_tile is not None and longest > self.plate_tile
        return faces, plates, tiles, self.int8


PRESETS = {
    "fast": Preset("fast", "webcam and previews: int8 models, faces at up to 640 px, one 640 px plate pass", (640,), (640,), None, True),
    "balanced": Preset("balanced", "the default: int8 models, faces at up to 1920 px and at 640 px, plates at up to 1280 px",
                       (1920, 640), (1280,), None, True),
    "thorough": Preset("thorough", "datasets: float models, faces at full size and at 640 px, plates at two scales plus full-resolution tiles",
                       (None, 640), (960, 1280), 1280, False),
}
DEFAULT_PRESET = "balanced"


def same_as(name: str, width: int, height: int) -> list[str]:
    """The other presets that run exactly what ``name`` runs on a ``width``×``height`` picture.

    >>> same_as("balanced", 640, 480)
    ['fast']
    """
    passes = PRESETS[name].passes(width, height)
    return [other for other, preset in PRESETS.items() if other != name and preset.passes(width, height) == passes]
