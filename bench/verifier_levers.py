"""More inputs for the closer look, measured and not kept: a second face model (MTCNN's ONet),
the closer look on the mirrored crop, and skin colour.

    pip download --no-deps mtcnn==1.0.0 -d /tmp/mtcnn && unzip -q /tmp/mtcnn/*.whl -d /tmp/mtcnn
    .venv/bin/pip install joblib lz4        # what reads ONet's weights file
    python bench/verifier_levers.py --onet-weights /tmp/mtcnn/mtcnn/assets/weights/onet.lz4

* **ONet** is the last stage of MTCNN (Zhang et al. 2016): a small network trained to tell a
  48×48 crop of a face from one of anything else, which is what the doubtful candidates need.
  Its weights come from the MIT ``mtcnn`` 1.0.0 wheel; the network runs here in numpy, so
  nothing else is installed. Each candidate gets its face probability on its square crop.
  Without ``--onet-weights`` it is left out.
* **Mirrored**: CenterFace's closer look again on the crop turned left to right, averaged
  with the closer look (test-time augmentation; it would double the closer look's cost).
* **Skin**: the share of the box's middle whose colour is in the usual skin range (YCrCb).

Each is tried as one more input of the closer look (``fit_face_scoring.second_stage_features``;
the mirrored one replaces the closer look's score by the average). Printed, as JSON: how well
each score tells labelled faces from the rest in the verify band (ROC AUC), the two-fold
cross-validation of ``fit_face_scoring.py`` for each at ``--thresholds``, and the faces hidden
on plates_dev (dashcam frames, no labelled face: all of them false) with both stages fitted on
all of faces_dev.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fit_face_scoring as scoring  # noqa: E402
from privacy_recall import Tally  # noqa: E402

from anonymize.detectors.centerface import CenterFaceDetector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.presets import PRESETS  # noqa: E402

ONET_SIDE = 48


class ONet:
    """MTCNN's output network (the Keras layout of the ``mtcnn`` package), face probability only."""

    def __init__(self, weights: Path) -> None:
        import joblib

        self.w = [np.asarray(w, np.float32) for w in joblib.load(weights)]

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Face probability of each ``N×48×48×3`` RGB crop."""
        w = self.w
        x = (crops.astype(np.float32) - 127.5) / 128
        x = _pool(_prelu(_conv(x, w[0], w[1]), w[2]), 3, same=True)
        x = _pool(_prelu(_conv(x, w[3], w[4]), w[5]), 3, same=False)
        x = _pool(_prelu(_conv(x, w[6], w[7]), w[8]), 2, same=True)
        x = _prelu(_conv(x, w[9], w[10]), w[11])
        x = _prelu(x.transpose(0, 2, 1, 3).reshape(len(x), -1) @ w[12] + w[13], w[14])
        logits = x @ w[19] + w[20]
        return 1 / (1 + np.exp(logits[:, 0] - logits[:, 1]))


def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    patches = sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
    return np.einsum("nhwcij,ijco->nhwo", patches, kernel, optimize=True) + bias


def _prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, x * alpha.reshape(-1))


def _pool(x: np.ndarray, size: int, same: bool) -> np.ndarray:
    """Max pooling, stride 2, Keras' "same" or "valid" padding."""
    if same:
        pad = [max((-(-n // 2) - 1) * 2 + size - n, 0) for n in x.shape[1:3]]
        x = np.pad(x, ((0, 0), (pad[0] // 2, pad[0] - pad[0] // 2), (pad[1] // 2, pad[1] - pad[1] // 2), (0, 0)), constant_values=-np.inf)
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::2, ::2].max(axis=(4, 5))


def onet_scores(onet: ONet, pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """ONet's face probability for each box, on the square crop around it (as MTCNN feeds it)."""
    if not len(boxes):
        return np.zeros(0)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.maximum((boxes[:, 2:] - boxes[:, :2]).max(axis=1), 4)
    crops = []
    for (cx, cy), side in zip(centres, sides):
        scale = ONET_SIDE / side
        warp = np.array([[scale, 0, -(cx - side / 2) * scale], [0, scale, -(cy - side / 2) * scale]], np.float32)
        crops.append(cv2.warpAffine(pixels, warp, (ONET_SIDE, ONET_SIDE), flags=cv2.INTER_AREA if side > ONET_SIDE else cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT))
    return np.concatenate([onet(np.stack(crops[i : i + 256])) for i in range(0, len(crops), 256)])


def mirrored_scores(detector: CenterFaceDetector, pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The closer look on the picture turned left to right."""
    if not len(boxes):
        return np.zeros(0)
    width = pixels.shape[1]
    mirrored = boxes.copy()
    mirrored[:, 0], mirrored[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return detector.zoomed_scores(np.ascontiguousarray(pixels[:, ::-1]), mirrored)


def skin_share(pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The share of each box's middle half whose colour is skin's (Cr 133–173, Cb 77–127), kept off 0 and 1."""
    ycrcb = cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb)
    shares = []
    for x1, y1, x2, y2 in np.round(boxes).astype(int):
        w, h = x2 - x1, y2 - y1
        middle = ycrcb[max(y1 + h // 4, 0) : max(y2 - h // 4, y1 + h // 4 + 1), max(x1 + w // 4, 0) : max(x2 - w // 4, x1 + w // 4 + 1)]
        cr, cb = middle[..., 1].astype(int), middle[..., 2].astype(int)
        shares.append(((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)).mean() if middle.size else 0.0)
    return np.clip(np.array(shares, float), 0.01, 0.99)


#: How each lever changes a row: the scores the closer look is given.
VARIANTS = {
    "default": lambda row: {},
    "with ONet": lambda row: {"verifiers": [row["onet"]]},
    "mirrored closer look averaged in": lambda row: {"zoomed": (row["zoomed"] + row["mirrored"]) / 2},
    "with skin share": lambda row: {"verifiers": [row["skin"]]},
}


def variant(rows: list[dict], name: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "verifiers"} | VARIANTS[name](row) for row in rows]


def roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    ranks = np.concatenate([positives, negatives]).argsort().argsort() + 1
    return float((ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))


def band_auc(rows: list[dict]) -> dict:
    """How well each score tells faces from the rest among the candidates the closer look sees."""
    w1, _ = scoring.fit_stages(rows)
    band = np.concatenate([scoring._band(scoring.apply(r["candidates"].features(), w1)) for r in rows])
    labels = np.concatenate([r["labels"] for r in rows])
    face, other = band & (labels == 1), band & (labels == 0)
    result = {"faces_in_band": int(face.sum()), "others_in_band": int(other.sum())}
    for key in ("zoomed", "onet", "mirrored", "skin"):
        if key in rows[0]:
            values = np.concatenate([r[key] for r in rows])
            result[f"roc_auc_{key}"] = round(roc_auc(values[face], values[other]), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--onet-weights", type=Path, help="onet.lz4 from the mtcnn 1.0.0 wheel (without it, ONet is left out)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[10, 20], help="face thresholds (%%)")
    args = parser.parse_args()
    onet = ONet(args.onet_weights) if args.onet_weights else None
    detector = CenterFaceDetector(PRESETS["balanced"].face_sizes, int8=True)
    sets = {}
    for name in ("faces_dev", "plates_dev"):
        rows = scoring.collect(args.datasets / name, detector)
        for row in rows:
            pixels, boxes = load_image(args.datasets / name / row["entry"]["file"]).pixels, row["candidates"].boxes
            row["mirrored"], row["skin"] = mirrored_scores(detector, pixels, boxes), skin_share(pixels, boxes)
            if onet:
                row["onet"] = onet_scores(onet, pixels, boxes)
        sets[name] = rows
    report: dict = {"verify_band_faces_dev": band_auc(sets["faces_dev"]), "cross_validated_faces_dev": {}, "plates_dev_faces_only": {}}
    for lever in VARIANTS if onet else [v for v in VARIANTS if v != "with ONet"]:
        faces = variant(sets["faces_dev"], lever)
        weights = scoring.fit_stages(faces)
        for threshold in args.thresholds:
            report["cross_validated_faces_dev"][f"{lever} at {threshold:g} %"] = scoring.cross_validate(faces, scoring.DEFAULT_LEVERS, threshold)
            tally = Tally()
            scoring.measure(variant(sets["plates_dev"], lever), weights, scoring.DEFAULT_LEVERS, threshold / 100, tally)
            measured = tally.report()
            report["plates_dev_faces_only"][f"{lever} at {threshold:g} %"] = {k: measured[k] for k in ("over_censored", "false_regions")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
