"""The README's recall table, from bench/privacy_recall.py's JSON.

    python bench/privacy_recall.py --presets fast balanced thorough > recall.json
    python bench/table.py recall.json
"""

from __future__ import annotations

import json
import sys


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def regions(row: dict) -> str:
    found = row["false_regions"]
    return f"{found['mean']:.2f} ({found['median']:g})"


def table(report: dict) -> str:
    faces, plates = report["datasets"]["faces_dev"], report["datasets"]["plates_dev"]
    rows = [
        "| contender | faces ≥ 10 px | faces ≥ 32 px | faces over-censored | false regions/image faces_dev (median) "
        "| plates | plates over-censored | false regions/image plates_dev (median) | s/image faces_dev (× deface) | s/image plates_dev (× deface) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in faces:
        if not isinstance(faces[name], dict) or "recall" not in faces[name]:
            continue
        f, p = faces[name], plates[name]
        ratios = [row.get("latency_ratio_to_deface", {}).get(name) for row in (faces, plates)]
        speed = [f"{r['latency_s']['median']:.3f}" + (f" ({ratio:.2f}×)" if ratio else "") for r, ratio in zip((f, p), ratios)]
        rows.append(f"| {name.replace('ours_', '')} | {percent(f['recall']['ge10'])} | {percent(f['recall']['ge32'])} | "
                    f"{percent(f['over_censored'])} | {regions(f)} | {percent(p['recall']['all'])} | {percent(p['over_censored'])} | "
                    f"{regions(p)} | {speed[0]} | {speed[1]} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(json.loads(open(sys.argv[1]).read())))
