"""Overlapping tiles, for images larger than a model should see in one run.

Tiles overlap by at least a quarter of their side, so an object cut by one
tile's edge is whole in its neighbour; the last tile on each side is flush
with the image's edge. Detections from all tiles are merged by NMS.

Example:
    >>> tile_origins(3000, 1000, 1280)
    [(0, 0), (860, 0), (1720, 0)]
"""

from __future__ import annotations

import math

TILE_OVERLAP = 0.25


def tile_origins(width: int, height: int, tile: int) -> list[tuple[int, int]]:
    """Top-left corners ``(x, y)`` of the ``tile``-px tiles (fewer px where the image is smaller) covering the image."""
    return [(x, y) for y in _starts(height, tile) for x in _starts(width, tile)]


def _starts(length: int, tile: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / (tile * (1 - TILE_OVERLAP))) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]
