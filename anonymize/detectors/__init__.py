"""Detection backends behind one interface, :class:`Detector`, and the factory that picks one from the
:data:`~anonymize.detectors.registry.REGISTRY`.

Example:
    >>> create_detector(BackendConfig()).classes
    ('face', 'license-plate')
"""

from __future__ import annotations

from anonymize.detectors.base import Detector, DetectorInfo
from anonymize.detectors.centerface import CenterFaceDetector
from anonymize.detectors.combined import CombinedDetector
from anonymize.detectors.config import API_KEY_VARIABLE, DEFAULT_INFERENCE_URL, BackendConfig
from anonymize.detectors.local import CPU, local_detector
from anonymize.detectors.plates import PlateDetector
from anonymize.detectors.registry import REGISTRY
from anonymize.errors import MissingSettings

BACKENDS: tuple[str, ...] = tuple(REGISTRY)


def describe(config: BackendConfig) -> str:
    """The backend and model, as a sentence names them (no key: it is not part of the config).

    >>> describe(BackendConfig(device="cpu"))
    'local models, offline: CenterFace (faces) and YOLOv8n (licence plates), on the CPU, preset balanced'
    """
    return REGISTRY[config.kind].describe(config)


def model_record(config: BackendConfig) -> dict[str, str | int]:
    """What names the model for a record (an edits file): the preset of the local models, a
    remote model's project and version; never an address or a key.

    >>> model_record(BackendConfig())
    {'kind': 'local', 'preset': 'balanced'}
    """
    return REGISTRY[config.kind].record(config)


def create_detector(config: BackendConfig, api_key: str = "") -> Detector:
    """Build (and, for remote backends, connect) the detector ``config`` describes.

    Raises MissingSettings when it lacks what its backend needs, DetectionError with a plain sentence
    when a remote backend cannot be used.
    """
    backend = REGISTRY[config.kind]
    missing = backend.missing(config, api_key)
    if missing:
        raise MissingSettings(backend.service, missing)
    return backend.create(config, api_key)


__all__ = [
    "API_KEY_VARIABLE",
    "BACKENDS",
    "CPU",
    "DEFAULT_INFERENCE_URL",
    "BackendConfig",
    "CenterFaceDetector",
    "CombinedDetector",
    "Detector",
    "DetectorInfo",
    "PlateDetector",
    "create_detector",
    "describe",
    "local_detector",
    "model_record",
]
