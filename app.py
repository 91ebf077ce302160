"""Entrypoint: ``streamlit run app.py``. The page list, the shared sidebar, then the chosen page."""

from ui.navigation import BY_TITLE, navigation
from ui.page_setup import page_setup

page = navigation()
page_setup(BY_TITLE[page.title])
page.run()
