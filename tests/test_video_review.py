"""Reviewing a video: keep a track visible, add a box that tracking carries, replay the edits."""

import json

import numpy as np
import pytest

from anonymize.censor import CensorSettings
from anonymize.detections import Detection
from anonymize.edits import Edits, OnFrame, VideoEdits
from anonymize.errors import EditsError
from anonymize.frames import DEFAULT_DETECT_EVERY
from anonymize.settings import Settings
from anonymize.video import anonymize_video
from anonymize.video_io import frame_at, frames_of
from helpers.clips import face_clip, face_visible

SHA = "0" * 64
FILL = Settings(confidence=50, censor=CensorSettings(method="fill"))  # the face alone
#: A patch of plain background in the clip (320×240), where the detector finds nothing.
EMPTY = Detection(250, 10, 300, 50, 1.0, "license-plate")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "walk.mp4"
    return path, face_clip(path, frames=40)


@pytest.fixture(scope="module")
def first_run(clip, detector, tmp_path_factory):
    return anonymize_video(clip[0], tmp_path_factory.mktemp("out") / "first.mp4", detector, FILL)


def test_the_report_lists_each_track_with_its_frames_and_a_crop(first_run):
    (track,) = first_run.tracks.values()
    # Detected on every k-th frame at least: its last detection is within the clip's last k frames.
    assert track.class_name == "face" and track.first_frame == 0 and track.last_frame >= 40 - DEFAULT_DETECT_EVERY
    assert track.detections >= 40 // DEFAULT_DETECT_EVERY and track.crop.startswith(
        b"\xff\xd8"
    )  # every detection, and a JPEG


def test_a_track_kept_visible_is_shown_in_every_frame_and_named_in_the_json(clip, first_run, detector, tmp_path):
    path, boxes = clip
    (track,) = first_run.tracks.values()
    edits = VideoEdits(SHA, 4, kept_tracks=(OnFrame(track.first_frame, track.first_box, track.tracker_id),))
    report = anonymize_video(
        path, tmp_path / "kept.mp4", detector, FILL, predictions_path=tmp_path / "kept.jsonl", edits=edits
    )
    before, after = list(frames_of(path)), list(frames_of(tmp_path / "kept.mp4"))
    assert all(face_visible(b, a, box) for b, a, box in zip(before, after, boxes))
    assert report.kept_tracks == {track.tracker_id} and report.frames_with_kept == 40 and not report.unmatched_kept
    lines = [json.loads(line) for line in (tmp_path / "kept.jsonl").read_text().splitlines()]
    assert all(line["kept_visible"][0]["class"] == "face" for line in lines)


def test_a_box_added_on_one_frame_is_carried_by_tracking_to_its_neighbours(clip, detector, tmp_path):
    path, _ = clip
    edits = VideoEdits(SHA, 4, added=(OnFrame(20, EMPTY),))
    report = anonymize_video(path, tmp_path / "added.mp4", detector, FILL, edits=edits)
    after = list(frames_of(tmp_path / "added.mp4"))
    hidden = [bool((after[i][25:35, 265:285] < 30).all()) for i in range(40)]
    assert hidden[20] and hidden[19] and hidden[23]  # carried back and forth, as a detection is
    assert not hidden[0] and not hidden[39]  # not beyond what tracking believes (0.5 s)
    assert report.added_boxes == 1


def test_a_kept_track_that_is_not_found_again_stays_hidden_and_is_reported(clip, detector, tmp_path):
    path, boxes = clip
    nowhere = OnFrame(5, Detection(0, 0, 20, 20, 1.0, "face"))
    report = anonymize_video(
        path, tmp_path / "out.mp4", detector, FILL, edits=VideoEdits(SHA, 4, kept_tracks=(nowhere,))
    )
    before, after = list(frames_of(path)), list(frames_of(tmp_path / "out.mp4"))
    assert not any(face_visible(b, a, box) for b, a, box in zip(before, after, boxes))
    assert report.unmatched_kept == [nowhere] and not report.kept_tracks


def test_a_track_kept_at_one_detection_rate_is_found_at_another(clip, detector, tmp_path):
    path, boxes = clip
    kept = VideoEdits(SHA, 4, kept_tracks=(OnFrame(8, detected_face(path, 8)),))
    report = anonymize_video(path, tmp_path / "out.mp4", detector, FILL, detect_every=3, edits=kept)
    assert len(report.kept_tracks) == 1 and not report.unmatched_kept
    before, after = list(frames_of(path)), list(frames_of(tmp_path / "out.mp4"))
    assert all(face_visible(b, a, box) for b, a, box in zip(before, after, boxes))


def detected_face(path, frame):
    """The face's box as the detector finds it on ``frame`` (8: a frame a rate of 4 detects and a rate of 3 does not)."""
    from anonymize.detectors import local_detector
    from anonymize.pipeline import detect

    (face,) = detect(frame_at(path, frame), local_detector(), FILL)
    return face


def test_frame_at_gives_one_frame_and_refuses_one_past_the_end(clip):
    path, _ = clip
    assert np.array_equal(frame_at(path, 3), list(frames_of(path))[3])
    with pytest.raises(Exception, match="has no frame 40"):
        frame_at(path, 40)


def test_video_edits_round_trip_in_an_edits_file_and_malformed_ones_are_refused():
    video = VideoEdits(SHA, 3, (OnFrame(4, Detection(1, 2, 11, 22, 1, "face"), 7),), (OnFrame(9, EMPTY),))
    edits = Edits({"kind": "local", "preset": "balanced"}, FILL, videos={"walk.mp4": video})
    again = Edits.loads(edits.dumps())
    assert (
        again.videos["walk.mp4"].to_json() == video.to_json()
        and again.videos["walk.mp4"].kept_tracks[0].tracker_id == 7
    )
    for broken, says in (
        ({"detect_every": 0}, "detect_every"),
        ({"added": [{"x": 1, "y": 1, "width": 2, "height": 2, "class": "face"}]}, "no frame number"),
        ({"kept_tracks": {}}, "'kept_tracks' is not a list"),
    ):
        payload = edits.to_json()
        payload["videos"]["walk.mp4"] |= broken
        with pytest.raises(EditsError, match=says):
            Edits.from_json(payload)
