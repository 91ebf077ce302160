"""Streamlit glue shared by every page: the sidebar, cached models, and result views.

The pages stay thin: they read widgets and call these helpers, which call the
``anonymize`` library. No detection or image maths lives here or in a page.
"""
