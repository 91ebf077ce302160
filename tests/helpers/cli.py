"""The command line, as a user runs it: a subprocess in the checkout."""

import os
import subprocess
import sys

from conftest import ROOT


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "anonymize", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def run_cli_against_fake(fake, key, *args):
    env = {**os.environ, "API_URL": fake.url, "OBJECT_DETECTION_URL": fake.url, "ROBOFLOW_API_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "anonymize", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
