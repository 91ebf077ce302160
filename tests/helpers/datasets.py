"""Datasets as they come from Roboflow, made in a test's folder from the bundled samples."""

import json
import shutil

from conftest import SAMPLES


def coco_dataset(root):
    """A small Roboflow-style COCO export: two splits, each with its pictures and _annotations.coco.json, and a README."""
    for split, names in (("train", ["city.jpg", "dashcam_plate.jpg"]), ("valid", ["astronaut.jpg"])):
        (root / split).mkdir(parents=True)
        images = []
        for n, name in enumerate(names):
            shutil.copy(SAMPLES / name, root / split / name)
            images.append({"id": n, "file_name": name})
        (root / split / "_annotations.coco.json").write_text(
            json.dumps({"images": images, "annotations": [], "categories": [{"id": 0, "name": "car"}]})
        )
    (root / "README.roboflow.txt").write_text("exported from Roboflow")
    return root
