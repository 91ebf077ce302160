"""One cached detector per backend configuration (and key), and where the API key comes from."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from anonymize.detectors import API_KEY_VARIABLE, BackendConfig, Detector, create_detector
from anonymize.errors import AnonymizeError, MissingSettings

KEY_NAME = API_KEY_VARIABLE
#: Inference servers the operator allows the configured key to be sent to (secrets or environment, comma-separated).
ALLOWED_URLS_NAME = "INFERENCE_API_URLS"
DEFAULT_INFERENCE_URL = BackendConfig().api_url
#: Projects the operator's key serves (``workspace/project`` or ``project``, comma-separated; secrets or environment).
ALLOWED_PROJECTS_NAME = "ROBOFLOW_PROJECTS"


@dataclass(frozen=True)
class Connection:
    """A ready detector, or the sentence that says why there is none."""

    detector: Detector | None
    error: str | None
    #: Names the backend, model and key (hashed) for the detection cache.
    cache_key: str = field(default="")
    #: The settings the user has yet to give ("API key", "project"), when that is why there is no detector.
    missing: tuple[str, ...] = ()


def secret_or_env(name: str) -> Any:
    """A setting as ``.streamlit/secrets.toml`` holds it (a TOML list stays a list), else the environment's text."""
    try:
        secret = st.secrets.get(name, "")
    except Exception:  # no secrets file at all: Streamlit raises rather than returning nothing
        secret = ""
    return secret or os.environ.get(name, "")


def configured_setting(name: str) -> str:
    """A setting as text ("" when neither secrets nor the environment has it); a TOML list joined by commas."""
    value = secret_or_env(name)
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def allowed_inference_urls() -> set[str]:
    """Where the operator's key may go besides Roboflow: ``INFERENCE_API_URLS``, else the default local server."""
    listed = [u.strip().rstrip("/") for u in configured_setting(ALLOWED_URLS_NAME).split(",") if u.strip()]
    return set(listed or [DEFAULT_INFERENCE_URL])


def allowed_projects() -> set[str]:
    """The projects the operator's key serves: ``ROBOFLOW_PROJECTS``, each ``workspace/project`` (or ``project``,
    in the key's own workspace); none when it is not set."""
    return {p.strip().strip("/") for p in configured_setting(ALLOWED_PROJECTS_NAME).split(",") if p.strip()}


def key_for(source: str, api_url: str, typed: str, workspace: str, project: str) -> tuple[str, str]:
    """The key to use for ``workspace/project`` and a caption saying where it came from.

    A key the visitor typed goes wherever the visitor points it. The operator's
    key (secrets or environment) serves only the projects the operator listed
    (:func:`allowed_projects`), and goes to an Inference server only at an address
    the operator allowed: a project or an address typed in the page (or named
    by a link) can never spend or receive the operator's key.
    """
    if typed:
        return typed, ""
    configured = configured_setting(KEY_NAME)
    if not configured:
        return "", f"No key in secrets or {KEY_NAME}."
    if (f"{workspace}/{project}" if workspace else project) not in allowed_projects():
        return (
            "",
            f"The server's own key serves only the projects in {ALLOWED_PROJECTS_NAME}; type your key for this one.",
        )
    if source == "inference" and api_url.rstrip("/") not in allowed_inference_urls():
        return (
            "",
            f"The server's own key is only sent to the addresses in {ALLOWED_URLS_NAME}; type a key for this one.",
        )
    return configured, "Using the key from secrets or the environment."


@st.cache_resource(show_spinner="Connecting to the model…", max_entries=16, ttl=3600)
def connect(config: BackendConfig, api_key: str) -> Connection:
    """Build the detector once per (config, key); a failure is cached too, until inputs change or Reconnect."""
    key_hash = hashlib.sha256(api_key.encode()).hexdigest()[:12] if api_key else "none"
    try:
        detector = create_detector(config, api_key)
    except MissingSettings as error:
        return Connection(None, str(error), missing=error.missing)
    except AnonymizeError as error:
        return Connection(None, str(error))
    return Connection(detector, None, f"{config}|{key_hash}")
