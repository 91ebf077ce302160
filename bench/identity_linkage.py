"""Can a face recogniser undo our censoring? Rank-1 and rank-5 linkage of censored faces to their originals.

    python bench/identity_linkage.py [--datasets ../shared/datasets] [--limit N] [--workers 2] > docs/benchmarks/identity_linkage.json
    python bench/identity_linkage.py --table docs/benchmarks/identity_linkage.json   # writes anonymize/linkage.json
    python bench/identity_linkage.py --markdown docs/benchmarks/identity_linkage.json   # the table in docs/censoring.md

The second form writes the parrot and naive rank-1 figures per method and
strength, with chance, to ``anonymize/linkage.json``: the table the sidebar
and the CLI quote next to the strength (``anonymize.linkage``).

Needs the benchmark extras (``pip install -r bench/requirements.txt``): dlib's
ResNet face descriptor (128-d, 99.38 % on LFW) and its 5-point landmark model,
from ``dlib-bin`` and ``face_recognition_models``. Neither is a runtime dependency.

The faces: every ground-truth face of faces_dev whose box's longer side is at
least 48 px. Each picture goes through the pipeline at the default settings
(local detector, default thresholds, padding and shape); a face counts as
censored when at least 70 % of its box is inside the censored mask (as in
``privacy_recall.py``), otherwise as missed. Linkage is measured on censored
faces only; misses are reported apart (a missed face is linked like its original).

For every method, and every strength 1–10 (fill ignores strength: the
control), each censored face (the probe) is ranked against a gallery of all
the faces, by descriptor distance:

* **naive**: the gallery is the original faces;
* **parrot**: the attacker knows the method and strength and censors the
  gallery the same way before matching, with this tool. As faces_dev has no
  identity labels, the attacker's gallery picture of a person is the
  original photo mirrored (a second photo in the same pose and light: an
  upper bound for what a different photo would give), run through the same
  detector and censoring.

Both crops are aligned with the landmarks found on the uncensored picture
(the attacker knows the face's geometry: an upper bound), and the recogniser
is shown the inner face of each aligned crop (an ellipse over eyes, nose and
mouth), the rest grey, the originals included. Without that, the mirrored
picture's surroundings (hair, clothes, background) and the outline of the
censored area link it whatever the censoring did: filled faces were linked
at 40× chance, which measures the photo, not the censoring. What lies around
a face is governed by padding and recall, which ``privacy_recall.py`` measures. Chance is 1/N at rank 1 and 5/N at rank 5, N the number
of faces in the gallery.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import METHODS, CensorSettings, censor, censored_mask  # noqa: E402
from anonymize.detectors import local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.pipeline import anonymize_image  # noqa: E402
from anonymize.settings import Settings  # noqa: E402

MIN_SIDE = 48
COVERED = 0.70
STRENGTHS = range(1, 11)
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # dlib's own defaults for its recogniser


def settings_measured() -> list[tuple[str, float]]:
    """(method, strength) pairs: every strength of every method, fill once (strength does not change it)."""
    return [(m, float(s)) for m in METHODS if m != "fill" for s in STRENGTHS] + [("fill", 5.0)]


_models = {}


def _worker_models():
    if not _models:
        import dlib
        import face_recognition_models as files

        _models["landmarks"] = dlib.shape_predictor(files.pose_predictor_five_point_model_location())
        _models["recogniser"] = dlib.face_recognition_model_v1(files.face_recognition_model_location())
        _models["detector"] = local_detector()
    return _models


def _inner_face() -> np.ndarray:
    """The part of an aligned chip the recogniser is shown: an ellipse over eyes, nose and mouth (dlib's
    chips put the landmarks' box in the middle 100 px of 150 at padding 0.25); the rest is grey."""
    ys, xs = np.mgrid[:CHIP_SIZE, :CHIP_SIZE]
    return ((xs - 75) / 48) ** 2 + ((ys - 78) / 56) ** 2 <= 1


INNER_FACE = _inner_face()


def _describe(image: np.ndarray, shapes: list) -> np.ndarray:
    import dlib

    chips = [
        np.where(
            INNER_FACE[..., None], dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING), np.uint8(128)
        )
        for shape in shapes
    ]
    return np.asarray(_models["recogniser"].compute_face_descriptor(chips), np.float32).reshape(len(shapes), 128)


def measure_image(job: tuple[str, list[list[int]]]) -> dict:
    """Descriptors of one picture's faces: original, mirrored original, and each censored probe and parrot gallery entry."""
    import dlib

    path, boxes = job
    models = _worker_models()
    pixels = np.ascontiguousarray(load_image(path).pixels)
    height, width = pixels.shape[:2]
    mirrored = np.ascontiguousarray(pixels[:, ::-1])
    mirrored_boxes = [[width - x2, y1, width - x1, y2] for x1, y1, x2, y2 in boxes]
    shapes = [models["landmarks"](pixels, dlib.rectangle(*box)) for box in boxes]
    mirrored_shapes = [models["landmarks"](mirrored, dlib.rectangle(*box)) for box in mirrored_boxes]
    found = anonymize_image(pixels, models["detector"], Settings()).hidden
    found_mirrored = anonymize_image(mirrored, models["detector"], Settings()).hidden
    mask = censored_mask(found, Settings().censor, width, height)
    covered = [float(mask[y1:y2, x1:x2].mean()) for x1, y1, x2, y2 in boxes]
    out = {
        "covered": covered,
        "original": _describe(pixels, shapes),
        "mirrored": _describe(mirrored, mirrored_shapes),
        "probe": {},
        "parrot": {},
    }
    for method, strength in settings_measured():
        chosen = CensorSettings(method=method, strength=strength)
        out["probe"][method, strength] = _describe(censor(pixels, found, chosen), shapes)
        out["parrot"][method, strength] = _describe(censor(mirrored, found_mirrored, chosen), mirrored_shapes)
    return out


def hits(probes: np.ndarray, gallery: np.ndarray, own: np.ndarray, k: int) -> float:
    """The share of probes whose own face ``own[i]`` is among the ``k`` nearest in the gallery.

    Ties are broken at random, in expectation: a filled face is as near to every
    filled gallery face, and must then count as chance, not as a hit.
    """
    distances = np.linalg.norm(probes[:, None, :] - gallery[None, :, :], axis=2)
    mine = distances[np.arange(len(own)), own][:, None]
    nearer, tied = (distances < mine).sum(axis=1), (distances == mine).sum(axis=1) - 1
    return float(np.clip((k - nearer) / (tied + 1), 0, 1).mean())


def linkage(probes: np.ndarray, gallery: np.ndarray, own: np.ndarray) -> dict:
    return {f"rank{k}": round(hits(probes, gallery, own, k), 5) for k in (1, 5)}


def runtime_table(result: dict) -> dict:
    """The figures the app quotes, from this benchmark's JSON: rank-1 per method and strength ("any" for fill)."""

    def column(attack: str) -> dict:
        return {
            method: (
                {"any": steps["5"][attack]["rank1"]}
                if method == "fill"
                else {s: v[attack]["rank1"] for s, v in steps.items()}
            )
            for method, steps in result["methods"].items()
        }

    return {
        "source": "bench/identity_linkage.py on faces_dev (docs/benchmarks/identity_linkage.json)",
        "faces": result["faces"],
        "chance_rank1": result["chance"]["rank1"],
        "parrot_rank1": column("parrot"),
        "naive_rank1": column("naive"),
    }


def markdown(result: dict) -> str:
    """The table in docs/censoring.md: per strength, each method's rank-1 linkage, parrot (naive), as a multiple of chance."""
    chance = result["chance"]["rank1"]
    methods = [m for m in result["methods"] if m != "fill"]

    def cell(figures: dict) -> str:
        parrot, naive = figures["parrot"]["rank1"], figures["naive"]["rank1"]
        return f"{parrot * 100:.1f} % ({naive * 100:.1f} %) {parrot / chance:.1f}×"

    rows = [
        "| strength | " + " | ".join(f"{m}: parrot (naive), × chance" for m in methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for strength in STRENGTHS:
        rows.append(f"| {strength} | " + " | ".join(cell(result["methods"][m][str(strength)]) for m in methods) + " |")
    rows.append("| fill (any) | " + cell(result["methods"]["fill"]["5"]) + " |" + " |" * (len(methods) - 1))
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--limit", type=int, default=0, help="first N pictures with a face of at least 48 px (0: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--table", metavar="JSON", help="write anonymize/linkage.json from this benchmark's JSON and stop"
    )
    parser.add_argument(
        "--markdown", metavar="JSON", help="print docs/censoring.md's table from this benchmark's JSON and stop"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    if args.table:
        table = runtime_table(json.loads(Path(args.table).read_text()))
        (ROOT / "anonymize" / "linkage.json").write_text(json.dumps(table, indent=1) + "\n")
        return
    folder = Path(args.datasets) / "faces_dev"
    labels = json.loads((folder / "labels.json").read_text())
    jobs = []
    for image in labels["images"]:
        boxes = [b[:4] for b in image["boxes"] if max(b[2] - b[0], b[3] - b[1]) >= MIN_SIDE]
        if boxes:
            jobs.append((str(folder / image["file"]), boxes))
    jobs = jobs[: args.limit or None]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        done = pool.map(measure_image, jobs, chunksize=1)
    covered = np.concatenate([d["covered"] for d in done])
    censored = covered >= COVERED
    faces = len(covered)
    originals = np.concatenate([d["original"] for d in done])
    mirrored = np.concatenate([d["mirrored"] for d in done])
    own = np.flatnonzero(censored)
    result = {
        "what": "rank-k linkage of censored faces to their originals by dlib's ResNet face descriptor; see bench/identity_linkage.py",
        "dataset": "faces_dev",
        "faces": faces,
        "min_side_px": MIN_SIDE,
        "censored": int(censored.sum()),
        "missed": int((~censored).sum()),
        "chance": {"rank1": round(1 / faces, 5), "rank5": round(min(5, faces) / faces, 5)},
        "missed_naive": linkage(originals[~censored], originals, np.flatnonzero(~censored))
        if (~censored).any()
        else None,
        "uncensored_mirror_naive": linkage(mirrored[censored], originals, own),
        "methods": {},
        "seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}",
    }
    for method, strength in settings_measured():
        probes = np.concatenate([d["probe"][method, strength] for d in done])[censored]
        parrot_gallery = np.concatenate([d["parrot"][method, strength] for d in done])
        result["methods"].setdefault(method, {})[f"{strength:g}"] = {
            "naive": linkage(probes, originals, own),
            "parrot": linkage(probes, parrot_gallery, own),
        }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
