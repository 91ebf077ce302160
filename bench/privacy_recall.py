"""Privacy recall and speed of the local pipeline, side by side with deface's defaults.

    python bench/privacy_recall.py [--datasets ../shared/datasets] [--limit N] [--presets fast balanced thorough]

Prints one JSON document. For each dataset and each contender (each preset
of ours at the default settings, and deface):

* ``recall``: the share of ground-truth boxes with at least 70 % of their
  area censored, overall, for boxes of sqrt(area) ≥ 10 px, and by size
  (< 10, 10–32, ≥ 32 px);
* ``over_censored``: the censored share of image area outside every
  ground-truth (and ignored) box;
* ``false_regions``: per image, mean and median, the censored regions that
  touch no ground-truth or ignored box: connected areas of censored pixels
  (8-connected), so overlapping boxes count once, as a viewer sees them;
* ``latency_s``: median and p90 per image of detection plus censoring
  (decoding the file is left out, as it is the same for both). The
  contenders take turns on each image, with a short pause between them.

deface runs at its defaults (threshold 0.2, mask scale 1.3, ellipse masks,
native resolution), with its own code, on the same pixels in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import censored_mask  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import Settings, anonymize_image  # noqa: E402
from anonymize.presets import PRESETS  # noqa: E402

COVERED = 0.70
SETTLE_SECONDS = 0.05
SIZE_BUCKETS = {"lt10": (0, 10), "10to32": (10, 32), "ge32": (32, float("inf"))}


class Ours:
    def __init__(self, preset: str) -> None:
        self.name = f"ours_{preset}"
        self.detector = local_detector(preset)
        self.settings = Settings()

    def anonymize(self, pixels: np.ndarray):
        return anonymize_image(pixels, self.detector, self.settings).hidden

    def mask(self, hidden, shape: tuple[int, int]) -> np.ndarray:
        return censored_mask(hidden, self.settings.censor, shape[1], shape[0])


class Deface:
    """deface 1.5.0 at its CLI defaults, through its own functions."""

    name = "deface"

    def __init__(self) -> None:
        from deface.centerface import CenterFace
        from deface.deface import anonymize_frame

        with contextlib.redirect_stdout(sys.stderr):  # deface prints its provider on stdout
            self.centerface = CenterFace(backend="onnxrt", override_execution_provider="CPUExecutionProvider")
        self.anonymize_frame = anonymize_frame

    def anonymize(self, pixels: np.ndarray):
        frame = pixels.copy()
        dets, _ = self.centerface(frame, threshold=0.2)
        self.anonymize_frame(dets, frame, mask_scale=1.3, replacewith="blur", ellipse=True,
                             draw_scores=False, replaceimg=None, mosaicsize=20)
        return dets

    def mask(self, dets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """The ellipses deface blurs, rebuilt from its boxes with its own geometry."""
        return deface_ellipse_mask(dets, shape)


def deface_ellipse_mask(dets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import skimage.draw
    from deface.deface import scale_bb

    mask = np.zeros(shape, bool)
    for det in dets:
        x1, y1, x2, y2 = scale_bb(*det[:4].astype(int), 1.3)
        y1, y2 = max(0, y1), min(shape[0] - 1, y2)
        x1, x2 = max(0, x1), min(shape[1] - 1, x2)
        if x2 <= x1 or y2 <= y1:
            continue
        ey, ex = skimage.draw.ellipse((y2 - y1) // 2, (x2 - x1) // 2, (y2 - y1) // 2, (x2 - x1) // 2)
        box = np.zeros((y2 - y1, x2 - x1), bool)
        box[ey, ex] = True
        mask[y1:y2, x1:x2] |= box
    return mask


def false_regions(mask: np.ndarray, truth: np.ndarray) -> int:
    """How many connected censored areas of ``mask`` share no pixel with ``truth``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[mask & truth])
    return count - 1 - int((touching > 0).sum())


class Tally:
    """One contender's hits, over-censored area and times on one dataset."""

    def __init__(self) -> None:
        self.hits: dict[str, list[bool]] = {"all": [], **{k: [] for k in SIZE_BUCKETS}}
        self.outside_censored = self.outside_total = 0
        self.false_regions: list[int] = []
        self.times: list[float] = []

    def add(self, mask: np.ndarray, truth: np.ndarray, boxes: list, seconds: float) -> None:
        self.times.append(seconds)
        self.outside_censored += int((mask & ~truth).sum())
        self.outside_total += int((~truth).sum())
        self.false_regions.append(false_regions(mask, truth))
        for x1, y1, x2, y2, *_ in boxes:
            covered = mask[y1:y2, x1:x2].mean() >= COVERED if x2 > x1 and y2 > y1 else False
            side = ((x2 - x1) * (y2 - y1)) ** 0.5
            self.hits["all"].append(covered)
            for bucket, (low, high) in SIZE_BUCKETS.items():
                if low <= side < high:
                    self.hits[bucket].append(covered)

    def report(self) -> dict:
        recall = {k: round(float(np.mean(v)), 4) if v else None for k, v in self.hits.items()}
        ge10 = self.hits["10to32"] + self.hits["ge32"]
        recall["ge10"] = round(float(np.mean(ge10)), 4) if ge10 else None
        return {
            "images": len(self.times),
            "boxes": {k: len(v) for k, v in self.hits.items()},
            "recall": recall,
            "over_censored": round(self.outside_censored / max(self.outside_total, 1), 4),
            "false_regions": {
                "mean": round(float(np.mean(self.false_regions)), 2),
                "median": float(np.median(self.false_regions)),
            },
            "latency_s": {
                "median": round(statistics.median(self.times), 4),
                "p90": round(float(np.percentile(self.times, 90)), 4),
            },
        }


def score(dataset: Path, contenders: list, limit: int | None) -> dict:
    """Every contender on every image. They take turns image by image, so that a
    machine that speeds up or slows down during the run favours none of them."""
    tallies = {c.name: Tally() for c in contenders}
    for entry in json.loads((dataset / "labels.json").read_text())["images"][:limit]:
        pixels = load_image(dataset / entry["file"]).pixels
        truth = np.zeros(pixels.shape[:2], bool)
        for x1, y1, x2, y2, *_ in entry["boxes"] + entry.get("ignore_boxes", []):
            truth[y1:y2, x1:x2] = True
        for contender in contenders:
            # onnxruntime's threads spin for a while after a run (deface keeps that default):
            # let them settle so that they do not slow down whoever runs next.
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            found = contender.anonymize(pixels)
            seconds = time.perf_counter() - start
            tallies[contender.name].add(contender.mask(found, pixels.shape[:2]), truth, entry["boxes"], seconds)
    return {name: tally.report() for name, tally in tallies.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--only", nargs="*", default=["faces_dev", "plates_dev"])
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--presets", nargs="*", default=["balanced"], choices=list(PRESETS))
    parser.add_argument("--no-deface", action="store_true", help="skip the deface side of the comparison")
    args = parser.parse_args()
    contenders = [Ours(p) for p in args.presets] + ([] if args.no_deface else [Deface()])
    report = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}, "datasets": {}}
    for name in args.only:
        row = score(args.datasets / name, contenders, args.limit)
        if "deface" in row:
            deface_median = row["deface"]["latency_s"]["median"]
            row["latency_ratio_to_deface"] = {c.name: round(row[c.name]["latency_s"]["median"] / deface_median, 3) for c in contenders[:-1]}
        report["datasets"][name] = row
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
