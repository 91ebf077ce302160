"""What the pages show: a processed picture (before/after, detections, raw JSON, timings, downloads), a gallery, figures, JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePath
from typing import Any, Callable

import numpy as np
import streamlit as st

from anonymize.annotate import draw_boxes
from anonymize.batch import Failure, Picture
from anonymize.detections import CONFIDENT, Predictions
from anonymize.media import OUTPUT_EXTENSIONS, encode_image, load_image
from anonymize.result import Result
from anonymize.settings import Settings
from anonymize.text_cost import text_cost
from ui.processing import Processed, on_picture_thread, shown, shown_original
from ui.sidebar import SidebarChoice

MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
#: How the figures name the local classes; any other class is "Hidden: <class>".
HIDDEN_LABELS = {"face": "Faces hidden", "license-plate": "Plates hidden", "text": "Text lines hidden"}


def hidden_label(class_name: str) -> str:
    return HIDDEN_LABELS.get(class_name, f"Hidden: {class_name}")


#: Pictures per gallery page: a phone scrolls through one page in a few swipes.
GALLERY_PAGE = 6
BOXED_CAPTION = "Before (boxes: what was hidden)"
DETECTION_HELP = (
    "How long the model took when this picture was first detected with these settings. Moving a confidence "
    "slider or a censor setting reuses that detection (only filtering and censoring run again), so this figure stays."
)


def hidden_help(class_name: str, confident: int, settings: Settings) -> str:
    """What a class's "hidden" figure counts, and how many of those the model is sure of."""
    return (
        f"Every {class_name} region scored {settings.threshold(class_name):g} % or more (the slider), all hidden. "
        f"{confident} of them scored {CONFIDENT * 100:g} % or more. The local face model's confidence is calibrated: "
        "of the regions it scores about 30 %, about 30 % are faces."
    )


def metrics(*items: tuple[str, Any, str | None]) -> None:
    """A row of (label, value, help) figures, each as wide as its text, that wraps on a narrow
    screen (two or three to a row on a phone) instead of stacking one per line."""
    row = st.container(horizontal=True, gap="small")
    for label, value, help_text in items:
        row.metric(label, value, help=help_text, width="content", border=True)


def pick_one(names: list[str], key: str, noun: str = "pictures") -> int:
    """Which of several items to show, chosen with Previous and Next or from a list; 0 when there is one.

    One at a time keeps a page short on a phone, whatever the number of uploads.
    """
    if len(names) < 2:
        return 0
    if st.session_state.get(key, 0) >= len(names):  # fewer items than on the last run
        st.session_state[key] = 0

    def step(by: int) -> None:
        st.session_state[key] = (st.session_state.get(key, 0) + by) % len(names)

    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.button("◀ Previous", key=f"{key}-previous", on_click=step, args=(-1,))
    row.selectbox(
        f"{len(names)} {noun}",
        range(len(names)),
        key=key,
        format_func=lambda i: f"{i + 1} of {len(names)}: {names[i]}",
        width=320,
    )
    row.button("Next ▶", key=f"{key}-next", on_click=step, args=(1,))
    return st.session_state[key]


def show_problems(problems: list[Failure], headline: str, box) -> None:
    """Each file and its reason as a list (a table's columns are cut off on a phone), in ``box`` (``st.error``…)."""
    if problems:
        box(headline + "\n\n" + "\n".join(f"- **{p.name}**: {p.reason}" for p in problems))


def small_pair(before: Any, before_caption: str, after: Any, after_caption: str) -> None:
    """Two small pictures side by side, on a phone too (columns would stack there): two equal boxes in a row."""
    pair = st.container(horizontal=True, gap="small")
    pair.container(width="stretch").image(shown(before), caption=before_caption, width="stretch")
    pair.container(width="stretch").image(shown(after), caption=after_caption, width="stretch")


def show_gallery(pictures: list[Picture], choice: SidebarChoice) -> None:
    """Before and after thumbnails of every picture, a page at a time, each with what was hidden."""
    if not pictures:
        return
    st.subheader("Before and after")
    pages = [pictures[i : i + GALLERY_PAGE] for i in range(0, len(pictures), GALLERY_PAGE)]
    labels = [f"{page[0].name} … {page[-1].name}" if len(page) > 1 else page[0].name for page in pages]
    shown = pages[pick_one(labels, key="gallery_page", noun="pages")]
    for picture in shown:
        with st.container(border=True):
            st.markdown(
                f"**{picture.name}**: {picture.summary}"
                + (f" · *{picture.warning}: written unchanged*" if picture.warning else "")
            )
            before, caption = before_picture(load_image(picture.before).pixels, picture.hidden, choice)
            small_pair(before, caption, picture.after, "After")


def show_json(payload: Any, *, height: int = 420) -> None:
    """JSON as formatted text, readable at once, with Streamlit's copy button.

    Plain, not coloured: highlighting a crowd's JSON (130 predictions, 1,500 lines) again on every
    threshold step cost the browser about 80 ms of each step on a busy machine (``bench/slider_latency.py``).
    """
    st.code(json.dumps(payload, indent=2), language=None, height=height, wrap_lines=True)


def before_picture(pixels: np.ndarray, hidden: Predictions, choice: SidebarChoice) -> tuple[np.ndarray, str]:
    """The "before" picture as the sidebar's box toggles ask for it, and its caption."""
    boxed = boxes_shown(hidden, choice)
    if boxed is None:
        return pixels, "Before"
    return on_picture_thread(draw_boxes, pixels, boxed), BOXED_CAPTION


def boxes_shown(hidden: Predictions, choice: SidebarChoice) -> Predictions | None:
    """The boxes the sidebar's toggles ask to outline on a "before" picture; None for none."""
    if not choice.show_boxes:
        return None
    return hidden if choice.show_low_confidence else hidden.above(CONFIDENT)


def show_processed(
    done: Processed,
    choice: SidebarChoice,
    key: str,
    review: Callable[[Processed], Processed] | None = None,
    edits_json: Callable[[Processed], str] | None = None,
) -> None:
    """A picture before and after, its figures, detections, raw JSON and downloads.

    With ``review``, the "before" side is the box editor: it returns the picture
    processed with the edits made, and everything after it shows that.
    ``edits_json`` gives the edits file offered for download when there are edits.
    """
    left, right = st.columns([3, 2] if review else 2)
    if review:
        with left:
            done = review(done)
    else:
        boxes = boxes_shown(done.result.hidden, choice)
        left.image(shown_original(done, boxes), caption="Before" if boxes is None else BOXED_CAPTION)
    result = done.result
    right.image(shown(result.image), caption="After" + (", as reviewed" if result.review else ""))

    hidden, confident = result.hidden_counts, result.counts
    # One figure per class chosen to hide (every class found, when a server does not say its classes),
    # the one its slider moves: a count of the confident ones alone would stay put over half the slider.
    shown_classes = choice.settings.classes or sorted(hidden)
    metrics(
        *(
            (hidden_label(name), hidden[name], hidden_help(name, confident[name], choice.settings))
            for name in shown_classes
        ),
        ("First detection", f"{done.detect_seconds * 1000:.0f} ms", DETECTION_HELP),
        (
            "This update",
            f"{result.seconds * 1000:.0f} ms",
            "Filtering the detections by the sliders and censoring the picture, on this update.",
        ),
    )
    st.caption(
        f"Hidden: {result.summary}."
        + (
            " Their boxes are drawn when “Box low-confidence regions” is on."
            if result.low_confidence and not choice.show_low_confidence
            else ""
        )
    )

    table, raw = st.columns([3, 2])
    with table:
        st.markdown("**Detections**")
        st.dataframe(detections_table(result), width="stretch", height=420)
    with raw:
        st.markdown("**Raw JSON**, as the backend returned it")
        show_json(result.to_json())
    # Drawn only while open: a collapsed expander's tables and charts cost every slider step all the same.
    statistics = st.expander(
        "Prediction statistics: why the count is what it is", key="prediction_statistics", on_change="rerun"
    )
    if statistics.open:
        with statistics:
            show_statistics(done.candidates, result, choice.settings)

    stem, format = PurePath(done.name).stem, done.loaded.output_format
    if result.warning:  # never offered as anonymized without a word
        st.warning(f"This picture is unchanged: {result.warning}.")
    reviewed = result.review and edits_json is not None
    left, right, *edits_column = st.columns(3 if reviewed else 2)
    left.download_button(
        "Download image (nothing hidden)"
        if result.warning
        else "Download reviewed image"
        if result.review
        else "Download anonymized image",
        data=lambda: encode_image(result.image, format),
        file_name=f"{stem}_{'unchanged' if result.warning else 'anonymized'}.{OUTPUT_EXTENSIONS[format]}",
        mime=MIME_TYPES[format],
        key=f"image-{key}",
        on_click="ignore",
        type="primary",
    )
    right.download_button(
        "Download predictions (JSON)",
        data=lambda: json.dumps(result.to_json(), indent=2),
        file_name=f"{stem}_predictions.json",
        mime="application/json",
        key=f"json-{key}",
        on_click="ignore",
    )
    if reviewed:
        edits_column[0].download_button(
            "Download edits (JSON)",
            data=edits_json(done),
            file_name=f"{stem}_edits.json",
            mime="application/json",
            key=f"edits-{key}",
            on_click="ignore",
            help="Load them here again, or replay them: python -m anonymize … --edits FILE",
        )
    if result.review:
        st.caption(
            f"Reviewed by hand: {len(result.review.added)} box(es) added, {len(result.review.kept_visible)} detection(s) kept visible on purpose. "
            "The image and its JSON say so."
        )


def detections_table(result: Result) -> dict[str, np.ndarray]:
    """Every prediction as a row: class, confidence, centre and size, whether it was hidden and whether it is
    low-confidence. Columns from the arrays: a crowd's 400 rows built one Detection at a time cost a slider step 5 ms."""
    found = result.predictions
    (x1, y1, x2, y2), confidence = found.xyxy.T, found.confidence
    return {
        "class": found.class_name,
        "confidence %": np.round(confidence * 100, 1),
        "x": np.round((x1 + x2) / 2).astype(int),
        "y": np.round((y1 + y2) / 2).astype(int),
        "width": np.round(x2 - x1).astype(int),
        "height": np.round(y2 - y1).astype(int),
        "hidden": np.isin(found.detection_id, result.hidden.detection_id),
        "low confidence": confidence < CONFIDENT,
    }


def show_statistics(candidates: Predictions, result: Result, settings: Settings) -> None:
    """Why the count is what it is: per class, how many were found, hidden to be safe, or left
    below the slider, and a histogram of every candidate's confidence with the slider marked."""
    names = sorted({d.class_name for d in candidates})
    if not names:
        st.caption("The model found no candidate at all in this picture.")
        return
    per_class = {name: Counter() for name in names}
    for group, found in (
        ("found", result.confident),
        ("hidden to be safe", result.low_confidence),
        ("above", result.predictions),
        ("all", candidates),
    ):
        for d in found:
            per_class[d.class_name][group] += 1
    st.dataframe(
        [
            {
                "class": name,
                "threshold %": settings.threshold(name),
                f"found (≥ {CONFIDENT:.0%})": n["found"],
                "hidden to be safe": n["hidden to be safe"],
                "below the threshold": n["all"] - n["above"],
            }
            for name, n in per_class.items()
        ],
        hide_index=True,
    )
    for name in names:
        st.vega_lite_chart(
            confidence_histogram(name, candidates.confidence[candidates.class_name == name], settings.threshold(name))
        )


def confidence_histogram(name: str, confidences: np.ndarray, threshold: float) -> dict:
    """A Vega-Lite histogram of ``confidences`` (0–1) in 5 % bins, ``threshold`` (%) in red.

    Written as the spec itself: built with Altair, its schema validation took most of a
    slider's rerun on a crowd (``bench/slider_latency.py``).
    """
    percent = {"type": "quantitative", "title": "confidence %"}
    return {
        "title": f"{name}: every candidate's confidence, threshold in red",
        "layer": [
            {
                "data": {"values": [{"confidence %": round(float(c) * 100, 2)} for c in confidences]},
                "mark": "bar",
                "encoding": {
                    "x": {"field": "confidence %", "bin": {"extent": [0, 100], "step": 5}, **percent},
                    "y": {"aggregate": "count", "type": "quantitative", "title": "candidates"},
                },
            },
            {
                "data": {"values": [{"threshold %": threshold}]},
                "mark": {"type": "rule", "color": "red", "size": 2},
                "encoding": {"x": {"field": "threshold %", **percent}},
            },
        ],
    }


def text_cost_note(choice: SidebarChoice) -> str | None:
    """When text is hidden by the local models: that it is looked for on detection frames only, and what it
    costs, as measured (:mod:`anonymize.text_cost`)."""
    backend = choice.backend
    if not (backend.kind == "local" and backend.text):
        return None
    cost, fast = text_cost(backend.preset, backend.text_mode), text_cost("fast", backend.text_mode)
    note = "Text is looked for on detection frames only; tracking carries it to the frames between."
    if cost is None:
        return note
    cheaper = f" Preset fast: {fast.with_text_ms} ms." if fast and backend.preset != "fast" else ""
    return f"{note} {cost.sentence()}{cheaper}"
