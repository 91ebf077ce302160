"""Showing a processed picture: before/after, detections, raw JSON, timings, downloads."""

from __future__ import annotations

import json
from pathlib import PurePath

import streamlit as st

from anonymize.annotate import draw_boxes
from anonymize.media import OUTPUT_EXTENSIONS, encode_image
from ui.processing import Processed

MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def show_processed(done: Processed, show_boxes: bool, key: str) -> None:
    result, pixels = done.result, done.loaded.pixels
    before = draw_boxes(pixels, result.predictions) if show_boxes else pixels
    left, right = st.columns(2)
    left.image(before, caption="Before" + (" (boxes: what was found)" if show_boxes else ""), output_format="JPEG")
    right.image(result.image, caption="After", output_format="JPEG")

    counts = {name: sum(d.class_name == name for d in result.hidden) for name in ("face", "license-plate")}
    cols = st.columns(4)
    cols[0].metric("Faces hidden", counts["face"])
    cols[1].metric("Plates hidden", counts["license-plate"])
    cols[2].metric("Detection", f"{done.detect_seconds * 1000:.0f} ms")
    cols[3].metric("Censoring", f"{result.seconds * 1000:.0f} ms")

    table, raw = st.tabs(["Detections", "Raw JSON"])
    hidden_ids = {d.detection_id for d in result.hidden}
    table.dataframe(
        [
            {"class": d.class_name, "confidence %": round(d.confidence * 100, 1), "x": round(d.center[0]), "y": round(d.center[1]),
             "width": round(d.width), "height": round(d.height), "hidden": d.detection_id in hidden_ids}
            for d in result.predictions
        ],
        width="stretch",
    )
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
