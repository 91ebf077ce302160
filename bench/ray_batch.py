"""Batch throughput: the local CLI against ``--engine ray`` with 1 and 2 workers, on the same folder.

    python bench/ray_batch.py [--images ../shared/datasets/plates_dev/images] [--count 60] [--rounds 3]

Each contender is a fresh ``python -m anonymize FOLDER -o OUT -q`` (so Ray's start, a local cluster
on this machine, is counted, as a user pays it), the contenders taking turns ``--rounds`` times;
wall time per run, and images per second from the median. The photos are ``--count`` 1280×720
dashcam frames of plates_dev (MIT). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = {
    "local CLI": [],
    "ray, 1 worker": ["--engine", "ray", "--workers", "1"],
    "ray, 2 workers": ["--engine", "ray", "--workers", "2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=ROOT.parent / "shared" / "datasets" / "plates_dev" / "images")
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "in"
        inputs.mkdir()
        for picture in sorted(args.images.iterdir())[: args.count]:
            shutil.copy(picture, inputs / picture.name)
        seconds: dict[str, list[float]] = {name: [] for name in CONTENDERS}
        for _ in range(args.rounds):
            for name, options in CONTENDERS.items():
                out = Path(folder) / "out"
                shutil.rmtree(out, ignore_errors=True)
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "anonymize", str(inputs), "-o", str(out), "-q", *options],
                    cwd=ROOT,
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                seconds[name].append(time.perf_counter() - started)
    median = {name: statistics.median(times) for name, times in seconds.items()}
    print(
        json.dumps(
            {
                "images": args.count,
                "rounds": args.rounds,
                "contenders": {
                    name: {
                        "seconds": [round(t, 2) for t in times],
                        "median_s": round(median[name], 2),
                        "images_per_s": round(args.count / median[name], 2),
                        "vs_local": round(median["local CLI"] / median[name], 2),
                    }
                    for name, times in seconds.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
