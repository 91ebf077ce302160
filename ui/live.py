"""The webcam page's glue: one live anonymizer per browser session, ICE servers, live stats."""

from __future__ import annotations

import json
import logging
from typing import Callable

import av
import streamlit as st

from anonymize.live import LiveAnonymizer, obscured
from ui.connection import secret_or_env
from ui.sidebar import SidebarChoice
from ui.views import metrics, show_json

_log = logging.getLogger(__name__)
_LIVE_KEY = "_live_anonymizer"
#: What the page asks the camera for (width, height).
CAMERA_SIZE = (640, 480)
TRACKING_HELP = (
    "Boxes still hidden on the last frame although the newest detection did not find them: the tracker "
    "keeps a face or plate covered, moving with it, for half a second after it was last seen."
)

DETECTION_SIZE_HELP = (
    "The picture detection looks at. When detection falls behind (a busy machine), it looks at a smaller copy "
    "of the frame, so that frames stay censored instead of hidden whole, and steps back up when there is room; "
    "the picture shown keeps the camera's size."
)


#: Whether the page starts delayed (each frame shown only once its own detection has been seen):
#: off, as ``bench/webcam.py`` measured its delay at 640×480 on a 2-core machine at 291–299 ms median but
#: 361–379 ms p95 idle, and far more under load: not under 300 ms (docs/benchmarks.md, "Delayed webcam").
DELAYED_BY_DEFAULT = False
DELAYED_HELP = (
    "Shows each frame only once a detection of that moment (or a later one) has been seen, so a face that walks in "
    "is hidden from its first frame. The picture then runs behind the camera by about two detection latencies."
)


def live_anonymizer(choice: SidebarChoice, delayed: bool) -> LiveAnonymizer:
    """This session's anonymizer, created once and given the current sidebar settings on every rerun."""
    live = st.session_state.get(_LIVE_KEY)
    if live is None:
        live = st.session_state[_LIVE_KEY] = LiveAnonymizer(
            choice.connection.detector, choice.settings, delayed=delayed
        )
    else:
        live.configure(choice.connection.detector, choice.settings, delayed=delayed)
    return live


def frame_callback(live: LiveAnonymizer) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """A ``video_frame_callback`` for streamlit-webrtc: censored frames out, never raw ones."""

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        pixels = frame.to_ndarray(format="rgb24")
        try:
            out = live.process(pixels)
        except Exception:  # whatever breaks, the raw picture must not go out
            _log.exception("live frame failed")
            out = obscured(pixels, "error: picture hidden")
        # streamlit-webrtc gives the returned frame the incoming one's timestamp itself.
        return av.VideoFrame.from_ndarray(out, format="rgb24")

    return callback


def rtc_configuration() -> dict:
    """ICE servers from ``ICE_SERVERS`` (JSON, in secrets or the environment); none by default.

    An explicit empty list keeps streamlit-webrtc from falling back to public STUN
    servers: on localhost no STUN is needed, and this machine may have no internet.
    """
    text = secret_or_env("ICE_SERVERS")
    if not isinstance(text, str):  # a TOML list in secrets
        return {"iceServers": list(text)}
    return {"iceServers": json.loads(text) if text else []}


def preset_note(choice: SidebarChoice) -> str | None:
    """For the local models, the preset and the camera's size it runs at."""
    if choice.backend.kind != "local":
        return None
    return f"Preset {choice.backend.preset}, at the camera's {CAMERA_SIZE[0]}×{CAMERA_SIZE[1]}."


@st.fragment(run_every=1.0)
def show_live_stats(live: LiveAnonymizer) -> None:
    stats = live.stats()
    metrics(
        ("Frames per second", f"{stats.fps:.1f}", None),
        ("Censoring per frame", f"{stats.frame_ms:.1f} ms", None),
        (
            "Detection latency",
            f"{stats.detection_ms:.0f} ms",
            "How long the newest detection took; frames in between are covered by tracking.",
        ),
        (
            "Hidden whole",
            f"{stats.obscured} of {stats.frames}",
            "Frames hidden whole: before the first detection, or when detection failed or fell behind.",
        ),
        ("Kept by tracking", stats.carried, TRACKING_HELP),
        (
            "Detection size",
            "–" if stats.detection_size is None else "{}×{}".format(*stats.detection_size),
            DETECTION_SIZE_HELP,
        ),
        *(
            [
                (
                    "Delay",
                    f"{stats.delay_ms:.0f} ms",
                    "How far behind the camera the picture shown is: frames wait for their own detection.",
                )
            ]
            if live.delayed
            else []
        ),
    )
    if stats.error:
        st.error(f"Detection failed, so the picture is hidden: {stats.error}")
    if stats.pace:
        st.caption(f"Detection size: {stats.pace}.")
    st.markdown("**Current predictions** (JSON, the newest detection)")
    if stats.predictions:
        show_json(stats.predictions, height=320)
    else:
        st.caption("None yet: they appear with the first detection after Start.")
