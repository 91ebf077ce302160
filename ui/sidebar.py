"""The shared sidebar: every control, its default, and its place in the URL.

Widgets live under fixed session-state keys, so their values persist across
pages; the non-default ones are mirrored into ``st.query_params``, so the
address bar is a shareable link to the current settings. A link restores
settings but never chooses where pictures or a key are sent: the API key, the
model source, its project and the Inference server's address are never read from
or put in the URL, and a value a link cannot hold (out of range, not a choice)
falls back to its default.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import streamlit as st
from streamlit.errors import StreamlitWidgetAlreadyInstantiatedError

from anonymize.censor import (
    CENSOR_METHODS,
    FEATHER_RANGE,
    METHODS,
    PADDING_RANGE,
    SHAPES,
    STRENGTH_RANGE,
    CensorSettings,
)
from anonymize.detections import CONFIDENT
from anonymize.detectors import DEFAULT_INFERENCE_URL, BackendConfig
from anonymize.detectors.config import TEXT_MODES
from anonymize.detectors.registry import REGISTRY
from anonymize.detectors.remote import DEFAULT_TIMEOUT, TIMEOUT_RANGE
from anonymize.detectors.text import text_available
from anonymize.devices import DEVICES
from anonymize.linkage import LIMIT, Linkage, lowest_enough, measured
from anonymize.personal_text import BUILT_IN, PATTERN_SECONDS, PersonalText
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.settings import ALL_CLASSES, CONFIDENCE_STEP, OTHER_CLASS_CONFIDENCE, TEXT, Settings
from ui.connection import Connection, connect, key_for

_LIBRARY = Settings()

#: Every control's key and default value; the URL uses the same keys.
DEFAULTS: dict[str, Any] = {
    "source": "local",
    "preset": DEFAULT_PRESET,
    "device": "auto",
    "project": "",
    "version": 1,
    "workspace": "",
    "api_url": DEFAULT_INFERENCE_URL,
    "timeout": DEFAULT_TIMEOUT,
    "classes": list(ALL_CLASSES),
    "text_mode": "all",
    "text_patterns": "",
    "confidence": float(OTHER_CLASS_CONFIDENCE),
    "overlap": int(_LIBRARY.overlap),
    "method": _LIBRARY.censor.method,
    "shape": _LIBRARY.censor.shape,
    "strength": _LIBRARY.censor.strength,
    "padding": _LIBRARY.censor.padding,
    "feather": _LIBRARY.censor.feather,
    "show_boxes": True,
    "show_low_confidence": False,
}

#: Settings a link may not carry: they choose where the visitor's pictures (and a server-side key) go. A link
#: restores how pictures are censored; it never moves them off the offline model, or names a project for the
#: operator's key to serve. Nor does it carry a user's own text patterns: they can be the very names hidden.
NOT_IN_URL = {"source", "project", "version", "workspace", "api_url", "text_patterns"}

#: Each numeric control's range; a link's value outside it is ignored.
BOUNDS: dict[str, tuple[float, float]] = {
    "version": (1, 1_000_000),
    "timeout": TIMEOUT_RANGE,
    "confidence": (0.0, 100.0),
    "overlap": (0, 100),
    "strength": STRENGTH_RANGE,
    "padding": PADDING_RANGE,
    "feather": FEATHER_RANGE,
}

#: Session-state keys the sidebar owns besides ``DEFAULTS``: per-class sliders and class lists, typed classes, the key.
_OWNED_PREFIXES = ("confidence_", "classes_")
_OWNED_KEYS = {"typed_classes", "api_key"}
#: The owned keys whose controls the last run drew (:func:`kept_state`).
_DRAWN_KEY = "_sidebar_drawn"

SOURCES = {kind: backend.label for kind, backend in REGISTRY.items()}
CHOICES = {
    "source": list(SOURCES),
    "preset": list(PRESETS),
    "device": list(DEVICES),
    "text_mode": list(TEXT_MODES),
    "method": list(METHODS),
    "shape": list(SHAPES),
}
DEVICE_HELP = "auto: an NVIDIA GPU when the [gpu] extra finds one, else the CPU · cpu · cuda: the GPU or nothing"
TEXT_MODE_LABELS = {"all": "All text", "personal": "Personal text only"}
METHOD_HELP = " · ".join(f"{method.name}: {method.description}" for method in CENSOR_METHODS.values())


@dataclass(frozen=True)
class SidebarChoice:
    """What the sidebar asks for: the backend and its connection, the pipeline settings, the view."""

    backend: BackendConfig
    connection: Connection = field(repr=False)
    settings: Settings
    show_boxes: bool
    #: Box the low-confidence regions too (they are hidden either way).
    show_low_confidence: bool = False
    #: Why no page may anonymize with these settings (nothing chosen to hide), or None; a missing model is ``connection.error``.
    problem: str | None = None
    #: A place above the thresholds where a page may show its result small, or None.
    preview_slot: Any = field(default=None, repr=False, compare=False)


def _from_url(key: str, text: str) -> Any:
    """The value a link gives ``key``; ValueError when the control cannot hold it."""
    default = DEFAULTS[key]
    if isinstance(default, list):
        return [c for c in text.split(",") if c in (*ALL_CLASSES, TEXT)]
    if isinstance(default, bool):
        return text == "1"
    value = type(default)(text)
    low, high = BOUNDS.get(key, (value, value))
    if key in CHOICES and value not in CHOICES[key] or not low <= value <= high:  # NaN fails here too
        raise ValueError(f"{key}={text} is not a value this control can hold")
    return value


def _to_url(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def init_state() -> None:
    """Seed session state once per session: from the URL where it says, else defaults."""
    for key, default in DEFAULTS.items():
        if key in st.session_state:
            continue
        try:
            from_link = key in st.query_params and key not in NOT_IN_URL
            st.session_state[key] = _from_url(key, st.query_params[key]) if from_link else default
        except (ValueError, TypeError):
            st.session_state[key] = default  # a hand-edited link with a bad value


@contextmanager
def kept_state() -> Iterator[None]:
    """Around drawing the sidebar: keep the value of every control a run does not draw, for the run that draws it
    again.

    Streamlit forgets a widget's value at the end of a run that did not draw it; writing the value
    back makes it plain session state, which survives, so a control hidden on one page (or behind
    another choice) comes back with its value. Written back in a run that draws the control, the value
    goes to the browser with it, and the browser applies it and draws the control again. So it is written:

    * after drawing, for every control this run did not draw (Streamlit refuses the write for the others);
    * before drawing, for those the last run did not draw: without it, a control coming back would show
      its default in the browser while the server used the kept value.

    Written back for every control on every rerun, as it once was, that was a quarter of the browser's
    work on a slider step (``bench/slider_latency.py``).
    """
    drawn_last = st.session_state.get(_DRAWN_KEY, ())
    for key in _owned_keys():
        if key not in drawn_last:
            st.session_state[key] = st.session_state[key]
    try:
        yield
    finally:
        drawn = set()
        for key in _owned_keys():
            try:
                st.session_state[key] = st.session_state[key]
            except StreamlitWidgetAlreadyInstantiatedError:
                drawn.add(key)
        st.session_state[_DRAWN_KEY] = drawn


def _owned_keys() -> list[str]:
    return [
        key for key in st.session_state if key in DEFAULTS or key in _OWNED_KEYS or str(key).startswith(_OWNED_PREFIXES)
    ]


def _confidence_key(class_name: str) -> str:
    return f"confidence_{class_name}"


def _seed_class_threshold(class_name: str, default: float) -> None:
    """Seed a class's slider once: from the link (its own value, else the link's one value for
    every class), else ``default``."""
    key = _confidence_key(class_name)
    if key in st.session_state:
        return
    for linked in (key, "confidence"):
        try:
            st.session_state[key] = _from_url("confidence", st.query_params[linked])
            return
        except (KeyError, ValueError, TypeError):
            continue
    st.session_state[key] = float(default)


def _threshold_controls(defaults: dict[str, float], draw: bool) -> dict[str, float]:
    """One confidence slider per class of the active model, starting at ``defaults`` (one slider for
    every class when the classes are not known); returns each class's value, or ``{}`` for the single slider.
    Without ``draw``, the values are read without drawing the sliders."""
    if not defaults:
        if draw:
            _confidence_slider("Confidence threshold (%)", "confidence")
        return {}
    values = {}
    for name, default in defaults.items():
        _seed_class_threshold(name, default)
        if draw:
            _confidence_slider(f"Confidence: {name} (%)", _confidence_key(name))
        values[name] = st.session_state[_confidence_key(name)]
    return values


def _confidence_slider(label: str, key: str) -> None:
    st.slider(
        label,
        *BOUNDS["confidence"],
        step=CONFIDENCE_STEP,
        key=key,
        help="Lowest score hidden. Lower hides more, at the risk of false alarms.",
    )


def _model_classes(connection: Connection, backend: BackendConfig) -> tuple[str, ...]:
    """The active model's classes, or () when a server does not say them."""
    if backend.kind == "local":
        return (*ALL_CLASSES, TEXT) if backend.text else ALL_CLASSES
    return tuple(connection.detector.classes) if connection.detector else ()


def _offered_classes(connection: Connection, backend: BackendConfig) -> tuple[str, ...]:
    """What "What to hide" offers: the model's classes, and locally text when the [text] extra is installed
    (choosing it loads its detector: :func:`_backend_controls` reads the choice)."""
    if backend.kind == "local" and text_available():
        return (*ALL_CLASSES, TEXT)
    return _model_classes(connection, backend)


def _backend_controls() -> tuple[BackendConfig, str]:
    """The model source and, for remote ones, where the model is; returns it with the API key."""
    source = st.selectbox("Model source", list(SOURCES), format_func=SOURCES.get, key="source")
    if source == "local":
        preset = st.selectbox(
            "Preset",
            list(PRESETS),
            key="preset",
            help=" · ".join(f"{p.name}: {p.description}" for p in PRESETS.values()),
        )
        device = st.selectbox("Device", list(DEVICES), key="device", help=DEVICE_HELP)
        # Text is found only when chosen under "What to hide", as its mode says (drawn below, read here from the
        # last run).
        state = st.session_state
        text = TEXT in state.get("classes", ()) and text_available()
        mode = state.get("text_mode", "all")
        patterns = _own_patterns() if mode == "personal" else ()
        return BackendConfig(preset=preset, device=device, text=text, text_mode=mode, text_patterns=patterns), ""
    with st.expander("Model", expanded=True):
        st.text_input("Project", key="project", placeholder="e.g. face-detection-mik1i")
        st.number_input(
            "Version", min_value=int(BOUNDS["version"][0]), max_value=int(BOUNDS["version"][1]), step=1, key="version"
        )
        if "workspace" in REGISTRY[source].fields:
            st.text_input("Workspace (optional)", key="workspace", help="Default: the workspace of the API key.")
        if "api_url" in REGISTRY[source].fields:
            st.text_input(
                "Server URL", key="api_url", help="Your Inference server, or a load balancer in front of several."
            )
        st.number_input(
            "Timeout (s)",
            *BOUNDS["timeout"],
            step=1.0,
            key="timeout",
            help="How long to wait for an answer before giving up.",
        )
        typed = st.text_input(
            "API key", type="password", key="api_key", help="Held in this session only; never shown or saved."
        )
        state = st.session_state
        key, note = key_for(source, state.api_url.strip(), typed, state.workspace.strip(), state.project.strip())
        if note:
            st.caption(note)
        if st.button("Reconnect", help="Try the connection again"):
            connect.clear()
    state = st.session_state
    config = BackendConfig(
        kind=source,
        project=state.project.strip(),
        version=int(state.version),
        workspace=state.workspace.strip(),
        api_url=state.api_url.strip(),
        timeout=float(state.timeout),
    )
    return config, key


def _class_controls(connection: Connection, backend: BackendConfig, draw: bool) -> tuple[str, ...] | None:
    """What to hide: the model's own classes, all by default; None for every class a server returns.
    Without ``draw``, the choice is read without drawing the control."""
    known = _offered_classes(connection, backend)
    if not known:
        if draw:
            st.text_input(
                "Classes to hide",
                key="typed_classes",
                placeholder="every class",
                help="Comma-separated; empty hides every class the model finds.",
            )
        typed = st.session_state.get("typed_classes", "")
        return tuple(c.strip() for c in typed.split(",") if c.strip()) or None
    # Local models: one shared key, kept in links. Remote: one key per model, so that a new model starts with all its classes.
    key = "classes" if backend.kind == "local" else f"classes_{connection.cache_key}"
    st.session_state.setdefault(key, list(known))
    if draw:
        st.multiselect("What to hide", list(known), key=key)
        if TEXT in st.session_state[key]:
            _text_controls()
    return tuple(st.session_state[key])


def _own_patterns() -> tuple[str, ...]:
    return tuple(line.strip() for line in st.session_state.get("text_patterns", "").splitlines() if line.strip())


def _text_controls() -> None:
    """Which text: all of it, or what reads as personal, with the user's own patterns."""
    st.radio("Text to hide", TEXT_MODES, format_func=TEXT_MODE_LABELS.get, key="text_mode", horizontal=True)
    if st.session_state.text_mode != "personal":
        return
    st.caption(f"Built in: {', '.join(p.name for p in BUILT_IN)}. Each line is read; only what matches is hidden.")
    st.text_area(
        "Your own patterns",
        key="text_patterns",
        placeholder="one per line: a word, a name, or a regular expression",
        help="Matched anywhere in a line, ignoring case. Records name them custom-1, custom-2…, never by their text. "
        f"A pattern still undecided after {PATTERN_SECONDS * 1000:g} ms on a line counts as matched: the line is hidden.",
    )
    try:
        PersonalText.of(_own_patterns())
    except ValueError as error:
        st.error(f"{str(error).capitalize()}: nothing is anonymized until it is fixed.")


def _censor_controls() -> None:
    st.slider(
        "Overlap threshold (%)",
        *BOUNDS["overlap"],
        key="overlap",
        help="IoU above which the weaker of two boxes is dropped (NMS).",
    )
    st.selectbox("Censor method", METHODS, key="method", help=METHOD_HELP)
    st.selectbox("Shape", SHAPES, key="shape", help="auto: ellipses for faces, rectangles for plates")
    if CENSOR_METHODS[st.session_state.method].uses_strength:
        st.slider("Strength", *BOUNDS["strength"], step=0.5, key="strength", help="Scaled to each region's size.")
    _linkage_note(measured(st.session_state.method, st.session_state.strength))
    st.slider(
        "Padding (box scale)",
        *BOUNDS["padding"],
        step=0.05,
        key="padding",
        help="1.3 grows each box to 1.3× its width and height, about its centre.",
    )
    st.slider(
        "Feather (px)",
        *BOUNDS["feather"],
        key="feather",
        help="Softens edges outward only: the inside stays fully hidden.",
    )


def _linkage_note(figure: Linkage | None) -> None:
    """What the chosen method and strength buy against a face recogniser, as measured; a warning above the limit."""
    if figure is None:
        st.caption(
            "Not measured yet: how often a face recogniser links faces hidden this way to their originals "
            "(bench/identity_linkage.py; docs/censoring.md, “What strength buys”)."
        )
        return
    st.caption(figure.sentence() + " Measured: docs/censoring.md, “What strength buys”.")
    if figure.enough:
        return
    lowest = lowest_enough(figure.method)
    remedy = (
        f"strength {lowest} or more stays under that"
        if lowest is not None
        else f"no strength of {figure.method} stays under that: where faces must not be re-identified, use fill"
    )
    st.warning(f"Above {LIMIT:g}× chance: {remedy}.")


def _view_controls() -> None:
    st.toggle("Show boxes on the original", key="show_boxes", help="Outline what was hidden on the “before” pictures.")
    st.toggle(
        "Box low-confidence regions",
        key="show_low_confidence",
        help=f"Regions under {CONFIDENT:.0%} confidence are hidden to be safe; their boxes are drawn only when this is on.",
    )


def render(*, censoring: bool = True, boxes: bool = True, preview_slot: bool = False) -> SidebarChoice:
    """Draw the controls a page acts on and return what every control says.

    The model's controls are always drawn; ``censoring`` adds what to hide, the
    thresholds and the censor settings, ``boxes`` the toggles for drawing boxes
    on "before" pictures, ``preview_slot`` an empty place above the thresholds
    for the page's result. A control not drawn keeps its value (``kept_state``).
    """
    with st.sidebar:
        backend, api_key = _backend_controls()
        connection = connect(backend, api_key)
        slot = st.empty() if preview_slot else None
        class_defaults = {name: _LIBRARY.threshold(name) for name in _model_classes(connection, backend)}
        classes = _class_controls(connection, backend, draw=censoring)
        thresholds = _threshold_controls(class_defaults, draw=censoring)
        if censoring:
            _censor_controls()
        if boxes:
            _view_controls()
        st.caption("The address bar holds these settings: copy it to share them.")
    state = st.session_state
    in_url = {k: _to_url(state[k]) for k in DEFAULTS if state[k] != DEFAULTS[k] and k not in NOT_IN_URL}
    in_url.update({_confidence_key(n): _to_url(v) for n, v in thresholds.items() if v != class_defaults[n]})
    st.query_params.from_dict(in_url)
    problem = None
    try:
        settings = Settings(
            classes=classes,
            confidence=None if thresholds else state.confidence,
            class_confidence=tuple(thresholds.items()),
            overlap=state.overlap,
            censor=CensorSettings(
                method=state.method,
                shape=state.shape,
                strength=state.strength,
                padding=state.padding,
                feather=state.feather,
            ),
        )
    except ValueError:  # nothing chosen to hide: the pages say so and show nothing as anonymized
        settings, problem = Settings(), "Nothing is chosen under “What to hide”: choose at least one class."
    return SidebarChoice(
        backend=backend,
        connection=connection,
        settings=settings,
        show_boxes=state.show_boxes,
        show_low_confidence=state.show_low_confidence,
        problem=problem,
        preview_slot=slot,
    )
