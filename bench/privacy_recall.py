"""Privacy recall, false regions and speed: each preset of ours, the raw-score baseline and deface,
on the set the face scoring was fitted on (faces_dev) and on the one it never saw (faces_val).

    python bench/privacy_recall.py [--datasets ../shared/datasets] [--limit N] [--presets fast balanced thorough]

Prints one JSON document. For each dataset and each contender (each preset of
ours at the default settings, faces and plates; ``raw_centerface_5``, the
pipeline before the face scoring: the default's own passes, every
candidate CenterFace scored 5 % or more; deface at its defaults):

* ``recall``: the share of ground-truth boxes with at least 70 % of their area
  censored, overall, for boxes of sqrt(area) ≥ 10 px, and by size;
* ``by_kind``: recall of faces ≥ 10 px touching the image border, and by the
  photo's kind (WIDER's event: Interview, Couple, …);
* ``over_censored``: the censored share of image area outside every
  ground-truth (and ignored) box;
* ``false_regions``: per image, mean and median, the censored regions that
  touch no ground-truth or ignored box: connected areas of censored pixels
  (8-connected), so overlapping boxes count once, as a viewer sees them;
* ``confident_false``: detections scored 50 % or more whose box touches no
  ground-truth or ignored box, per image;
* ``latency_s``: median and p90 per image of detection plus censoring
  (decoding the file is left out, as it is the same for all). The contenders
  take turns on each image, with a short pause between them.

``generalisation`` gives, per contender, faces_dev minus faces_val for recall
(≥ 10 px, ≥ 32 px), false regions and area: what the fit on faces_dev does not
carry to photos it never saw. The face scoring is fitted on faces_dev only
(``bench/fit_face_scoring.py``); faces_val is only ever reported.

deface runs at its defaults (threshold 0.2, mask scale 1.3, ellipse masks,
native resolution), with its own code, on the same pixels in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import censored_mask  # noqa: E402
from anonymize.detections import CONFIDENT, Predictions, intersection_matrix  # noqa: E402
from anonymize.detectors import CenterFaceDetector, CombinedDetector, local_detector  # noqa: E402
from anonymize.detectors.base import DetectorDefaults  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import anonymize_image  # noqa: E402
from anonymize.presets import PRESETS  # noqa: E402
from anonymize.settings import Settings  # noqa: E402

COVERED = 0.70
SETTLE_SECONDS = 0.05
SIZE_BUCKETS = {"lt10": (0, 10), "10to16": (10, 16), "16to32": (16, 32), "ge32": (32, float("inf"))}
DATASETS = ["faces_dev", "faces_val", "plates_dev"]
DEFACE_THRESHOLD, DEFACE_MASK_SCALE = 0.2, 1.3
#: ``raw_centerface_5``'s face threshold (%): every candidate CenterFace scored this or more, no rescoring.
RAW_THRESHOLD = 5


class Ours:
    def __init__(self, preset: str, settings: Settings = Settings()) -> None:
        self.name = f"ours_{preset}"
        self.detector = local_detector(preset)
        self.settings = settings

    def anonymize(self, pixels: np.ndarray) -> Predictions:
        return anonymize_image(pixels, self.detector, self.settings).hidden

    def mask(self, hidden: Predictions, shape: tuple[int, int]) -> np.ndarray:
        return censored_mask(hidden, self.settings.censor, shape[1], shape[0])

    @staticmethod
    def boxes(hidden: Predictions) -> tuple[np.ndarray, np.ndarray]:
        return hidden.xyxy, hidden.confidence


class RawScores(DetectorDefaults):
    """A CenterFace whose confidence is its raw heatmap score: the pipeline before the face scoring."""

    classes, offline, class_id = ("face",), True, 0

    def __init__(self, passes: tuple[tuple[int | None, bool], ...]) -> None:
        self.centerface = CenterFaceDetector(passes)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        found = self.centerface.candidates(image, overlap)
        sure = found.score >= confidence
        height, width = image.shape[:2]
        return Predictions.from_arrays(found.boxes[sure], found.score[sure], "face", 0, width, height, overlap)


class RawBaseline(Ours):
    """``raw_centerface_5``: the default's face passes, every candidate scored 5 % or more (no rescoring), and the plates."""

    def __init__(self) -> None:
        super().__init__("balanced", Settings(class_confidence=(("face", RAW_THRESHOLD),)))
        self.name = "raw_centerface_5"
        self.detector = CombinedDetector(RawScores(PRESETS["balanced"].face_passes), self.detector.detectors[1])


class Deface:
    """deface 1.5.0 at its CLI defaults, through its own functions."""

    name = "deface"

    def __init__(self) -> None:
        from deface.centerface import CenterFace
        from deface.deface import anonymize_frame

        with contextlib.redirect_stdout(sys.stderr):  # deface prints its provider on stdout
            self.centerface = CenterFace(backend="onnxrt", override_execution_provider="CPUExecutionProvider")
        self.anonymize_frame = anonymize_frame

    def anonymize(self, pixels: np.ndarray, threshold: float = DEFACE_THRESHOLD) -> np.ndarray:
        frame = pixels.copy()
        dets, _ = self.centerface(frame, threshold=threshold)
        self.anonymize_frame(
            dets,
            frame,
            mask_scale=DEFACE_MASK_SCALE,
            replacewith="blur",
            ellipse=True,
            draw_scores=False,
            replaceimg=None,
            mosaicsize=20,
        )
        return dets

    def mask(self, dets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """The ellipses deface blurs, rebuilt from its boxes with its own geometry."""
        return deface_ellipse_mask(dets, shape)

    @staticmethod
    def boxes(dets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dets[:, :4], dets[:, 4]


def deface_ellipse_mask(dets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import skimage.draw
    from deface.deface import scale_bb

    mask = np.zeros(shape, bool)
    for det in dets:
        x1, y1, x2, y2 = scale_bb(*det[:4].astype(int), DEFACE_MASK_SCALE)
        y1, y2 = max(0, y1), min(shape[0] - 1, y2)
        x1, x2 = max(0, x1), min(shape[1] - 1, x2)
        if x2 <= x1 or y2 <= y1:
            continue
        ey, ex = skimage.draw.ellipse((y2 - y1) // 2, (x2 - x1) // 2, (y2 - y1) // 2, (x2 - x1) // 2)
        box = np.zeros((y2 - y1, x2 - x1), bool)
        box[ey, ex] = True
        mask[y1:y2, x1:x2] |= box
    return mask


def truth_mask(entry: dict, shape: tuple[int, int]) -> np.ndarray:
    """Every labelled and ignored box of ``entry``, as a mask."""
    truth = np.zeros(shape, bool)
    for x1, y1, x2, y2, *_ in entry["boxes"] + entry.get("ignore_boxes", []):
        truth[y1:y2, x1:x2] = True
    return truth


def false_regions(mask: np.ndarray, truth: np.ndarray) -> int:
    """How many connected censored areas of ``mask`` share no pixel with ``truth``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[mask & truth])
    return count - 1 - int((touching > 0).sum())


def kind_of(entry: dict) -> str:
    """WIDER's event, from the file name ("13_Interview_Interview_On_Location_13_1.jpg" → "Interview")."""
    found = re.match(r"\d+_([A-Za-z]+(?:_Group)?)_", Path(entry["file"]).name)
    return found.group(1) if found else "other"


class Tally:
    """One contender's hits, over-censored area, false regions and times on one dataset."""

    def __init__(self) -> None:
        self.hits: dict[str, list[bool]] = {"all": [], **{k: [] for k in SIZE_BUCKETS}}
        self.kinds: dict[str, list[bool]] = {}
        self.outside_censored = self.outside_total = 0
        self.false_regions: list[int] = []
        self.confident_false: list[int] = []
        self.times: list[float] = []

    def add(
        self,
        mask: np.ndarray,
        truth: np.ndarray,
        entry: dict,
        seconds: float,
        found: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """One image: ``mask`` censored, ``truth`` labelled, and optionally the boxes and confidences found."""
        height, width = mask.shape
        self.times.append(seconds)
        self.outside_censored += int((mask & ~truth).sum())
        self.outside_total += int((~truth).sum())
        self.false_regions.append(false_regions(mask, truth))
        if found is not None:
            self.confident_false.append(confident_false(*found, entry))
        for x1, y1, x2, y2, *_ in entry["boxes"]:
            covered = mask[y1:y2, x1:x2].mean() >= COVERED if x2 > x1 and y2 > y1 else False
            side = ((x2 - x1) * (y2 - y1)) ** 0.5
            self.hits["all"].append(covered)
            for bucket, (low, high) in SIZE_BUCKETS.items():
                if low <= side < high:
                    self.hits[bucket].append(covered)
            if side >= 10:
                self.kinds.setdefault(kind_of(entry), []).append(covered)
                if x1 <= 1 or y1 <= 1 or x2 >= width - 1 or y2 >= height - 1:
                    self.kinds.setdefault("touching the border", []).append(covered)

    def report(self) -> dict:
        share = lambda hits: round(float(np.mean(hits)), 4) if hits else None  # noqa: E731
        recall = {k: share(v) for k, v in self.hits.items()}
        recall["ge10"] = share(self.hits["10to16"] + self.hits["16to32"] + self.hits["ge32"])
        report = {
            "images": len(self.times),
            "boxes": {k: len(v) for k, v in self.hits.items()},
            "recall": recall,
            "missed": {
                "ge10": sum(not hit for bucket in ("10to16", "16to32", "ge32") for hit in self.hits[bucket]),
                "ge32": sum(not hit for hit in self.hits["ge32"]),
            },
            "by_kind": {k: {"faces": len(v), "recall": share(v)} for k, v in sorted(self.kinds.items())},
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
        if self.confident_false:
            report["confident_false"] = {
                "per_image": round(float(np.mean(self.confident_false)), 3),
                "total": int(sum(self.confident_false)),
            }
        return report


def confident_false(boxes: np.ndarray, confidence: np.ndarray, entry: dict) -> int:
    """Detections scored 50 % or more whose box touches no labelled or ignored box."""
    sure = np.asarray(boxes, np.float64).reshape(-1, 4)[np.asarray(confidence) >= CONFIDENT]
    truth = np.array([b[:4] for b in entry["boxes"] + entry.get("ignore_boxes", [])], np.float64).reshape(-1, 4)
    if not len(sure):
        return 0
    if not len(truth):
        return len(sure)
    return int((intersection_matrix(sure, truth).max(axis=1) <= 0).sum())


def entries(dataset: Path, limit: int | None) -> list[dict]:
    return json.loads((dataset / "labels.json").read_text())["images"][:limit]


def score(dataset: Path, contenders: list, limit: int | None) -> dict:
    """Every contender on every image. They take turns image by image, so that a
    machine that speeds up or slows down during the run favours none of them."""
    tallies = {c.name: Tally() for c in contenders}
    for entry in entries(dataset, limit):
        pixels = load_image(dataset / entry["file"]).pixels
        truth = truth_mask(entry, pixels.shape[:2])
        for contender in contenders:
            # onnxruntime's threads spin for a while after a run (deface keeps that default):
            # let them settle so that they do not slow down whoever runs next.
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            found = contender.anonymize(pixels)
            seconds = time.perf_counter() - start
            tallies[contender.name].add(
                contender.mask(found, pixels.shape[:2]), truth, entry, seconds, contender.boxes(found)
            )
    return {name: tally.report() for name, tally in tallies.items()}


def generalisation(dev: dict, val: dict) -> dict:
    """faces_dev minus faces_val, per contender: what the fit on faces_dev does not carry over."""
    gap = {}
    for name, row in dev.items():
        if name in val and "recall" in row:
            gap[name] = {
                "recall_ge10": round(row["recall"]["ge10"] - val[name]["recall"]["ge10"], 4),
                "recall_ge32": round(row["recall"]["ge32"] - val[name]["recall"]["ge32"], 4),
                "false_regions": round(row["false_regions"]["mean"] - val[name]["false_regions"]["mean"], 2),
                "over_censored": round(row["over_censored"] - val[name]["over_censored"], 4),
            }
    return gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--only", nargs="*", default=DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--presets", nargs="*", default=["balanced"], choices=list(PRESETS))
    parser.add_argument("--no-baseline", action="store_true", help="skip raw_centerface_5")
    parser.add_argument("--no-deface", action="store_true", help="skip the deface side of the comparison")
    args = parser.parse_args()
    contenders = (
        [Ours(p) for p in args.presets]
        + ([] if args.no_baseline else [RawBaseline()])
        + ([] if args.no_deface else [Deface()])
    )
    report = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        "datasets": {},
    }
    for name in args.only:
        row = score(args.datasets / name, contenders, args.limit)
        if "deface" in row:
            deface_median = row["deface"]["latency_s"]["median"]
            row["latency_ratio_to_deface"] = {
                c.name: round(row[c.name]["latency_s"]["median"] / deface_median, 3) for c in contenders[:-1]
            }
        report["datasets"][name] = row
    if {"faces_dev", "faces_val"} <= set(report["datasets"]):
        report["generalisation"] = generalisation(report["datasets"]["faces_dev"], report["datasets"]["faces_val"])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
