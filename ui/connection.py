"""One cached detector per backend configuration (and key), and where the API key comes from."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import streamlit as st

from anonymize.detectors import BackendConfig, Detector, create_detector
from anonymize.errors import AnonymizeError

KEY_NAME = "ROBOFLOW_API_KEY"


@dataclass(frozen=True)
class Connection:
    """A ready detector, or the sentence that says why there is none."""

    detector: Detector | None
    error: str | None
    #: Names the backend, model and key (hashed) for the detection cache.
    cache_key: str = field(default="")


def configured_key() -> str:
    """The API key from ``.streamlit/secrets.toml`` or the environment ("" when neither has one)."""
    try:
        secret = st.secrets.get(KEY_NAME, "")
    except Exception:  # no secrets file at all: Streamlit raises rather than returning nothing
        secret = ""
    return str(secret or os.environ.get(KEY_NAME, ""))


@st.cache_resource(show_spinner="Connecting to the model…", max_entries=16, ttl=3600)
def connect(config: BackendConfig, api_key: str) -> Connection:
    """Build the detector once per (config, key); a failure is cached too, until inputs change or Reconnect."""
    key_hash = hashlib.sha256(api_key.encode()).hexdigest()[:12] if api_key else "none"
    try:
        detector = create_detector(config, api_key)
    except AnonymizeError as error:
        return Connection(None, str(error))
    return Connection(detector, None, f"{config}|{key_hash}")


def describe(config: BackendConfig) -> str:
    if config.kind == "local":
        return f"local models, offline: CenterFace (faces) and YOLOv8n (licence plates), on the CPU, preset {config.preset}"
    model = f"{config.project}/{config.version}"
    if config.kind == "roboflow":
        return f"Roboflow hosted model {model}" + (f" in workspace {config.workspace}" if config.workspace else "")
    return f"Roboflow Inference server at {config.api_url}, model {model}"
