"""The camera's own motion: measured on the picture, in frame widths and heights, and nothing where nothing is sure."""

import numpy as np
import pytest

from anonymize.camera import CameraMotion, phase_shift, thumbnail
from helpers.clips import panning_frames


def test_a_pan_is_measured_as_the_picture_moving_the_other_way():
    frames, _ = panning_frames(frames=10, step=6)
    camera = CameraMotion()
    for index, frame in enumerate(frames):
        camera.follow(index / 25, frame)
    shift = camera.shift(0.0, 9 / 25)
    # Phase correlation reads a sub-pixel shift a little short (here 7 %): tracking grows its boxes by more.
    assert shift[0] == pytest.approx(-54 / 320, rel=0.1) and shift[1] == pytest.approx(0, abs=0.01)


def test_a_cut_to_another_picture_is_no_motion():
    rng = np.random.default_rng(0)
    camera = CameraMotion()
    camera.follow(0.0, rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    camera.follow(0.04, rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    assert camera.shift(0.0, 0.04).tolist() == [0.0, 0.0]


def test_a_time_not_followed_has_no_shift():
    camera = CameraMotion()
    camera.follow(0.0, np.zeros((240, 320, 3), np.uint8))
    assert camera.shift(0.0, 0.04) is None


def test_measuring_a_shift_leaves_both_thumbnails_as_they_were():
    frames, _ = panning_frames(frames=2, step=6)
    before, after = thumbnail(frames[0]), thumbnail(frames[1])
    kept_before, kept_after = before.copy(), after.copy()
    phase_shift(before, after)
    assert np.array_equal(before, kept_before) and np.array_equal(after, kept_after)
