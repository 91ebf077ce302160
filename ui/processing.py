"""Cached models, cached decoding and cached detection, so that moving a slider is fast.

Decoding is keyed by the file's bytes and detection by (backend, image digest,
thresholds): a censoring change re-runs only the censor step, and a threshold
change re-runs only detection.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from anonymize.annotate import draw_boxes
from anonymize.detections import Predictions
from anonymize.detectors.base import Detector
from anonymize.edits import PictureEdits
from anonymize.errors import DetectionError
from anonymize.media import LoadedImage, encode_image, load_image
from anonymize.pipeline import detect, detection_confidence, hide
from anonymize.result import Result
from anonymize.settings import Settings
from ui.sidebar import SidebarChoice

T = TypeVar("T")


@dataclass(frozen=True)
class Processed:
    """One picture through the pipeline, with where the time went."""

    name: str
    loaded: LoadedImage
    result: Result
    detect_seconds: float
    #: Everything detection returned, below the sliders too: what the statistics show.
    candidates: Predictions
    #: The sha256 of the file: what names the picture in caches.
    digest: str


#: Threads that outlive a rerun, for the per-rerun picture work (censoring, drawing boxes). Streamlit runs each
#: rerun on a new thread, and OpenCV sets up its text and filter state once per thread: 17 ms for the first
#: label a thread draws, about 20 ms a rerun in all on a crowd (``bench/slider_latency.py``).
_PICTURE_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pictures")


def on_picture_thread(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` on one of :data:`_PICTURE_THREADS`, which have done it before."""
    return _PICTURE_THREADS.submit(work, *args).result()


#: JPEG quality of the pictures a page shows (the downloads keep their own). Streamlit encodes an array at 100:
#: 2.6 times the bytes of 90 for a 1024-px crowd (550 against 210 kB), sent and decoded again on every slider step.
SHOWN_QUALITY = 90


def shown(picture: np.ndarray | bytes) -> bytes:
    """A picture as a page shows it: JPEG at :data:`SHOWN_QUALITY` (bytes, already encoded, pass as they are)."""
    return picture if isinstance(picture, bytes) else encode_image(picture, "jpeg", quality=SHOWN_QUALITY)


@st.cache_resource(max_entries=16, show_spinner=False)
def _decode(data: bytes, name: str) -> LoadedImage:
    # Shared and never mutated: the censor step always works on a copy.
    return load_image(data, name=name)


@st.cache_data(max_entries=128, show_spinner=False)
def _detect(
    _detector: Detector, detector_key: str, _pixels: np.ndarray, image_key: str, confidence: float, overlap: float
) -> tuple[Predictions, float]:
    start = time.perf_counter()
    found = detect(_pixels, _detector, Settings(confidence=confidence, overlap=overlap))
    return found, time.perf_counter() - start


def process(name: str, data: bytes, choice: SidebarChoice, edits: PictureEdits | None = None) -> Processed:
    """Decode, detect and censor one file, as a review's ``edits`` say. Raises AnonymizeError: nothing is shown as anonymized then."""
    connection = choice.connection
    if connection.detector is None:
        raise DetectionError(f"No detector: {connection.error}")
    loaded = _decode(data, name)
    digest = hashlib.sha256(data).hexdigest()
    # Thresholding commutes with NMS: an offline detector runs once below the sliders and each slider
    # value filters its answer, so raising a confidence slider needs no new detection.
    confidence = detection_confidence(choice.settings, connection.detector)
    found, seconds = _detect(
        connection.detector, connection.cache_key, loaded.pixels, digest, confidence, choice.settings.overlap
    )
    predictions = choice.settings.keep(found)
    return Processed(
        name,
        loaded,
        on_picture_thread(hide, loaded.pixels, predictions, choice.settings, edits),
        seconds,
        found,
        digest,
    )


def shown_original(done: Processed, boxes: Predictions | None) -> bytes:
    """The original picture, with ``boxes`` outlined when given, as :func:`shown` sends it: the same boxes on
    the same picture are drawn and encoded once, so a threshold step that leaves the drawn boxes as they
    were sends the same bytes again (and the browser keeps the picture it has)."""
    if boxes is None:
        return _shown_original(done.loaded.pixels, done.digest, None, b"")
    drawn = (
        boxes.xyxy.tobytes()
        + boxes.outlines.tobytes()
        + boxes.confidence.tobytes()
        + "|".join(boxes.class_name).encode()
    )
    return _shown_original(done.loaded.pixels, done.digest, boxes, drawn)


@st.cache_data(max_entries=8, show_spinner=False)
def _shown_original(_pixels: np.ndarray, digest: str, _boxes: Predictions | None, drawn: bytes) -> bytes:
    return shown(_pixels if _boxes is None else on_picture_thread(draw_boxes, _pixels, _boxes))


def process_shown(
    key: tuple[str, str], data: bytes, choice: SidebarChoice, edits: PictureEdits | None, *, shown: str
) -> tuple[DeltaGenerator, Processed]:
    """:func:`process`, and the container to show the result in, at this point of the page.

    ``key`` is the picture's name and the sha256 of ``data`` (the review's picture key). For another
    picture than the one shown here last (``shown`` is the session key that remembers it), a spinner naming this one replaces the last one's result at once, so
    the first detection (seconds on a large photo) is never spent under a blank or under
    the last picture. For the same picture (a slider moved) the container is the one of
    the last run, so what is in it is updated in place, not built again (a canvas would
    lose what was just drawn on it, and pictures would flash).
    """
    name = key[0]
    if st.session_state.get(shown) == key:
        return st.container(), process(name, data, choice, edits)
    slot = st.empty()
    with slot, st.spinner(f"Anonymizing {name}: finding what to hide…", show_time=True):
        done = process(name, data, choice, edits)
    st.session_state[shown] = key
    return slot.container(), done
