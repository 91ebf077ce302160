"""Fit the two stages of ``anonymize/detectors/face_scoring.py`` on faces_dev, and say how well they generalise.

    python bench/fit_face_scoring.py [--datasets ../shared/datasets] [--threshold 10]

Prints one JSON document: the weights fitted on every image (the ones to paste
into face_scoring.py), and a two-fold cross-validation (images split at
random, seed 0; both stages fitted on one half, measured on the other) of
recall, over-censored area and false regions at ``--threshold`` (%), the
default face threshold, with the same measures as ``bench/privacy_recall.py``.
With ``--levers``, the same cross-validation for each lever alone and in
turn (raw score only; plus the full-resolution pass' score; plus size; plus
the closer look), each at the thresholds given.

A candidate is a face when it overlaps a labelled (or ignored) face by at
least 0.4 IoU, not one when it touches none; the others are left out of the
fit. Positives are weighted up so that both classes weigh the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from privacy_recall import Tally  # noqa: E402

from anonymize.censor import CensorSettings, censored_mask  # noqa: E402
from anonymize.detections import Predictions, iou_matrix  # noqa: E402
from anonymize.detectors.centerface import CenterFaceDetector  # noqa: E402
from anonymize.detectors.face_scoring import VERIFY_BAND, Candidates, logit  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.presets import PRESETS  # noqa: E402

FACE_IOU = 0.4
OVERLAP = 0.3
L2 = 1.0


def fit(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Class-balanced, L2-regularised logistic regression by Newton's method; the bias is last."""
    x = np.column_stack([features, np.ones(len(features))])
    weight = np.where(labels == 1, (labels == 0).sum() / max((labels == 1).sum(), 1), 1.0)
    w = np.zeros(x.shape[1])
    for _ in range(40):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (weight * (p - labels)) + L2 * w
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + L2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def apply(features: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(features @ w[:-1] + w[-1])))


def collect(dataset: Path, detector: CenterFaceDetector) -> list[dict]:
    """Every image's candidates, features and labels; the enlarged-crop score for each candidate
    that could fall in the verify band (computed once, for all folds)."""
    rows = []
    for entry in json.loads((dataset / "labels.json").read_text())["images"]:
        pixels = load_image(dataset / entry["file"]).pixels
        found = detector.candidates(pixels, OVERLAP)
        truth = np.array([b[:4] for b in entry["boxes"] + entry.get("ignore_boxes", [])], float).reshape(-1, 4)
        best = iou_matrix(found.boxes, truth).max(axis=1) if len(truth) and len(found.boxes) else np.zeros(len(found.boxes))
        labels = np.where(best >= FACE_IOU, 1, np.where(best == 0, 0, -1))
        rows.append({"entry": entry, "shape": pixels.shape[:2], "candidates": found, "labels": labels,
                     "zoomed": detector.zoomed_scores(pixels, found.boxes) if len(found.boxes) else np.zeros(0)})
    return rows


#: Which first-stage features (columns of Candidates.features()) and whether the closer look runs.
LEVERS = {
    "raw score only": ((0,), False),
    "+ full-resolution agreement": ((0, 1), False),
    "+ size": ((0, 1, 2), False),
    "+ closer look (the default)": ((0, 1, 2), True),
}
DEFAULT_LEVERS = LEVERS["+ closer look (the default)"]


def fit_stages(rows: list[dict], levers=DEFAULT_LEVERS) -> tuple[np.ndarray, np.ndarray | None]:
    columns, look_closer = levers
    first = np.concatenate([r["candidates"].features() for r in rows])
    labels = np.concatenate([r["labels"] for r in rows])
    w1 = fit(first[labels >= 0][:, columns], labels[labels >= 0])
    if not look_closer:
        return w1, None
    band = _band(apply(first[:, columns], w1))
    second = np.concatenate([second_stage_features(r) for r in rows])
    chosen = band & (labels >= 0)
    return w1, fit(second[chosen], labels[chosen])


def scores(row: dict, w1: np.ndarray, w2: np.ndarray | None, levers=DEFAULT_LEVERS) -> np.ndarray:
    first = row["candidates"].features()
    result = apply(first[:, levers[0]], w1)
    if w2 is not None:
        band = _band(result)
        # As in face_scoring.closer_look: the closer look keeps a candidate, never makes it sure.
        result[band] = np.minimum(apply(second_stage_features(row)[band], w2), VERIFY_BAND[1] - 1e-6)
    return result


def second_stage_features(row: dict) -> np.ndarray:
    """The closer look's inputs: the first stage's, the enlarged crop's score, and any other
    verifier's score a benchmark put in ``row["verifiers"]`` (``bench/verifier_levers.py``)."""
    scores = [row["zoomed"], *row.get("verifiers", ())]
    return np.column_stack([row["candidates"].features(), *map(logit, scores)])


def _band(first_stage: np.ndarray) -> np.ndarray:
    return (first_stage >= VERIFY_BAND[0]) & (first_stage < VERIFY_BAND[1])


def measure(rows: list[dict], weights: tuple, levers, threshold: float, tally: Tally) -> None:
    for row in rows:
        found: Candidates = row["candidates"]
        score = scores(row, *weights, levers).astype(np.float32)
        sure = score >= threshold
        height, width = row["shape"]
        kept = Predictions.from_arrays(found.boxes[sure].copy(), score[sure], "face", 0, width, height, OVERLAP)
        mask = censored_mask(kept, CensorSettings(), width, height)
        truth = np.zeros((height, width), bool)
        for x1, y1, x2, y2, *_ in row["entry"]["boxes"] + row["entry"].get("ignore_boxes", []):
            truth[y1:y2, x1:x2] = True
        tally.add(mask, truth, row["entry"]["boxes"], 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--threshold", type=float, default=10, help="face threshold (%%) for the cross-validated measures")
    parser.add_argument("--levers", type=float, nargs="*", metavar="THRESHOLD", help="also cross-validate each lever at these thresholds (%%)")
    args = parser.parse_args()
    balanced = PRESETS["balanced"]
    rows = collect(args.datasets / "faces_dev", CenterFaceDetector(balanced.face_sizes, int8=True))
    w1, w2 = fit_stages(rows)
    report = {"AGREEMENT_WEIGHTS": [round(float(v), 3) for v in w1], "CLOSER_LOOK_WEIGHTS": [round(float(v), 3) for v in w2],
              "cross_validated": {f"default at {args.threshold:g} %": cross_validate(rows, DEFAULT_LEVERS, args.threshold)}}
    for name, levers in LEVERS.items():
        for threshold in args.levers or ():
            report["cross_validated"][f"{name} at {threshold:g} %"] = cross_validate(rows, levers, threshold)
    print(json.dumps(report, indent=2))


def cross_validate(rows: list[dict], levers, threshold: float) -> dict:
    order = np.random.default_rng(0).permutation(len(rows))
    halves = [[rows[i] for i in order[: len(rows) // 2]], [rows[i] for i in order[len(rows) // 2 :]]]
    tally = Tally()
    for train, test in (halves, halves[::-1]):
        measure(test, fit_stages(train, levers), levers, threshold / 100, tally)
    report = tally.report()
    report.pop("latency_s")
    return report


if __name__ == "__main__":
    main()
