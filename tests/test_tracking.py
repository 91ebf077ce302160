"""Tracking: boxes that follow faces between detections, and only ever add cover."""

import numpy as np
import pytest

from anonymize.camera import CameraMotion
from anonymize.detections import Detection, Predictions
from anonymize.tracking import DelayedCover, Tracker
from helpers.clips import panning_frames

FPS = 25


def face_at(x, y=100, side=40, width=640, height=480, confidence=0.9):
    return Predictions.of([Detection(x, y, x + side, y + side, confidence, "face")], width, height)


def covers(cover, box, share=0.95):
    """True when the hidden boxes of ``cover`` hold at least ``share`` of ``box``'s area."""
    x1, y1, x2, y2 = box
    mask = np.zeros((cover.detected.image_height, cover.detected.image_width), bool)
    for b in cover.hidden.xyxy.round().astype(int):
        mask[b[1] : b[3], b[0] : b[2]] = True
    return mask[y1:y2, x1:x2].mean() >= share


def walking_face(frame):
    """A face moving right by 6 px a frame."""
    x = 50 + 6 * frame
    return (x, 100, x + 40, 140)


def test_a_moving_face_missed_for_three_frames_in_a_row_stays_hidden():
    tracker = Tracker()
    for frame in range(12):
        t = frame / FPS
        missed = frame in (6, 7, 8)
        tracker.update(t, face_at(walking_face(frame)[0])[:0] if missed else face_at(walking_face(frame)[0]))
        cover = tracker.cover(t, 640, 480)
        assert covers(cover, walking_face(frame)), frame
        assert len(cover.carried) == missed


def test_a_moving_track_is_followed_when_detection_stops():
    tracker = Tracker()
    for frame in range(5):
        tracker.update(frame / FPS, face_at(walking_face(frame)[0]))
    for frame in range(5, 10):  # nothing detected on these: the track coasts with its velocity
        cover = tracker.cover(frame / FPS, 640, 480)
        assert covers(cover, walking_face(frame), share=1.0), frame


def test_a_face_that_stops_where_it_was_last_seen_stays_covered_while_its_track_coasts():
    tracker = Tracker()
    for frame in range(5):
        tracker.update(frame / FPS, face_at(walking_face(frame)[0]))
    for frame in range(5, 10):  # the face stopped at its frame-4 place; the velocity says it walks on
        assert covers(tracker.cover(frame / FPS, 640, 480), walking_face(4), share=1.0), frame


def test_a_carried_box_is_never_smaller_than_the_detection_it_comes_from():
    tracker = Tracker()
    for frame, side in enumerate((60, 50, 40)):  # a face that shrinks as it walks away
        tracker.update(frame / FPS, face_at(100, side=side))
    carried = tracker.cover(4 / FPS, 640, 480).carried[0]
    assert carried.width >= 40 and carried.height >= 40


def test_the_frame_own_detections_are_all_returned_unchanged():
    tracker = Tracker()
    found = Predictions.of(
        [Detection(10, 10, 30, 30, 0.2, "face"), Detection(200, 50, 260, 70, 0.9, "license-plate")], 640, 480
    )
    tracker.update(0.0, found)
    cover = tracker.cover(0.0, 640, 480)
    assert np.array_equal(cover.detected.xyxy, found.xyxy) and len(cover.carried) == 0


def test_a_lost_track_is_carried_for_the_coast_time_only():
    tracker = Tracker(coast=0.2)
    tracker.update(0.0, face_at(100))
    assert len(tracker.cover(0.2, 640, 480).carried) == 1
    assert len(tracker.cover(0.24, 640, 480).carried) == 0


def test_after_a_cut_no_track_of_the_shot_before_is_carried_or_continued():
    tracker = Tracker()
    before = tracker.update(0.0, face_at(100))
    tracker.update(0.04, face_at(106))
    tracker.cut(0.08)
    assert len(tracker.cover(0.06, 640, 480).carried) == 1  # the shot before is still covered up to the cut
    after = tracker.update(0.08, face_at(110))  # where the old face would be: another person in another shot
    assert after[0] != before[0]
    cover = tracker.cover(0.1, 640, 480)
    assert cover.carried_tracks.tolist() == after.tolist() and not tracker.cover(0.08, 640, 480).carried
    assert tracker.cover(0.08, 640, 480).cut and not tracker.cover(0.1, 640, 480).cut


def test_a_track_found_after_a_cut_does_not_reach_back_across_it():
    delayed = DelayedCover(Tracker(), delay=6, width=640, height=480)
    ready = []
    for frame in range(12):
        if frame == 6:
            delayed.tracker.cut(frame / FPS)
        ready += delayed.push(frame / FPS, face_at(300) if frame >= 6 else face_at(100) if frame == 0 else None, frame)
    ready += delayed.flush()
    hidden = {frame: cover.hidden.xyxy[:, 0].round().tolist() for frame, cover in ready}
    assert all(300 not in hidden[frame] and all(x < 200 for x in hidden[frame]) for frame in range(6))
    assert all(hidden[frame] == [300] for frame in range(6, 12))
    assert [frame for frame, cover in ready if cover.cut] == [6]


def test_boxes_follow_a_change_of_resolution():
    tracker = Tracker()
    tracker.update(0.0, face_at(100))
    carried = tracker.cover(0.001, 1280, 960).carried[0]
    assert carried.x1 == pytest.approx(200, abs=1) and carried.x2 == pytest.approx(280, abs=1)


def test_offline_a_track_reaches_back_to_frames_before_its_first_detection():
    delayed = DelayedCover(Tracker(), delay=6, width=640, height=480)
    ready = []
    for frame in range(15):
        found = face_at(walking_face(frame)[0]) if frame >= 4 else None  # the face is first found on frame 4
        ready += delayed.push(frame / FPS, found, frame)
    ready += delayed.flush()
    assert [frame for frame, _ in ready] == list(range(15))
    assert all(covers(cover, walking_face(frame)) for frame, cover in ready)


def test_two_faces_crossing_paths_keep_their_own_tracks():
    tracker = Tracker()
    ids = []
    for frame in range(10):
        left, right = 100 + 10 * frame, 300 - 10 * frame  # they pass each other at frame 10
        both = Predictions.concatenate([face_at(left), face_at(right, y=160)], 640, 480)
        ids.append(tracker.update(frame / FPS, both).tolist())
    assert all(pair == ids[0] for pair in ids)


def test_a_trusted_newest_detection_keeps_its_tracks_past_the_coast_and_lost_tracks_still_end():
    tracker = Tracker(coast=0.5)
    tracker.update(0.0, Predictions.concatenate([face_at(50), face_at(400)], 640, 480))
    tracker.update(0.2, face_at(50))  # the face at 400 is lost here
    late = 0.2 + 0.9  # the next detection has not come back yet
    assert not covers(tracker.cover(late, 640, 480), (50, 100, 90, 140))  # on its own, the coast has run out
    cover = tracker.cover(late, 640, 480, newest=0.2)
    assert covers(cover, (50, 100, 90, 140)) and not covers(cover, (400, 100, 440, 140))


def panned(frames=13, step=4):
    """A tracker following a panning camera, its face detected on the first frame only, and the face's box in each frame."""
    views, boxes = panning_frames(frames=frames, step=step)
    tracker = Tracker(camera=CameraMotion())
    for frame, view in enumerate(views):
        tracker.camera.follow(frame / FPS, view)
    x1, y1, x2, y2 = boxes[0]
    tracker.update(0.0, Predictions.of([Detection(x1, y1, x2, y2, 0.9, "face")], 320, 240))
    return tracker, boxes


def test_a_face_seen_once_moves_with_a_panning_camera_while_its_track_coasts():
    tracker, boxes = panned()
    for frame in range(1, 13):  # 48 px away by the end, more than half the face
        assert covers(tracker.cover(frame / FPS, 320, 240), boxes[frame], share=1.0), frame


def test_the_camera_only_adds_cover_where_the_face_was_seen_stays_hidden():
    tracker, boxes = panned()
    for frame in range(1, 13):
        assert covers(tracker.cover(frame / FPS, 320, 240), boxes[0], share=1.0), frame


def test_a_track_seen_once_is_looked_for_where_the_picture_took_it():
    tracker, boxes = panned()
    predicted = tracker.motion_boxes(12 / FPS, 320, 240)[0].xyxy[0]
    assert np.abs(predicted - boxes[12]).max() <= 4


def test_a_face_seen_once_is_found_again_as_the_same_track_after_a_pan():
    tracker, boxes = panned(step=10)
    x1, y1, x2, y2 = boxes[12]  # 120 px away: further than a face's size, a still track's reach
    assert tracker.update(12 / FPS, Predictions.of([Detection(x1, y1, x2, y2, 0.9, "face")], 320, 240)).tolist() == [1]
