import json

import streamlit as st

from anonymize.batch import anonymize_batch, review_order
from anonymize.errors import AnonymizeError
from anonymize.manifest import model_entry
from anonymize.media import IMAGE_SUFFIXES
from anonymize.run.sources import expand_archives, read_input
from ui.last_run import RunKey, earlier_results_notice
from ui.page_setup import ready_choice
from ui.processing import process, process_shown
from ui.review import all_edits, box_review, edits_file, edits_of, load_edits_upload, picture_key
from ui.upload_form import upload_form
from ui.views import hidden_label, metrics, pick_one, show_gallery, show_problems, show_processed

st.title("Batch")
choice = ready_choice()
st.write("Many images, or zip archives of them, in; one zip of anonymized images and one JSON of predictions out.")
files = st.file_uploader(
    "Images or .zip archives", type=[s.lstrip(".") for s in IMAGE_SUFFIXES] + ["zip"], accept_multiple_files=True
)
if not files:
    st.info("Add images or zip archives to start.")
    st.stop()

uploads = [(f.name, f.getvalue()) for f in files]
names = {name for name, _ in expand_archives(uploads)}
edits = {name: entry for (name, _), entry in all_edits().items() if name in names}
masks = st.checkbox(
    "Mask PNGs in the zip",
    key="batch_masks",
    help="Beside the COCO and YOLO records of what was hidden, "
    "a black-and-white PNG per picture of exactly the pixels hidden.",
)
job = RunKey(tuple(f.file_id for f in files), choice.settings, choice.connection.cache_key, (("mask PNGs", masks),))
run_label = f"Anonymize {len(files)} upload(s)"
if st.button(run_label, type="primary"):
    bar = st.progress(0.0, text="Starting…")
    done = anonymize_batch(
        uploads,
        choice.connection.detector,
        choice.settings,
        on_progress=lambda n, total, name: bar.progress(n / total, text=f"{n} of {total}: {name}"),
        edits=edits,
        model=model_entry(choice.backend, choice.connection.detector),
        masks=masks,
    )
    st.session_state["batch"] = (job, done, edits)
    bar.empty()

last = st.session_state.get("batch")
if last is None or last[0].inputs != job.inputs:
    st.stop()  # nothing made yet for these files
made_with, done, edits_in_zip = last
if changes := job.changes_since(made_with):
    earlier_results_notice(changes, run_label)
metrics(
    ("Anonymized", len(done.pictures) - len(done.warnings), "Pictures in the zip with what was found hidden."),
    (
        "Failed",
        len(done.failures),
        "Files that could not be processed: not in the zip. Their reasons are listed below.",
    ),
    *(
        (
            hidden_label(name),
            count,
            "Regions at or above their class's slider, all hidden, over every picture; each picture below says how many of them are low-confidence.",
        )
        for name, count in sorted(done.hidden_counts.items())
    ),
    (
        "Reviewed by hand",
        len(edits_in_zip),
        "Pictures in the zip rendered with your review edits: boxes added, detections kept visible on purpose.",
    ),
)
show_problems(done.failures, f"{len(done.failures)} file(s) could not be processed and are not in the zip:", st.error)
show_problems(
    done.warnings,
    f"{len(done.warnings)} picture(s) are in the zip unchanged: things were found, none of a class chosen to hide.",
    st.warning,
)
edits_changed = edits != edits_in_zip
if edits_changed:  # an added box missing from the zip would be a face shown: no download until it is made again
    st.warning("Your review edits changed since the zip was made: press “Anonymize” again to include them.")
stale = edits_changed or bool(changes)
done = upload_form(done, choice, disabled=stale)
st.session_state["batch"] = (made_with, done, edits_in_zip)
left, middle, right = st.columns(3)
left.download_button(
    "Download anonymized images (zip)",
    done.zip_bytes,
    "anonymized.zip",
    "application/zip",
    type="primary",
    on_click="ignore",
    disabled=stale or not done.predictions,
    help="The anonymized pictures; manifest.json, the record of what was done to each; records/, what was hidden as COCO JSON and YOLO labels.",
)
middle.download_button(
    "Download every picture's predictions (JSON)",
    json.dumps(done.predictions, indent=2),
    "predictions.json",
    "application/json",
    on_click="ignore",
    disabled=stale,
)
right.download_button(
    "Download edits (JSON)",
    edits_file(choice, edits).dumps(),
    "edits.json",
    "application/json",
    on_click="ignore",
    disabled=not edits,
    help="Every picture's review edits: load them here again, or replay them: python -m anonymize … --edits edits.json",
)

order = review_order(done.pictures)
if order and st.toggle(
    "Review pictures by hand, riskiest first",
    key="batch_review",
    help="Pictures with detections just above their threshold first, then those with many low-confidence regions: "
    "leave a detection visible, hide what was missed.",
):
    queue = [done.pictures[i] for i in order]
    shown = queue[
        pick_one(
            [f"{p.source} · {p.near_threshold} near the threshold, {p.low_confidence} low-confidence" for p in queue],
            key="review_queue",
            noun="pictures to review",
        )
    ]
    data = read_input(uploads, shown.source)
    key = picture_key(shown.source, data)
    try:
        area, picture = process_shown(key, data, choice, edits_of(key), shown="review_queue_result_of")
    except AnonymizeError as error:
        st.error(str(error))
    else:
        with area:
            show_processed(
                picture,
                choice,
                key=f"queue-{shown.source}",
                review=lambda current: box_review(
                    current, key, choice, lambda changed: process(shown.source, data, choice, changed)
                ),
            )
    load_edits_upload(
        choice, lambda: [picture_key(p.source, read_input(uploads, p.source)) for p in queue], widget="batch_edits_file"
    )
show_gallery(done.pictures, choice)
