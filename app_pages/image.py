import streamlit as st

from anonymize.errors import AnonymizeError
from anonymize.media import IMAGE_SUFFIXES
from ui.page_setup import ready_choice, sidebar_preview
from ui.processing import process, process_shown
from ui.review import box_review, edits_file, edits_of, load_edits_upload, picture_key
from ui.samples import SAMPLES, sample_bytes
from ui.views import pick_one, show_processed

st.title("Image")
choice = ready_choice()
source = st.radio("Picture from", ["Sample", "Upload", "Camera"], horizontal=True, key="image_source")
if source == "Upload":
    files = st.file_uploader(
        "Images: JPEG, PNG, WebP, HEIC… (phone photos are turned upright)",
        type=[s.lstrip(".") for s in IMAGE_SUFFIXES],
        accept_multiple_files=True,
    )
    pictures = [(f.name, f.getvalue()) for f in files or []]
elif source == "Sample":
    name = st.selectbox("Sample", list(SAMPLES), format_func=lambda n: f"{n} — {SAMPLES[n]}")
    pictures = [(name, sample_bytes(name))]
else:
    shot = st.camera_input("Take a snapshot")
    pictures = [("snapshot.jpg", shot.getvalue())] if shot else []

if not pictures:
    st.info("Choose one or more pictures to anonymize.")
    st.stop()

index = pick_one([name for name, _ in pictures], key="image_shown")
name, data = pictures[index]
key = picture_key(name, data)
try:
    area, done = process_shown(key, data, choice, edits_of(key), shown="image_result_of")
except AnonymizeError as error:
    st.error(str(error))
    st.stop()
with area:
    title, toggle = st.columns([3, 1], vertical_alignment="bottom")
    title.subheader(name)
    reviewing = toggle.toggle(
        "Review boxes by hand",
        key="image_review",
        help="Leave a detection visible, hide something that was missed, move or resize a box.",
    )
    show_processed(
        done,
        choice,
        key=f"{index}-{name}",
        review=(lambda shown: box_review(shown, key, choice, lambda edits: process(name, data, choice, edits)))
        if reviewing
        else None,
        edits_json=lambda shown: edits_file(choice, {name: edits_of(key)}).dumps(),
    )
    if reviewing:
        load_edits_upload(choice, lambda: [picture_key(n, d) for n, d in pictures], widget="image_edits_file")
sidebar_preview(done.result.image)
