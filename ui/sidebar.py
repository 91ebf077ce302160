"""The shared sidebar: every control, its default, and its place in the URL.

Widgets live under fixed session-state keys, so their values persist across
pages; the non-default ones are mirrored into ``st.query_params``, so the
address bar is a shareable link to the current settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from anonymize.censor import METHODS, SHAPES, CensorSettings
from anonymize.pipeline import ALL_CLASSES, Settings

#: Every control's key and default value; the URL uses the same keys.
DEFAULTS: dict[str, Any] = {
    "source": "local",
    "classes": list(ALL_CLASSES),
    "confidence": 20,
    "overlap": 30,
    "method": "blur",
    "shape": "auto",
    "strength": 5.0,
    "padding": 1.3,
    "feather": 0,
    "show_boxes": True,
}

SOURCES = {"local": "Local models (offline)"}
METHOD_HELP = "blur: Gaussian · pixelate: mosaic of cell means · fill: solid black, irreversible · fog: blur under a veil"


@dataclass(frozen=True)
class SidebarChoice:
    """What the sidebar asks for: the pipeline settings and how to show results."""

    settings: Settings
    source: str
    show_boxes: bool


def _from_url(key: str, text: str) -> Any:
    default = DEFAULTS[key]
    if isinstance(default, list):
        return [c for c in text.split(",") if c in ALL_CLASSES]
    if isinstance(default, bool):
        return text == "1"
    return type(default)(text)


def _to_url(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def init_state() -> None:
    """Seed session state once per session: from the URL where it says, else defaults."""
    for key, default in DEFAULTS.items():
        if key in st.session_state:
            continue
        try:
            st.session_state[key] = _from_url(key, st.query_params[key]) if key in st.query_params else default
        except (ValueError, TypeError):
            st.session_state[key] = default  # a hand-edited link with a bad value


def render() -> SidebarChoice:
    """Draw the controls and return what they say."""
    with st.sidebar:
        st.selectbox("Model source", list(SOURCES), format_func=SOURCES.get, key="source")
        st.multiselect("What to hide", list(ALL_CLASSES), key="classes")
        st.slider("Confidence threshold (%)", 0, 100, key="confidence", help="Lowest score kept. Lower hides more, at the risk of false alarms.")
        st.slider("Overlap threshold (%)", 0, 100, key="overlap", help="IoU above which the weaker of two boxes is dropped (NMS).")
        st.selectbox("Censor method", METHODS, key="method", help=METHOD_HELP)
        st.selectbox("Shape", SHAPES, key="shape", help="auto: ellipses for faces, rectangles for plates")
        st.slider("Strength", 1.0, 10.0, step=0.5, key="strength", help="Scaled to each region's size.")
        st.slider("Padding (box scale)", 1.0, 2.0, step=0.05, key="padding", help="1.3 grows each box to 1.3× its width and height, about its centre.")
        st.slider("Feather (px)", 0, 30, key="feather", help="Softens edges outward only: the inside stays fully hidden.")
        st.toggle("Show boxes on the original", key="show_boxes")
        st.caption("The address bar holds these settings: copy it to share them.")
    state = st.session_state
    st.query_params.from_dict({k: _to_url(state[k]) for k in DEFAULTS if state[k] != DEFAULTS[k]})
    settings = Settings(
        classes=tuple(state.classes),
        confidence=state.confidence,
        overlap=state.overlap,
        censor=CensorSettings(method=state.method, shape=state.shape, strength=state.strength, padding=state.padding, feather=state.feather),
    )
    return SidebarChoice(settings=settings, source=state.source, show_boxes=state.show_boxes)
