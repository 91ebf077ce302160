"""Hiding detected regions: blur, pixelate, fill or fog.

How a region is made (all sizes in pixels):

* **Padding** scales the box about its centre: ``padding=1.3`` gives a box
  1.3× as wide and 1.3× as tall. (deface's ``--mask-scale 1.3`` grows each
  side by 0.3 of the box, i.e. a 1.6× box; our 1.6 is its equivalent.)
  The padded box is then clamped to the image, so boxes that stick out never
  wrap around to the far side as negative slice indices would.
* **Shape**: ``rect`` or ``ellipse`` (inscribed in the padded box); ``auto``
  picks per class: ellipses for faces, rectangles for everything else.
* **Strength** (1–10) scales with the region, so a large face is as
  unreadable as a small one. With ``L`` the longer side of the padded box:
  ``blur`` and ``fog`` use a Gaussian of sigma ``L × strength / 40`` (the
  default 5 gives L/8); ``pixelate`` cuts the longer side into
  ``round(32 / strength)`` cells (at least 2; the default gives 6) and paints
  each cell with its mean colour; ``fill`` ignores strength.
* ``fog`` is the blur under a translucent light veil; ``fill`` paints a
  solid colour and is the only method that cannot be partly undone.

All regions of an image form one mask: where regions overlap, a pixel is
censored once. ``feather`` softens edges *outward* only, so the inside of
every region stays fully censored. Pixels outside every region (and its
feather band) are returned bit-identical.

Example:
    >>> import numpy as np
    >>> from anonymize.detections import Detection, Predictions
    >>> image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    >>> found = Predictions.of([Detection(10, 10, 30, 30, 0.9, "face")], 80, 60)
    >>> out = censor(image, found, CensorSettings(method="fill"))
    >>> bool((out[20, 20] == 0).all()), bool((out[50:, 50:] == image[50:, 50:]).all())
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Protocol

import cv2
import numpy as np

from anonymize.detections import Detection

Shape = Literal["auto", "rect", "ellipse"]

SHAPES: tuple[Shape, ...] = ("auto", "rect", "ellipse")
ELLIPSE_CLASSES = frozenset({"face"})
FOG_VEIL = np.array([225.0, 225.0, 225.0])
FOG_OPACITY = 0.55


#: The largest blur sigma run at full size: a larger one runs on a shrunken copy (see ``_gaussian``).
SHRUNK_SIGMA = 2.0

#: Beyond these, a box covers the picture many times over, or a feather blurs it whole.
#: The ranges of the censoring's numbers, the one source for every front end (the CLI's flags, the sidebar's sliders).
STRENGTH_RANGE = (1.0, 10.0)
PADDING_RANGE = (1.0, 10.0)
FEATHER_RANGE = (0, 200)


@dataclass(frozen=True)
class CensorSettings:
    """How to hide a region. See the module docstring for the exact rules."""

    method: str = "blur"
    strength: float = 5.0
    padding: float = 1.3
    shape: Shape = "auto"
    feather: int = 0
    fill_color: tuple[int, int, int] = (0, 0, 0)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, not {self.shape!r}")
        if not (_is_number(self.strength) and STRENGTH_RANGE[0] <= self.strength <= STRENGTH_RANGE[1]):
            raise ValueError(f"strength must be between {STRENGTH_RANGE[0]:g} and {STRENGTH_RANGE[1]:g}")
        # Written so that NaN fails each test: it compares false with everything.
        if not (_is_number(self.padding) and PADDING_RANGE[0] <= self.padding <= PADDING_RANGE[1]):
            raise ValueError(f"padding must be from {PADDING_RANGE[0]:g} to {PADDING_RANGE[1]:g}")
        if not (_is_whole(self.feather) and FEATHER_RANGE[0] <= self.feather <= FEATHER_RANGE[1]):
            raise ValueError(
                f"feather must be a whole number of pixels from {FEATHER_RANGE[0]} to {FEATHER_RANGE[1]}, not {self.feather!r}"
            )
        if not (
            isinstance(self.fill_color, tuple)
            and len(self.fill_color) == 3
            and all(_is_whole(c) and 0 <= c <= 255 for c in self.fill_color)
        ):
            raise ValueError(
                f"fill_color must be three whole numbers from 0 to 255 (red, green, blue), not {self.fill_color!r}"
            )

    def shape_for(self, class_name: str) -> Literal["rect", "ellipse"]:
        """The shape of a box of ``class_name`` (a turned text line under ``auto`` is hidden by its outline)."""
        if self.shape != "auto":
            return self.shape
        return "ellipse" if class_name in ELLIPSE_CLASSES else "rect"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Region:
    """A padded, clamped box in integer pixels (``x2``/``y2`` exclusive) and its shape; for a turned text line
    under ``auto``, the shape is its padded outline (``polygon``, image pixels), the box the bounds of it."""

    x1: int
    y1: int
    x2: int
    y2: int
    shape: Literal["rect", "ellipse", "polygon"]
    polygon: tuple[tuple[float, float], ...] | None = None

    @property
    def longer_side(self) -> int:
        return max(self.x2 - self.x1, self.y2 - self.y1)


def regions_for(detections: Iterable[Detection], settings: CensorSettings, width: int, height: int) -> list[Region]:
    """The padded boxes that ``censor`` paints, clamped to a ``width×height`` image."""
    regions = []
    for d in detections:
        if settings.shape == "auto" and _fits(d.outline, d):
            outline = np.array(d.outline)
            centre = outline.mean(axis=0)
            polygon = centre + (outline - centre) * settings.padding
            (x1, y1), (x2, y2) = np.floor(polygon.min(axis=0)), np.ceil(polygon.max(axis=0))
            x1, y1, x2, y2 = max(0, int(x1)), max(0, int(y1)), min(width, int(x2)), min(height, int(y2))
            if x2 > x1 and y2 > y1:
                regions.append(Region(x1, y1, x2, y2, "polygon", tuple(map(tuple, polygon.tolist()))))
            continue
        cx, cy = d.center
        half_w = max(d.width * settings.padding, 1.0) / 2
        half_h = max(d.height * settings.padding, 1.0) / 2
        x1, y1 = max(0, int(np.floor(cx - half_w))), max(0, int(np.floor(cy - half_h)))
        x2, y2 = min(width, int(np.ceil(cx + half_w))), min(height, int(np.ceil(cy + half_h)))
        if x2 > x1 and y2 > y1:
            regions.append(Region(x1, y1, x2, y2, settings.shape_for(d.class_name)))
    return regions


def _fits(outline: tuple[tuple[float, float], ...] | None, box: Detection) -> bool:
    """Whether an outline lies in its box: one that strays (a malformed answer read back) would hide the wrong
    place, so its box is hidden instead."""
    if outline is None:
        return False
    xs, ys = zip(*outline)
    return min(xs) >= box.x1 - 1 and max(xs) <= box.x2 + 1 and min(ys) >= box.y1 - 1 and max(ys) <= box.y2 + 1


def censor(image: np.ndarray, detections: Iterable[Detection], settings: CensorSettings) -> np.ndarray:
    """Return a copy of ``image`` (``H×W×3`` uint8) with every detection hidden."""
    height, width = image.shape[:2]
    regions = regions_for(detections, settings, width, height)
    result = image.copy()
    if not regions:
        return result
    grow = settings.feather
    # Work inside the union of all regions (and their feather bands) only.
    wx1, wy1 = max(0, min(r.x1 for r in regions) - grow), max(0, min(r.y1 for r in regions) - grow)
    wx2, wy2 = min(width, max(r.x2 for r in regions) + grow), min(height, max(r.y2 for r in regions) + grow)
    window = image[wy1:wy2, wx1:wx2]
    hidden = np.empty_like(window)  # read only where the mask is above 0, which a region wrote first
    mask = np.zeros(window.shape[:2], np.float32)
    rects = []
    for region in regions:
        # Each region's censored pixels come from the original, never from
        # another region's output, so overlaps are not censored twice.
        x1, y1 = max(0, region.x1 - grow - wx1), max(0, region.y1 - grow - wy1)
        x2, y2 = min(wx2, region.x2 + grow) - wx1, min(wy2, region.y2 + grow) - wy1
        hidden[y1:y2, x1:x2] = CENSOR_METHODS[settings.method].hide(window[y1:y2, x1:x2], region.longer_side, settings)
        if grow == 0 and region.shape == "rect":
            mask[y1:y2, x1:x2] = 1.0  # the whole box, and nothing around it
        else:
            alpha = _shape_alpha(region, grow, (x1 + wx1, y1 + wy1, x2 + wx1, y2 + wy1))
            np.maximum(mask[y1:y2, x1:x2], alpha, out=mask[y1:y2, x1:x2])
        rects.append((slice(y1, y2), slice(x1, x2)))
    # Blend rectangle by rectangle, not over the whole window: scattered faces cover a small share
    # of it. A pixel in two rectangles is written twice with the same value.
    out = result[wy1:wy2, wx1:wx2]
    for rect in rects:
        alpha = mask[rect]
        inside = alpha >= 1.0
        # cv2.copyTo writes into the view, 30× faster than np.copyto(where=) on a large region; assigning
        # what it returns keeps the result right should it ever write to a new array instead.
        out[rect] = cv2.copyTo(hidden[rect], inside.view(np.uint8), out[rect])
        edge = (alpha > 0) & ~inside
        if edge.any():
            a = alpha[edge][:, None]
            out[rect][edge] = np.round(window[rect][edge] * (1 - a) + hidden[rect][edge] * a).astype(np.uint8)
    return result


def censored_mask(detections: Iterable[Detection], settings: CensorSettings, width: int, height: int) -> np.ndarray:
    """The ``height×width`` boolean mask of the pixels ``censor`` hides completely."""
    mask = np.zeros((height, width), bool)
    for r in regions_for(detections, settings, width, height):
        mask[r.y1 : r.y2, r.x1 : r.x2] |= _shape_alpha(r, 0, (r.x1, r.y1, r.x2, r.y2)) >= 1.0
    return mask


def _shape_alpha(region: Region, grow: int, area: tuple[int, int, int, int]) -> np.ndarray:
    """Opacity over ``area`` (image coords): 1 inside the shape, fading to 0 over ``grow`` px outside."""
    ax1, ay1, ax2, ay2 = area
    if region.shape == "polygon":
        return _polygon_alpha(region.polygon, grow, area)
    ys = np.arange(ay1, ay2, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(ax1, ax2, dtype=np.float32)[None, :] + 0.5
    if region.shape == "ellipse":
        cx, cy = (region.x1 + region.x2) / 2, (region.y1 + region.y2) / 2
        rx, ry = max((region.x2 - region.x1) / 2, 0.5), max((region.y2 - region.y1) / 2, 0.5)
        radius = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2)
        # Distance outside the ellipse, measured on the shorter axis' scale.
        outside = np.maximum(radius - 1.0, 0.0) * min(rx, ry)
    else:
        dx = np.maximum(np.maximum(region.x1 - xs + 0.5, xs - 0.5 - (region.x2 - 1)), 0)
        dy = np.maximum(np.maximum(region.y1 - ys + 0.5, ys - 0.5 - (region.y2 - 1)), 0)
        outside = np.sqrt(dx**2 + dy**2)
    if grow == 0:
        return (outside <= 0).astype(np.float32)
    return np.clip(1.0 - outside / max(grow, 1), 0.0, 1.0).astype(np.float32)


def _polygon_alpha(polygon: tuple[tuple[float, float], ...], grow: int, area: tuple[int, int, int, int]) -> np.ndarray:
    """Opacity over ``area`` (image coords): 1 on every pixel the polygon touches, fading to 0 over ``grow`` px
    outside. OpenCV's filling leaves some pixels whose centres lie just inside the edge: one pixel more all
    round covers them."""
    ax1, ay1, ax2, ay2 = area
    inside = np.zeros((ay2 - ay1, ax2 - ax1), np.uint8)
    # In sixteenths of a pixel, so that the corners' fractions count; a pixel's centre is at +0.5.
    points = [np.round((np.array(polygon) - [ax1, ay1] - 0.5) * 16).astype(np.int32)]
    cv2.fillPoly(inside, points, 1, cv2.LINE_8, shift=4)
    inside = cv2.dilate(inside, np.ones((3, 3), np.uint8))
    if grow == 0:
        return inside.astype(np.float32)
    outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.clip(1.0 - outside / max(grow, 1), 0.0, 1.0).astype(np.float32)


class CensorMethod(Protocol):
    """One way of hiding a region. A new method is one class and one line in :data:`CENSOR_METHODS`; its
    linkage figure (``linkage.json``, from ``bench/identity_linkage.py``) is said as "not measured" until it has one."""

    name: str
    #: How a sentence says a face it hid ("blurred faces").
    past: str
    #: What it does, in a few words (the CLI's and the sidebar's help).
    description: str
    #: Whether the strength slider changes it.
    uses_strength: bool

    def hide(self, crop: np.ndarray, size: int, settings: CensorSettings) -> np.ndarray:
        """The censored version of ``crop``; ``size`` is the region's longer side."""
        ...


@dataclass(frozen=True)
class Blur:
    name: str = "blur"
    past: str = "blurred"
    description: str = "Gaussian"
    uses_strength: bool = True

    def hide(self, crop: np.ndarray, size: int, settings: CensorSettings) -> np.ndarray:
        return _gaussian(crop, size * settings.strength / 40)


@dataclass(frozen=True)
class Pixelate:
    name: str = "pixelate"
    past: str = "pixelated"
    description: str = "mosaic of cell means"
    uses_strength: bool = True

    def hide(self, crop: np.ndarray, size: int, settings: CensorSettings) -> np.ndarray:
        cells = max(2, round(32 / settings.strength))
        return _pixelate(crop, max(1, int(np.ceil(size / cells))))


@dataclass(frozen=True)
class Fill:
    name: str = "fill"
    past: str = "filled"
    description: str = "solid colour, irreversible"
    uses_strength: bool = False

    def hide(self, crop: np.ndarray, size: int, settings: CensorSettings) -> np.ndarray:
        return np.broadcast_to(np.array(settings.fill_color, np.uint8), crop.shape).copy()


@dataclass(frozen=True)
class Fog:
    name: str = "fog"
    past: str = "fogged"
    description: str = "blur under a light veil"
    uses_strength: bool = True

    def hide(self, crop: np.ndarray, size: int, settings: CensorSettings) -> np.ndarray:
        blurred = Blur().hide(crop, size, settings)
        return np.round(blurred * (1 - FOG_OPACITY) + FOG_VEIL * FOG_OPACITY).astype(np.uint8)


#: Every censor method by name, in the order the front ends offer them.
CENSOR_METHODS: dict[str, CensorMethod] = {method.name: method for method in (Blur(), Pixelate(), Fill(), Fog())}
METHODS: tuple[str, ...] = tuple(CENSOR_METHODS)


def _pixelate(crop: np.ndarray, cell: int) -> np.ndarray:
    """Paint each ``cell×cell`` square (anchored top-left) with its exact mean colour."""
    h, w = crop.shape[:2]
    ys, xs = np.arange(0, h, cell), np.arange(0, w, cell)
    sums = np.add.reduceat(np.add.reduceat(crop.astype(np.float64), ys, axis=0), xs, axis=1)
    rows, cols = np.diff(np.append(ys, h)), np.diff(np.append(xs, w))
    means = np.round(sums / np.outer(rows, cols)[..., None]).astype(np.uint8)
    return np.repeat(np.repeat(means, rows, axis=0), cols, axis=1)


def _gaussian(crop: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur. Above ``SHRUNK_SIGMA`` it runs at that sigma on a copy shrunk by ``sigma / SHRUNK_SIGMA``
    and is scaled back: the area average and the scaling add a blur of their own (about 3 % more sigma),
    so it hides at least as much, and a 64 px face blurs 4–6× faster (a 640×480 crowd in 5.7 ms instead of
    11–14, ``bench/hot_path.py``)."""
    sigma = max(sigma, 0.5)
    h, w = crop.shape[:2]
    shrink = sigma / SHRUNK_SIGMA if sigma > SHRUNK_SIGMA else 1.0
    small_w, small_h = max(1, round(w / shrink)), max(1, round(h / shrink))
    if shrink > 1 and small_w >= 2 and small_h >= 2:
        small = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma / shrink, borderType=cv2.BORDER_REFLECT)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(np.ascontiguousarray(crop), (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
