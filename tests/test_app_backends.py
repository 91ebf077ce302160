"""Switching the model source in the sidebar, under AppTest, against the fake Roboflow server."""

from anonymize.settings import CLASS_CONFIDENCE
from conftest import FAKE_ROBOFLOW
from helpers.apptest import open_page, predictions
from helpers.fake_roboflow import KEY
from helpers.remote import upload_red_box, use_remote


def everything_shown(at) -> str:
    """The text of every element but the key's own (masked) password field."""
    elements = [e for block in (at.main, at.sidebar) for e in block if getattr(e, "key", None) != "api_key"]
    return " ".join(str(getattr(e, "value", "")) for e in elements)


def test_the_hosted_model_drives_the_image_page(fake_roboflow):
    at = upload_red_box(use_remote(open_page("image"), "roboflow", workspace="acme"))
    assert not at.error
    (face,) = predictions(at)
    assert face["class"] == "face" and face["prediction_type"] == "ObjectDetectionModel"
    assert at.multiselect[0].value == ["face"]  # the model's own classes, all selected
    assert KEY not in everything_shown(at) and "api_key" not in at.query_params


def test_a_rejected_key_is_one_sentence_and_nothing_is_anonymized(fake_roboflow):
    at = use_remote(open_page("image"), "roboflow", key="wrong-key-abc")
    assert any("API key rejected by Roboflow" in e.value for e in at.error)
    assert not at.image and not at.code and not at.get("download_button")  # fail closed
    assert "wrong-key-abc" not in everything_shown(at)


def test_the_inference_server_drives_the_image_page(fake_roboflow):
    at = upload_red_box(use_remote(open_page("image"), "inference", api_url=FAKE_ROBOFLOW.url))
    assert not at.error
    (plate,) = predictions(at)
    assert plate["class"] == "plate" and "inference_id" in at.code[0].value
    assert [(m.label, m.value) for m in at.metric][0] == ("Hidden: plate", "1")  # the model's own class is counted


def test_switching_back_to_local_uses_the_bundled_models(fake_roboflow):
    at = use_remote(open_page("image"), "roboflow", workspace="acme")
    at.selectbox(key="source").set_value("local").run()
    at.radio(key="image_source").set_value("Sample").run()
    assert {p["class"] for p in predictions(at)} <= {"face", "license-plate"} and len(predictions(at)) >= 20


def test_a_hosted_model_gets_one_confidence_slider_per_class_of_its_own(fake_roboflow):
    at = upload_red_box(use_remote(open_page("image"), "roboflow", workspace="acme"))
    sliders = [s.key for s in at.sidebar.slider if s.key.startswith("confidence")]
    assert (
        sliders == ["confidence_face"] and at.slider(key="confidence_face").value == CLASS_CONFIDENCE["face"]
    )  # a class named face: the face default
    at.slider(key="confidence_face").set_value(95).run()  # the fake answers 87 %
    assert len(at.dataframe[0].value) == 0 and at.metric[0].value == "0" and not at.error


def test_without_a_key_the_page_keeps_its_title_and_says_once_what_is_missing_and_where():
    at = open_page("image")
    at.selectbox(key="source").set_value("roboflow").run()
    assert at.title[0].value == "Image"
    (warning,) = at.main.warning
    assert "needs an API key and a project" in warning.value and "app.roboflow.com/settings/api" in warning.value
    assert not at.error and not at.image  # said once, and nothing shown as anonymized


def test_one_click_goes_back_to_the_local_models():
    at = open_page("image")
    at.selectbox(key="source").set_value("roboflow").run()
    at.button[0].click().run()
    assert at.selectbox(key="source").value == "local" and not at.main.warning and len(predictions(at)) >= 20


def test_home_shows_what_roboflow_reports_about_a_working_model(fake_roboflow):
    at = use_remote(open_page(), "roboflow", workspace="acme")
    assert "Roboflow hosted model" in at.info[0].value
    reported = dict(at.dataframe[0].value.values.tolist())
    assert reported == {
        "Classes": "face",
        "Images in the version": "10 (train 7 · valid 2 · test 1)",
        "mAP@50": "91.5 %",
        "Precision": "88.2 %",
        "Recall": "90.0 %",
    }


def test_home_does_not_name_an_active_detector_when_none_can_run():
    at = open_page()
    at.selectbox(key="source").set_value("roboflow").run()
    assert not at.info and "needs an API key" in at.main.warning[0].value
