"""Reviewing boxes in the app (AppTest): an edit changes the picture and the JSON, edits files round-trip.

Drawing on the canvas, and the CLI replaying the app's download byte for byte, are in test_browser.py:
AppTest cannot drive a custom component, nor make a download that is encoded on click.
"""

import io
import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, pictures_in
from helpers.apptest import download, image_pixels, open_page, predictions


def city_png() -> bytes:
    buffer = io.BytesIO()
    Image.open(SAMPLES / "city.jpg").save(buffer, format="PNG")
    return buffer.getvalue()


def uploaded_for_review(data: bytes, name: str = "city.png"):
    """The Image page with ``data`` uploaded, confident faces only, and review on."""
    at = open_page("image", query={"classes": "face", "confidence_face": "50"})
    at.radio(key="image_source").set_value("Upload").run()
    at.file_uploader[0].upload(name, data, "image/png").run()
    at.toggle(key="image_review").set_value(True).run()
    assert not at.exception, at.exception
    return at


def keep_visible(at, index: int):
    (chosen,) = [m for m in at.multiselect if m.label == "Leave visible on purpose"]
    return chosen.select(chosen.options[index]).run()


def test_keeping_a_detection_visible_changes_the_after_image_and_the_json(shown_media):
    at = uploaded_for_review(city_png())
    face = predictions(at)[0]
    x, y = round(face["x"]), round(face["y"])
    hidden_before = image_pixels(at, shown_media, 0)[y, x].astype(int)
    keep_visible(at, 0)
    original = np.asarray(Image.open(SAMPLES / "city.jpg").convert("RGB")).astype(int)
    shown = image_pixels(at, shown_media, 0).astype(int)
    assert np.abs(shown[y, x] - original[y, x]).max() < np.abs(hidden_before - original[y, x]).max()
    review = json.loads(at.code[0].value)["review"]
    assert [d["detection_id"] for d in review["kept_visible"]] == [face["detection_id"]]
    assert any("1 detection(s) kept visible on purpose" in c.value for c in at.caption)
    assert [b.proto.label for b in at.get("download_button")][:1] == ["Download reviewed image"]


def test_an_edits_file_round_trips_through_download_undo_and_upload(shown_media):
    at = keep_visible(uploaded_for_review(city_png()), 2)
    edits = download(at, shown_media, "Download edits (JSON)")
    reviewed = json.loads(at.code[0].value)["review"]
    at.button(key=[b.key for b in at.button if b.key and b.key.startswith("review-undo")][0]).click().run()
    assert "review" not in json.loads(at.code[0].value)
    at.file_uploader(key="image_edits_file").upload("city_edits.json", edits, "application/json").run()
    assert not at.exception and not at.error
    assert json.loads(at.code[0].value)["review"] == reviewed
    assert download(at, shown_media, "Download edits (JSON)") == edits


def test_a_malformed_edits_file_is_refused_with_a_sentence():
    at = uploaded_for_review(city_png())
    at.file_uploader(key="image_edits_file").upload(
        "edits.json", b'{"format": "anonymize-edits", "version": 1}', "application/json"
    ).run()
    assert "edits.json: it does not say which model" in at.error[0].value


def test_the_batch_review_queue_puts_risky_pictures_first_and_its_edits_reach_the_zip(shown_media):
    at = open_page("batch", query={"classes": "face", "confidence_face": "50"})
    dashcam = (SAMPLES / "dashcam_plate.jpg").read_bytes()
    at.file_uploader[0].upload("dashcam.jpg", dashcam, "image/jpeg").upload("city.png", city_png(), "image/png").run()
    at.button[0].click().run()
    at.toggle(key="batch_review").set_value(True).run()
    queue = at.selectbox(key="review_queue")
    assert queue.options[0].startswith("1 of 2: city.png")  # faces just above the threshold: looked at first
    keep_visible(at, 0)
    assert any("changed since the zip was made" in w.value for w in at.warning)
    assert [b for b in at.get("download_button") if b.proto.label.endswith("(zip)")][0].proto.disabled
    at.button[0].click().run()
    assert pictures_in(download(at, shown_media, "Download anonymized images (zip)")) == ["city.png", "dashcam.jpg"]
    payload = json.loads(download(at, shown_media, "Download every picture's predictions (JSON)"))
    assert len(payload["city.png"]["review"]["kept_visible"]) == 1 and "review" not in payload["dashcam.jpg"]
    assert [m.value for m in at.metric if m.label == "Reviewed by hand"] == ["1"]


def reviewed_video(tmp_path):
    """The Video page with a short clip anonymized (confident faces only) and review on."""
    from helpers.clips import face_clip

    face_clip(tmp_path / "walk.mp4", frames=20)
    at = open_page("video", query={"confidence_face": "50"})
    at.file_uploader[0].set_value(("walk.mp4", (tmp_path / "walk.mp4").read_bytes(), "video/mp4")).run()
    at.button(key="render-Anonymize video").click().run()
    at.toggle(key="video_review").set_value(True).run()
    assert not at.exception and not at.error, at.exception
    return at


def test_a_video_track_kept_visible_is_rendered_again_with_it_and_the_json_lines_say_so(tmp_path, shown_media):
    at = reviewed_video(tmp_path)
    (tracks,) = [m for m in at.multiselect if m.label == "Keep these tracks visible"]
    assert len(tracks.options) == 1 and tracks.options[0].startswith("#1 face, frames 0–")
    tracks.select(tracks.options[0]).run()
    assert any("not in this video yet" in w.value for w in at.warning)
    assert [b.proto.disabled for b in at.get("download_button") if b.proto.label == "Download anonymized video"] == [
        True
    ]
    at.button(key="render-Render again with the edits").click().run()
    assert "with your review edits" in at.success[0].value
    assert [m.value for m in at.metric if m.label == "Kept visible on purpose"] == ["1 track(s), 20 frames"]
    assert json.loads(at.code[0].value)["kept_visible"][0]["class"] == "face"
    assert not any("not in this video yet" in w.value for w in at.warning)


def test_video_edits_round_trip_through_download_undo_and_upload(tmp_path, shown_media):
    at = reviewed_video(tmp_path)
    (tracks,) = [m for m in at.multiselect if m.label == "Keep these tracks visible"]
    tracks.select(tracks.options[0]).run()
    edits = download(at, shown_media, "Download edits (JSON)")
    assert json.loads(edits)["videos"]["walk.mp4"]["kept_tracks"][0]["frame"] == 0
    at.button(key="video-review-undo").click().run()
    assert [m for m in at.multiselect if m.label == "Keep these tracks visible"][0].value == []
    at.file_uploader(key="video_edits_file").upload("walk_edits.json", edits, "application/json").run()
    assert not at.error
    assert len([m for m in at.multiselect if m.label == "Keep these tracks visible"][0].value) == 1
    assert download(at, shown_media, "Download edits (JSON)") == edits


def test_the_batch_page_uploads_the_anonymized_pictures_and_its_zip_manifest_says_how_it_went(
    shown_media, fake_roboflow, monkeypatch
):
    from helpers.fake_roboflow import KEY, PROJECT, WORKSPACE

    monkeypatch.setattr("anonymize.upload.BACKOFF", 0.01)
    at = open_page("batch")
    at.file_uploader[0].upload("car.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes(), "image/jpeg").upload(
        "city.png", city_png(), "image/png"
    ).run()
    at.button[0].click().run()
    fake_roboflow.refuse_uploads["city.png"] = 99
    at.text_input(key="upload_target").set_value(f"{WORKSPACE}/{PROJECT}")
    at.text_input(key="upload_tags").set_value("anonymized, street")
    at.text_input(key="upload_key").set_value(KEY).run()
    at.button(key="upload_go").click().run()
    assert not at.exception
    assert any("1 of 2 picture(s) uploaded to acme/faces" in s.value for s in at.success)
    assert any("city.png" in e.value and "after 3 tries" in e.value for e in at.error)
    (sent,) = fake_roboflow.uploads
    assert sent["name"] == "car.jpg" and sent["tags"] == ["anonymized", "street"]
    zipped = zipfile.ZipFile(io.BytesIO(download(at, shown_media, "Download anonymized images (zip)")))
    assert sent["data"] == zipped.read("car.jpg")  # the anonymized picture, never the upload
    manifest = json.loads(zipped.read("manifest.json"))
    assert (
        manifest["totals"]["uploaded"] == 1
        and manifest["totals"]["upload_failed"] == 1
        and manifest["upload"]["to"] == "acme/faces"
    )
    assert KEY not in zipped.read("manifest.json").decode() and all(KEY not in str(e.value) for e in at.error)


def drawn_labels(at) -> list[str]:
    """The labels on the review canvas as drawn (AppTest cannot render the canvas; its drawing is in the session)."""
    (drawing,) = list(at.session_state["review_drawings"].values())[-1:]
    return [obj["label"] for obj in drawing["objects"]]


def test_on_a_crowd_the_canvas_numbers_its_confident_boxes_and_keeps_the_low_confidence_ones_behind_a_toggle():
    at = open_page("image", query={"classes": "face"})  # the City sample, at the default threshold
    at.radio(key="image_source").set_value("Upload").run()
    at.file_uploader[0].upload("city.png", city_png(), "image/png").run()
    at.toggle(key="image_review").set_value(True).run()
    found = [p for p in predictions(at) if p["class"] == "face"]
    confident = [p for p in found if p["confidence"] >= 0.5]
    hidden = {m.label: m.value for m in at.metric}["Faces hidden"]
    labels = drawn_labels(at)
    assert all(re.fullmatch(r"#\d+", label) for label in labels)  # the number alone: the list below names it
    assert len(labels) == len(confident) < len(found)
    assert {m.label: m.value for m in at.metric}["Faces hidden"] == hidden  # left off the canvas, still hidden
    assert not any("kept visible" in c.value for c in at.caption)
    at.toggle(key="review_low_confidence").set_value(True).run()
    assert len(drawn_labels(at)) == len(found)


def test_the_review_canvas_can_be_zoomed():
    at = uploaded_for_review(city_png())
    at.select_slider(key="review_zoom").set_value(2.0).run()
    assert not at.exception and len(at.session_state["review_drawings"]) == 2  # a canvas of its own, twice as large
    (small, large) = list(at.session_state["review_drawings"].values())
    # The 800 px picture: at 1× on a 560 px canvas, at 2× at its own size (1,120 px would be allowed).
    assert large["objects"][0]["width"] / small["objects"][0]["width"] == pytest.approx(800 / 560)
