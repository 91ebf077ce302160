"""``anonymize app``: the Streamlit app, from a source checkout or from the installed package.

In a checkout the app is ``app.py`` beside the ``anonymize`` folder; an installed wheel carries it as
``anonymize_app`` (pyproject.toml). Streamlit reads ``.streamlit/config.toml`` from the working
folder only, so the app's own settings are passed as options; options given after ``app`` come
last and win. The library itself never imports Streamlit: the app runs in a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, Sequence

_PACKAGES = Path(__file__).resolve().parent.parent


def app_script() -> Path:
    """The app's entrypoint: ``anonymize_app/app.py`` when installed, else the checkout's ``app.py``."""
    for candidate in (_PACKAGES / "anonymize_app" / "app.py", _PACKAGES / "app.py"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the app is not installed with this package (no app.py beside it)")


def config_options(config: Path) -> list[str]:
    """``.streamlit/config.toml`` as command-line options: ``[server] maxUploadSize = 500`` → ``--server.maxUploadSize=500``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.toml").write_text('[server]\\nheadless = true\\n[theme]\\nbase = "dark"\\n')
    >>> config_options(folder / "config.toml")
    ['--server.headless=true', '--theme.base=dark']
    """
    if not config.is_file():
        return []
    return [
        f"--{section}.{key}={_text(value)}"
        for section, values in tomllib.loads(config.read_text()).items()
        for key, value in values.items()
    ]


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def run_app(streamlit_options: Sequence[str]) -> int:
    """Run the app with ``streamlit run`` until it stops: on POSIX this process becomes the server (no return),
    elsewhere it waits for it and returns its exit code."""
    script = app_script()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        *config_options(script.parent / ".streamlit" / "config.toml"),
        *streamlit_options,
    ]
    if os.name == "posix":
        # Become the server: a stop sent to ``anonymize app`` (kill, a service manager) must reach it, not orphan it.
        os.execv(sys.executable, command)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130
