import streamlit as st

from ui.connection import describe
from ui.page_setup import current_choice

st.title("Anonymize faces and licence plates")
st.write(
    "Find faces and licence plates in pictures and hide them (blur, pixelate, fill or fog), so that photos "
    "can be kept, shared or put into a dataset without the personal data in them. Tune the thresholds and "
    "the censoring in the sidebar: every page uses them, and the address bar keeps them as a shareable link."
)
choice = current_choice()
st.info(f"**Active detector:** {describe(choice.backend)}")
if choice.connection.error:
    st.error(choice.connection.error)
st.page_link("app_pages/image.py", label="Image: one or a few photos, before and after, raw JSON, downloads", icon=":material/image:")
st.page_link("app_pages/batch.py", label="Batch: many images or a zip in, a zip and one JSON out", icon=":material/folder_zip:")
st.page_link("app_pages/webcam.py", label="Webcam: live, every frame censored before it is shown", icon=":material/videocam:")
st.page_link("app_pages/video.py", label="Video: a video in, an anonymized MP4 with its sound out", icon=":material/movie:")
st.caption("Outputs carry no EXIF, GPS, XMP or thumbnails. A picture that could not be fully processed is never offered as anonymized.")
