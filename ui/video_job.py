"""Running one uploaded video through the library, from a temporary file that is always deleted."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from anonymize.video import VideoReport, anonymize_video
from ui.sidebar import SidebarChoice

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class VideoJob:
    report: VideoReport
    video: bytes
    predictions_jsonl: bytes

    @cached_property
    def _lines(self) -> list[bytes]:
        # Split once per job, not on every rerun of the page (a long video has tens of thousands of lines).
        return self.predictions_jsonl.splitlines()

    def frame_predictions(self, index: int) -> dict:
        """Frame ``index``'s line of the JSON lines, parsed."""
        return json.loads(self._lines[index])


def run_video_job(upload, choice: SidebarChoice, detect_every: int, progress) -> VideoJob:
    """Anonymize ``upload`` (a Streamlit UploadedFile); ``progress(fraction, text)`` is called as frames are done.

    Raises AnonymizeError; the temporary input and output are deleted either way.
    """

    def on_progress(done: int, expected: int, elapsed: float) -> None:
        left = elapsed / done * max(expected - done, 0)
        progress(min(done / max(expected, 1), 1.0), f"{done} of ~{expected} frames · about {left:.0f} s left")

    with tempfile.TemporaryDirectory(prefix="anonymize-") as folder:
        source = Path(folder) / Path(upload.name).name  # messages then name the user's file
        with open(source, "wb") as file:
            upload.seek(0)
            while chunk := upload.read(CHUNK):
                file.write(chunk)
        target, lines = Path(folder) / "anonymized.mp4", Path(folder) / "predictions.jsonl"
        report = anonymize_video(source, target, choice.connection.detector, choice.settings, detect_every=detect_every,
                                 predictions_path=lines, on_progress=on_progress)
        return VideoJob(report, target.read_bytes(), lines.read_bytes())
