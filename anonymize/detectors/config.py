"""Which backend to use and where its model is: what the command line's flags and the sidebar's fields set.

Example:
    >>> BackendConfig().kind, BackendConfig("inference").api_url
    ('local', 'http://localhost:9001')
"""

from __future__ import annotations

from dataclasses import dataclass

from anonymize.detectors.remote import DEFAULT_TIMEOUT
from anonymize.devices import DeviceChoice
from anonymize.presets import DEFAULT_PRESET

#: Where a Roboflow Inference server listens when it is started as its documentation says.
DEFAULT_INFERENCE_URL = "http://localhost:9001"
#: The environment variable that holds a Roboflow API key, for every front end.
API_KEY_VARIABLE = "ROBOFLOW_API_KEY"
#: Which text lines the text class hides: every one, or those that read as personal (:mod:`anonymize.personal_text`).
TEXT_MODES = ("all", "personal")


@dataclass(frozen=True)
class BackendConfig:
    """Which backend to use (a :data:`~anonymize.detectors.registry.REGISTRY` kind) and where to find its
    model. Each backend reads the fields its registry entry names; the API key is never part of it."""

    kind: str = "local"
    preset: str = DEFAULT_PRESET  # local only
    project: str = ""
    version: int = 1
    workspace: str = ""
    api_url: str = DEFAULT_INFERENCE_URL
    timeout: float = DEFAULT_TIMEOUT
    device: DeviceChoice = "auto"  # local only
    #: Local only: also find text lines (the ``[text]`` extra), which only a run that hides them asks for.
    text: bool = False
    #: Which of them: one of :data:`TEXT_MODES`; in personal mode, ``text_patterns`` are a user's own
    #: regular expressions or words, beside the built-in patterns.
    text_mode: str = "all"
    text_patterns: tuple[str, ...] = ()
