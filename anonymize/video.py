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
* **Audio is kept**: the container's best audio stream is copied (or, for
  codecs MP4 cannot hold, re-encoded to AAC); a video without audio works.
* **Phone rotation is applied** before detection; the output is stored upright.
* **Streamed**: frames go to disk as they are done; only a few are in memory.
* **Temporal smoothing**: frame *n* is censored with the boxes found in
  frames *n−w … n+w* (``window=w``), so a face missed in one frame but found
  in its neighbours stays hidden, and one that is just entering is hidden a
  frame early. Output is delayed by ``w`` frames to make this possible.
* **Fail closed**: the output is written under a temporary name and only
  renamed when the whole video was processed; on any error nothing is left,
  and an error writing the output (a full disk) is told apart from a damaged input.
* **No metadata** (GPS location included) is copied from the input.

Use: ``anonymize_video("clip.mov", "clip.mp4", local_detector(), Settings())``;
``probe(path)`` reads a video's size, rate, length, rotation and audio codec.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from anonymize.censor import censor
from anonymize.detections import Predictions, uncovered
from anonymize.detectors.base import Detector
from anonymize.errors import MediaError, OutputError
from anonymize.pipeline import Settings, detect

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv", ".flv", ".ogv"}
DEFAULT_MAX_SECONDS = 15 * 60
#: Audio codecs an MP4 can carry as they are; others are re-encoded to AAC.
MP4_AUDIO = {"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"}
PREVIEW_SIDE = 480


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright, after rotation
    height: int
    fps: float
    frames: int  # an estimate when the container does not say
    duration: float  # seconds
    rotation: int  # degrees the stored frames are turned by
    audio: str | None  # codec name of the audio stream that is kept


@dataclass
class VideoReport:
    """What was done: frames, time, how often smoothing added boxes, and a few before/after frames."""

    info: VideoInfo
    frames: int = 0
    seconds: float = 0.0
    frames_with_borrowed_boxes: int = 0
    previews: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def _open(path: str | Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise MediaError(f"{Path(path).name}: not a video we can read ({type(error).__name__}).") from None
    if not container.streams.video:
        container.close()
        raise MediaError(f"{Path(path).name}: has no video track.")
    return container


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
    window: int = 2,
    detect_every: int = 1,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    predictions_path: str | Path | None = None,
    previews: int = 4,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> VideoReport:
    """Write an anonymized copy of ``source`` to ``target`` (MP4); see the module docstring.

    ``detect_every=k`` runs detection on every k-th frame only; the smoothing
    window is widened to at least ``k - 1`` so that the frames in between are
    censored with the boxes of the detected frames around them.
    ``on_progress(frames_done, frames_expected, seconds_elapsed)`` is called as
    frames are written. Raises MediaError for unreadable or too long input and
    DetectionError if the detector fails; ``target`` is then not created.
    """
    source, target = Path(source), Path(target)
    partial = target.with_name(f".{target.name}.partial.mp4")
    lines = Path(predictions_path).with_name(f".{Path(predictions_path).name}.partial") if predictions_path else None
    try:
        info = probe(source)
        if info.duration > max_seconds:
            raise MediaError(f"{source.name}: {info.duration:.0f} s long, above the limit of {max_seconds:.0f} s.")
        with _open(source) as container:
            clock = _Clock(container.streams.best("video"), info.fps, max_seconds, source.name)
            report = _transcode(container, info, clock, partial, lines, detector, settings, max(window, detect_every - 1), detect_every, previews, on_progress)
        os.replace(partial, target)
        if lines and predictions_path:
            os.replace(lines, predictions_path)
        return report
    except av.error.FFmpegError as error:
        if getattr(error, "filename", None) == str(partial) or getattr(error, "errno", None) in WRITE_ERRNOS:
            problem: Exception = OutputError(f"cannot write {target}: {os.strerror(error.errno) if error.errno else error}.")
        else:
            problem = MediaError(f"{source.name}: the video is damaged or truncated ({type(error).__name__}).")
    except OSError as error:  # the predictions file, or renaming into place
        problem = OutputError(f"cannot write {target}: {error.strerror or error}.")
    finally:
        for leftover in (partial, lines):
            if leftover and leftover.exists():
                leftover.unlink()
    raise problem


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


def _transcode(container, info, clock, partial, lines, detector, settings, window, detect_every, previews, on_progress) -> VideoReport:
    video_in = container.streams.best("video")  # not a cover-art picture
    audio_in = container.streams.best("audio")
    report = VideoReport(info)
    preview_at = {round(info.frames * (i + 0.5) / previews) for i in range(previews)} if previews else set()
    started = time.perf_counter()
    with av.open(str(partial), "w", format="mp4") as output, (open(lines, "w") if lines else contextlib.nullcontext()) as jsonl:
        video_out = output.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001))
        video_out.width, video_out.height = info.width + info.width % 2, info.height + info.height % 2
        video_out.pix_fmt = "yuv420p"
        # The encoder counts in the input's time base, not in frames: with a frame count, frames
        # of a variable-rate or gapped input would round onto the same tick and be refused.
        video_out.time_base = video_out.codec_context.time_base = clock.time_base
        video_out.options = {"crf": "20", "preset": "veryfast"}
        audio_out = _audio_stream(output, audio_in) if audio_in else None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=audio_out.rate) if audio_out and audio_out.codec_context.name != audio_in.codec_context.name else None

        def write(index: int, pts: int | None, frame: np.ndarray, own: Predictions, union: list) -> None:
            censored = censor(frame, union, settings.censor)
            if index in preview_at:
                report.previews.append((_small(frame), _small(censored)))
            out = av.VideoFrame.from_ndarray(_even(censored), format="rgb24")
            out.pts, out.time_base = pts, clock.time_base
            for packet in video_out.encode(out.reformat(format="yuv420p")):
                output.mux(packet)
            if lines:
                jsonl.write(json.dumps({"frame": index, "time": float(pts * clock.time_base), **own.to_roboflow()}) + "\n")
            report.frames += 1
            if on_progress:
                on_progress(report.frames, info.frames, time.perf_counter() - started)

        smoother = _Window(window, write, report)
        streams = [video_in] + ([audio_in] if audio_in else [])
        for packet in container.demux(streams):
            if packet.stream.type == "audio":
                _mux_audio(output, packet, audio_out, resampler)
                continue
            for frame in packet.decode():
                pts = clock.stamp(frame.pts)
                pixels = upright(frame)
                if pixels.shape[:2] != (info.height, info.width):  # the stream changed size midway
                    pixels = cv2.resize(pixels, (info.width, info.height), interpolation=cv2.INTER_AREA)
                if smoother.next_index % detect_every:
                    hidden = Predictions((), info.width, info.height)  # the window brings its neighbours' boxes
                else:
                    found = detect(pixels, detector, settings)
                    hidden = found if settings.classes is None else found.of_classes(settings.classes)
                smoother.push(pts, pixels, hidden)
        smoother.flush()
        for packet in video_out.encode():
            output.mux(packet)
        if audio_out is not None and resampler is not None:
            _mux_audio(output, None, audio_out, resampler)
    report.seconds = time.perf_counter() - started
    return report


def _audio_stream(output, audio_in):
    if audio_in.codec_context.name in MP4_AUDIO:
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


def _small(pixels: np.ndarray) -> np.ndarray:
    scale = PREVIEW_SIDE / max(pixels.shape[:2])
    return cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels.copy()


class _Window:
    """Holds ``2w+1`` frames and writes each with the union of its neighbours' boxes."""

    def __init__(self, w: int, write: Callable, report: VideoReport) -> None:
        self.w, self.write, self.report = w, write, report
        self.entries: deque[tuple[int, int | None, np.ndarray, Predictions]] = deque(maxlen=2 * w + 1)
        self.next_index = self.next_out = 0

    def push(self, pts: int | None, pixels: np.ndarray, hidden: Predictions) -> None:
        self.entries.append((self.next_index, pts, pixels, hidden))
        self.next_index += 1
        while self.next_out <= self.next_index - 1 - self.w:
            self._emit()

    def flush(self) -> None:
        while self.next_out < self.next_index:
            self._emit()

    def _emit(self) -> None:
        k = self.next_out
        (own,) = [(pts, pixels, hidden) for i, pts, pixels, hidden in self.entries if i == k]
        pts, pixels, hidden = own
        neighbours = [d for i, _, _, found in self.entries if abs(i - k) <= self.w and i != k for d in found]
        borrowed = uncovered(neighbours, list(hidden))
        self.report.frames_with_borrowed_boxes += bool(borrowed)
        self.write(k, pts, pixels, hidden, list(hidden) + borrowed)
        self.next_out += 1


def frames_of(path: str | Path) -> Iterator[np.ndarray]:
    """Every frame of a video, upright RGB (for tests and previews)."""
    with _open(path) as container:
        for frame in container.decode(container.streams.best("video")):
            yield upright(frame)


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES

