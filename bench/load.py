"""Other work on the machine, for benchmarks that must hold on a busy laptop: busy-loop processes."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Iterator


@contextlib.contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` processes that each keep a core busy (at normal priority) until the block ends."""
    processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()
