"""Write the documentation's measured tables from the benchmark JSON in ``docs/benchmarks/``.

    python docs/figures.py           # rewrite every marked table in docs/*.md and README.md
    python docs/figures.py --check   # exit 1, naming the file, if any table differs from its JSON

A table is marked in the Markdown by ``<!-- figures: NAME -->`` and ``<!-- /figures -->``; what is
between is replaced by :data:`TABLES`\\ [NAME] rendered from the JSON. A test runs ``--check``: a
figure edited by hand, or a benchmark JSON renewed without its tables, fails the suite.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from table import faces_table, plates_and_time_table  # noqa: E402

RESULTS = ROOT / "docs" / "benchmarks"
MARKED = re.compile(r"(<!-- figures: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


def _json(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _span(values: list[float], fmt: str = "{:.0f}") -> str:
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}–{high}"


def webcam_pacing() -> str:
    report = _json("webcam_pacing.json")
    rows = [
        "| busy processes | frames hidden whole after the first detection, before → now | detection latency (ms), before → now "
        "| callback fps, before → now | raw frames |",
        "|---|---|---|---|---|",
    ]
    for key in sorted(k for k in report if k.startswith("busy_processes_")):
        before, now = report[key]["before (nice 10, full size)"], report[key]["after (nice 5, pacing)"]
        share = (
            [run["after_first_detection"]["share_hidden_whole"] * 100 for run in before],
            [run["after_first_detection"]["share_hidden_whole"] * 100 for run in now],
        )
        latency = [run["detection_latency_ms"] for run in before], [run["detection_latency_ms"] for run in now]
        fps = [run["callback_fps"] for run in before], [run["callback_fps"] for run in now]
        raw = sum(run["raw_frames"] for run in before + now)
        rows.append(
            f"| {key.rsplit('_', 1)[1]} | {_span(share[0])} % → **{_span(share[1])} %** | {_span(latency[0])} → {_span(latency[1])} "
            f"| {_span(fps[0], '{:.1f}')} → {_span(fps[1], '{:.1f}')} | {raw} |"
        )
    return "\n".join(rows)


def slider_under_load(name: str = "slider_under_load.json") -> str:
    report = _json(name)
    (before, before_runs), (now, now_runs) = report.items()
    rows = [f"| change | median ms, {before} | median ms, {now} | server's own work (ms) |", "|---|---|---|---|"]
    for key in ("confidence_slider", "padding_slider", "method_switch"):
        server = [run[key]["server_median_ms"] for run in before_runs + now_runs]
        rows.append(
            f"| {key.replace('_', ' ')} | {' / '.join(str(run[key]['median_ms']) for run in before_runs)} "
            f"| **{' / '.join(str(run[key]['median_ms']) for run in now_runs)}** | {_span(server)} |"
        )
    return "\n".join(rows)


def video_cuts() -> str:
    report = _json("video_cuts.json")
    rows = [
        "| detection every k-th frame | dashcam: frames with a plate shown, before → now | moving camera: faces leaked in view (mostly outside), before → now |",
        "|---|---|---|",
    ]
    for key in report["after"]:
        was, now = report["before"][key], report["after"][key]
        faces = [
            (
                run["moving_camera_faces"]["leaked_boxes"]
                - run["moving_camera_faces"]["of_which_mostly_outside_the_frame"],
                run["moving_camera_faces"]["of_which_mostly_outside_the_frame"],
            )
            for run in (was, now)
        ]
        rows.append(
            f"| {key.rsplit('_', 1)[1]} | {was['dashcam_plates']['frames_with_a_leak']} → **{now['dashcam_plates']['frames_with_a_leak']}** "
            f"| {faces[0][0]} ({faces[0][1]}) → {faces[1][0]} ({faces[1][1]}) |"
        )
    return "\n".join(rows)


def headline() -> str:
    """The front page's few figures: the default on the photos it was never tuned on, beside deface, and
    its time per photo as a share of deface's, measured with nothing else running (two runs)."""
    val = _json("privacy_recall.json")["datasets"]["faces_val"]
    alone = [
        _json(name)["datasets"]["faces_val"]["latency_ratio_to_deface"]["ours_balanced"]
        for name in ("privacy_recall_timing_alone.json", "privacy_recall_timing_alone_second_run.json")
    ]
    rows = [
        "| on 939 photos never tuned on (`faces_val`, 4 839 faces) | faces ≥ 10 px hidden | ≥ 32 px | false regions / photo "
        "| non-face area hidden | time / photo |",
        "|---|---|---|---|---|---|",
    ]
    for name, label, time in (
        ("ours_balanced", "this tool, default (faces and plates)", f"{_span(alone, '{:.2f}')}× deface's"),
        ("deface", "deface 1.5, defaults (faces only)", "1×"),
    ):
        row = val[name]
        rows.append(
            f"| {label} | {row['recall']['ge10'] * 100:.1f} % | {row['recall']['ge32'] * 100:.1f} % "
            f"| {row['false_regions']['mean']:.2f} | {row['over_censored'] * 100:.1f} % | {time} |"
        )
    return "\n".join(rows)


def _share(band: dict) -> str:
    """A band's share of faces, to two decimals under 1 % (where the default threshold sits)."""
    share = band["share_faces"]
    if share is None:
        return "–"
    return f"{share * 100:.2f} %" if share < 0.01 else f"{share * 100:.1f} %"


def calibration() -> str:
    """The face scoring's reliability: per band of calibrated confidence, how many of faces_val's candidates
    fall there and which share of them are faces, on both sets (``bench/fit_face_scoring.py``)."""
    report = _json("face_scoring.json")["reliability"]
    rows = [
        "| calibrated confidence | candidates faces_val | faces among them, faces_val | faces among them, faces_dev |",
        "|---|---|---|---|",
    ]
    for val, dev in zip(report["faces_val"], report["faces_dev"]):
        low, high = (float(end) * 100 for end in val["score"].split("–"))
        candidates = f"{val['candidates']:,}".replace(",", " ")
        rows.append(f"| {low:g}–{high:g} % | {candidates} | {_share(val)} | {_share(dev)} |")
    return "\n".join(rows)


#: The face-scoring settings each table of "How the default was chosen" shows: (label, section of
#: face_scoring.json, its entry or None for the top level, threshold).
SCORING_ROWS = {
    "scoring_levers": [
        ("raw score only, calibrated", "levers", "raw score only", "0.2 %"),
        ("raw score only, calibrated", "levers", "raw score only", "0.5 %"),
        ("raw score only, calibrated", "levers", "raw score only", "1 %"),
        ("+ full-resolution agreement", "levers", "+ full-resolution agreement (the previous default)", "0.1 %"),
        ("+ full-resolution agreement", "levers", "+ full-resolution agreement (the previous default)", "0.5 %"),
        (
            "+ full-resolution agreement (the previous default)",
            "levers",
            "+ full-resolution agreement (the previous default)",
            "1 %",
        ),
        ("+ 640 px pass and size, weighted by size (**the default**)", None, None, "0.1 %"),
        ("+ 640 px pass and size, weighted by size", None, None, "0.2 %"),
        ("+ 640 px pass and size, weighted by size", None, None, "0.5 %"),
        ("+ 640 px pass and size, weighted by size", None, None, "1 %"),
    ],
    "cost_powers": [
        ("p = 0", "cost_powers", "0", "0.1 %"),
        ("p = 0.5", "cost_powers", "0.5", "0.1 %"),
        ("p = 0.75 (**the default**)", "cost_powers", "0.75", "0.1 %"),
        ("p = 0.75", "cost_powers", "0.75", "0.2 %"),
        ("p = 1", "cost_powers", "1", "0.1 %"),
        ("p = 1", "cost_powers", "1", "0.2 %"),
    ],
    "duplicates": [
        ("none dropped", "duplicates", "none", "0.1 %"),
        ("IoU 0.02, 0.3 % as sure", "duplicates", "0.02,0.003", "0.1 %"),
        ("IoU 0.02, 1 % as sure (**the default**)", "duplicates", "0.02,0.01", "0.1 %"),
        ("IoU 0.05, 1 % as sure", "duplicates", "0.05,0.01", "0.1 %"),
        ("IoU 0.2, 1 % as sure", "duplicates", "0.2,0.01", "0.1 %"),
        ("IoU 0.02, 2 % as sure", "duplicates", "0.02,0.02", "0.1 %"),
        ("IoU 0.02, 3 % as sure", "duplicates", "0.02,0.03", "0.1 %"),
        ("none dropped", "duplicates", "none", "0.2 %"),
        ("IoU 0.02, 1 % as sure", "duplicates", "0.02,0.01", "0.2 %"),
    ],
}


def scoring_settings(name: str) -> str:
    """Face-scoring settings side by side: faces_val with the weights fitted on faces_dev, and faces_dev
    two-fold cross-validated (``bench/fit_face_scoring.py``)."""
    report = _json("face_scoring.json")
    rows = [
        "| setting, face threshold | faces_val ≥ 10 px | ≥ 32 px | false regions/image (median) | non-face area "
        "| faces_dev (cross-validated) ≥ 10 px | ≥ 32 px | false regions/image | non-face area |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, section, entry, threshold in SCORING_ROWS[name]:
        measured = report if section is None else report[section][entry]
        val, dev = measured["faces_val"][threshold], measured["faces_dev_cross_validated"][threshold]
        rows.append(
            f"| {label}, {threshold} | {val['recall']['ge10'] * 100:.2f} % | {val['recall']['ge32'] * 100:.2f} % "
            f"| {val['false_regions']['mean']:.2f} ({val['false_regions']['median']:g}) | {val['over_censored'] * 100:.1f} % "
            f"| {dev['recall']['ge10'] * 100:.2f} % | {dev['recall']['ge32'] * 100:.2f} % "
            f"| {dev['false_regions']['mean']:.2f} | {dev['over_censored'] * 100:.1f} % |"
        )
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "faces": lambda: faces_table(_json("privacy_recall.json")),
    "plates_and_time": lambda: plates_and_time_table(_json("privacy_recall.json")),
    "webcam_pacing": webcam_pacing,
    "slider_under_load": slider_under_load,
    "slider_under_load_pictures": lambda: slider_under_load("slider_under_load_pictures.json"),
    "slider_under_load_widget_values": lambda: slider_under_load("slider_under_load_widget_values.json"),
    "video_cuts": video_cuts,
    "headline": headline,
    "calibration": calibration,
    **{name: (lambda name=name: scoring_settings(name)) for name in SCORING_ROWS},
}


def rendered(text: str) -> str:
    """``text`` with every marked table written from its JSON."""
    return MARKED.sub(lambda m: m.group(1) + TABLES[m.group("name")]() + "\n" + m.group(4), text)


def main() -> None:
    check = "--check" in sys.argv[1:]
    stale = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        new = rendered(text)
        if new != text:
            stale.append(page.relative_to(ROOT))
            if not check:
                page.write_text(new)
    if check and stale:
        sys.exit(f"tables that differ from their JSON: {', '.join(map(str, stale))} (run python docs/figures.py)")


if __name__ == "__main__":
    main()
