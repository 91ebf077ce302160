"""The webcam page's glue: one live anonymizer per browser session, ICE servers, live stats."""

from __future__ import annotations

import json

import streamlit as st

from anonymize.live import LiveAnonymizer
from ui.connection import secret_or_env
from ui.sidebar import SidebarChoice

_LIVE_KEY = "_live_anonymizer"
TRACKING_HELP = (
    "Boxes still hidden on the last frame although the newest detection did not find them: the tracker "
    "keeps a face or plate covered, moving with it, for half a second after it was last seen."
)


def live_anonymizer(choice: SidebarChoice) -> LiveAnonymizer:
    """This session's anonymizer, created once and given the current sidebar settings on every rerun."""
    live = st.session_state.get(_LIVE_KEY)
    if live is None:
        live = st.session_state[_LIVE_KEY] = LiveAnonymizer(choice.connection.detector, choice.settings)
    else:
        live.configure(choice.connection.detector, choice.settings)
    return live


def rtc_configuration() -> dict:
    """ICE servers from ``ICE_SERVERS`` (JSON, in secrets or the environment); none by default.

    An explicit empty list keeps streamlit-webrtc from falling back to public STUN
    servers: on localhost no STUN is needed, and this machine may have no internet.
    """
    text = secret_or_env("ICE_SERVERS")
    if not isinstance(text, str):  # a TOML list in secrets
        return {"iceServers": list(text)}
    return {"iceServers": json.loads(text) if text else []}


@st.fragment(run_every=1.0)
def show_live_stats(live: LiveAnonymizer) -> None:
    stats = live.stats()
    cols = st.columns(5)
    cols[0].metric("Frames per second", f"{stats.fps:.1f}")
    cols[1].metric("Censoring per frame", f"{stats.frame_ms:.1f} ms")
    cols[2].metric("Detection latency", f"{stats.detection_ms:.0f} ms")
    cols[3].metric("Frames hidden whole", f"{stats.obscured} of {stats.frames}")
    cols[4].metric("Kept by tracking", stats.carried, help=TRACKING_HELP)
    if stats.error:
        st.error(f"Detection failed, so the picture is hidden: {stats.error}")
    with st.expander("Current predictions (JSON)"):
        st.json(stats.predictions or {}, expanded=2)
