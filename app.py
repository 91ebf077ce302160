"""Entrypoint: ``streamlit run app.py``. The page list, the shared sidebar, then the chosen page."""

import streamlit as st

from ui.page_setup import page_setup

page = st.navigation(
    {
        "": [st.Page("app_pages/home.py", title="Home", icon="🏠", default=True)],
        "Pictures": [
            st.Page("app_pages/image.py", title="Image", icon="🖼️"),
            st.Page("app_pages/batch.py", title="Batch", icon="🗂️"),
        ],
    }
)
page_setup()
page.run()
