"""Videos in, anonymized MP4 (H.264) out, streamed frame by frame with PyAV.

What it guarantees, each learnt from bugs users of other anonymizers hit:

* **Timing is the input's.** Every output frame keeps its input timestamp, so
  frame rate and duration match the source, variable frame rate and dropped
  frames included; where timestamps are missing or do not increase (a raw
  H.264 stream, a broken recorder), frames are spaced one frame period apart.
* **Size changes are absorbed**: a stream whose resolution changes midway is
  scaled to its first size before detection, so boxes and frames always agree.
* **The length limit holds while decoding**, not only when the container
  states a duration (a live recording may state none).
* **Audio is kept, and plays everywhere**: the container's best audio stream is
  copied when it is AAC and re-encoded to AAC otherwise (``audio="copy"`` copies
  any codec MP4 can hold); a video without audio works.
* **Phone rotation is applied** before detection; the output is stored upright.
* **Streamed**: frames go to disk as they are done; only a few are in memory. They are censored
  and encoded on a writer thread while the next keyframe is detected (``bench/video.py``: 10–15 %
  more frames per second on 2 cores).
* **Tracking** (:mod:`anonymize.tracking`): each frame is censored with its
  own detections plus the boxes of tracks detected just before or after it,
  interpolated between detections and extended past the first and last, so a
  face the detector misses for a few frames, or one just entering, stays
  hidden. With ``detect_every=k`` detection runs at least every k-th frame,
  and sooner where tracking could not follow (:mod:`anonymize.keyframes`:
  a cut, a jump, boxes off their objects). Output is delayed by a few frames
  so that tracks can reach backwards.
* **Fail closed**: the output is written under a temporary name and only
  renamed when the whole video was processed; on any error nothing is left,
  and an error writing the output (a full disk) is told apart from a damaged input.
* **No metadata** (GPS location included) is copied from the input.
* **Review** (:class:`~anonymize.edits.VideoEdits`): boxes a person added on a
  frame are detections of that frame (detection runs on it), which tracking
  carries on; a track a person kept visible, found again by one of its
  detections, is left out of every frame's cover, and each JSON line lists it.
  The report lists every track found, with a small crop, for that review.

Use: ``anonymize_video("clip.mov", "clip.mp4", local_detector(), Settings())``. Reading and
writing the files is :mod:`anonymize.video_io`'s; the frame loop (detection, tracking, cover) is
:class:`~anonymize.frames.FrameAnonymizer`'s.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from anonymize.censor import censor
from anonymize.detections import Detection, Predictions
from anonymize.detectors.base import Detector
from anonymize.edits import OnFrame, VideoEdits, match_box
from anonymize.errors import MediaError, OutputError
from anonymize.frames import DEFAULT_DETECT_EVERY, FrameAnonymizer
from anonymize.media import encode_image, thumbnail
from anonymize.settings import Settings
from anonymize.tracking import COAST_SECONDS, Cover
from anonymize.video_io import (
    AUDIO_POLICIES,
    CRF_RANGE,
    DEFAULT_CRF,
    DEFAULT_MAX_SECONDS,
    WRITE_ERRNOS,
    Clock,
    Mp4Sink,
    VideoInfo,
    decoded_frames,
    open_video,
    probe,
)
from anonymize.writing import temporary_beside

#: Frames waiting for the writer thread, at the most: enough to write through a detection, few enough for memory.
WRITER_QUEUE_FRAMES = 8


@dataclass(frozen=True)
class Preview:
    """One frame, small: as it was, as written, and the boxes hidden on it (sized for the small frame)."""

    index: int
    before: np.ndarray
    after: np.ndarray
    hidden: Predictions


#: A track's crop, for a person to recognise it: its best detection with this share of margin, at most this many pixels a side.
CROP_MARGIN, CROP_SIDE = 0.25, 96


@dataclass
class TrackSummary:
    """One track of a run: its class, the frames it was detected on (first, last, how many), the box
    of its first detection (what names it in an edits file) and a small JPEG of its best detection."""

    tracker_id: int
    class_name: str
    first_frame: int
    first_box: Detection
    last_frame: int
    detections: int = 1
    confidence: float = 0.0
    crop: bytes = b""


@dataclass
class VideoReport:
    """What was done: frames, time, what detection and tracking each hid, a few before/after
    frames, the tracks found, and what a review changed."""

    info: VideoInfo
    frames: int = 0
    seconds: float = 0.0
    #: Frames that detection ran on.
    frames_detected: int = 0
    #: Frames where tracking hid something that the frame's own detection did not (or that had none).
    frames_with_carried_boxes: int = 0
    #: Boxes hidden by tracking, over all frames.
    carried_boxes: int = 0
    #: Frames that start a new shot (a cut): tracks end there (:meth:`~anonymize.tracking.Tracker.cut`).
    cuts: list[int] = field(default_factory=list)
    previews: list[Preview] = field(default_factory=list)
    tracks: dict[int, TrackSummary] = field(default_factory=dict)
    #: Review: tracks left visible on purpose, the frames where that left a box visible, tracks kept
    #: visible in the edits but not found again (they stay hidden), boxes added by hand.
    kept_tracks: set[int] = field(default_factory=set)
    frames_with_kept: int = 0
    unmatched_kept: list[OnFrame] = field(default_factory=list)
    added_boxes: int = 0


def anonymize_video(
    source: str | Path,
    target: str | Path,
    detector: Detector,
    settings: Settings,
    *,
    detect_every: int = DEFAULT_DETECT_EVERY,
    coast: float = COAST_SECONDS,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    predictions_path: str | Path | None = None,
    previews: int = 4,
    crf: int = DEFAULT_CRF,
    audio: str = "aac",
    on_progress: Callable[[int, int, float], None] | None = None,
    edits: VideoEdits | None = None,
) -> VideoReport:
    """Write an anonymized copy of ``source`` to ``target`` (MP4); see the module docstring.

    ``detect_every=k`` runs detection on every k-th frame only; tracking
    covers the frames in between. ``coast`` is how long (s) a track is
    believed away from its detections (0: each frame hides only what was
    detected on it). ``predictions_path`` gets one JSON line per frame.
    ``crf`` is the H.264 quality (:data:`CRF_RANGE`), ``audio`` one of :data:`AUDIO_POLICIES`.
    ``on_progress(frames_done, frames_expected, seconds_elapsed)`` is called as
    frames are written. ``edits`` is a review's (see the module docstring); it may have been
    made at another ``detect_every`` (the frames its boxes are on are detected whatever the rate),
    but replays identically only at its own. Raises MediaError for unreadable or too long input and
    DetectionError if the detector fails; ``target`` is then not created.
    """
    if audio not in AUDIO_POLICIES or not CRF_RANGE[0] <= crf <= CRF_RANGE[1]:
        raise ValueError(f"audio must be one of {AUDIO_POLICIES} and crf within {CRF_RANGE}")
    source, target = Path(source), Path(target)
    try:
        with (
            temporary_beside(target, ".partial.mp4") as partial,
            temporary_beside(Path(predictions_path)) if predictions_path else contextlib.nullcontext() as lines,
        ):
            try:
                info = probe(source)
                if info.duration > max_seconds:
                    raise MediaError(
                        f"{source.name}: {info.duration:.0f} s long, above the limit of {max_seconds:.0f} s."
                    )
                anonymizer = FrameAnonymizer(
                    detector, settings, info.width, info.height, info.fps, detect_every=detect_every, coast=coast
                )
                with open_video(source) as container:
                    clock = Clock(container.streams.best("video"), info.fps, max_seconds, source.name)
                    with (
                        Mp4Sink(partial, container, info, clock.time_base, crf, audio) as sink,
                        open(lines, "w") if lines else contextlib.nullcontext() as jsonl,
                    ):
                        report = VideoReport(info)
                        review = _Review(edits, report)
                        with _WriterThread(_Writer(sink, jsonl, settings, report, previews)) as writer:
                            frames = decoded_frames(container, info, clock, writer.audio)
                            _anonymize_frames(frames, anonymizer, review, writer, on_progress)
            except av.error.FFmpegError as error:
                if getattr(error, "filename", None) == str(partial) or getattr(error, "errno", None) in WRITE_ERRNOS:
                    raise OutputError(
                        f"cannot write {target}: {os.strerror(error.errno) if error.errno else error}."
                    ) from None
                raise MediaError(
                    f"{source.name}: the video is damaged or truncated ({type(error).__name__})."
                ) from None
            os.replace(partial, target)
            if lines and predictions_path:
                os.replace(lines, predictions_path)
            return report
    except OSError as error:  # the temporary files, the predictions file, or renaming into place
        problem = OutputError(f"cannot write {target}: {error.strerror or error}.")
    raise problem


#: Frames waiting for the writer thread, at the most: enough to write through a detection, few enough for memory.
WRITER_QUEUE_FRAMES = 8


def _anonymize_frames(
    frames,
    anonymizer: FrameAnonymizer,
    review: _Review,
    writer: _WriterThread,
    on_progress: Callable[[int, int, float], None] | None,
) -> None:
    """The loop: each frame through ``anonymizer`` (detected too where a review added a box), hand frames
    to the writer as they are final, and say how far it got."""
    report, time_base = writer.report, writer.writer.sink.time_base
    said = 0
    for index, (pts, pixels) in enumerate(frames):
        t = float(pts * time_base)
        step = anonymizer.push(
            index,
            t,
            pixels,
            (pts, pixels),
            must_detect=review.forces_detection(index),
            add=partial(review.with_added, index),
        )
        if step.cut:
            report.cuts.append(index)
        if step.detections is not None:
            report.frames_detected += 1
            review.saw(index, step.detections, step.tracks)
            _summarize_tracks(report.tracks, index, pixels, step.detections, step.tracks)
        for (ready_pts, ready_pixels), cover in step.ready:
            writer.write(ready_pts, ready_pixels, cover, frozenset(review.kept_ids))
        if on_progress and report.frames > said:  # called here: a page's progress bar belongs to this thread
            said = report.frames
            on_progress(said, report.info.frames, writer.elapsed())
    for (ready_pts, ready), cover in anonymizer.flush():
        writer.write(ready_pts, ready, cover, frozenset(review.kept_ids))
    writer.finish()
    if on_progress:
        on_progress(report.frames, report.info.frames, writer.elapsed())
    report.unmatched_kept = review.unmatched
    report.seconds = writer.elapsed()


class _Review:
    """A video's review edits as its frames go by: added boxes join a frame's detections, and the
    tracks kept visible are found by the detection that names each."""

    def __init__(self, edits: VideoEdits | None, report: VideoReport) -> None:
        self.edits, self.report = edits, report
        self.added_frames = {a.frame for a in edits.added} if edits else set()
        # Detection runs on the frame that names a kept track, whatever the rate: it is found there.
        self.forced = self.added_frames | ({k.frame for k in edits.kept_tracks} if edits else set())
        self._found: set[int] = set()  # indices into edits.kept_tracks

    @property
    def kept_ids(self) -> set[int]:
        return self.report.kept_tracks

    def forces_detection(self, index: int) -> bool:
        return index in self.forced

    def with_added(self, index: int, found: Predictions) -> Predictions:
        if index not in self.added_frames:
            return found
        added = self.edits.added_on(index, found.image_width, found.image_height)
        self.report.added_boxes += len(added)
        return Predictions.concatenate([found, added], found.image_width, found.image_height)

    def saw(self, index: int, detections: Predictions, tracks: np.ndarray) -> None:
        for n, kept in enumerate(self.edits.kept_tracks if self.edits else ()):
            if kept.frame == index and (row := match_box(kept.box, detections)) is not None:
                self.report.kept_tracks.add(int(tracks[row]))
                self._found.add(n)

    @property
    def unmatched(self) -> list[OnFrame]:
        return [kept for n, kept in enumerate(self.edits.kept_tracks) if n not in self._found] if self.edits else []


def _summarize_tracks(
    summaries: dict[int, TrackSummary], index: int, pixels: np.ndarray, detections: Predictions, tracks: np.ndarray
) -> None:
    """Count each detection towards its track's summary; a track's crop is of its most confident detection."""
    for row, track in enumerate(tracks.tolist()):
        detection = detections[row]
        summary = summaries.get(track)
        if summary is None:
            summary = summaries[track] = TrackSummary(track, detection.class_name, index, detection, index, 0)
        summary.last_frame, summary.detections = index, summary.detections + 1
        if detection.confidence > summary.confidence or not summary.crop:
            summary.confidence, summary.crop = detection.confidence, _crop(pixels, detection)


def _crop(pixels: np.ndarray, box: Detection) -> bytes:
    height, width = pixels.shape[:2]
    margin_x, margin_y = box.width * CROP_MARGIN, box.height * CROP_MARGIN
    x1, y1 = max(0, int(box.x1 - margin_x)), max(0, int(box.y1 - margin_y))
    x2, y2 = min(width, int(np.ceil(box.x2 + margin_x))), min(height, int(np.ceil(box.y2 + margin_y)))
    crop = pixels[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
    scale = min(1.0, CROP_SIDE / max(crop.shape[:2]))
    if scale < 1:
        crop = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
    return encode_image(np.ascontiguousarray(crop), "jpeg", quality=85)


class _Writer:
    """Censors each final frame with its cover, and writes it, its JSON line and previews."""

    def __init__(self, sink: Mp4Sink, jsonl, settings: Settings, report: VideoReport, previews: int) -> None:
        self.sink, self.jsonl, self.settings, self.report = sink, jsonl, settings, report
        frames = report.info.frames
        self.preview_at = {round(frames * (i + 0.5) / previews) for i in range(previews)} if previews else set()

    def write(self, pts: int, pixels: np.ndarray, cover: Cover, kept_ids: frozenset[int]) -> None:
        """Write one frame, leaving the tracks ``kept_ids`` (kept visible on review) out of its cover."""
        report, index = self.report, self.report.frames
        shown = cover.without_tracks(kept_ids)
        kept = [
            item | {"tracker_id": track}
            for item, track in zip(
                _boxes_json(cover.hidden), np.concatenate([cover.detected_tracks, cover.carried_tracks]).tolist()
            )
            if track in kept_ids
        ]
        cover = shown
        report.frames_with_kept += bool(kept)
        censored = censor(pixels, cover.hidden, self.settings.censor)
        if index in self.preview_at:
            before, after = thumbnail(pixels), thumbnail(censored)
            report.previews.append(
                Preview(index, before, after, cover.hidden.resized(before.shape[1], before.shape[0]))
            )
        self.sink.frame(pts, censored)
        if self.jsonl:
            self.jsonl.write(
                json.dumps(
                    {"frame": index, "time": cover.time, **cover.to_json()} | ({"kept_visible": kept} if kept else {})
                )
                + "\n"
            )
        report.frames_with_carried_boxes += bool(len(cover.carried))
        report.carried_boxes += len(cover.carried)
        report.frames += 1  # last: the loop reads it to say how far the writing got


class _WriterThread:
    """A :class:`_Writer` on a thread of its own, so that frames are censored and encoded while the next
    keyframe is detected. One queue keeps frames and audio packets in their order; an error on the
    thread (a full disk) fails the video in the caller, at its next frame or at :meth:`finish`."""

    def __init__(self, writer: _Writer) -> None:
        self.writer, self.report = writer, writer.report
        self._queue: queue.Queue = queue.Queue(maxsize=WRITER_QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="video-writer")
        self.started = time.perf_counter()

    def __enter__(self) -> _WriterThread:
        self._thread.start()
        return self

    def write(self, pts: int, pixels: np.ndarray, cover: Cover, kept_ids: frozenset[int]) -> None:
        self._put((self.writer.write, (pts, pixels, cover, kept_ids)))

    def audio(self, packet) -> None:
        self._put((self.writer.sink.audio, (packet,)))

    def finish(self) -> None:
        """Wait until every frame is written; raise what went wrong on the thread, if anything did."""
        self._join()
        self._raise()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __exit__(self, kind, *_) -> None:
        # The output is closed after this: the thread must be done with it, whatever happened here.
        self._abandoned = kind is not None
        self._join()

    def _join(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _put(self, item) -> None:
        self._raise()
        self._queue.put(item)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._abandoned:  # after an error, only empty the queue
                call, args = item
                try:
                    call(*args)
                except BaseException as error:  # noqa: BLE001 — raised again in the caller's thread
                    self._error = error


def _boxes_json(boxes: Predictions) -> list[dict]:
    return [
        {key: item[key] for key in ("x", "y", "width", "height", "class")}
        for item in boxes.to_roboflow()["predictions"]
    ]
