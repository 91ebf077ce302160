"""Showing a processed picture: before/after, detections, raw JSON, timings, downloads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePath

import altair as alt
import streamlit as st

from anonymize.annotate import draw_boxes
from anonymize.detections import CONFIDENT, Predictions
from anonymize.media import OUTPUT_EXTENSIONS, encode_image
from anonymize.pipeline import Result, Settings
from ui.processing import Processed
from ui.sidebar import SidebarChoice

MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def show_processed(done: Processed, choice: SidebarChoice, key: str) -> None:
    result, pixels = done.result, done.loaded.pixels
    boxed = result.predictions if choice.show_low_confidence else result.predictions.above(CONFIDENT)
    before = draw_boxes(pixels, boxed) if choice.show_boxes else pixels
    left, right = st.columns(2)
    left.image(before, caption="Before" + (" (boxes: what was found)" if choice.show_boxes else ""), output_format="JPEG")
    right.image(result.image, caption="After", output_format="JPEG")

    counts = Counter(d.class_name for d in result.confident)
    band_help = f"Found with at least {CONFIDENT:.0%} confidence, and hidden; the low-confidence regions under that are hidden too, to be safe, and not counted here."
    cols = st.columns(4)
    cols[0].metric("Faces found", counts["face"], help=band_help)
    cols[1].metric("Plates found", counts["license-plate"], help=band_help)
    cols[2].metric("Detection", f"{done.detect_seconds * 1000:.0f} ms")
    cols[3].metric("Censoring", f"{result.seconds * 1000:.0f} ms")
    st.caption(f"Hidden: {result.summary}." + (" Their boxes are drawn when “Box low-confidence regions” is on." if result.low_confidence and not choice.show_low_confidence else ""))

    table, statistics, raw = st.tabs(["Detections", "Prediction statistics", "Raw JSON"])
    hidden_ids = {d.detection_id for d in result.hidden}
    table.dataframe(
        [
            {"class": d.class_name, "confidence %": round(d.confidence * 100, 1), "x": round(d.center[0]), "y": round(d.center[1]),
             "width": round(d.width), "height": round(d.height), "hidden": d.detection_id in hidden_ids,
             "low confidence": d.confidence < CONFIDENT}
            for d in result.predictions
        ],
        width="stretch",
    )
    with statistics:
        show_statistics(done.candidates, result, choice.settings)
    raw.json(result.to_json(), expanded=2)

    stem, format = PurePath(done.name).stem, done.loaded.output_format
    if result.warning:  # never offered as anonymized without a word
        st.warning(f"This picture is unchanged: {result.warning}.")
    left, right = st.columns(2)
    left.download_button(
        "Download image (nothing hidden)" if result.warning else "Download anonymized image",
        data=lambda: encode_image(result.image, format),
        file_name=f"{stem}_{'unchanged' if result.warning else 'anonymized'}.{OUTPUT_EXTENSIONS[format]}",
        mime=MIME_TYPES[format],
        key=f"image-{key}",
        on_click="ignore",
        type="primary",
    )
    right.download_button(
        "Download predictions (JSON)",
        data=json.dumps(result.to_json(), indent=2),
        file_name=f"{stem}_predictions.json",
        mime="application/json",
        key=f"json-{key}",
        on_click="ignore",
    )


def show_statistics(candidates: Predictions, result: Result, settings: Settings) -> None:
    """Why the count is what it is: per class, how many were found, hidden to be safe, or left
    below the slider, and a histogram of every candidate's confidence with the slider marked."""
    names = sorted({d.class_name for d in candidates})
    if not names:
        st.caption("The model found no candidate at all in this picture.")
        return
    per_class = {name: Counter() for name in names}
    for group, found in (("found", result.confident), ("hidden to be safe", result.low_confidence), ("above", result.predictions), ("all", candidates)):
        for d in found:
            per_class[d.class_name][group] += 1
    st.dataframe(
        [{"class": name, "threshold %": settings.threshold(name), f"found (≥ {CONFIDENT:.0%})": n["found"],
          "hidden to be safe": n["hidden to be safe"], "below the threshold": n["all"] - n["above"]} for name, n in per_class.items()],
        hide_index=True,
    )
    for name in names:
        values = [{"confidence %": d.confidence * 100} for d in candidates if d.class_name == name]
        bars = alt.Chart(alt.Data(values=values), title=f"{name}: every candidate's confidence, threshold in red").mark_bar().encode(
            alt.X("confidence %:Q", bin=alt.Bin(extent=[0, 100], step=5), title="confidence %"), alt.Y("count():Q", title="candidates"))
        rule = alt.Chart(alt.Data(values=[{"threshold %": settings.threshold(name)}])).mark_rule(color="red", size=2).encode(x="threshold %:Q")
        st.altair_chart(bars + rule)
