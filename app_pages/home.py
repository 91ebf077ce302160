import streamlit as st

from ui.model_status import show_active, show_unusable
from ui.navigation import BATCH, IMAGE, VIDEO, WEBCAM, link
from ui.page_setup import current_choice

st.title("Anonymize faces and licence plates")
st.write(
    "Find faces and licence plates in pictures and hide them (blur, pixelate, fill or fog), so that photos "
    "can be kept, shared or put into a dataset without the personal data in them. Tune the thresholds and "
    "the censoring in the sidebar of each page that uses them; the address bar keeps them as a shareable link."
)
choice = current_choice()
if choice.connection.detector is None:
    show_unusable(choice)
else:
    show_active(choice)
for page, what in (
    (IMAGE, "One or a few photos: before and after, counts, the raw JSON, downloads."),
    (BATCH, "Many images or zip archives in; a gallery, one zip and one JSON out."),
    (WEBCAM, "Live: every frame censored before it is shown."),
    (VIDEO, "A video in; an anonymized MP4 with its sound, and per-frame predictions, out."),
):
    link(page, label=page.title)
    st.caption(what)
st.caption(
    "Outputs carry no EXIF, GPS, XMP or thumbnails. A picture that could not be fully processed is never offered as anonymized."
)
