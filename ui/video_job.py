"""Running one uploaded video through the library, from a temporary file that is always deleted."""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

import numpy as np
import streamlit as st

from anonymize.detections import Predictions
from anonymize.edits import VideoEdits
from anonymize.video import VideoReport, anonymize_video
from anonymize.video_io import frame_at
from ui.sidebar import SidebarChoice

CHUNK = 8 * 1024 * 1024
#: The most the Video page's "detect on every k-th frame" offers (the command line takes any k: detection still
#: runs at least every half second, and after a cut).
MAX_DETECT_EVERY = 6


@dataclass(frozen=True)
class VideoJob:
    report: VideoReport
    video: bytes
    predictions_jsonl: bytes
    #: The review edits it was rendered with, if any.
    edits: VideoEdits | None = None

    @cached_property
    def _lines(self) -> list[bytes]:
        # Split once per job, not on every rerun of the page (a long video has tens of thousands of lines).
        return self.predictions_jsonl.splitlines()

    def frame_predictions(self, index: int) -> dict:
        """Frame ``index``'s line of the JSON lines, parsed."""
        return json.loads(self._lines[index])

    def frame_cover(self, index: int) -> Predictions:
        """What was hidden on frame ``index``: its detections and the boxes tracking carried to it."""
        line = self.frame_predictions(index)
        carried = [item | {"confidence": 1.0} for item in line["carried_by_tracking"]]
        return Predictions.from_roboflow({"predictions": line["predictions"] + carried, "image": line["image"]})


@contextmanager
def _saved(upload) -> Iterator[Path]:
    """``upload`` (a Streamlit UploadedFile) as a file under its own name, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="anonymize-") as folder:
        source = Path(folder) / Path(upload.name).name  # messages then name the user's file
        with open(source, "wb") as file:
            upload.seek(0)
            while chunk := upload.read(CHUNK):
                file.write(chunk)
        yield source


def run_video_job(
    upload, choice: SidebarChoice, detect_every: int, progress, edits: VideoEdits | None = None
) -> VideoJob:
    """Anonymize ``upload``, as review ``edits`` say; ``progress(fraction, text)`` is called as frames are done.

    Raises AnonymizeError; the temporary input and output are deleted either way.
    """

    def on_progress(done: int, expected: int, elapsed: float) -> None:
        left = elapsed / done * max(expected - done, 0)
        progress(min(done / max(expected, 1), 1.0), f"{done} of ~{expected} frames · about {left:.0f} s left")

    with _saved(upload) as source:
        target, lines = source.with_name("anonymized.mp4"), source.with_name("predictions.jsonl")
        report = anonymize_video(
            source,
            target,
            choice.connection.detector,
            choice.settings,
            detect_every=detect_every,
            predictions_path=lines,
            on_progress=on_progress,
            edits=edits or None,
        )
        return VideoJob(report, target.read_bytes(), lines.read_bytes(), edits or None)


@st.cache_data(max_entries=4, show_spinner=False)
def frame_of(_upload, file_id: str, index: int) -> np.ndarray:
    """Frame ``index`` of the uploaded video ``file_id``, upright."""
    with _saved(_upload) as source:
        return frame_at(source, index)
