"""Uploading anonymized pictures with the real roboflow SDK against the fake Roboflow on 127.0.0.1."""

import time

import pytest

from anonymize.errors import MissingSettings, UploadError
from anonymize.upload import RoboflowUploader, UploadTarget
from conftest import SAMPLES
from helpers.fake_roboflow import KEY, PROJECT, WORKSPACE

TARGET = UploadTarget(WORKSPACE, PROJECT)


def test_a_picture_is_uploaded_into_the_split_batch_and_tags_asked_for(fake_roboflow):
    uploader = RoboflowUploader(KEY, TARGET, split="valid", batch_name="clean-2026", tags=["anonymized", "dashcam"])
    image_id = uploader.upload(SAMPLES / "dashcam_plate.jpg")
    (sent,) = fake_roboflow.uploads
    assert image_id and sent["name"] == "dashcam_plate.jpg" and sent["split"] == "valid"
    assert sent["batch"] == "clean-2026" and sent["tags"] == ["anonymized", "dashcam"]
    assert sent["data"] == (SAMPLES / "dashcam_plate.jpg").read_bytes()


def test_a_rejected_key_stops_before_any_upload_and_is_never_shown(fake_roboflow):
    with pytest.raises(UploadError, match="API key rejected") as caught:
        RoboflowUploader("Wrong-key-123abc", TARGET)
    assert "Wrong-key-123abc" not in str(caught.value) and caught.value.__cause__ is None
    assert not fake_roboflow.uploads


def test_no_key_and_an_unknown_project_are_one_sentence_each(fake_roboflow):
    with pytest.raises(MissingSettings):
        RoboflowUploader("", TARGET)
    with pytest.raises(UploadError, match="Project 'nope' not found"):
        RoboflowUploader(KEY, UploadTarget(WORKSPACE, "nope"))


def test_a_failed_upload_is_tried_again_and_then_reported(fake_roboflow, monkeypatch):
    monkeypatch.setattr("anonymize.upload.BACKOFF", 0.01)
    uploader = RoboflowUploader(KEY, TARGET)
    fake_roboflow.refuse_uploads["astronaut.jpg"] = 2  # two 500s, then it works
    assert uploader.upload(SAMPLES / "astronaut.jpg")
    fake_roboflow.refuse_uploads["city.jpg"] = 99
    with pytest.raises(
        UploadError, match=r"not uploaded to acme/faces after 3 tries: Roboflow failed on its side \(HTTP 500\)"
    ):
        uploader.upload(SAMPLES / "city.jpg")
    assert [u["name"] for u in fake_roboflow.uploads] == ["astronaut.jpg"]


def test_a_server_that_hangs_costs_the_deadline_per_try_not_forever(fake_roboflow, monkeypatch):
    monkeypatch.setattr("anonymize.upload.BACKOFF", 0.01)
    uploader = RoboflowUploader(KEY, TARGET, timeout=1, attempts=2)
    fake_roboflow.mode = "hang"
    started = time.monotonic()
    with pytest.raises(UploadError, match="did not answer in 1 s"):
        uploader.upload(SAMPLES / "astronaut.jpg")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("text", ["faces", "acme/", "/faces", "a/b/c", ""])
def test_a_target_that_is_not_workspace_slash_project_is_refused(text):
    with pytest.raises(ValueError, match="WORKSPACE/PROJECT"):
        UploadTarget.parse(text)
