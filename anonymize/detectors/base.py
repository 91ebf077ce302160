"""The one interface every backend implements, and the shared ONNX session setup."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Protocol

import numpy as np
import onnxruntime

from anonymize.detections import Predictions
from anonymize.devices import CPU_PROVIDER, Device

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def model_path(name: str) -> Path:
    """Where the model file ``name`` is: one of ours (``centerface.onnx``, in :data:`MODELS_DIR`), or one an
    installed package ships, named by the package (``rapidocr/models/….onnx``), found without importing it."""
    ours = MODELS_DIR / name
    package, _, inside = name.partition("/")
    spec = None if ours.is_file() or not inside else importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return ours
    return Path(next(iter(spec.submodule_search_locations))) / inside


#: The niceness of a thread that runs the webcam's detection (Linux: 0 is normal, 19 the lowest priority).
#: At 10 a machine kept busy by 4 other processes left detection 5 % of the cores (0.6–0.8 s at 640×480) and
#: hid 64–76 % of the frames whole; at 5, with :mod:`anonymize.pacing`, none (``bench/webcam.py --load 4``, docs/benchmarks.md).
BACKGROUND_NICE = 5


class Detector(Protocol):
    """Finds objects in an upright ``H×W×3`` uint8 RGB image.

    ``confidence`` (0–1) is the lowest score kept and ``overlap`` (0–1) the IoU
    above which a weaker box of the same class is suppressed, exactly as
    Roboflow's ``predict(confidence=, overlap=)`` percentages divided by 100.
    """

    #: Class names this detector can return.
    classes: tuple[str, ...]
    #: True when it runs here, cheaply: it is then asked below the thresholds and filtered
    #: afterwards (:func:`anonymize.pipeline.detection_confidence`). A remote one says False.
    offline: bool

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions: ...

    def info(self) -> DetectorInfo:
        """What it says of itself: for the manifest and the page."""
        ...

    def in_background(self) -> Detector:
        """The same detector, its own threads (if it has any) at background priority: for the webcam."""
        ...


@dataclass(frozen=True)
class DetectorInfo:
    """What a detector says of itself: the bundled model files it runs (the manifest records them with
    their sha256), the device they run on, and what a remote service reports of its model (the page shows it)."""

    model_files: tuple[str, ...] = ()
    device: Device | None = None
    details: Mapping[str, str] = field(default_factory=dict)


class DetectorDefaults:
    """What most detectors share: run elsewhere (not :attr:`Detector.offline`), say nothing of
    themselves, and have no threads of their own to lower in priority."""

    offline = False

    def info(self) -> DetectorInfo:
        return DetectorInfo()

    def in_background(self) -> Detector:
        return self


@lru_cache(maxsize=None)
def onnx_session(model_file: str, providers: tuple[str, ...] = (CPU_PROVIDER,)) -> onnxruntime.InferenceSession:
    """One session per model file and device for the whole process.

    On the CPU the local detector runs its two models at the same time, so each
    session gets one thread and none spin-waits. Measured with ``bench/session_options.py``
    on 2 cores (faces and plates, per sample image): see docs/benchmarks.md. ``providers``
    come from :func:`anonymize.devices.resolve`.
    """
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    # A thread that spin-waits after its run steals the core the other model is using.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model_path(model_file)), sess_options=options, providers=list(providers))


def run_in_background() -> None:
    """Give the calling thread a lower priority than the frame path's (Linux; elsewhere nothing changes).

    On the webcam detection is background work: a frame should not wait behind it for a core. An
    idle core still runs detection at full speed; on a busy machine it gets a smaller share than
    other programs, slows down, and :mod:`anonymize.pacing` has it look at a smaller picture.
    """
    if not sys.platform.startswith("linux"):  # only Linux gives a thread a niceness of its own
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, max(BACKGROUND_NICE, os.getpriority(os.PRIO_PROCESS, thread)))
    except OSError:
        pass  # not allowed (a sandbox): detection still runs, at the priority it has
