"""Detection backends behind one interface, :class:`Detector`, and the factory that picks one.

Example:
    >>> create_detector(BackendConfig()).classes
    ('face', 'license-plate')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from anonymize.detectors.base import Detector
from anonymize.detectors.centerface import CenterFaceDetector
from anonymize.detectors.combined import CombinedDetector
from anonymize.detectors.plates import PlateDetector
from anonymize.detectors.remote import DEFAULT_TIMEOUT
from anonymize.devices import CPU_PROVIDER, Device, DeviceChoice, DeviceError, resolve
from anonymize.errors import MissingSettings
from anonymize.presets import DEFAULT_PRESET, PRESETS

#: Where a Roboflow Inference server listens when it is started as its documentation says.
DEFAULT_INFERENCE_URL = "http://localhost:9001"
#: The environment variable that holds a Roboflow API key, for every front end.
API_KEY_VARIABLE = "ROBOFLOW_API_KEY"

BackendKind = Literal["local", "roboflow", "inference"]
#: The device of :func:`local_detector` when none is given: the CPU, the same everywhere.
CPU = Device("cpu", (CPU_PROVIDER,))
BACKENDS: tuple[BackendKind, ...] = ("local", "roboflow", "inference")
#: Each remote backend as a sentence names it.
SERVICES = {"roboflow": "Roboflow hosted model", "inference": "Roboflow Inference server"}


@dataclass(frozen=True)
class BackendConfig:
    """Which backend to use and where to find its model. The API key is never part of it."""

    kind: BackendKind = "local"
    preset: str = DEFAULT_PRESET  # local only
    project: str = ""
    version: int = 1
    workspace: str = ""
    api_url: str = DEFAULT_INFERENCE_URL
    timeout: float = DEFAULT_TIMEOUT
    device: DeviceChoice = "auto"  # local only


def local_detector(preset: str = DEFAULT_PRESET, device: Device = CPU) -> CombinedDetector:
    """The offline default: CenterFace for faces and YOLOv8n for licence plates, as ``preset`` says, on
    ``device`` (the float models on a GPU: the int8 ones are for CPUs)."""
    chosen = PRESETS[preset]
    face_passes = tuple((size, int8 and not device.gpu) for size, int8 in chosen.face_passes)
    detector = CombinedDetector(
        CenterFaceDetector(face_passes, providers=device.providers),
        PlateDetector(
            chosen.plate_sizes, chosen.plate_tile, chosen.plate_int8 and not device.gpu, providers=device.providers
        ),
    )
    detector.device = device
    return detector


def describe(config: BackendConfig) -> str:
    """The backend and model, as a sentence names them (no key: it is not part of the config).

    >>> describe(BackendConfig(device="cpu"))
    'local models, offline: CenterFace (faces) and YOLOv8n (licence plates), on the CPU, preset balanced'
    """
    if config.kind == "local":
        try:
            where = resolve(config.device).words
        except DeviceError:
            where = "the GPU (CUDA), which is not here"
        return f"local models, offline: CenterFace (faces) and YOLOv8n (licence plates), on {where}, preset {config.preset}"
    model = f"{config.project}/{config.version}"
    if config.kind == "roboflow":
        return f"Roboflow hosted model {model}" + (f" in workspace {config.workspace}" if config.workspace else "")
    return f"Roboflow Inference server at {config.api_url}, model {model}"


def model_record(config: BackendConfig) -> dict[str, str | int]:
    """What names the model for a record (an edits file): the preset of the local models, a
    remote model's project and version; never an address or a key.

    >>> model_record(BackendConfig())
    {'kind': 'local', 'preset': 'balanced'}
    """
    if config.kind == "local":
        return {"kind": "local", "preset": config.preset}
    return {"kind": config.kind, "project": config.project, "version": config.version}


def create_detector(config: BackendConfig, api_key: str = "") -> Detector:
    """Build (and, for remote backends, connect) the detector ``config`` describes.

    Raises DetectionError with a plain sentence when a remote backend cannot be used.
    """
    if config.kind == "local":
        return local_detector(config.preset, resolve(config.device))
    # An Inference server may run without a key (its models can be public or local).
    missing = tuple(
        name
        for name, given in (("API key", api_key or config.kind == "inference"), ("project", config.project))
        if not given
    )
    if missing:
        raise MissingSettings(SERVICES[config.kind], missing)
    if config.kind == "roboflow":
        from anonymize.detectors.roboflow_hosted import RoboflowHostedDetector

        return RoboflowHostedDetector(api_key, config.project, config.version, config.workspace or None, config.timeout)
    from anonymize.detectors.inference_server import InferenceServerDetector

    return InferenceServerDetector(config.api_url, f"{config.project}/{config.version}", api_key, config.timeout)


__all__ = [
    "BACKENDS",
    "BackendConfig",
    "CenterFaceDetector",
    "CombinedDetector",
    "Detector",
    "PlateDetector",
    "create_detector",
    "describe",
    "local_detector",
]
