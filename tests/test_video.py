"""Video: faces hidden in every frame, timing and audio kept, rotation applied, fail closed."""

import av
import numpy as np
import pytest

from anonymize.detectors.base import DetectorDefaults
from anonymize.errors import DetectionError, MediaError
from anonymize.settings import Settings
from anonymize.video import anonymize_video
from anonymize.video_io import frames_of, probe
from helpers.clips import face_clip, face_visible, panning_frames, write_frames


class Flaky(DetectorDefaults):
    """Wraps a detector; misses everything on the calls in ``miss``, raises on ``fail_at``."""

    def __init__(self, inner, miss=(), fail_at=None):
        self.inner, self.miss, self.fail_at, self.calls = inner, set(miss), fail_at, 0
        self.classes = inner.classes

    def detect(self, image, *, confidence, overlap):
        index, self.calls = self.calls, self.calls + 1
        if index == self.fail_at:
            raise RuntimeError("detector crashed")
        found = self.inner.detect(image, confidence=confidence, overlap=overlap)
        return found[:0] if index in self.miss else found


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "walk.mp4"
    return path, face_clip(path)


def test_the_face_is_hidden_in_every_frame_and_the_background_kept(clip, detector, tmp_path):
    path, boxes = clip
    report = anonymize_video(path, tmp_path / "out.mp4", detector, Settings())
    before, after = list(frames_of(path)), list(frames_of(tmp_path / "out.mp4"))
    assert report.frames == len(after) == len(before) == len(boxes)
    assert not any(face_visible(b, a, box) for b, a, box in zip(before, after, boxes))
    assert np.abs(after[0][:, -40:].astype(int) - before[0][:, -40:]).mean() < 3


def test_frame_rate_duration_and_audio_are_the_inputs(clip, detector, tmp_path):
    path, _ = clip
    anonymize_video(path, tmp_path / "out.mp4", detector, Settings())
    source, result = probe(path), probe(tmp_path / "out.mp4")
    assert result.fps == source.fps and result.frames == source.frames
    assert abs(result.duration - source.duration) <= 1 / source.fps
    with av.open(str(path)) as a, av.open(str(tmp_path / "out.mp4")) as b:
        tone_in, tone_out = a.streams.audio[0], b.streams.audio[0]
        assert tone_out.codec_context.name == "aac"
        assert abs(float(tone_out.duration * tone_out.time_base) - float(tone_in.duration * tone_in.time_base)) < 0.05


def test_tracking_hides_a_moving_face_the_detector_misses_for_three_frames_in_a_row(clip, detector, tmp_path):
    path, boxes = clip
    misses = {10, 20, 21, 22}
    counts = {}
    for coast in (0, 0.5):  # 0: each frame hides only its own detections
        out = tmp_path / f"coast{coast}.mp4"
        anonymize_video(path, out, Flaky(detector, miss=misses), Settings(), detect_every=1, coast=coast)
        counts[coast] = sum(face_visible(b, a, box) for b, a, box in zip(frames_of(path), frames_of(out), boxes))
    assert counts == {0: len(misses), 0.5: 0}


def test_a_face_missed_in_the_first_frames_is_hidden_by_tracking_backwards(clip, detector, tmp_path):
    path, boxes = clip
    anonymize_video(path, tmp_path / "out.mp4", Flaky(detector, miss={0, 1, 2}), Settings(), detect_every=1)
    assert not any(
        face_visible(b, a, box) for b, a, box in zip(frames_of(path), frames_of(tmp_path / "out.mp4"), boxes)
    )


def test_a_cut_to_another_scene_is_detected_at_once_whatever_detect_every_says(detector, tmp_path):
    face_clip(tmp_path / "a.mp4", frames=10, audio=False)
    first = list(frames_of(tmp_path / "a.mp4"))
    cut = [np.ascontiguousarray(frame[::-1, ::-1]) for frame in first]  # another shot: the face elsewhere
    write_frames(tmp_path / "cut.mp4", first + cut)
    counting = Flaky(detector)
    out = tmp_path / "out.mp4"
    report = anonymize_video(tmp_path / "cut.mp4", out, counting, Settings(), detect_every=100)
    assert report.frames_detected >= 2
    boxes = [(x1, y1, x2, y2) for x1, y1, x2, y2 in face_clip(tmp_path / "b.mp4", frames=10, audio=False)]
    flipped = [(320 - x2, 240 - y2, 320 - x1, 240 - y1) for x1, y1, x2, y2 in boxes]
    after = list(frames_of(out))
    assert not any(face_visible(b, a, box) for b, a, box in zip(first + cut, after, boxes + flipped))


def test_at_a_hard_cut_tracks_end_and_the_cut_is_in_the_json_lines(detector, tmp_path):
    import json

    face_clip(tmp_path / "a.mp4", frames=12, audio=False)
    first = list(frames_of(tmp_path / "a.mp4"))
    second = [np.ascontiguousarray(frame[::-1, ::-1]) for frame in first]  # another shot: the face elsewhere
    write_frames(tmp_path / "cut.mp4", first + second)
    report = anonymize_video(
        tmp_path / "cut.mp4",
        tmp_path / "out.mp4",
        detector,
        Settings(),
        detect_every=5,
        predictions_path=tmp_path / "out.jsonl",
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert report.cuts == [12] and [i for i, line in enumerate(lines) if line.get("cut")] == [12]
    tracks = [{box["tracker_id"] for box in line["predictions"] + line["carried_by_tracking"]} for line in lines]
    before, after = set().union(*tracks[:12]), set().union(*tracks[12:])
    # No track on both sides: no box of one shot carried onto the other, continued, or reaching back across the cut.
    assert before and after and not before & after


def test_a_video_without_audio_works(detector, tmp_path):
    face_clip(tmp_path / "silent.mp4", frames=10, audio=False)
    anonymize_video(tmp_path / "silent.mp4", tmp_path / "out.mp4", detector, Settings())
    assert probe(tmp_path / "out.mp4").audio is None


def test_phone_rotation_is_applied_before_detection(detector, tmp_path):
    boxes = face_clip(tmp_path / "phone.mp4", frames=10, rotation=90)
    anonymize_video(tmp_path / "phone.mp4", tmp_path / "out.mp4", detector, Settings())
    result = probe(tmp_path / "out.mp4")
    assert (result.width, result.height, result.rotation) == (320, 240, 0)
    assert not any(
        face_visible(b, a, box)
        for b, a, box in zip(frames_of(tmp_path / "phone.mp4"), frames_of(tmp_path / "out.mp4"), boxes)
    )


def test_no_location_or_other_metadata_is_copied(detector, tmp_path):
    face_clip(tmp_path / "gps.mp4", frames=5, location="+48.8566+002.3522/")
    anonymize_video(tmp_path / "gps.mp4", tmp_path / "out.mp4", detector, Settings())
    assert b"48.8566" not in (tmp_path / "out.mp4").read_bytes()
    with av.open(str(tmp_path / "out.mp4")) as result:
        assert not any("location" in key for key in result.metadata)


def test_webm_with_opus_audio_becomes_mp4_with_aac_audio_that_plays_everywhere(detector, tmp_path):
    face_clip(tmp_path / "clip.webm", frames=10, codec="libvpx-vp9", audio_codec="libopus")
    anonymize_video(tmp_path / "clip.webm", tmp_path / "out.mp4", detector, Settings())
    assert probe(tmp_path / "out.mp4").audio == "aac"
    with av.open(str(tmp_path / "out.mp4")) as out:
        assert sum(frame.samples for frame in out.decode(audio=0)) > 0.3 * 48000  # the sound itself came through


def test_audio_copy_keeps_a_codec_mp4_can_hold(detector, tmp_path):
    face_clip(tmp_path / "clip.webm", frames=10, codec="libvpx-vp9", audio_codec="libopus")
    anonymize_video(tmp_path / "clip.webm", tmp_path / "out.mp4", detector, Settings(), audio="copy")
    assert probe(tmp_path / "out.mp4").audio == "opus"


def test_a_lower_crf_makes_a_larger_better_video(detector, tmp_path):
    face_clip(tmp_path / "clip.mp4", frames=10, audio=False)
    sizes = {}
    for crf in (12, 32):
        anonymize_video(tmp_path / "clip.mp4", tmp_path / f"{crf}.mp4", detector, Settings(), crf=crf)
        sizes[crf] = (tmp_path / f"{crf}.mp4").stat().st_size
    assert sizes[12] > 1.5 * sizes[32]


def test_colours_come_through_unchanged(detector, tmp_path):
    bands = [
        (230, 40, 40),
        (40, 200, 60),
        (30, 60, 220),
        (224, 172, 140),
        (128, 128, 128),
        (250, 250, 250),
        (10, 10, 10),
        (200, 180, 20),
    ]
    frame = np.repeat(np.array(bands, np.uint8)[None].repeat(40, axis=1), 240, axis=0)  # 8 bands of 40 px
    write_frames(tmp_path / "bands.mp4", [frame] * 5)
    anonymize_video(tmp_path / "bands.mp4", tmp_path / "out.mp4", detector, Settings(), crf=0)
    before, after = next(frames_of(tmp_path / "bands.mp4")), next(frames_of(tmp_path / "out.mp4"))
    assert np.abs(after.astype(int) - before).mean() < 1


def test_a_video_of_odd_size_is_written_one_pixel_larger_with_its_face_hidden(detector, tmp_path):
    boxes = face_clip(tmp_path / "odd.webm", frames=8, size=(321, 241), codec="libvpx-vp9", audio=False)
    anonymize_video(tmp_path / "odd.webm", tmp_path / "out.mp4", detector, Settings())
    before, after = list(frames_of(tmp_path / "odd.webm")), list(frames_of(tmp_path / "out.mp4"))
    assert after[0].shape == (242, 322, 3)  # H.264 in 4:2:0 takes even sides: the last row and column repeated
    assert not any(face_visible(b, a[:241, :321], box) for b, a, box in zip(before, after, boxes))


def test_per_frame_predictions_are_written_as_json_lines(clip, detector, tmp_path):
    import json

    path, boxes = clip
    anonymize_video(
        path, tmp_path / "out.mp4", detector, Settings(), detect_every=1, predictions_path=tmp_path / "out.jsonl"
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(len(boxes)))
    assert all(any(p["class"] == "face" for p in line["predictions"]) for line in lines)
    assert (
        len({p["tracker_id"] for line in lines for p in line["predictions"] if not p["low_confidence"]}) == 1
    )  # one face, one track


def test_json_lines_tell_detected_boxes_from_those_carried_by_tracking(clip, detector, tmp_path):
    import json

    path, boxes = clip
    report = anonymize_video(
        path,
        tmp_path / "out.mp4",
        Flaky(detector, miss={10}),
        Settings(),
        detect_every=1,
        predictions_path=tmp_path / "out.jsonl",
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    face = next(p["tracker_id"] for p in lines[9]["predictions"] if not p["low_confidence"])
    assert lines[10]["predictions"] == [] and face in [p["tracker_id"] for p in lines[10]["carried_by_tracking"]]
    assert all(p["tracker_id"] != face for line in lines[9:12:2] for p in line["carried_by_tracking"])
    assert report.frames_detected == len(boxes) and report.frames_with_carried_boxes >= 1


def test_a_detector_failure_leaves_no_output(clip, detector, tmp_path):
    path, _ = clip
    with pytest.raises(DetectionError, match="detector crashed"):
        anonymize_video(
            path, tmp_path / "out.mp4", Flaky(detector, fail_at=5), Settings(), predictions_path=tmp_path / "p.jsonl"
        )
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_video_is_refused_and_leaves_nothing(clip, detector, tmp_path):
    path, _ = clip
    data = path.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match="cut.mp4"):
        anonymize_video(tmp_path / "cut.mp4", tmp_path / "out.mp4", detector, Settings())
    assert not (tmp_path / "out.mp4").exists()


def test_a_text_file_is_not_a_video(detector, tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(MediaError, match="notes.mp4: not a video"):
        anonymize_video(tmp_path / "notes.mp4", tmp_path / "out.mp4", detector, Settings())


def test_a_video_over_the_length_limit_is_refused_before_any_work(clip, detector, tmp_path):
    path, _ = clip
    counting = Flaky(detector)
    with pytest.raises(MediaError, match="above the limit"):
        anonymize_video(path, tmp_path / "out.mp4", counting, Settings(), max_seconds=1)
    assert counting.calls == 0


def test_detecting_every_third_frame_still_hides_the_face_in_all(clip, detector, tmp_path):
    path, boxes = clip
    counting = Flaky(detector)
    report = anonymize_video(path, tmp_path / "out.mp4", counting, Settings(), detect_every=3)
    # Every 3rd frame, plus a few at the start, while the new track's velocity is not known yet.
    assert report.frames_detected == counting.calls < len(boxes) // 2
    assert not any(
        face_visible(b, a, box) for b, a, box in zip(frames_of(path), frames_of(tmp_path / "out.mp4"), boxes)
    )


def test_progress_is_told_on_the_callers_thread_up_to_the_last_frame(clip, detector, tmp_path):
    # A page's progress bar only takes updates from the page's own thread.
    import threading

    told = []
    report = anonymize_video(
        clip[0],
        tmp_path / "out.mp4",
        detector,
        Settings(),
        on_progress=lambda done, expected, _: told.append((done, threading.current_thread())),
    )
    assert {thread for _, thread in told} == {threading.current_thread()}
    assert [done for done, _ in told] == sorted({done for done, _ in told}) and told[-1][0] == report.frames


@pytest.mark.parametrize("fps, every", [(25, 40), (5, 10)])
def test_a_large_detect_every_never_leaves_a_face_between_detections_or_at_the_end(detector, tmp_path, fps, every):
    # Tracking believes a box for half a second away from its detection: detection runs at least that often.
    from anonymize.censor import CensorSettings
    from helpers.clips import camera_frame

    frame, (x1, y1, x2, y2) = camera_frame(640, 480)
    write_frames(tmp_path / "still.mp4", [frame] * (3 * fps), rate=fps, size=(640, 480))
    report = anonymize_video(
        tmp_path / "still.mp4",
        tmp_path / "out.mp4",
        detector,
        Settings(censor=CensorSettings(method="fill")),
        detect_every=every,
    )
    shown = [
        i
        for i, out in enumerate(frames_of(tmp_path / "out.mp4"))
        if (out[y1 + 25 : y2 - 25, x1 + 25 : x2 - 25] > 60).mean() > 0.3
    ]
    assert shown == [] and report.frames_detected < report.frames


def test_a_face_found_once_then_missed_stays_hidden_while_the_camera_pans(detector, tmp_path):
    frames, boxes = panning_frames(frames=13, step=8)  # 12 frames on, 96 px away: further than the face is wide
    write_frames(tmp_path / "pan.mp4", frames, rate=25)
    found_once = Flaky(detector, miss=range(1, 100))
    anonymize_video(tmp_path / "pan.mp4", tmp_path / "out.mp4", found_once, Settings())
    before, after = list(frames_of(tmp_path / "pan.mp4")), list(frames_of(tmp_path / "out.mp4"))
    assert found_once.calls > 1  # detection did run again, and found nothing
    assert not any(face_visible(b, a, box) for b, a, box in zip(before, after, boxes))
