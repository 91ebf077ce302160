from pathlib import PurePath

import streamlit as st

from anonymize.errors import AnonymizeError
from anonymize.frames import DEFAULT_DETECT_EVERY
from anonymize.tracking import COAST_SECONDS
from ui.last_run import RunKey, earlier_results_notice
from ui.page_setup import ready_choice
from ui.review import edits_file
from ui.video_job import MAX_DETECT_EVERY, run_video_job
from ui.video_review import load_video_edits, review_tracks, video_edits_of, video_key
from ui.views import before_picture, metrics, show_json, small_pair, text_cost_note

TRACKING_HELP = (
    "Frames where tracking hid a face or plate that the frame's own detection did not find, or did not look for "
    "(between detections): it carried the box from the detections just before or after. Extra cover, not misses."
)

st.title("Video")
choice = ready_choice()
st.write("Upload a video; get it back as MP4 with every frame anonymized and its sound kept.")
upload = st.file_uploader("Video: MP4, MOV, WebM, MKV", type=["mp4", "mov", "m4v", "webm", "mkv", "avi"])
detect_every = st.select_slider(
    "Detect on every k-th frame",
    options=list(range(1, MAX_DETECT_EVERY + 1)),
    value=DEFAULT_DETECT_EVERY,
    key="detect_every",
    help="Higher is faster. Tracking covers the frames in between, and detection runs sooner after a cut or a jump "
    "that tracking cannot follow. Measured leaks and speed per value: docs/benchmarks.md, “Video and tracking”.",
)
if note := text_cost_note(choice):
    st.caption(note)
if not upload:
    st.info("Add a video to start.")
    st.stop()

job_key = RunKey(
    (upload.file_id,), choice.settings, choice.connection.cache_key, (("detect every k-th frame", detect_every),)
)
RUN_LABEL = "Anonymize video"
key = video_key(upload)


def render(label: str) -> None:
    """A button that anonymizes the upload, with the review edits made so far."""
    if st.button(label, type="primary", key=f"render-{label}"):
        bar = st.progress(0.0, text="Starting…")
        try:
            st.session_state["video_job"] = (
                job_key,
                run_video_job(upload, choice, detect_every, bar.progress, video_edits_of(key, detect_every)),
            )
        except AnonymizeError as error:
            st.session_state.pop("video_job", None)
            st.error(str(error))
            st.stop()
        st.rerun()


render(RUN_LABEL)
last = st.session_state.get("video_job")
if last is None or last[0].inputs != job_key.inputs:
    st.stop()  # nothing made yet for this video
made_with, job = last
if changes := job_key.changes_since(made_with):
    earlier_results_notice(changes, RUN_LABEL)
report = job.report
st.success(
    f"{report.frames} frames anonymized in {report.seconds:.1f} s" + (", with your review edits." if job.edits else ".")
)
metrics(
    (
        "Frames",
        report.frames,
        f"At {report.info.fps:.2f} frames per second, {report.frames / max(report.info.fps, 1e-6):.1f} s.",
    ),
    (
        "Speed",
        f"{report.frames / max(report.seconds, 1e-6):.1f} frames/s",
        "Decoding, detection, tracking, censoring and encoding together.",
    ),
    (
        "Detection ran on",
        f"{report.frames_detected} of {report.frames}",
        f"Frames the detector ran on: every {detect_every}th (the slider above), and sooner after a cut, a sudden change, "
        f"or {COAST_SECONDS:g} s without detection (what tracking can carry a box).",
    ),
    ("Tracking carried boxes on", f"{report.frames_with_carried_boxes} of {report.frames}", TRACKING_HELP),
    (
        "Scene cuts",
        len(report.cuts),
        "Frames where another shot starts"
        + (f" ({', '.join(map(str, report.cuts[:10]))}{'…' if len(report.cuts) > 10 else ''})" if report.cuts else "")
        + ': every track ends there, so no box of one shot lands on the next, and each is marked "cut" in the JSON lines.',
    ),
    *(
        (
            (
                "Kept visible on purpose",
                f"{len(report.kept_tracks)} track(s), {report.frames_with_kept} frames",
                "Tracks you chose to leave visible, and the frames they are on.",
            ),
            (
                "Added by hand",
                f"{report.added_boxes} box(es)",
                "Boxes you drew, which tracking carried to the frames around them.",
            ),
        )
        if job.edits
        else ()
    ),
)
if report.unmatched_kept:
    st.warning(
        f"{len(report.unmatched_kept)} track(s) you kept visible were not found again in this run: they stay hidden."
    )
st.video(job.video)
st.subheader("Before and after")
for preview in report.previews:
    before, caption = before_picture(preview.before, preview.hidden, choice)
    small_pair(before, f"Frame {preview.index}: {caption.lower()}", preview.after, f"Frame {preview.index}: after")
st.subheader("Per-frame predictions")
frame = st.number_input(
    "Frame",
    0,
    max(report.frames - 1, 0),
    report.previews[0].index if report.previews else 0,
    key="video_json_frame",
    help="One line of the JSON lines file per frame: what detection found, and the boxes tracking carried.",
)
show_json(job.frame_predictions(frame))

edits = video_edits_of(key, detect_every)
# Tracks are reviewed on the video they belong to: one made with other settings has other tracks.
if not changes and st.toggle(
    "Review tracks by hand",
    key="video_review",
    help="Keep a track visible (a consenting interviewee), or add boxes that tracking carries.",
):
    edits = review_tracks(upload, job, choice, key, detect_every)
    load_video_edits(upload, key, widget="video_edits_file")
edits_changed = (edits or None) != job.edits
if (
    edits_changed and not changes
):  # an added box missing from the video would be a face shown: no download until it is rendered again
    st.warning("Your review edits are not in this video yet: render it again to include them.")
    render("Render again with the edits")
stale = edits_changed or bool(changes)
stem = PurePath(upload.name).stem
left, middle, right = st.columns(3)
left.download_button(
    "Download anonymized video",
    job.video,
    f"{stem}_anonymized.mp4",
    "video/mp4",
    type="primary",
    on_click="ignore",
    disabled=stale,
)
middle.download_button(
    "Download per-frame predictions (JSON lines)",
    job.predictions_jsonl,
    f"{stem}_predictions.jsonl",
    "application/jsonl",
    on_click="ignore",
    disabled=stale,
)
right.download_button(
    "Download edits (JSON)",
    edits_file(choice, videos={upload.name: edits}).dumps(),
    f"{stem}_edits.json",
    "application/json",
    on_click="ignore",
    disabled=not edits,
    help="Load them here again, or replay them: python -m anonymize … --edits FILE",
)
