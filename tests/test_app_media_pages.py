"""Webcam and Video pages under AppTest."""

import json
import time

import av
import numpy as np

from anonymize.video_io import frames_of
from helpers.apptest import download, image_pixels, open_page
from helpers.clips import FACE_SIDE, face_clip, face_patch


def test_webcam_page_needs_no_stun_server_and_censors_through_its_callback(streamer):
    at = open_page("webcam")
    (call,) = streamer.calls[-1:]
    assert call["rtc_configuration"] == {"iceServers": []}
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[150 : 150 + FACE_SIDE, 200 : 200 + FACE_SIDE] = face_patch()
    incoming = av.VideoFrame.from_ndarray(frame, format="rgb24")
    deadline = time.monotonic() + 10
    while True:
        out = call["video_frame_callback"](incoming).to_ndarray(format="rgb24")
        assert not np.array_equal(out, frame)  # never the raw frame
        if np.array_equal(out[300:], frame[300:]) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert np.array_equal(out[300:], frame[300:])  # detection caught up: only the face is hidden
    assert np.abs(out[175:215, 225:265].astype(int) - frame[175:215, 225:265]).mean() > 10
    assert [m.label for m in at.metric][:3] == ["Frames per second", "Censoring per frame", "Detection latency"]


def test_webcam_callback_follows_sidebar_changes(streamer):
    at = open_page("webcam")
    at.selectbox(key="method").set_value("fill").run()
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[150 : 150 + FACE_SIDE, 200 : 200 + FACE_SIDE] = face_patch()
    callback = streamer.calls[-1]["video_frame_callback"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = callback(av.VideoFrame.from_ndarray(frame, format="rgb24")).to_ndarray(format="rgb24")
        if (out[195, 245] == 0).all():
            break
        time.sleep(0.05)
    assert (out[195, 245] == 0).all()  # the face is filled black


def test_video_page_returns_the_anonymized_video_with_previews(tmp_path):
    face_clip(tmp_path / "walk.mp4", frames=20)
    at = open_page("video")
    at.file_uploader[0].set_value(("walk.mp4", (tmp_path / "walk.mp4").read_bytes(), "video/mp4")).run()
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert "20 frames anonymized" in at.success[0].value
    assert len(at.get("video")) == 1 and len(at.image) == 8  # four before/after pairs


def test_video_page_shows_a_frames_predictions_readable_and_boxes_on_its_previews(tmp_path, shown_media):
    face_clip(tmp_path / "walk.mp4", frames=20)
    at = open_page("video")
    at.file_uploader[0].set_value(("walk.mp4", (tmp_path / "walk.mp4").read_bytes(), "video/mp4")).run()
    at.button[0].click().run()
    shown = json.loads(at.code[0].value)
    hidden = (
        shown["predictions"] + shown["carried_by_tracking"]
    )  # detected on this frame, or carried to it between detections
    assert shown["frame"] == at.number_input(key="video_json_frame").value and {box["class"] for box in hidden} == {
        "face"
    }
    at.number_input(key="video_json_frame").set_value(3).run()
    assert json.loads(at.code[0].value)["frame"] == 3
    boxed = image_pixels(at, shown_media, 0)
    at.toggle(key="show_boxes").set_value(False).run()
    assert np.abs(boxed.astype(int) - image_pixels(at, shown_media, 0)).sum() > 0  # the toggle acts here too


def test_video_results_follow_the_sidebar_and_are_never_stale(tmp_path, shown_media):
    (x1, y1, x2, y2), *_ = face_clip(tmp_path / "walk.mp4", frames=10)
    at = open_page("video")
    at.file_uploader[0].set_value(("walk.mp4", (tmp_path / "walk.mp4").read_bytes(), "video/mp4")).run()
    at.button[0].click().run()
    lines = download(at, shown_media, "Download per-frame predictions (JSON lines)").decode().splitlines()
    frames = [json.loads(line) for line in lines]
    assert len(frames) == 10 and all(frame["predictions"] or frame["carried_by_tracking"] for frame in frames)
    at.selectbox(key="method").set_value("fill").run()
    assert all(button.disabled for button in at.get("download_button")[:2])  # that video was made with other settings
    assert "censoring" in [w.value for w in at.warning if "other settings" in w.value][0]
    assert len(at.get("video")) == 1  # still shown, with the notice
    at.button[0].click().run()
    out = tmp_path / "filled.mp4"
    out.write_bytes(download(at, shown_media, "Download anonymized video"))
    assert (next(frames_of(out))[(y1 + y2) // 2, (x1 + x2) // 2] < 30).all()  # the face is filled black


def test_video_page_names_a_file_that_is_not_a_video():
    at = open_page("video")
    at.file_uploader[0].set_value(("notes.mp4", b"no video in here", "video/mp4")).run()
    at.button[0].click().run()
    assert "notes.mp4" in at.error[0].value and not at.get("video")


def test_video_page_detects_every_kth_frame_when_asked_and_says_what_tracking_did(tmp_path):
    face_clip(tmp_path / "walk.mp4", frames=20)
    at = open_page("video")
    at.file_uploader[0].set_value(("walk.mp4", (tmp_path / "walk.mp4").read_bytes(), "video/mp4")).run()
    at.select_slider(key="detect_every").set_value(4).run()
    at.button[0].click().run()
    metrics = {m.label: m.value for m in at.metric}
    detected, _, of = metrics["Detection ran on"].split()
    assert int(of) == 20 and int(detected) < 20 / 2
    assert int(metrics["Tracking carried boxes on"].split()[0]) >= 20 - int(detected)
