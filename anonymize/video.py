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

Use: ``anonymize_video("clip.mov", "clip.mp4", local_detector(), Settings())``;
``probe(path)`` reads a video's size, rate, length, rotation and audio codec.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from anonymize.camera import CameraMotion
from anonymize.censor import censor
from anonymize.detections import Detection, Predictions
from anonymize.detectors.base import Detector
from anonymize.edits import OnFrame, VideoEdits, match_box
from anonymize.errors import MediaError, OutputError
from anonymize.keyframes import Keyframes
from anonymize.media import DEFAULT_MAX_PIXELS, encode_image, thumbnail
from anonymize.pipeline import detect
from anonymize.settings import Settings
from anonymize.tracking import COAST_SECONDS, Cover, DelayedCover, Tracker
from anonymize.writing import temporary_beside

VIDEO_SUFFIXES = {
    ".mp4",
    ".mov",
    ".m4v",
    ".webm",
    ".mkv",
    ".avi",
    ".3gp",
    ".mpg",
    ".mpeg",
    ".ts",
    ".mts",
    ".m2ts",
    ".wmv",
    ".flv",
    ".ogv",
}
DEFAULT_MAX_SECONDS = 15 * 60
#: Audio codecs an MP4 can carry as they are (``audio="copy"``); others are re-encoded to AAC.
MP4_AUDIO = {"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"}
#: What to do with the input's audio: "aac" plays everywhere (QuickTime and Safari refuse Opus or FLAC
#: in MP4), "copy" keeps the original bytes where MP4 can hold them.
AUDIO_POLICIES = ("aac", "copy")
#: x264's constant rate factor: lower is better and larger (0 lossless, 51 worst); 18–23 look alike to most eyes.
DEFAULT_CRF = 20
CRF_RANGE = (0, 51)
#: Detection runs on every k-th frame; tracking covers the frames between (docs/benchmarks.md, "Video and tracking").
DEFAULT_DETECT_EVERY = 5
#: Frames held back, at most, so that tracks reach backwards (memory: this many decoded frames); detection
#: runs at least every this many frames.
MAX_DELAY_FRAMES = 16


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright, after rotation
    height: int
    fps: float
    frames: int  # an estimate when the container does not say
    duration: float  # seconds
    rotation: int  # degrees the stored frames are turned by
    audio: str | None  # codec name of the audio stream that is kept


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


def _open(path: str | Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise MediaError(f"{Path(path).name}: not a video we can read ({type(error).__name__}).") from None
    problem = _refused(container)
    if problem:
        container.close()
        raise MediaError(f"{Path(path).name}: {problem}")
    return container


def _refused(container: av.container.InputContainer) -> str | None:
    """Why a video is not read, from its header alone (before a frame is decoded), or None."""
    moving = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]  # not cover art
    if not moving:
        return "has no video track."
    if len(moving) > 1:
        # Only one is read and written: the others (a second camera, a picture-in-picture) would vanish unseen.
        return (
            f"holds {len(moving)} video tracks; only files with one are anonymized, so that none is dropped. "
            "Split the tracks into files of their own (ffmpeg -map 0:v:N) and anonymize each."
        )
    width, height = moving[0].codec_context.width, moving[0].codec_context.height
    if width * height > DEFAULT_MAX_PIXELS:
        return (
            f"{width}×{height} frames are {width * height / 1e6:.0f} megapixels, "
            f"above the limit of {DEFAULT_MAX_PIXELS / 1e6:.0f}; refused to protect memory."
        )
    return None


def probe(path: str | Path) -> VideoInfo:
    """Size (upright), rate, length, rotation and audio of a video; decodes only its first frame."""
    try:
        with _open(path) as container:
            return _info(container)
    except av.error.FFmpegError as error:
        raise MediaError(f"{Path(path).name}: the video is damaged or truncated ({type(error).__name__}).") from None


def _info(container: av.container.InputContainer) -> VideoInfo:
    video = container.streams.best("video")
    fps = float(video.average_rate or video.guessed_rate or 25)
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    else:
        duration = (container.duration or 0) / av.time_base
    frames = video.frames or round(duration * fps)
    audio = container.streams.best("audio")
    audio_codec = audio.codec_context.name if audio else None
    # Only decoded frames carry the display rotation: look at the first one.
    first = next(container.decode(video), None)
    if first is None:
        raise MediaError("the video has no frames.")
    rotation = int(first.rotation or 0)
    height, width = upright(first).shape[:2]
    return VideoInfo(width, height, fps, frames, duration, rotation, audio_codec)


def upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame's RGB pixels, turned as the player would show them."""
    pixels = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4
    # PyAV reports the counter-clockwise angle the picture must be turned by.
    return np.ascontiguousarray(np.rot90(pixels, k=turns)) if turns else pixels


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
    if detect_every < 1:
        raise ValueError("detect_every must be 1 or more")

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
                # Every frame waits for the next detection: a gap of more than MAX_DELAY_FRAMES would hold that many
                # decoded frames in memory, so detection runs at least that often, whatever was asked.
                detect_every = min(detect_every, MAX_DELAY_FRAMES)
                delay = max(detect_every, min(MAX_DELAY_FRAMES, math.ceil(coast * info.fps)))
                tracking = DelayedCover(Tracker(coast=coast, camera=CameraMotion()), delay, info.width, info.height)
                with _open(source) as container:
                    clock = _Clock(container.streams.best("video"), info.fps, max_seconds, source.name)
                    with (
                        _Mp4Sink(partial, container, info, clock.time_base, crf, audio) as sink,
                        open(lines, "w") if lines else contextlib.nullcontext() as jsonl,
                    ):
                        report = VideoReport(info)
                        review = _Review(edits, report)
                        with _WriterThread(_Writer(sink, jsonl, settings, report, previews)) as writer:
                            frames = _frames(container, info, clock, writer.audio)
                            _anonymize_frames(
                                frames, detector, settings, detect_every, tracking, review, writer, on_progress
                            )
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

#: OS errors that mean the output cannot be written, not that the input is bad.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


class _Clock:
    """Output timestamps, and the length limit, while decoding.

    A frame keeps its own timestamp where it increases; a missing or repeated one
    (raw streams have none, some recorders repeat them) is set one frame period
    after the last, so the encoder always sees time move forward.
    """

    def __init__(self, stream, fps: float, max_seconds: float, name: str) -> None:
        self.time_base = stream.time_base or Fraction(1, 90_000)
        self.step = max(1, round(1 / (fps * self.time_base)))
        self.max_seconds, self.name = max_seconds, name
        self.first: int | None = None
        self.last: int | None = None

    def stamp(self, pts: int | None) -> int:
        if pts is None or (self.last is not None and pts <= self.last):
            pts = 0 if self.last is None else self.last + self.step
        if self.first is None:
            self.first = pts
        if (pts - self.first) * self.time_base > self.max_seconds:
            raise MediaError(f"{self.name}: longer than the limit of {self.max_seconds:.0f} s.")
        self.last = pts
        return pts


def _anonymize_frames(
    frames,
    detector: Detector,
    settings: Settings,
    detect_every: int,
    tracking: DelayedCover,
    review: _Review,
    writer: _WriterThread,
    on_progress: Callable[[int, int, float], None] | None,
) -> None:
    """The loop: detect where :mod:`keyframes` (or a box added on review) says so, let tracking cover each frame,
    hand frames to the writer as they are final, and say how far it got."""
    # Without tracking (coast 0) nothing is carried, so no gap is too long: the caller asked for exactly every k-th frame.
    keyframes = Keyframes(detect_every, within=tracking.tracker.coast or math.inf)
    report, time_base = writer.report, writer.writer.sink.time_base
    width, height = report.info.width, report.info.height
    said = 0
    for index, (pts, pixels) in enumerate(frames):
        t = float(pts * time_base)
        thumb = tracking.tracker.camera.follow(t, pixels)
        detections = None
        cut = tracking.tracker.camera.cut
        if cut:  # another shot: what was tracked before ends here, and this frame is looked at afresh
            tracking.tracker.cut(t)
            report.cuts.append(index)
        if (
            cut
            or review.forces_detection(index)
            or keyframes.needs_detection(index, t, pixels, thumb, tracking.tracker.motion_boxes(t, width, height))
        ):
            found = detect(pixels, detector, settings)
            found = found if settings.classes is None else found.of_classes(settings.classes)
            detections = review.with_added(index, found)
            report.frames_detected += 1
        ready = tracking.push(t, detections, (pts, pixels))
        if detections is not None:
            tracks = tracking.tracker.tracks_of(t)
            review.saw(index, detections, tracks)
            _summarize_tracks(report.tracks, index, pixels, detections, tracks)
        for (ready_pts, ready_pixels), cover in ready:
            writer.write(ready_pts, ready_pixels, cover, frozenset(review.kept_ids))
        if detections is not None:
            keyframes.detected(index, t, pixels, thumb, detections, tracking.tracker.tracks_of(t))
        if on_progress and report.frames > said:  # called here: a page's progress bar belongs to this thread
            said = report.frames
            on_progress(said, report.info.frames, writer.elapsed())
    for (ready_pts, ready), cover in tracking.flush():
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


def _frames(container, info: VideoInfo, clock: _Clock, on_audio: Callable) -> Iterator[tuple[int, np.ndarray]]:
    """Each video frame as ``(pts, upright RGB pixels of the first frame's size)``; audio packets go to ``on_audio`` on the way."""
    video_in = container.streams.best("video")  # not a cover-art picture
    # FFmpeg's own decoding threads, as its command line has them (PyAV's default is slices only): the
    # other core decodes ahead while this one waits for detection (720p lossless: 12-15 fps -> 16).
    video_in.thread_type = "AUTO"
    audio_in = container.streams.best("audio")
    for packet in container.demux([video_in] + ([audio_in] if audio_in else [])):
        if packet.stream.type == "audio":
            on_audio(packet)
            continue
        for frame in packet.decode():
            pixels = upright(frame)
            if pixels.shape[:2] != (info.height, info.width):  # the stream changed size midway
                pixels = cv2.resize(pixels, (info.width, info.height), interpolation=cv2.INTER_AREA)
            yield clock.stamp(frame.pts), pixels


class _Mp4Sink:
    """The output file: H.264 video at the input's timestamps, and the input's audio (copied or as AAC)."""

    def __init__(self, path: Path, container, info: VideoInfo, time_base: Fraction, crf: int, audio: str) -> None:
        self.output = av.open(str(path), "w", format="mp4")
        try:
            self._add_streams(container, info, time_base, crf, audio)
        except BaseException:
            self.output.close()
            raise

    def _add_streams(self, container, info: VideoInfo, time_base: Fraction, crf: int, audio: str) -> None:
        audio_in = container.streams.best("audio")
        self.video = self.output.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001))
        self.video.width, self.video.height = info.width + info.width % 2, info.height + info.height % 2
        self.video.pix_fmt = "yuv420p"
        # The encoder counts in the input's time base, not in frames: with a frame count, frames
        # of a variable-rate or gapped input would round onto the same tick and be refused.
        self.time_base = time_base
        self.video.time_base = self.video.codec_context.time_base = self.time_base
        self.video.options = {"crf": str(crf), "preset": "veryfast"}
        self.audio_out = _audio_stream(self.output, audio_in, audio) if audio_in else None
        recode = self.audio_out is not None and self.audio_out.codec_context.name != audio_in.codec_context.name
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=self.audio_out.rate) if recode else None

    def __enter__(self) -> _Mp4Sink:
        return self

    def frame(self, pts: int, pixels: np.ndarray) -> None:
        # OpenCV's conversion gives FFmpeg's BT.601 limited-range values (within 1) in a seventh of its time.
        out = av.VideoFrame.from_ndarray(cv2.cvtColor(_even(pixels), cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        out.pts, out.time_base = pts, self.time_base
        for packet in self.video.encode(out):
            self.output.mux(packet)

    def audio(self, packet) -> None:
        _mux_audio(self.output, packet, self.audio_out, self.resampler)

    def __exit__(self, kind, *_) -> None:
        try:
            if kind is None:  # the encoders hold the last frames: write them
                for packet in self.video.encode():
                    self.output.mux(packet)
                if self.audio_out is not None and self.resampler is not None:
                    _mux_audio(self.output, None, self.audio_out, self.resampler)
        finally:
            self.output.close()


class _Writer:
    """Censors each final frame with its cover, and writes it, its JSON line and previews."""

    def __init__(self, sink: _Mp4Sink, jsonl, settings: Settings, report: VideoReport, previews: int) -> None:
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


def _audio_stream(output, audio_in, policy: str):
    if audio_in.codec_context.name in ({"aac"} if policy == "aac" else MP4_AUDIO):
        return output.add_stream_from_template(audio_in)
    return output.add_stream("aac", rate=audio_in.codec_context.sample_rate or 48000)


def _mux_audio(output, packet, audio_out, resampler) -> None:
    if resampler is None:  # a copy of the compressed packets
        if packet is not None and packet.dts is not None:
            packet.stream = audio_out
            output.mux(packet)
        return
    frames = packet.decode() if packet is not None else [None]
    for frame in frames:
        for converted in resampler.resample(frame):
            for encoded in audio_out.encode(converted):
                output.mux(encoded)
    if packet is None:
        for encoded in audio_out.encode(None):
            output.mux(encoded)


def _even(pixels: np.ndarray) -> np.ndarray:
    """H.264 in 4:2:0 needs even sides: pad the last row or column by repeating it."""
    h, w = pixels.shape[:2]
    if h % 2 or w % 2:
        pixels = np.pad(pixels, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return pixels


def frame_at(path: str | Path, index: int) -> np.ndarray:
    """Frame ``index`` (from 0) of a video, upright RGB at the size its frames are processed at.

    Raises MediaError when the video has fewer frames.
    """
    info = probe(path)
    for n, pixels in enumerate(frames_of(path)):
        if n == index:
            if pixels.shape[:2] != (info.height, info.width):
                pixels = cv2.resize(pixels, (info.width, info.height), interpolation=cv2.INTER_AREA)
            return pixels
    raise MediaError(f"{Path(path).name}: has no frame {index}.")


def frames_of(path: str | Path) -> Iterator[np.ndarray]:
    """Every frame of a video, upright RGB (for tests and previews)."""
    with _open(path) as container:
        for frame in container.decode(container.streams.best("video")):
            yield upright(frame)


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
