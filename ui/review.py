"""Reviewing a picture's boxes by hand: keep a detection visible, draw a box that was missed, move or resize one.

The boxes are edited on a canvas (streamlit-drawable-canvas) over the picture,
and the detections to leave visible can also be picked from a list, which is
what a keyboard (and Streamlit's AppTest) can use. Edits are kept per picture
(its name and the sha256 of its bytes) in the session, apply wherever that
picture is shown, and are written and read as an edits file (:mod:`anonymize.edits`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable

import cv2
import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from anonymize.detections import CONFIDENT, Detection, Predictions
from anonymize.detectors import model_record
from anonymize.edits import DrawnBox, Edits, PictureEdits, VideoEdits, as_saved, edits_from_boxes
from anonymize.errors import EditsError
from ui.processing import Processed
from ui.sidebar import SidebarChoice

#: Session state: {(name, sha256): PictureEdits}, and a counter per picture that changes when its
#: edits change anywhere but on its canvas (the list, an edits file, "Undo"): the canvas is then drawn afresh.
_EDITS = "review_edits"
_GENERATION = "review_generation"
_DRAWINGS = "review_drawings"
#: The canvas is at most this wide (CSS pixels) at zoom 1: the wider column of a desktop page; a phone, or a
#: larger zoom, scrolls it sideways.
CANVAS_WIDTH = 560
ZOOMS = (1.0, 1.5, 2.0, 3.0)
LABEL_FONT_SIZE = 11
DETECTED_COLOR, ADDED_COLOR = "#ff4b4b", "#00c853"
#: A detection's box on the canvas carries its number only ("#12"): a crowd's full labels covered each
#: other and the faces; the list under the canvas names each number's class and confidence.
_NUMBERED = re.compile(r"^#(\d+)(?: |$)")
ADDED_PREFIX = "+ "

PictureKey = tuple[str, str]


def picture_key(name: str, data: bytes) -> PictureKey:
    return name, hashlib.sha256(data).hexdigest()


def edits_of(key: PictureKey) -> PictureEdits:
    """The review edits of a picture (none yet: empty)."""
    return st.session_state.get(_EDITS, {}).get(key) or PictureEdits(key[1])


def all_edits() -> dict[PictureKey, PictureEdits]:
    return {key: edits for key, edits in st.session_state.get(_EDITS, {}).items() if edits}


def _store(key: PictureKey, edits: PictureEdits, *, redraw: bool) -> None:
    st.session_state.setdefault(_EDITS, {})[key] = as_saved(edits)
    if redraw:
        generations = st.session_state.setdefault(_GENERATION, {})
        generations[key] = generations.get(key, 0) + 1


def edits_file(
    choice: SidebarChoice, pictures: dict[str, PictureEdits] | None = None, videos: dict[str, VideoEdits] | None = None
) -> Edits:
    """The edits of ``pictures`` and ``videos`` (by name) as a file, with the model and settings they are shown with."""
    return Edits(model_record(choice.backend), choice.settings, pictures or {}, videos or {})


def reviewable(done: Processed, choice: SidebarChoice) -> Predictions:
    """The detections a review starts from: every one of a class chosen to hide, numbered from 0."""
    found = done.result.predictions
    return found if choice.settings.classes is None else found.of_classes(choice.settings.classes)


def box_review(
    done: Processed, key: PictureKey, choice: SidebarChoice, reprocess: Callable[[PictureEdits], Processed]
) -> Processed:
    """The canvas and the controls that edit a picture's boxes; returns the picture processed with the edits made."""
    detections = reviewable(done, choice).with_ids()
    edits = edits_of(key)
    controls = st.container(horizontal=True, vertical_alignment="bottom")
    with controls:
        new_class = class_choice(choice, detections, key="review_new_class")
        zoom = st.select_slider(
            "Zoom",
            ZOOMS,
            format_func=lambda z: f"{z:g}×",
            key="review_zoom",
            width=160,
            help="A larger canvas for small faces; it scrolls sideways.",
        )
        low = st.toggle(
            "Low-confidence boxes",
            key="review_low_confidence",
            help=f"Also put the detections under {CONFIDENT:.0%} confidence on the canvas. Off, they stay hidden as they are, "
            "and the list below still lets you leave one visible.",
        )
    generation = st.session_state.get(_GENERATION, {}).get(key, 0)
    # A new canvas whenever the detections change (a slider moved): its numbered boxes name them by index.
    found = hashlib.sha256("".join(detections.detection_id).encode()).hexdigest()[:16]
    kept = set(edits.apply(detections).kept_visible.detection_id)
    on_canvas = [
        i for i, d in enumerate(detections) if d.detection_id not in kept and (low or d.confidence >= CONFIDENT)
    ]
    boxes = [(f"#{i}", DETECTED_COLOR, detections[i]) for i in on_canvas]
    drawn = box_canvas(
        done.loaded.pixels,
        boxes + [(ADDED_PREFIX + d.class_name, ADDED_COLOR, d) for d in edits.added],
        new_class,
        zoom,
        key=f"review-canvas-{key[1][:16]}-{found}-{generation}-{zoom:g}-{low:d}",
    )
    if drawn is not None:
        # Hidden as found: the detections left off the canvas (low confidence) unless already kept visible.
        drawn_here = set(on_canvas)
        off_canvas = [
            DrawnBox(i, d.class_name, d.x1, d.y1, d.x2, d.y2)
            for i, d in enumerate(detections)
            if i not in drawn_here and d.detection_id not in kept
        ]
        from_canvas = edits_from_boxes(key[1], detections, drawn + off_canvas)
        if from_canvas != edits:
            _store(key, from_canvas, redraw=False)
            edits = from_canvas
    edits = _visible_list(detections, edits, key)
    if edits:
        st.button(
            "Undo every edit of this picture",
            key=f"review-undo-{key[1][:16]}",
            on_click=_store,
            args=(key, PictureEdits(key[1])),
            kwargs={"redraw": True},
        )
    return reprocess(edits)


def _visible_list(detections: Predictions, edits: PictureEdits, key: PictureKey) -> PictureEdits:
    """The detections to leave visible, as a list to pick from: the canvas's other way in."""
    labels = [_label(i, d) for i, d in enumerate(detections)]
    kept = edits.apply(detections.with_ids()).kept_visible
    chosen = [labels[i] for i, did in enumerate(detections.with_ids().detection_id) if did in set(kept.detection_id)]
    widget = f"review-visible-{key[1][:16]}"
    st.session_state[widget] = chosen

    def picked() -> None:
        indices = [labels.index(label) for label in st.session_state[widget]]
        _store(
            key,
            PictureEdits(key[1], tuple(detections.with_ids()[np.array(indices, np.int64)]), edits.added),
            redraw=True,
        )

    st.multiselect(
        "Leave visible on purpose",
        labels,
        key=widget,
        on_change=picked,
        placeholder="every detection is hidden",
        help="A consenting person, a false detection: what you pick here is not hidden, and the JSON and the edits file say so.",
    )
    return edits


def _label(index: int, detection) -> str:
    return f"#{index} {detection.class_name} {detection.confidence:.0%}"


def canvas_drawing(boxes: list[tuple[str, str, Detection]], scale: float) -> dict:
    """A canvas's initial drawing: each ``(label, colour, box)`` as a labelled rectangle, at ``scale``."""
    return {
        "objects": [
            {
                "type": "LabeledRect",
                "label": label,
                "left": d.x1 * scale,
                "top": d.y1 * scale,
                "width": d.width * scale,
                "height": d.height * scale,
                "originX": "left",
                "originY": "top",
                "scaleX": 1,
                "scaleY": 1,
                "angle": 0,
                "stroke": color,
                "strokeWidth": 2,
                "fill": "rgba(0, 0, 0, 0)",
                "lockRotation": True,
                "strokeUniform": True,
                "fontSize": LABEL_FONT_SIZE,
            }
            for label, color, d in boxes
        ]
    }


def box_canvas(
    pixels: np.ndarray, boxes: list[tuple[str, str, Detection]], new_class: str, zoom: float, key: str
) -> list[DrawnBox] | None:
    """The picture with ``boxes`` to edit and new ones to draw (hiding ``new_class``), ``zoom`` times the
    column's width at most; what is on it now, in picture pixels, or None before the canvas has said anything."""
    height, width = pixels.shape[:2]
    scale = min(1.0, CANVAS_WIDTH * zoom / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Drawn once per canvas: the canvas then holds the boxes, and handing it a new drawing on
    # every rerun would make it reload one that can lag behind what was just done on it.
    initial = st.session_state.setdefault(_DRAWINGS, {}).setdefault(key, canvas_drawing(boxes, scale))
    st.space("small")  # the canvas draws its toolbar above itself: keep it off the controls over it
    canvas = st_canvas(
        background_image=_shown(pixels, size),
        width=size[0],
        height=size[1],
        drawing_mode="labeled_rect",
        label=ADDED_PREFIX + new_class,
        initial_drawing=initial,
        stroke_width=2,
        stroke_color=ADDED_COLOR,
        fill_color="rgba(0, 0, 0, 0)",
        font_size=LABEL_FONT_SIZE,
        key=key,
    )
    st.caption(
        "Drag on the picture to hide something that was missed. With ✏️ (edit) on, click a box to select it: "
        "drag to move it, pull a corner to resize it, 🗑 to leave it visible. Red: detected; green: added by you."
    )
    if canvas.json_data is None:
        return None
    return [box for obj in canvas.json_data.get("objects", []) if (box := _drawn(obj, scale)) is not None]


def class_choice(choice: SidebarChoice, found: Predictions, key: str) -> str:
    """The class that boxes drawn by hand hide."""
    classes = list(
        choice.settings.classes or choice.connection.detector.classes or sorted(set(found.class_name)) or ["face"]
    )
    return st.selectbox("Boxes you draw hide a", classes, key=key, format_func=lambda c: c.replace("-", " "))


def _drawn(obj: dict, scale: float) -> DrawnBox | None:
    """A canvas object as a box in picture pixels, or None for anything that is not a labelled box."""
    if obj.get("type") != "LabeledRect":
        return None
    label = str(obj.get("label", ""))
    width, height = obj.get("width", 0) * obj.get("scaleX", 1), obj.get("height", 0) * obj.get("scaleY", 1)
    left, top = obj.get("left", 0), obj.get("top", 0)
    if obj.get("originX") == "center":
        left -= width / 2
    if obj.get("originY") == "center":
        top -= height / 2
    numbered = _NUMBERED.match(label)
    class_name = (
        label.removeprefix(ADDED_PREFIX) if not numbered else " ".join(label.split(" ")[1:2])
    )  # a detection's own class counts
    if width <= 0 or height <= 0 or not (class_name or numbered):
        return None
    return DrawnBox(
        int(numbered.group(1)) if numbered else None,
        class_name,
        left / scale,
        top / scale,
        (left + width) / scale,
        (top + height) / scale,
    )


def _shown(pixels: np.ndarray, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(
        cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if size != pixels.shape[1::-1] else pixels
    )


def uploaded_edits(widget: str, help: str) -> Edits | None:
    """An uploader for an edits file; the file's edits, once per upload (None otherwise, or when
    it is malformed: the page then says why)."""
    upload = st.file_uploader("Load edits (JSON)", type=["json"], key=widget, help=help)
    if upload is None or st.session_state.get(f"{widget}-done") == upload.file_id:
        return None
    st.session_state[f"{widget}-done"] = upload.file_id
    try:
        return Edits.loads(upload.getvalue(), upload.name)
    except EditsError as error:
        st.error(str(error))
        return None


def load_edits_upload(choice: SidebarChoice, keys: Callable[[], list[PictureKey]], widget: str) -> None:
    """An uploader for an edits file: the edits of the pictures it names (among ``keys()``, matched
    by their bytes' sha256) replace those in the session, and the page runs again."""
    loaded = uploaded_edits(
        widget, "An edits file downloaded here before: the boxes you kept visible and added come back."
    )
    if loaded is None:
        return
    by_sha = {sha: (name, sha) for name, sha in keys()}
    for entry in loaded.pictures.values():
        if entry.sha256 in by_sha:
            _store(by_sha[entry.sha256], entry, redraw=True)
    missing = [name for name, entry in loaded.pictures.items() if entry.sha256 not in by_sha]
    if missing:  # toasts outlive the rerun below
        st.toast(
            f"{len(missing)} picture(s) in the edits file are not here, or their bytes changed: {', '.join(missing)}.",
            icon="⚠️",
        )
    if loaded.settings != choice.settings:
        st.toast(
            "These edits were made with other sidebar settings; they are shown with the current ones "
            "(the command line replays them with their own).",
            icon="ℹ️",
        )
    if len(missing) < len(loaded.pictures):
        st.rerun()
