"""Hostile input, part 3: no traceback, no hang, no limit bypassed; one clear sentence instead.

Each test is named after the promise it guards; the number is the case in issue 9.
"""

import io
import os
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from PIL import Image

import anonymize.run.sources
from anonymize.batch import anonymize_batch
from anonymize.detectors.base import DetectorDefaults
from anonymize.errors import DetectionError, MediaError
from anonymize.pipeline import anonymize_image
from anonymize.settings import Settings
from anonymize.video import anonymize_video
from anonymize.video_io import frames_of
from conftest import ROOT, SAMPLES, outputs
from helpers.cli import run_cli
from helpers.clips import FACE_SIDE, face_clip, face_patch, write_frames
from helpers.remote import hosted, inference


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size, readonly=False)``: a folder on a tmpfs of that size (a real full disk)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounted = []

    def mount(size: str, readonly: bool = False):
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        options = f"size={size}" + (",ro" if readonly else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def noise_png(path, side):
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (side, side, 3), np.uint8)).save(path)
    return path


def leftovers(folder):
    return [p.name for p in folder.rglob("*") if "partial" in p.name]


# 10. Output folders that cannot take the files: one sentence, nothing partial left.


def test_10_an_output_that_is_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "taken").write_text("a file")
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", tmp_path / "taken")
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr and "Traceback" not in done.stderr


def test_10_a_read_only_output_folder_is_one_sentence(tmp_path, small_disk):
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", small_disk("1m", readonly=True))
    assert done.returncode == 2 and "Read-only file system" in done.stderr and "Traceback" not in done.stderr


def test_10_a_full_disk_fails_that_file_only_and_leaves_no_partial(tmp_path, small_disk):
    disk = small_disk("200k")
    big, small = noise_png(tmp_path / "big.png", 600), noise_png(tmp_path / "small.png", 32)
    done = run_cli(big, small, "-o", disk)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cannot write {disk / 'big.png'}: No space left on device" in done.stderr
    assert outputs(disk) == ["small.png"] and "big.png" in (disk / "manifest.json").read_text()  # listed as failed


def test_10_a_full_disk_during_a_video_is_not_called_a_damaged_video(tmp_path, small_disk):
    disk = small_disk("8k")
    face_clip(tmp_path / "clip.mp4", frames=40, audio=False)
    done = run_cli(tmp_path / "clip.mp4", "-o", disk)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr and "damaged" not in done.stderr
    assert outputs(disk) == []


def test_10_sigterm_during_a_video_leaves_no_partial_files(tmp_path):
    face_clip(tmp_path / "long.mp4", frames=400, audio=False)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "anonymize", str(tmp_path / "long.mp4"), "-o", str(out), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out.exists() and leftovers(out)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(out), "the video never started"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and "Traceback" not in stderr
    assert list(out.iterdir()) == []


# 11. Numbers that are not numbers are usage errors.


@pytest.mark.parametrize(
    "option,value",
    [
        ("--padding", "nan"),
        ("--padding", "inf"),
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--timeout", "nan"),
        ("--strength", "nan"),
        ("--confidence", "nan"),
        ("--version", "0"),
    ],
)
def test_11_a_number_out_of_range_is_a_usage_error(option, value, tmp_path):
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", tmp_path / "out", option, value)
    assert done.returncode == 2 and f"error: argument {option}" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# 12–13. Videos phones, recorders and live streams really make.


def face_frame(side_x: int, size=(320, 240)):
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    frame[:] = np.linspace(60, 180, size[0], dtype=np.uint8)[None, :, None]
    y = (size[1] - FACE_SIDE) // 2
    frame[y : y + FACE_SIDE, side_x : side_x + FACE_SIDE] = face_patch()
    return frame


def frame_times(path):
    with av.open(str(path)) as container:
        return [float(f.time) for f in container.decode(video=0)]


def test_12_a_recording_with_dropped_frames_is_processed_with_its_timing(tmp_path, detector):
    pts = [0, 1, 2, 5, 6, 9, 10, 11, 15, 16, 17, 18, 19, 20, 24, 25]
    write_frames(tmp_path / "dropped.mp4", [face_frame(10 + 8 * i) for i in range(len(pts))], pts)
    anonymize_video(tmp_path / "dropped.mp4", tmp_path / "out.mp4", detector, Settings())
    assert frame_times(tmp_path / "out.mp4") == pytest.approx(frame_times(tmp_path / "dropped.mp4"), abs=1e-3)


def test_12_a_stream_that_changes_size_midway_is_processed_and_stays_censored(tmp_path, detector):
    small, large = (320, 240), (640, 480)
    first = [face_frame(10 + 10 * i) for i in range(10)]
    second = [cv2.resize(face_frame(110 + 10 * i), large) for i in range(10)]
    write_frames(tmp_path / "a.ts", first, range(10), format="mpegts", size=small)
    write_frames(tmp_path / "b.ts", second, range(10), format="mpegts", size=large)
    (tmp_path / "changing.ts").write_bytes((tmp_path / "a.ts").read_bytes() + (tmp_path / "b.ts").read_bytes())
    anonymize_video(tmp_path / "changing.ts", tmp_path / "out.mp4", detector, Settings())
    out = list(frames_of(tmp_path / "out.mp4"))
    assert len(out) == 20 and out[-1].shape == (240, 320, 3)
    y = (240 - FACE_SIDE) // 2 + 25
    for index, (pixels, raw) in enumerate(
        zip(out, first + [cv2.resize(f, small, interpolation=cv2.INTER_AREA) for f in second])
    ):
        x = 10 + 10 * index + 25
        core = (slice(y, y + FACE_SIDE - 50), slice(x, x + FACE_SIDE - 50))
        assert np.abs(pixels[core].astype(int) - raw[core]).mean() > 8, f"the face showed in frame {index}"


def test_13_a_raw_stream_without_timestamps_keeps_its_frame_rate(tmp_path, detector):
    write_frames(tmp_path / "raw.mp4", [face_frame(10 + 5 * i) for i in range(25)], range(25), rate=25, format="h264")
    anonymize_video(tmp_path / "raw.mp4", tmp_path / "out.mp4", detector, Settings())
    times = frame_times(tmp_path / "out.mp4")
    assert len(times) == 25 and times[-1] - times[0] == pytest.approx(24 / 25, abs=0.01)


class _Unseekable(io.RawIOBase):
    """A live recording: written as a stream, so the container never learns its duration."""

    def __init__(self, file):
        self.file = file

    def writable(self):
        return True

    def write(self, data):
        return self.file.write(data)


def test_13_the_length_limit_holds_when_the_container_states_no_duration(tmp_path, detector):
    with open(tmp_path / "live.mkv", "wb") as file:
        with av.open(_Unseekable(file), "w", format="matroska") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(40):  # 4 s
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 5, np.uint8), format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 10)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    with av.open(str(tmp_path / "live.mkv")) as container:
        assert container.duration is None  # the case: nothing to check before decoding
    with pytest.raises(MediaError, match="longer than the limit of 2 s"):
        anonymize_video(tmp_path / "live.mkv", tmp_path / "out.mp4", detector, Settings(), max_seconds=2)
    assert not (tmp_path / "out.mp4").exists() and not leftovers(tmp_path)


# 14. The timeout is one deadline for the whole answer.


@pytest.mark.parametrize("make", [hosted, inference], ids=["hosted", "inference-server"])
def test_14_a_server_that_drips_its_answer_is_cut_off_at_the_deadline(make, fake_roboflow):
    detector = make(timeout=2)
    fake_roboflow.mode = "drip"
    start = time.monotonic()
    with pytest.raises(DetectionError, match="did not answer in 2 s"):
        anonymize_image(np.full((120, 160, 3), 128, np.uint8), detector, Settings())
    assert time.monotonic() - start < 4


# 15. Zip limits count bytes as they inflate, not as the zip declares them.


def lying_zip(real_size: int, declared: int) -> bytes:
    """A zip with one PNG-named member of ``real_size`` zero bytes whose headers claim ``declared`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.png", bytes(real_size))
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.find(signature)
        struct.pack_into("<I", data, at + offset, declared)
    return bytes(data)


@pytest.mark.parametrize("declared", [100, 32 * 1024**2], ids=["claims-100-bytes", "claims-its-real-size"])
def test_15_a_member_that_inflates_past_the_limit_is_refused_within_bounded_memory(declared, monkeypatch, detector):
    monkeypatch.setattr(anonymize.run.sources, "MAX_MEMBER_BYTES", 4 * 1024**2)
    data = lying_zip(32 * 1024**2, declared)
    tracemalloc.start()
    try:
        done = anonymize_batch([("bomb.zip", data)], detector, Settings())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not done.predictions and [f.name for f in done.failures] == ["bomb/big.png"]
    assert peak < 12 * 1024**2, f"{peak / 1024**2:.0f} MiB"


# 16. A detector that answers nonsense is the library's error, not an AttributeError.


class _Nonsense(DetectorDefaults):
    classes = ("face",)

    def __init__(self, answer):
        self.answer = answer

    def detect(self, image, *, confidence, overlap):
        return self.answer


@pytest.mark.parametrize("answer", [None, {"predictions": []}, []], ids=["None", "dict", "list"])
def test_16_a_detector_that_returns_something_else_fails_with_the_librarys_error(answer):
    with pytest.raises(DetectionError, match="not predictions"):
        anonymize_image(np.zeros((32, 32, 3), np.uint8), _Nonsense(answer), Settings())
