"""Pictures with rendered lines of known text, for the text class."""

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from anonymize.media import load_image
from conftest import SAMPLES

LINES = [
    ("+44 20 7946 0958", 40),
    ("jane.doe@example.com", 24),
    ("OPEN 24 HOURS", 16),
    ("DE89 3704 0044 0532 0130 00", 12),
    ("Bakery", 10),
    ("tiny 8px text", 8),
]


def with_lines(background: np.ndarray, lines=LINES, angle: float = 0) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """``background`` with each line on a pale label, and each line's box; ``angle`` turns the whole picture."""
    picture = Image.fromarray(background)
    draw = ImageDraw.Draw(picture)
    boxes, y = [], 40
    for text, size in lines:
        font = ImageFont.load_default(size=size)
        box = draw.textbbox((60 + size * 3, y), text, font=font)
        draw.rectangle([box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4], fill=(245, 245, 240))
        draw.text((60 + size * 3, y), text, font=font, fill=(20, 20, 20))
        boxes.append(box)
        y = box[3] + 60
    pixels = np.asarray(picture)
    if not angle:
        return pixels, boxes
    height, width = pixels.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    turned = cv2.warpAffine(pixels, turn, (width, height), borderMode=cv2.BORDER_REFLECT)
    corners = [
        cv2.transform(np.array([[[x1, y1], [x2, y1], [x2, y2], [x1, y2]]], np.float32), turn)[0]
        for x1, y1, x2, y2 in boxes
    ]
    return turned, [(*c.min(axis=0), *c.max(axis=0)) for c in corners]


def street(width=1280, height=720) -> np.ndarray:
    return cv2.resize(load_image(SAMPLES / "dashcam_plate.jpg").pixels, (width, height))


def covered(box, found) -> bool:
    """Whether one of ``found`` holds ``box`` whole."""
    x1, y1, x2, y2 = box
    return any(d.x1 <= x1 + 1 and d.y1 <= y1 + 1 and d.x2 >= x2 - 1 and d.y2 >= y2 - 1 for d in found)
