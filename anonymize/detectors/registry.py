"""Every detection backend in one table: its name on the command line and in the sidebar, what it needs,
and how it is made, described and recorded. A new backend is a module in this package and one entry here.

Example:
    >>> [backend.kind for backend in REGISTRY.values()]
    ['local', 'roboflow', 'inference']
    >>> REGISTRY["inference"].describe(BackendConfig("inference", project="faces", version=2))
    'Roboflow Inference server at http://localhost:9001, model faces/2'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from anonymize.detectors.base import Detector
from anonymize.detectors.config import BackendConfig
from anonymize.detectors.local import local_detector
from anonymize.devices import DeviceError, resolve
from anonymize.errors import DetectionError
from anonymize.personal_text import BUILT_IN, PersonalText


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
    try:
        personal = PersonalText.of(config.text_patterns) if config.text_mode == "personal" else None
    except ValueError as error:  # a user's own pattern that is not a regular expression
        raise DetectionError(str(error)) from None
    return local_detector(config.preset, resolve(config.device), text=config.text, personal=personal)


def _describe_local(config: BackendConfig) -> str:
    try:
        where = resolve(config.device).words
    except DeviceError:
        where = "the GPU (CUDA), which is not here"
    models = (
        f"CenterFace (faces), YOLOv8n (licence plates) and PP-OCRv6 ({_text_words(config)})"
        if config.text
        else ("CenterFace (faces) and YOLOv8n (licence plates)")
    )
    return f"local models, offline: {models}, on {where}, preset {config.preset}"


def _text_words(config: BackendConfig) -> str:
    if config.text_mode == "all":
        return "all text"
    own = f", and {len(config.text_patterns)} of your own" if config.text_patterns else ""
    return f"text that reads as personal: {', '.join(p.name for p in BUILT_IN)}{own}"


def _local_record(config: BackendConfig) -> dict[str, str | int]:
    """The preset and, when text is hidden, its mode and patterns by name. A user's own are named by number
    (they can be the very names being hidden), with the sha256 of all of them, so that ``--resume`` sees a
    change."""
    record: dict[str, str | int] = {"kind": "local", "preset": config.preset}
    if not config.text:
        return record
    record |= {"text": True, "text_mode": config.text_mode}
    if config.text_mode == "personal":
        names = [p.name for p in BUILT_IN] + [f"custom-{n}" for n in range(1, len(config.text_patterns) + 1)]
        record["text_patterns"] = ",".join(names)
        if config.text_patterns:
            record["text_patterns_sha256"] = hashlib.sha256("\n".join(config.text_patterns).encode()).hexdigest()
    return record


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
            ("preset", "device", "text", "text_mode", "text_patterns"),
            needs_key=False,
            create=_local,
            describe=_describe_local,
            record=_local_record,
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
