"""Video files through PyAV: what a file holds (:func:`probe`), its frames decoded upright with their
timestamps, and the MP4 (H.264, with the input's audio) they are written to.

The limits hold before a frame is decoded where the header says enough (one video track, at most
:data:`~anonymize.media.DEFAULT_MAX_PIXELS` a frame) and while decoding otherwise (the length).

Example:
    >>> is_video("clip.MOV"), is_video("photo.jpg")
    (True, False)
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from anonymize.errors import MediaError
from anonymize.media import DEFAULT_MAX_PIXELS

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


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright, after rotation
    height: int
    fps: float
    frames: int  # an estimate when the container does not say
    duration: float  # seconds
    rotation: int  # degrees the stored frames are turned by
    audio: str | None  # codec name of the audio stream that is kept


def open_video(path: str | Path) -> av.container.InputContainer:
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
        with open_video(path) as container:
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


#: OS errors that mean the output cannot be written, not that the input is bad.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


class Clock:
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


def decoded_frames(container, info: VideoInfo, clock: Clock, on_audio: Callable) -> Iterator[tuple[int, np.ndarray]]:
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


class Mp4Sink:
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

    def __enter__(self) -> Mp4Sink:
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
    with open_video(path) as container:
        for frame in container.decode(container.streams.best("video")):
            yield upright(frame)


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
