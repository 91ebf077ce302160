"""Hostile input, third pass: limits that did not hold for videos.

Each test is named after the promise it guards; the number is the case in issue 26.
"""

import subprocess
import sys

import av
import numpy as np

from conftest import ROOT, outputs
from helpers.cli import run_cli
from helpers.clips import face_clip, face_patch


def peak_memory_mib(*args) -> float:
    """The CLI run in a process of its own; the most memory that process held, in MiB (Linux counts KiB)."""
    script = (
        "import resource, sys\nfrom anonymize.cli import main\ncode = main(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1]) / 1024


# 14. A video's memory is a constant number of frames, whatever --detect-every says.


def test_14_a_huge_detect_every_does_not_hold_the_video_in_memory(tmp_path):
    clip = tmp_path / "walk.mp4"
    face_clip(clip, frames=300, size=(640, 480), audio=False)  # 300 decoded frames: 264 MiB
    usual = peak_memory_mib(clip, "-o", tmp_path / "usual", "-q", "--detect-every", "5")
    asked = peak_memory_mib(clip, "-o", tmp_path / "asked", "-q", "--detect-every", "100000")
    assert asked < usual + 60, (usual, asked)


# 15. A video's frames are held to the pictures' pixel limit, read from its header before a frame is decoded.


def test_15_a_video_of_201_megapixel_frames_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.mov"
    with av.open(str(path), "w") as container:  # one blank 14200×14200 frame: 220 KiB on disk
        stream = container.add_stream("png", rate=1)
        stream.width = stream.height = 14200
        stream.pix_fmt = "gray"
        for packet in [
            *stream.encode(av.VideoFrame.from_ndarray(np.zeros((14200, 14200), np.uint8), format="gray")),
            *stream.encode(),
        ]:
            container.mux(packet)
    done = run_cli(path, "-o", tmp_path / "out")
    assert done.returncode == 1 and "202 megapixels, above the limit of 200" in done.stderr
    assert outputs(tmp_path / "out") == []


# 16. A file with two video tracks is refused with a sentence, never written with one of them dropped.


def test_16_a_file_with_two_video_tracks_is_refused(tmp_path):
    path = tmp_path / "two.mkv"
    with av.open(str(path), "w") as container:
        streams = [container.add_stream("mpeg4", rate=10) for _ in range(2)]
        for stream in streams:
            stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        face = np.full((96, 128, 3), 90, np.uint8)
        face[3:93, 19:109] = face_patch()
        for n in range(5):
            for stream, picture in zip(streams, (np.full_like(face, 60), face)):  # the face is on the second track
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = n
                container.mux(stream.encode(frame))
        for stream in streams:
            container.mux(stream.encode())
    done = run_cli(path, "-o", tmp_path / "out")
    assert done.returncode == 1 and "holds 2 video tracks" in done.stderr
    assert outputs(tmp_path / "out") == []
