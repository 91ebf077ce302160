"""The package as a user installs it: a wheel built from this checkout, installed with its
dependencies into a fresh venv, used from a folder that is not the checkout."""

import socket
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLES
from helpers.browser import free_port, wait_until_serving

CHECK_PAGES = """
import sys
from pathlib import Path
import anonymize_app
from streamlit.testing.v1 import AppTest
app = Path(anonymize_app.__path__[0]) / "app.py"
at = AppTest.from_file(str(app), default_timeout=120)
at.run()
# The Webcam page needs a browser's WebRTC session (test_browser.py runs it); the others run here.
for page in ("home", "image", "batch", "video"):
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, (page, at.exception)
print("pages ok", len(at.image))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The ``bin`` folder of a fresh venv with the built wheel installed."""
    folder = tmp_path_factory.mktemp("package")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(folder / "dist")],
        check=True,
        cwd=folder,
    )
    (wheel,) = (folder / "dist").glob("anonymize-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    bin_dir = folder / "venv" / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True, cwd=folder)
    return bin_dir


def test_the_installed_command_anonymizes_a_picture_with_the_bundled_models(installed, tmp_path):
    helped = subprocess.run([str(installed / "anonymize"), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert helped.returncode == 0 and "--upload-to" in helped.stdout and "anonymize app" in helped.stdout
    done = subprocess.run(
        [str(installed / "anonymize"), str(SAMPLES / "city.jpg"), "-o", "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "city.jpg").is_file() and "faces" in done.stdout and "on the CPU" in done.stdout
    where = subprocess.run(
        [str(installed / "python"), "-c", "import anonymize; print(anonymize.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(ROOT) not in where.stdout  # the installed copy ran, not this checkout


def test_the_installed_app_renders_its_pages_and_its_samples(installed, tmp_path):
    checked = subprocess.run(
        [str(installed / "python"), "-c", CHECK_PAGES], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert checked.returncode == 0 and "pages ok" in checked.stdout, checked.stderr[-2000:]


def test_anonymize_app_starts_the_app_with_its_own_settings(installed, tmp_path):
    # Streamlit reads .streamlit/config.toml from the working folder only: the packaged one is passed as options.
    options = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "from anonymize.app_command import app_script, config_options; "
            "print(config_options(app_script().parent / '.streamlit' / 'config.toml'))",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "--server.maxUploadSize=500" in options.stdout and "--theme.base=dark" in options.stdout
    port = free_port()
    server = subprocess.Popen(
        [str(installed / "anonymize"), "app", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server, "anonymize app did not start")
    finally:
        server.terminate()
        server.wait(timeout=20)
    with pytest.raises(OSError):  # stopping the command stopped the server: nothing is left listening
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
