"""Entrypoint: ``streamlit run app.py``. The page list, the shared sidebar, then the chosen page."""

import streamlit as st

from ui.page_setup import page_setup

page = st.navigation(
    {
        "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
        "Pictures": [
            st.Page("app_pages/image.py", title="Image", icon=":material/image:"),
            st.Page("app_pages/batch.py", title="Batch", icon=":material/folder_zip:"),
        ],
        "Moving pictures": [
            st.Page("app_pages/webcam.py", title="Webcam", icon=":material/videocam:"),
            st.Page("app_pages/video.py", title="Video", icon=":material/movie:"),
        ],
    }
)
page_setup()
page.run()
