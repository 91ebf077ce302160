"""The app's pages, grouped as the navigation shows them, and which sidebar controls act on each.

Icons are emoji, never ``:material/…:`` names: a page's icon is also its favicon,
and Streamlit fetches Material favicons from Google's font servers, a request
to the outside that would tell a third party someone opened the app.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    #: The page censors: the sidebar shows what to hide, the thresholds and the censor settings.
    censors: bool = True
    #: The page draws boxes on a "before" picture: the sidebar shows the box toggles.
    draws_boxes: bool = False


HOME = PageInfo("app_pages/home.py", "Home", "🏠", censors=False)
IMAGE = PageInfo("app_pages/image.py", "Image", "🖼️", draws_boxes=True)
BATCH = PageInfo("app_pages/batch.py", "Batch", "🗂️", draws_boxes=True)
WEBCAM = PageInfo("app_pages/webcam.py", "Webcam", "📹")
VIDEO = PageInfo("app_pages/video.py", "Video", "🎞️", draws_boxes=True)

SECTIONS = {"": [HOME], "Pictures": [IMAGE, BATCH], "Moving pictures": [WEBCAM, VIDEO]}
BY_TITLE = {info.title: info for pages in SECTIONS.values() for info in pages}

#: The favicon of the app as a whole.
APP_ICON = "🙈"


def navigation():
    """``st.navigation`` over every page (built on each run, as Streamlit expects); returns the page to run."""
    return st.navigation(
        {
            section: [st.Page(info.path, title=info.title, icon=info.icon, default=info is HOME) for info in pages]
            for section, pages in SECTIONS.items()
        }
    )


def link(info: PageInfo, label: str) -> None:
    st.page_link(info.path, label=label, icon=info.icon)
