"""Reviewing a video: the tracks found, each with a crop; keep one visible; add boxes on a frame for tracking to carry.

Edits are kept per video (its name and the sha256 of its bytes) in the session,
and a video is rendered again with them (:func:`ui.video_job.run_video_job`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import streamlit as st

from anonymize.annotate import draw_boxes
from anonymize.detections import Detection, Predictions
from anonymize.edits import OnFrame, VideoEdits, as_saved, match_box
from anonymize.video import TrackSummary
from ui.review import ADDED_COLOR, ADDED_PREFIX, box_canvas, class_choice, uploaded_edits
from ui.sidebar import SidebarChoice
from ui.video_job import VideoJob, frame_of

_EDITS = "video_edits"
_DIGESTS = "video_digests"
_GENERATION = "video_review_generation"

VideoKey = tuple[str, str]


def video_key(upload) -> VideoKey:
    """The upload's name and the sha256 of its bytes (hashed once per upload)."""
    digests = st.session_state.setdefault(_DIGESTS, {})
    if upload.file_id not in digests:
        digests[upload.file_id] = hashlib.sha256(upload.getvalue()).hexdigest()
    return upload.name, digests[upload.file_id]


def video_edits_of(key: VideoKey, detect_every: int) -> VideoEdits:
    """The review edits of a video, at the detection rate it is rendered at (none yet: empty)."""
    stored = st.session_state.get(_EDITS, {}).get(key) or VideoEdits(key[1], detect_every)
    return replace(stored, detect_every=detect_every)


def _store(key: VideoKey, edits: VideoEdits, *, redraw: bool = False) -> None:
    st.session_state.setdefault(_EDITS, {})[key] = as_saved(edits)
    if redraw:
        st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1


def review_tracks(upload, job: VideoJob, choice: SidebarChoice, key: VideoKey, detect_every: int) -> VideoEdits:
    """The tracks of ``job`` to keep visible, and a frame to add boxes on; returns the edits as they now are.

    A kept track is named by its first detection (a frame and a box): track numbers change
    from run to run, a detection does not. One kept in the run shown is listed as kept.
    """
    report, edits = job.report, video_edits_of(key, detect_every)
    tracks = sorted(report.tracks.values(), key=lambda t: (t.first_frame, t.tracker_id))
    st.markdown(f"**Tracks found: {len(tracks)}**")
    if tracks:
        st.dataframe(
            [
                {
                    "crop": _data_url(t.crop),
                    "track": t.tracker_id,
                    "class": t.class_name,
                    "frames": f"{t.first_frame}–{t.last_frame}",
                    "detected on": t.detections,
                    "best confidence %": round(t.confidence * 100, 1),
                }
                for t in tracks
            ],
            column_config={"crop": st.column_config.ImageColumn("crop", width="small")},
            hide_index=True,
            height=min(400, 40 + 36 * len(tracks)),
        )
        edits = _kept_list(tracks, job, edits, key)
    edits = _frame_boxes(upload, job, choice, edits, key)
    if edits:
        st.button(
            "Undo every edit of this video",
            key="video-review-undo",
            on_click=_store,
            args=(key, VideoEdits(key[1], detect_every)),
            kwargs={"redraw": True},
        )
    return edits


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _label(track: TrackSummary) -> str:
    return f"#{track.tracker_id} {track.class_name}, frames {track.first_frame}–{track.last_frame}"


def _kept_list(tracks: list[TrackSummary], job: VideoJob, edits: VideoEdits, key: VideoKey) -> VideoEdits:
    """Which tracks to leave visible: named in the edits by their first detection, or kept in the run shown."""
    shown_with_these = (job.edits or None) == (edits or None)
    kept = [
        t
        for t in tracks
        if any(
            k.frame == t.first_frame and match_box(k.box, Predictions.of([t.first_box], 0, 0)) is not None
            for k in edits.kept_tracks
        )
        or (shown_with_these and t.tracker_id in job.report.kept_tracks)
    ]
    labels = {_label(t): t for t in tracks}
    widget = "video-kept-tracks"
    st.session_state[widget] = [_label(t) for t in kept]

    def picked() -> None:
        chosen = [labels[label] for label in st.session_state[widget]]
        _store(
            key, replace(edits, kept_tracks=tuple(OnFrame(t.first_frame, t.first_box, t.tracker_id) for t in chosen))
        )

    st.multiselect(
        "Keep these tracks visible",
        list(labels),
        key=widget,
        on_change=picked,
        placeholder="every track is hidden",
        help="A consenting interviewee: the track is left out of every frame it is on, and the JSON lines say so.",
    )
    return edits


def _frame_boxes(upload, job: VideoJob, choice: SidebarChoice, edits: VideoEdits, key: VideoKey) -> VideoEdits:
    """A frame, with what was hidden on it, to draw boxes on that tracking then carries."""
    frames = job.report.frames
    index = st.number_input(
        "Add boxes on frame",
        0,
        max(frames - 1, 0),
        job.report.previews[0].index if job.report.previews else 0,
        key="video_review_frame",
        help="Draw a box over something the detector missed: it becomes a detection of this frame, and tracking carries it to the frames around.",
    )
    cover = job.frame_cover(index)
    new_class = class_choice(choice, cover, key="video_review_class")
    added_here = [a.box for a in edits.added if a.frame == index]
    generation = st.session_state.get(_GENERATION, 0)
    drawn = box_canvas(
        draw_boxes(frame_of(upload, upload.file_id, index), cover),
        [(ADDED_PREFIX + d.class_name, ADDED_COLOR, d) for d in added_here],
        new_class,
        1.0,
        key=f"video-canvas-{key[1][:16]}-{index}-{generation}",
    )
    if drawn is not None:
        boxes = tuple(OnFrame(index, Detection(d.x1, d.y1, d.x2, d.y2, 1.0, d.class_name)) for d in drawn)
        changed = as_saved(replace(edits, added=tuple(a for a in edits.added if a.frame != index) + boxes))
        if changed != edits:
            _store(key, changed)
            edits = changed
    elsewhere = sorted({a.frame for a in edits.added})
    if elsewhere:
        st.caption(f"Boxes added on frame(s) {', '.join(map(str, elsewhere))}. Red on the frame: what this run hid.")
    return edits


def load_video_edits(upload, key: VideoKey, widget: str) -> None:
    """An uploader for an edits file: its entry for this video (matched by sha256) replaces the session's."""
    loaded = uploaded_edits(
        widget, "An edits file downloaded here before: the tracks you kept visible and the boxes you added come back."
    )
    if loaded is None:
        return
    entry = next((v for v in loaded.videos.values() if v.sha256 == key[1]), None)
    if entry is None:
        st.error(f"The edits file has no edits for {upload.name} (or its bytes changed).")
        return
    _store(key, entry, redraw=True)
    st.rerun()
