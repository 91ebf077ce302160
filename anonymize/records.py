"""Redaction records: the regions hidden in a batch, as COCO JSON, as YOLO label files, and as masks.

Each hidden detection is one annotation, its box the detection's (what was
found; the censored region is that box grown by ``padding``); a mask PNG holds
the exact pixels the censor hid completely (0 or 255), from
:func:`~anonymize.censor.censored_mask`. Paths inside the records follow the
anonymized pictures' names: ``yolo/sub/car.txt`` and ``masks/sub/car.png`` for
``sub/car.jpg``; ``yolo/classes.txt`` lists the class of each YOLO index, and
``coco.json`` holds every picture. A video's records are its JSON lines.

Example:
    >>> import numpy as np
    >>> from anonymize.detections import Detection, Predictions
    >>> from anonymize.pipeline import hide
    >>> from anonymize.settings import Settings
    >>> found = Predictions.of([Detection(10, 20, 30, 60, 0.9, "face")], 100, 80)
    >>> records = Records(("face", "license-plate"))
    >>> records.add("a.jpg", hide(np.zeros((80, 100, 3), np.uint8), found, Settings()), Settings())
    {'yolo/a.txt': b'0 0.200000 0.500000 0.200000 0.500000\\n'}
    >>> records.coco()["annotations"][0]["bbox"]
    [10.0, 20.0, 20.0, 40.0]
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from anonymize.censor import censored_mask
from anonymize.detections import CONFIDENT
from anonymize.media import encode_image
from anonymize.result import Result
from anonymize.settings import Settings

FOLDER = "records"
#: The records that cover a whole run, by path under :data:`FOLDER`.
SUMMARY_FILES = ("coco.json", "yolo/classes.txt")


def files_of(output: str, *, masks: bool) -> list[str]:
    """The records of the picture written as ``output`` (its path among the outputs), by path under :data:`FOLDER`.

    >>> files_of("sub/car.jpg", masks=True)
    ['yolo/sub/car.txt', 'masks/sub/car.png']
    """
    stem = str(PurePosixPath(output).with_suffix(""))
    return [f"yolo/{stem}.txt"] + ([f"masks/{stem}.png"] if masks else [])


class Records:
    """Collects the records of a batch, picture by picture; ``classes`` fixes the first YOLO indices."""

    def __init__(self, classes: tuple[str, ...] = (), *, masks: bool = False) -> None:
        self.classes = list(classes)
        self.masks = masks
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add(self, name: str, result: Result, settings: Settings) -> dict[str, bytes]:
        """Record picture ``name`` (its path among the outputs); returns its files, by path inside the records."""
        height, width = result.image.shape[:2]
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        lines = []
        for d in result.hidden:
            if d.class_name not in self.classes:
                self.classes.append(d.class_name)
            self.annotations.append(
                {
                    "id": len(self.annotations) + 1,
                    "image_id": image_id,
                    "category_id": self.classes.index(d.class_name) + 1,
                    "bbox": [round(d.x1, 2), round(d.y1, 2), round(d.width, 2), round(d.height, 2)],
                    "area": round(d.width * d.height, 2),
                    "iscrowd": 0,
                    "score": round(d.confidence, 4),
                    "low_confidence": d.confidence < CONFIDENT,
                }
            )
            cx, cy = d.center
            lines.append(
                f"{self.classes.index(d.class_name)} {cx / width:.6f} {cy / height:.6f} {d.width / width:.6f} {d.height / height:.6f}\n"
            )
        labels, *mask_name = files_of(name, masks=self.masks)
        files = {labels: "".join(lines).encode()}
        if mask_name:
            mask = censored_mask(result.hidden, settings.censor, width, height)
            files[mask_name[0]] = encode_image(np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2), "png")
        return files

    def carry(self, previous: dict[str, Any], name: str) -> None:
        """Take picture ``name``'s image and annotations from an earlier run's ``coco.json`` (a resumed run)."""
        categories = {c["id"]: c["name"] for c in previous.get("categories", [])}
        for image in previous.get("images", []):
            if image["file_name"] != name:
                continue
            image_id = len(self.images) + 1
            self.images.append({**image, "id": image_id})
            for old in (a for a in previous.get("annotations", []) if a["image_id"] == image["id"]):
                class_name = categories[old["category_id"]]
                if class_name not in self.classes:
                    self.classes.append(class_name)
                self.annotations.append(
                    {
                        **old,
                        "id": len(self.annotations) + 1,
                        "image_id": image_id,
                        "category_id": self.classes.index(class_name) + 1,
                    }
                )

    def reorder(self, names: list[str]) -> None:
        """Number the pictures in the order of ``names`` (their output names), as a run in that order would:
        Ray's actors finish in any order."""
        rank = {name: n for n, name in enumerate(names)}
        old = sorted(self.images, key=lambda image: rank.get(image["file_name"], len(rank)))
        new_id = {image["id"]: n for n, image in enumerate(old, start=1)}
        self.images = [{**image, "id": new_id[image["id"]]} for image in old]
        self.annotations = [
            {**a, "id": n, "image_id": new_id[a["image_id"]]}
            for n, a in enumerate(sorted(self.annotations, key=lambda a: (new_id[a["image_id"]], a["id"])), start=1)
        ]

    def coco(self) -> dict[str, Any]:
        return {
            "info": {"description": "Regions hidden by anonymize: one annotation per hidden detection"},
            "images": self.images,
            "annotations": self.annotations,
            "categories": [
                {"id": n, "name": name, "supercategory": "personal data"}
                for n, name in enumerate(self.classes, start=1)
            ],
        }

    def summary_files(self) -> dict[str, bytes]:
        """The files that cover the whole batch: ``coco.json`` and ``yolo/classes.txt``."""
        coco, classes = SUMMARY_FILES
        return {
            coco: json.dumps(self.coco(), indent=1).encode(),
            classes: "".join(f"{c}\n" for c in self.classes).encode(),
        }
