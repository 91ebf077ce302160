"""The code as ruff reads it (pyproject.toml, 120 columns): no lint finding, and formatted."""

import subprocess
import sys

from conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing_to_fix():
    done = ruff("check", ".")
    assert done.returncode == 0, done.stdout


def test_every_file_is_formatted():
    done = ruff("format", "--check", ".")
    assert done.returncode == 0, done.stdout
