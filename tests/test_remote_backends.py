"""The Roboflow backends, with the real ``roboflow`` SDK and our Inference client against a fake server."""

import logging
import time
import traceback

import numpy as np
import pytest

from anonymize.detectors import BackendConfig, create_detector
from anonymize.detectors.inference_server import InferenceServerDetector
from anonymize.errors import DetectionError, MissingSettings
from anonymize.pipeline import anonymize_image
from anonymize.settings import Settings
from helpers.fake_roboflow import KEY, PROJECT, TRAINED_VERSION, UNTRAINED_VERSION, WORKSPACE
from helpers.remote import fake_url, hosted, inference

RED_BOX = (40, 30, 100, 90)


def near_red_box(d, tolerance=2):
    """JPEG on the way to the server softens the box edges by a pixel or two."""
    return all(abs(a - b) <= tolerance for a, b in zip((d.x1, d.y1, d.x2, d.y2), RED_BOX))


@pytest.fixture
def picture():
    """Grey, with one red rectangle that the fake server reports as a detection."""
    pixels = np.full((120, 160, 3), 128, np.uint8)
    x1, y1, x2, y2 = RED_BOX
    pixels[y1:y2, x1:x2] = (255, 0, 0)
    return pixels


def error_text(error: BaseException) -> str:
    """Everything a user, a log or a traceback could show of ``error``."""
    return "".join(traceback.format_exception(error))


def assert_fails_with(expected: str, make, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DetectionError, match=expected) as raised:
            make()
    shown = error_text(raised.value) + caplog.text + "".join(capsys.readouterr())
    assert KEY not in shown
    return raised.value


def test_hosted_model_finds_the_box_and_the_pipeline_hides_it(fake_roboflow, picture):
    detector = hosted()
    assert detector.classes == ("face",)
    result = anonymize_image(picture, detector, Settings(classes=("face",)))
    (face,) = result.hidden
    assert near_red_box(face)
    x1, y1, x2, y2 = RED_BOX
    assert not np.array_equal(
        result.image[y1 + 20 : y2 - 20, x1 + 20 : x2 - 20], picture[y1 + 20 : y2 - 20, x1 + 20 : x2 - 20]
    )
    assert np.array_equal(result.image[:, 120:], picture[:, 120:])  # beyond the padded box (1.3×: x 31–109)


def test_hosted_json_is_the_sdk_answer_with_the_real_image_size(fake_roboflow, picture):
    raw = anonymize_image(picture, hosted(), Settings()).to_json()
    assert raw["image"] == {"width": 160, "height": 120}
    assert raw["predictions"][0]["prediction_type"] == "ObjectDetectionModel"
    assert "image_path" not in raw["predictions"][0]


def test_the_workspace_defaults_to_the_keys_own(fake_roboflow):
    assert hosted(workspace=None).classes == ("face",)


def test_a_wrong_key_is_rejected_in_plain_words(fake_roboflow, caplog, capsys):
    assert_fails_with("API key rejected by Roboflow", lambda: hosted(api_key="wrong-key-abc"), caplog, capsys)


def test_a_missing_key_is_asked_for(fake_roboflow):
    with pytest.raises(MissingSettings, match="needs an API key") as raised:
        hosted(api_key="")
    assert raised.value.missing == ("API key",)


def test_everything_missing_is_named_at_once():
    with pytest.raises(MissingSettings) as raised:
        create_detector(BackendConfig("roboflow"), "")
    assert raised.value.missing == ("API key", "project")
    assert str(raised.value) == "The Roboflow hosted model needs an API key and a project."
    with pytest.raises(MissingSettings, match="Inference server needs a project"):  # a server may need no key
        create_detector(BackendConfig("inference"), "")


def test_an_unknown_project_is_named(fake_roboflow, caplog, capsys):
    assert_fails_with("Project 'nope' not found", lambda: hosted(project="nope"), caplog, capsys)


def test_an_unknown_version_is_named(fake_roboflow, caplog, capsys):
    assert_fails_with("Version 9 not found", lambda: hosted(version=9), caplog, capsys)


def test_a_version_without_a_model_says_so(fake_roboflow, caplog, capsys):
    assert_fails_with("no trained model", lambda: hosted(version=UNTRAINED_VERSION), caplog, capsys)


def test_inference_server_finds_the_box_and_keeps_its_json(fake_roboflow, picture):
    result = anonymize_image(picture, inference(), Settings(classes=("plate",)))
    (plate,) = result.hidden
    assert near_red_box(plate)
    assert "inference_id" in result.to_json()


def test_inference_server_rejects_a_wrong_key(fake_roboflow, caplog, capsys):
    assert_fails_with("API key rejected", lambda: inference(api_key="nope-key"), caplog, capsys)


def test_inference_server_reports_an_unknown_model(fake_roboflow, caplog, capsys):
    assert_fails_with("does not know this model", lambda: inference(model_id=f"{PROJECT}/9"), caplog, capsys)


@pytest.mark.parametrize("make", [hosted, inference], ids=["hosted", "inference-server"])
def test_a_server_error_fails_closed_without_the_key(make, fake_roboflow, picture, caplog, capsys):
    detector = make()
    fake_roboflow.mode = "error"
    # The SDK's own HTTPError names the URL, key included: it must not get through.
    assert_fails_with(
        r"failed on its side \(HTTP 500\)", lambda: anonymize_image(picture, detector, Settings()), caplog, capsys
    )


@pytest.mark.parametrize("make", [hosted, inference], ids=["hosted", "inference-server"])
def test_a_server_that_never_answers_times_out_within_the_limit(make, fake_roboflow, picture, caplog, capsys):
    detector = make(timeout=1)
    fake_roboflow.mode = "hang"
    start = time.monotonic()
    assert_fails_with(
        "did not answer in 1 s", lambda: detector.detect(picture, confidence=0.4, overlap=0.3), caplog, capsys
    )
    assert time.monotonic() - start < 2.5


def test_an_inference_server_that_is_not_running_is_reported(caplog, capsys):
    from helpers.browser import free_port

    assert_fails_with(
        "Cannot reach the Inference server",
        lambda: inference(api_url=f"http://127.0.0.1:{free_port()}"),
        caplog,
        capsys,
    )


def test_the_factory_builds_each_backend(fake_roboflow):
    assert create_detector(
        BackendConfig("roboflow", project=PROJECT, version=TRAINED_VERSION, workspace=WORKSPACE), KEY
    ).classes == ("face",)
    assert isinstance(
        create_detector(BackendConfig("inference", project=PROJECT, version=TRAINED_VERSION, api_url=fake_url()), KEY),
        InferenceServerDetector,
    )
    with pytest.raises(MissingSettings, match="needs a project"):
        create_detector(BackendConfig("roboflow"), KEY)


def test_repr_never_shows_the_key(fake_roboflow):
    assert KEY not in repr(hosted()) and KEY not in repr(inference())


@pytest.mark.parametrize(
    "listed",
    [
        {"images": "abc", "splits": [1, 2], "model": "x"},
        {"images": 10, "splits": {"train": "many"}, "model": {"map": None, "precision": "nan", "recall": [1]}},
        {"model": {"map": "1e309"}},
    ],
)
def test_a_malformed_version_report_is_left_out_and_never_stops_the_model(listed):
    from anonymize.detectors.roboflow_hosted import model_details

    details = model_details({"face": 1}, None, listed)
    assert details["Classes"] == "face" and not any(
        word in text for text in details.values() for word in ("nan", "inf", "abc", "many")
    )
