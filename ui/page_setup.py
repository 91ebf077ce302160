"""What the entrypoint does on every run, for every page."""

from __future__ import annotations

import streamlit as st

from ui import sidebar

_CHOICE_KEY = "_sidebar_choice"


def page_setup() -> sidebar.SidebarChoice:
    """Page config, session state and the shared sidebar; called once per run by ``app.py``.

    The sidebar is drawn from the entrypoint, not from each page, because
    widgets created there keep one identity across pages: their values survive
    page switches.
    """
    st.set_page_config(page_title="Anonymize", page_icon=":material/visibility_off:", layout="wide")
    sidebar.init_state()
    choice = sidebar.render()
    st.session_state[_CHOICE_KEY] = choice
    return choice


def current_choice() -> sidebar.SidebarChoice:
    """The sidebar's settings for this run, for the page being shown."""
    return st.session_state[_CHOICE_KEY]


def ready_choice() -> sidebar.SidebarChoice:
    """The sidebar's settings, for pages that need a working detector: without one,
    the page says why and stops, so nothing unprocessed is ever shown as anonymized."""
    choice = current_choice()
    if choice.connection.detector is None:
        st.error(f"The selected model cannot be used: {choice.connection.error}")
        st.stop()
    if choice.problem:
        st.error(choice.problem)
        st.stop()
    return choice
