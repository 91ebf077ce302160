import json

import streamlit as st

from anonymize.batch import anonymize_batch
from anonymize.media import IMAGE_SUFFIXES
from ui.page_setup import ready_choice
from ui.views import found_label, metrics, show_gallery, show_problems

st.title("Batch")
choice = ready_choice()
st.write("Many images, or zip archives of them, in; one zip of anonymized images and one JSON of predictions out.")
files = st.file_uploader("Images or .zip archives", type=[s.lstrip(".") for s in IMAGE_SUFFIXES] + ["zip"], accept_multiple_files=True)
if not files:
    st.info("Add images or zip archives to start.")
    st.stop()

# Results are shown only for exactly these files and settings, never stale ones.
job = (tuple(f.file_id for f in files), choice.settings, choice.connection.cache_key)
if st.button(f"Anonymize {len(files)} upload(s)", type="primary"):
    bar = st.progress(0.0, text="Starting…")
    done = anonymize_batch(
        [(f.name, f.getvalue()) for f in files], choice.connection.detector, choice.settings,
        on_progress=lambda n, total, name: bar.progress(n / total, text=f"{n} of {total}: {name}"),
    )
    st.session_state["batch"] = (job, done)
    bar.empty()

if st.session_state.get("batch", (None,))[0] != job:
    st.stop()
done = st.session_state["batch"][1]
metrics(
    ("Anonymized", len(done.pictures) - len(done.warnings), "Pictures in the zip with what was found hidden."),
    ("Failed", len(done.failures), "Files that could not be processed: not in the zip. Their reasons are listed below."),
    *((found_label(name), count, "Found with confidence and hidden, over every picture; low-confidence regions are hidden too, and counted per picture below.") for name, count in sorted(done.counts.items())),
)
show_problems(done.failures, f"{len(done.failures)} file(s) could not be processed and are not in the zip:", st.error)
show_problems(done.warnings, f"{len(done.warnings)} picture(s) are in the zip unchanged: things were found, none of a class chosen to hide.", st.warning)
left, right = st.columns(2)
left.download_button("Download anonymized images (zip)", done.zip_bytes, "anonymized.zip", "application/zip", type="primary", on_click="ignore", disabled=not done.predictions)
right.download_button("Download predictions (JSON)", json.dumps(done.predictions, indent=2), "predictions.json", "application/json", on_click="ignore")
show_gallery(done.pictures, choice)
