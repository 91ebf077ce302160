"""Overlapping tiles, for images larger than a model should see in one run.

Tiles overlap by at least a quarter of their side, so an object cut by one
tile's edge is whole in its neighbour; the last tile on each side is flush
with the image's edge. Detections from all tiles are merged by NMS.

Example:
    >>> import numpy as np
    >>> [(x, y, crop.shape) for x, y, crop in tiles(np.zeros((1000, 3000, 3), np.uint8), 1280)]
    [(0, 0, (1000, 1280, 3)), (860, 0, (1000, 1280, 3)), (1720, 0, (1000, 1280, 3))]
"""

from __future__ import annotations

import math

import numpy as np

TILE_OVERLAP = 0.25


def tiles(image: np.ndarray, tile: int) -> list[tuple[int, int, np.ndarray]]:
    """``(x, y, crop)`` for the ``tile``-px tiles covering ``image`` (all the same size: smaller where the image is)."""
    height, width = image.shape[:2]
    tile_h, tile_w = min(tile, height), min(tile, width)
    return [(x, y, image[y : y + tile_h, x : x + tile_w]) for y in _starts(height, tile) for x in _starts(width, tile)]


def _starts(length: int, tile: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / (tile * (1 - TILE_OVERLAP))) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]
