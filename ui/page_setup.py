"""What the entrypoint does on every run, for every page."""

from __future__ import annotations

import streamlit as st

from anonymize.media import thumbnail
from ui import sidebar
from ui.model_status import show_unusable
from ui.navigation import APP_ICON, PageInfo
from ui.processing import shown

_CHOICE_KEY = "_sidebar_choice"


def page_setup(page: PageInfo) -> sidebar.SidebarChoice:
    """Page config, session state and the shared sidebar for ``page``; called once per run by ``app.py``.

    The sidebar is drawn from the entrypoint, not from each page, because
    widgets created there keep one identity across pages: their values survive
    page switches. It shows only the controls that act on ``page``.
    """
    st.set_page_config(page_title="Anonymize", page_icon=APP_ICON, layout="wide")
    sidebar.init_state()
    with sidebar.kept_state():
        choice = sidebar.render(censoring=page.censors, boxes=page.draws_boxes, preview_slot=page.draws_boxes)
    st.session_state[_CHOICE_KEY] = choice
    return choice


def sidebar_preview(image) -> None:
    """Show ``image`` small in the sidebar, right above the thresholds: on a phone the sidebar
    covers the page, and this is how a slider's effect stays in sight while it moves."""
    choice = current_choice()
    if choice.preview_slot is not None:
        # A thumbnail: the sidebar shows it a few hundred pixels wide, and every slider step sends it again.
        choice.preview_slot.image(shown(thumbnail(image)), caption="After, as the sliders below set it")


def current_choice() -> sidebar.SidebarChoice:
    """The sidebar's settings for this run, for the page being shown."""
    return st.session_state[_CHOICE_KEY]


def ready_choice() -> sidebar.SidebarChoice:
    """The sidebar's settings, for pages that need a working detector: without one,
    the page says why and stops, so nothing unprocessed is ever shown as anonymized."""
    choice = current_choice()
    if choice.connection.detector is None:
        show_unusable(choice)
        st.stop()
    if choice.problem:
        st.error(choice.problem)
        st.stop()
    return choice
