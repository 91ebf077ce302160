"""Every detection backend in one table: its name on the command line and in the sidebar, what it needs,
and how it is made, described and recorded. A new backend is a module in this package and one entry here.

Example:
    >>> [backend.kind for backend in REGISTRY.values()]
    ['local', 'roboflow', 'inference']
    >>> REGISTRY["inference"].describe(BackendConfig("inference", project="faces", version=2))
    'Roboflow Inference server at http://localhost:9001, model faces/2'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from anonymize.detectors.base import Detector
from anonymize.detectors.config import BackendConfig
from anonymize.detectors.local import local_detector
from anonymize.devices import DeviceError, resolve


@dataclass(frozen=True)
class Backend:
    """One kind of model source."""

    #: ``--backend``'s word, and :attr:`BackendConfig.kind`.
    kind: str
    #: The sidebar's choice.
    label: str
    #: How a sentence names the service ("the API key of the …"); empty for the local models.
    service: str
    #: The :class:`BackendConfig` fields it reads, besides ``kind``: the sidebar draws these.
    fields: tuple[str, ...]
    #: An API key is needed (a public model on an Inference server needs none).
    needs_key: bool
    #: The detector, connected (remote backends check the address, key and model at once).
    create: Callable[[BackendConfig, str], Detector]
    #: The backend and model as a sentence names them; never a key.
    describe: Callable[[BackendConfig], str]
    #: What names the model in a record (an edits file, a manifest); never an address or a key.
    record: Callable[[BackendConfig], dict[str, str | int]]

    def missing(self, config: BackendConfig, api_key: str) -> tuple[str, ...]:
        """The settings it needs that ``config`` (and ``api_key``) lack, as a sentence names them."""
        lacking = [
            ("API key", self.needs_key and not api_key),
            ("project", "project" in self.fields and not config.project),
        ]
        return tuple(name for name, lacks in lacking if lacks)


def _local(config: BackendConfig, _api_key: str) -> Detector:
    return local_detector(config.preset, resolve(config.device), text=config.text)


def _describe_local(config: BackendConfig) -> str:
    try:
        where = resolve(config.device).words
    except DeviceError:
        where = "the GPU (CUDA), which is not here"
    models = (
        "CenterFace (faces), YOLOv8n (licence plates) and PP-OCRv6 (text)"
        if config.text
        else ("CenterFace (faces) and YOLOv8n (licence plates)")
    )
    return f"local models, offline: {models}, on {where}, preset {config.preset}"


def _roboflow(config: BackendConfig, api_key: str) -> Detector:
    from anonymize.detectors.roboflow_hosted import RoboflowHostedDetector  # the SDK loads only when asked for

    return RoboflowHostedDetector(api_key, config.project, config.version, config.workspace or None, config.timeout)


def _describe_roboflow(config: BackendConfig) -> str:
    where = f" in workspace {config.workspace}" if config.workspace else ""
    return f"Roboflow hosted model {config.project}/{config.version}{where}"


def _inference(config: BackendConfig, api_key: str) -> Detector:
    from anonymize.detectors.inference_server import InferenceServerDetector

    return InferenceServerDetector(config.api_url, f"{config.project}/{config.version}", api_key, config.timeout)


def _remote_record(config: BackendConfig) -> dict[str, str | int]:
    return {"kind": config.kind, "project": config.project, "version": config.version}


REGISTRY: dict[str, Backend] = {
    backend.kind: backend
    for backend in (
        Backend(
            "local",
            "Local models (offline)",
            "",
            ("preset", "device", "text"),
            needs_key=False,
            create=_local,
            describe=_describe_local,
            record=lambda config: {"kind": "local", "preset": config.preset} | ({"text": True} if config.text else {}),
        ),
        Backend(
            "roboflow",
            "Roboflow hosted model",
            "Roboflow hosted model",
            ("project", "version", "workspace", "timeout"),
            needs_key=True,
            create=_roboflow,
            describe=_describe_roboflow,
            record=_remote_record,
        ),
        Backend(
            "inference",
            "Roboflow Inference server",
            "Roboflow Inference server",
            ("project", "version", "api_url", "timeout"),
            needs_key=False,
            create=_inference,
            describe=lambda config: f"Roboflow Inference server at {config.api_url}, model {config.project}/{config.version}",
            record=_remote_record,
        ),
    )
}
