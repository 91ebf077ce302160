"""Shared fixtures. Tests depend only on the repository (``samples/``), never on ../shared/."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from anonymize.detectors import local_detector  # noqa: E402
from anonymize.detectors.base import DetectorDefaults  # noqa: E402
from anonymize.manifest import NAME as MANIFEST  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from helpers.fake_roboflow import FakeRoboflow, start_fake_roboflow  # noqa: E402

#: The fake Roboflow server (127.0.0.1), started before the first test module is imported.
FAKE_ROBOFLOW: FakeRoboflow


def pytest_configure(config: pytest.Config) -> None:
    """Start the fake Roboflow server and point the SDK at it, before any test module is collected: the
    SDK reads its server addresses once, at import. Its config file is kept away from any real one."""
    global FAKE_ROBOFLOW
    FAKE_ROBOFLOW = start_fake_roboflow()
    os.environ["API_URL"] = FAKE_ROBOFLOW.url
    os.environ["OBJECT_DETECTION_URL"] = FAKE_ROBOFLOW.url
    os.environ["ROBOFLOW_CONFIG_DIR"] = str(Path(tempfile.mkdtemp()) / "roboflow-config.json")
    os.environ.pop("ROBOFLOW_API_KEY", None)


def pictures_in(zip_bytes: bytes) -> list[str]:
    """The pictures in a Batch zip, sorted: every member but its manifest and its redaction records."""
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()
    return sorted(n for n in names if n != MANIFEST and not n.startswith("records/"))


def niceness() -> int:
    """The calling thread's own niceness (Linux)."""
    import threading

    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class NicenessNoting(DetectorDefaults):
    """A detector that finds nothing and notes the niceness of each thread it runs on."""

    classes = ("face",)

    def __init__(self):
        self.niceness = []

    def detect(self, image, *, confidence, overlap):
        from anonymize.detections import Predictions

        self.niceness.append(niceness())
        return Predictions.of([], image.shape[1], image.shape[0])


def outputs(folder: Path) -> list[str]:
    """The names of the files a CLI run wrote into ``folder``, sorted, but its manifest (a record of the run, failures included) and records."""
    return sorted(p.name for p in folder.iterdir() if p.name != MANIFEST and p.name != "records")


@pytest.fixture
def fake_roboflow():
    """The fake Roboflow server, answering normally unless a test sets ``mode``."""
    FAKE_ROBOFLOW.mode, FAKE_ROBOFLOW.mangle = "ok", None
    FAKE_ROBOFLOW.uploads.clear(), FAKE_ROBOFLOW.refuse_uploads.clear()
    yield FAKE_ROBOFLOW
    FAKE_ROBOFLOW.mode, FAKE_ROBOFLOW.mangle = "ok", None


class RecordingStreamer:
    """Stands in for webrtc_streamer, which cannot run under AppTest: records how the page calls it."""

    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def streamer(monkeypatch):
    import streamlit_webrtc

    recorder = RecordingStreamer()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", recorder)
    return recorder


@pytest.fixture(scope="session")
def detector():
    return local_detector()


@pytest.fixture(scope="session")
def city() -> np.ndarray:
    """800×564 street scene with about 25 faces (Pexels licence)."""
    return load_image(SAMPLES / "city.jpg").pixels


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """512×512 portrait, one large face (public domain)."""
    return load_image(SAMPLES / "astronaut.jpg").pixels


@pytest.fixture(scope="session")
def dashcam() -> np.ndarray:
    """1280×720 dashcam frame with one readable plate (MIT)."""
    return load_image(SAMPLES / "dashcam_plate.jpg").pixels


@pytest.fixture
def noise() -> np.ndarray:
    """A 120×160 image of random pixels: any censoring changes it visibly."""
    return np.random.default_rng(7).integers(0, 256, (120, 160, 3), dtype=np.uint8)


def jpeg_bytes(pixels: np.ndarray, **save_args) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, **save_args)
    return buffer.getvalue()


@pytest.fixture
def shown_media(monkeypatch) -> dict[str, bytes]:
    """Every file the app hands to the browser, by media id (``st.image`` only gives URLs)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data if isinstance(path_or_data, bytes) else open(path_or_data, "rb").read()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files
