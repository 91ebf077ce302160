"""Test videos made on the spot with PyAV: a real face moving across a background, with a tone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from anonymize.media import load_image
from conftest import SAMPLES

FACE_SIDE = 90


def face_patch() -> np.ndarray:
    """The astronaut's head (public domain), FACE_SIDE px square."""
    astronaut = load_image(SAMPLES / "astronaut.jpg").pixels
    return cv2.resize(astronaut[30:250, 140:330], (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)


def face_clip(
    path: Path,
    *,
    frames: int = 40,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    audio: bool = True,
    rotation: int = 0,
    location: str | None = None,
    codec: str = "libx264",
    audio_codec: str = "aac",
) -> list[tuple[int, int, int, int]]:
    """Write the clip; return the face's box (x1, y1, x2, y2) in each upright frame.

    With ``rotation`` the frames are stored turned and tagged to be shown upright,
    as phones do; ``location`` adds an ISO 6709 GPS tag to the container.
    """
    width, height = size
    patch, boxes = face_patch(), []
    with av.open(str(path), "w") as container:
        if location:
            container.metadata["location"] = location
        stored_w, stored_h = (height, width) if rotation % 180 else (width, height)
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = stored_w, stored_h, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        tone = container.add_stream(audio_codec, rate=48000) if audio else None
        for i in range(frames):
            x = int(10 + (width - FACE_SIDE - 20) * i / max(frames - 1, 1))
            y = (height - FACE_SIDE) // 2
            frame = np.zeros((height, width, 3), np.uint8)
            frame[:] = np.linspace(60, 180, width, dtype=np.uint8)[None, :, None]
            frame[y : y + FACE_SIDE, x : x + FACE_SIDE] = patch
            boxes.append((x, y, x + FACE_SIDE, y + FACE_SIDE))
            stored = np.ascontiguousarray(np.rot90(frame, k=-(rotation // 90))) if rotation else frame
            out = av.VideoFrame.from_ndarray(stored, format="rgb24")
            out.pts = i
            for packet in video.encode(out):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if tone is not None:
            samples = np.sin(2 * np.pi * 440 * np.arange(int(48000 * frames / fps)) / 48000).astype(np.float32)
            step = tone.codec_context.frame_size or 1024
            for start in range(0, len(samples), step):
                chunk = av.AudioFrame.from_ndarray(samples[None, start : start + step], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts, chunk.time_base = 48000, start, Fraction(1, 48000)
                for packet in tone.encode(chunk):
                    container.mux(packet)
            for packet in tone.encode():
                container.mux(packet)
    return boxes


def write_frames(target, frames, pts=None, *, rate=30, format=None, size=(320, 240)) -> None:
    """Encode ``frames`` (RGB) as H.264 with the timestamps ``pts`` (default: 0, 1, 2…)."""
    with av.open(str(target), "w", format=format) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for pixels, stamp in zip(frames, pts if pts is not None else range(len(frames))):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = stamp
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def camera_frame(width: int = 640, height: int = 480) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A still camera picture with the face at a known place; returns it and the face box."""
    frame = np.full((height, width, 3), 120, np.uint8)
    x, y = 200, 150
    frame[y : y + FACE_SIDE, x : x + FACE_SIDE] = face_patch()
    return frame, (x, y, x + FACE_SIDE, y + FACE_SIDE)


def write_y4m(path: Path, frame: np.ndarray, frames: int = 50, fps: int = 25) -> None:
    """A raw YUV4MPEG2 clip for Chromium's ``--use-file-for-fake-video-capture`` (which loops it)."""
    height, width = frame.shape[:2]
    yuv = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + yuv)


def panning_frames(
    frames: int = 20, step: int = 4, size: tuple[int, int] = (320, 240)
) -> tuple[list[np.ndarray], list[tuple[int, int, int, int]]]:
    """A camera panning right over a textured wall with a face on it, ``step`` px a frame: the frames, and the face's box in each."""
    width, height = size
    wall = cv2.GaussianBlur(
        np.random.default_rng(7).integers(0, 255, (height, width + step * frames, 3), dtype=np.uint8), (0, 0), 3
    )
    wall = cv2.normalize(wall, None, 40, 220, cv2.NORM_MINMAX)
    face_x, face_y = width // 2, (height - FACE_SIDE) // 2
    wall[face_y : face_y + FACE_SIDE, face_x : face_x + FACE_SIDE] = face_patch()
    views = [np.ascontiguousarray(wall[:, step * i : step * i + width]) for i in range(frames)]
    return views, [
        (face_x - step * i, face_y, face_x - step * i + FACE_SIDE, face_y + FACE_SIDE) for i in range(frames)
    ]


def face_visible(before, after, box):
    """True when the middle of the face box came through (nearly) unchanged."""
    x1, y1, x2, y2 = box
    inner = (slice(y1 + 25, y2 - 25), slice(x1 + 25, x2 - 25))
    return np.abs(after[inner].astype(int) - before[inner]).mean() < 10
