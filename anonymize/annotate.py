"""Drawing predictions on an image, for the "before" view.

Example:
    >>> import numpy as np
    >>> from anonymize.detections import Detection, Predictions
    >>> found = Predictions.of([Detection(2, 2, 20, 20, 0.9, "face")], 40, 30)
    >>> draw_boxes(np.zeros((30, 40, 3), np.uint8), found).any()
    np.True_
"""

from __future__ import annotations

import cv2
import numpy as np

from anonymize.detections import Predictions

#: One colour per class (RGB); other classes get grey.
CLASS_COLOURS = {"face": (255, 64, 129), "license-plate": (0, 200, 255), "text": (255, 200, 0)}


def draw_boxes(image: np.ndarray, predictions: Predictions) -> np.ndarray:
    """A copy of ``image`` with each box outlined and labelled "class 87%".

    A box with an outline (a turned line of text) is drawn as that outline, the region hidden: its
    upright box would frame text that was left visible around the corners.

    In a crowd, labels would pile up into an unreadable band: the most
    confident detections are labelled first, and a label that would cover
    one already drawn is left out (its box is still drawn; the table lists all).
    """
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    scale = max(0.4, max(image.shape[:2]) / 1600)
    labelled: list[tuple[int, int, int, int]] = []
    for d in sorted(predictions, key=lambda d: -d.confidence):
        colour = CLASS_COLOURS.get(d.class_name, (200, 200, 200))
        x1, y1, x2, y2 = (int(round(v)) for v in (d.x1, d.y1, d.x2, d.y2))
        if d.outline is None:
            cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        else:
            cv2.polylines(out, [np.round(d.outline).astype(np.int32)], True, colour, thickness)
        label = f"{d.class_name} {d.confidence:.0%}"
        (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(0, y1 - h - base - 2)
        area = (x1, top, x1 + w + 2, top + h + base + 2)
        if any(area[0] < b[2] and b[0] < area[2] and area[1] < b[3] and b[1] < area[3] for b in labelled):
            continue
        labelled.append(area)
        cv2.rectangle(out, area[:2], area[2:], colour, -1)
        cv2.putText(
            out, label, (x1 + 1, top + h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA
        )
    return out
