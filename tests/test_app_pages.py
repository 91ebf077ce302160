"""Every page under Streamlit's AppTest: renders, reacts to the sidebar, reports bad input."""

import io
import json
import zipfile

import numpy as np
from PIL import Image

from anonymize.media import PREVIEW_SIDE
from anonymize.settings import CLASS_CONFIDENCE
from conftest import SAMPLES
from helpers.apptest import download, image_pixels, open_page, predictions
from helpers.pictures import png_header_only


def test_home_names_the_active_detector_and_links_every_page():
    at = open_page()
    assert "CenterFace" in at.info[0].value
    assert {link.label.split(":")[0] for link in at.get("page_link")} == {"Image", "Batch", "Webcam", "Video"}


def test_image_page_shows_a_sample_before_and_after_with_its_predictions():
    at = open_page("image")
    assert len(at.image) == 3 and not at.error  # before and after, and the after small in the sidebar
    assert len(at.sidebar.get("image")) == 1
    assert len(predictions(at)) >= 20
    assert at.metric[0].label == "Faces hidden" and int(at.metric[0].value) >= 20


def test_raising_the_confidence_slider_drops_weak_predictions():
    at = open_page("image")
    before = predictions(at)
    at.slider(key="confidence_face").set_value(80).run()
    after = [p for p in predictions(at) if p["class"] == "face"]
    assert 0 < len(after) < len(before)
    assert min(p["confidence"] for p in after) >= 0.8


def test_a_threshold_step_that_leaves_the_boxes_drawn_as_they_were_sends_the_same_before_picture():
    at = open_page("image")  # boxes are outlined from 50 %: a face slider step under that draws the same ones
    first = at.image[0].value[0]
    at.slider(key="confidence_face").set_value(20).run()
    assert at.image[0].value[0] == first  # the same picture: the browser keeps the one it has
    at.slider(key="confidence_face").set_value(80).run()
    fewer = at.image[0].value[0]
    at.toggle(key="show_boxes").set_value(False).run()
    assert len({first, fewer, at.image[0].value[0]}) == 3  # fewer boxes, then none: other pictures


def test_changing_the_method_changes_the_output(shown_media):
    at = open_page("image")
    blurred = image_pixels(at, shown_media, 1)
    at.selectbox(key="method").set_value("fill").run()
    filled = image_pixels(at, shown_media, 1)
    assert np.abs(blurred.astype(int) - filled).mean() > 1
    assert (filled < 10).all(axis=2).sum() > 1000  # black ellipses over the faces


def test_a_bad_upload_is_named_and_the_other_files_still_work():
    at = open_page("image")
    at.radio(key="image_source").set_value("Upload").run()
    at.file_uploader[0].set_value(
        [
            ("notes.jpg", b"not a picture at all", "image/jpeg"),
            ("car.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes(), "image/jpeg"),
        ]
    ).run()
    assert len(at.error) == 1 and "notes.jpg" in at.error[0].value and not at.image  # shown first, one at a time
    at.button(key="image_shown-next").click().run()
    assert not at.error and "license-plate" in [p["class"] for p in predictions(at)]
    assert len(at.image) == 3  # before, after, and the after again small in the sidebar


def test_a_decompression_bomb_is_refused_with_a_message():
    at = open_page("image")
    at.radio(key="image_source").set_value("Upload").run()
    at.file_uploader[0].set_value(("bomb.png", png_header_only(40_000, 40_000), "image/png")).run()
    assert "too large" in at.error[0].value and not at.image


def test_settings_come_from_a_shared_link_and_survive_page_switches():
    at = open_page("image", query={"confidence_face": "65", "method": "pixelate"})
    assert at.slider(key="confidence_face").value == 65 and at.selectbox(key="method").value == "pixelate"
    at.switch_page("app_pages/batch.py").run()
    assert at.slider(key="confidence_face").value == 65
    assert at.query_params["confidence_face"] in (["65"], "65")


def test_each_class_of_the_model_has_its_own_confidence_slider_at_its_default():
    at = open_page("image")
    assert (at.slider(key="confidence_face").value, at.slider(key="confidence_license-plate").value) == (
        CLASS_CONFIDENCE["face"],
        CLASS_CONFIDENCE["license-plate"],
    )
    at.slider(key="confidence_license-plate").set_value(90).run()
    assert not [p for p in predictions(at) if p["class"] == "license-plate" and p["confidence"] < 0.9]
    assert [p for p in predictions(at) if p["class"] == "face" and p["confidence"] < 0.5]


def test_an_old_link_with_one_confidence_sets_every_class():
    at = open_page("image", query={"confidence": "65"})
    assert (at.slider(key="confidence_face").value, at.slider(key="confidence_license-plate").value) == (65, 65)


def test_the_lead_figure_counts_what_the_slider_hides_and_the_safety_band_is_said():
    at = open_page("image")
    faces = [p for p in predictions(at) if p["class"] == "face"]
    confident = [p for p in faces if not p["low_confidence"]]
    assert int(at.metric[0].value) == len(faces) > len(confident)
    assert f"{len(confident)} of them scored 50 %" in at.metric[0].help
    assert "low-confidence regions hidden to be safe" in at.caption[0].value
    at.slider(key="confidence_face").set_value(20).run()
    assert (
        int(at.metric[0].value) == len([p for p in faces if p["confidence"] >= 0.2]) < len(faces)
    )  # the slider moves it


def test_prediction_statistics_show_each_class_with_its_threshold():
    at = open_page("image")
    assert not at.get("vega_lite_chart")  # closed: not drawn, so a slider step does not pay for it
    at.session_state["prediction_statistics"] = True  # opened
    at.slider(key="confidence_face").set_value(10).run()
    table = at.dataframe[1].value.set_index("class")
    assert table.loc["face", "threshold %"] == 10
    assert table.loc["face", "below the threshold"] > 0  # why the count is not higher
    assert len(at.get("vega_lite_chart")) == len(table)  # one histogram per class


def test_batch_page_zips_the_good_files_and_lists_the_bad_ones():
    at = open_page("batch")
    at.file_uploader[0].set_value(
        [
            ("city.jpg", (SAMPLES / "city.jpg").read_bytes(), "image/jpeg"),
            ("broken.png", b"\x89PNG broken", "image/png"),
        ]
    ).run()
    at.button[0].click().run()
    figures = {m.label: m.value for m in at.metric}
    assert (figures["Anonymized"], figures["Failed"]) == ("1", "1") and int(figures["Faces hidden"]) >= 20
    assert "**broken.png**: not an image" in at.error[0].value


def test_batch_page_shows_each_picture_before_and_after_with_its_counts(shown_media):
    at = open_page("batch")
    at.file_uploader[0].set_value([("car.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes(), "image/jpeg")]).run()
    at.button[0].click().run()
    (title,) = [m.value for m in at.markdown if m.value.startswith("**car.jpg**")]
    assert "1 license-plate" in title
    assert len(at.image) == 2 and max(image_pixels(at, shown_media, 1).shape[:2]) == PREVIEW_SIDE  # thumbnails
    boxed = image_pixels(at, shown_media, 0)
    at.toggle(key="show_boxes").set_value(False).run()
    assert np.abs(boxed.astype(int) - image_pixels(at, shown_media, 0)).sum() > 0  # the box toggle acts here


def test_batch_gallery_pages_through_many_pictures():
    at = open_page("batch")
    small = (SAMPLES / "astronaut.jpg").read_bytes()
    at.file_uploader[0].set_value([(f"p{i}.jpg", small, "image/jpeg") for i in range(8)]).run()
    at.button[0].click().run()
    assert len(at.image) == 2 * 6 and at.selectbox(key="gallery_page").value == 0
    at.button(key="gallery_page-next").click().run()
    assert len(at.image) == 2 * 2


def anonymized_batch(at, media) -> tuple[dict, bytes]:
    """Press the button; return the predictions JSON and the zip it offers."""
    at.button[0].click().run()
    return json.loads(download(at, media, "Download every picture's predictions (JSON)")), download(
        at, media, "Download anonymized images (zip)"
    )


def zipped_pixels(archive: bytes, name: str) -> np.ndarray:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return np.asarray(Image.open(io.BytesIO(opened.read(name))).convert("RGB"))


def test_batch_results_follow_the_sidebar_and_are_never_stale(shown_media):
    at = open_page("batch")
    at.file_uploader[0].set_value([("city.jpg", (SAMPLES / "city.jpg").read_bytes(), "image/jpeg")]).run()
    loose, blurred = anonymized_batch(at, shown_media)
    at.slider(key="confidence_face").set_value(80).run()
    assert all(
        button.disabled for button in at.get("download_button")[:2]
    )  # the zip and JSON were made with other settings
    strict, _ = anonymized_batch(at, shown_media)
    assert 0 < len(strict["city.jpg"]["predictions"]) < len(loose["city.jpg"]["predictions"])
    at.selectbox(key="method").set_value("fill").run()
    _, filled = anonymized_batch(at, shown_media)
    assert np.abs(zipped_pixels(blurred, "city.jpg").astype(int) - zipped_pixels(filled, "city.jpg")).mean() > 1


def test_batch_results_stay_when_a_slider_moves_and_say_what_changed_since(shown_media):
    at = open_page("batch")
    at.file_uploader[0].set_value([("city.jpg", (SAMPLES / "city.jpg").read_bytes(), "image/jpeg")]).run()
    at.button[0].click().run()
    figures, thumbnails = {m.label: m.value for m in at.metric}, len(at.image)
    at.slider(key="confidence_face").set_value(40).run()
    assert {m.label: m.value for m in at.metric} == figures and len(
        at.image
    ) == thumbnails  # the results are still there
    (notice,) = [w.value for w in at.warning if "other settings" in w.value]
    assert "face threshold 0.1 → 40 %" in notice and "Anonymize 1 upload(s)" in notice
    at.selectbox(key="method").set_value("fill").run()
    assert "censoring" in [w.value for w in at.warning if "other settings" in w.value][0]
    at.button[0].click().run()  # made again: no notice, downloads back
    assert not [w for w in at.warning if "other settings" in w.value]
    assert not any(button.disabled for button in at.get("download_button")[:2])


def test_batch_results_of_other_files_are_not_shown():
    at = open_page("batch")
    at.file_uploader[0].set_value([("city.jpg", (SAMPLES / "city.jpg").read_bytes(), "image/jpeg")]).run()
    at.button[0].click().run()
    at.file_uploader[0].set_value([("car.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes(), "image/jpeg")]).run()
    assert not at.metric and not at.get("download_button")


def test_batch_page_waits_for_files():
    at = open_page("batch")
    assert "Add images" in at.info[0].value and not at.button


def sidebar_keys(at) -> set[str]:
    return {widget.key for widget in at.sidebar if getattr(widget, "key", None)}


CENSOR_KEYS = {
    "classes",
    "confidence_face",
    "confidence_license-plate",
    "overlap",
    "method",
    "shape",
    "strength",
    "padding",
    "feather",
}
BOX_KEYS = {"show_boxes", "show_low_confidence"}


def test_home_shows_only_the_model_controls():
    keys = sidebar_keys(open_page())
    assert {"source", "preset"} <= keys and not keys & (CENSOR_KEYS | BOX_KEYS)


def test_pages_that_draw_boxes_show_the_box_toggles():
    for page in ("image", "batch", "video"):
        assert CENSOR_KEYS | BOX_KEYS <= sidebar_keys(open_page(page)), page


def test_the_webcam_page_shows_no_box_toggles_as_it_draws_no_boxes(streamer):
    keys = sidebar_keys(open_page("webcam"))
    assert CENSOR_KEYS <= keys and not keys & BOX_KEYS


def test_a_control_hidden_on_one_page_keeps_its_value_for_the_next(streamer):
    at = open_page("image")
    at.slider(key="confidence_face").set_value(65).run()
    at.toggle(key="show_boxes").set_value(False).run()
    at.switch_page("app_pages/home.py").run()
    assert at.query_params["confidence_face"] in (["65"], "65")  # the link still holds it
    at.switch_page("app_pages/webcam.py").run()
    at.switch_page("app_pages/image.py").run()
    assert at.slider(key="confidence_face").value == 65 and at.toggle(key="show_boxes").value is False
    # The webcam page has no box toggles: coming back, the browser is sent the toggle's value to show, or it
    # would show the default while the server used the kept value.
    assert at.toggle(key="show_boxes").proto.set_value


def test_a_control_hidden_behind_another_choice_keeps_its_value():
    at = open_page("image")
    at.slider(key="strength").set_value(5.0).run()
    at.selectbox(key="method").set_value("fill").run()  # fill has no strength: its slider is gone
    assert "strength" not in sidebar_keys(at)
    at.selectbox(key="method").set_value("blur").run()
    assert at.slider(key="strength").value == 5.0


def test_a_slider_step_does_not_send_the_other_controls_back_with_values_to_apply():
    # A value the server sets is applied by the browser, which draws the control again: on every control at
    # every step, that was a third of the browser's work (bench/slider_latency.py).
    at = open_page("image")
    at.slider(key="confidence_face").set_value(20).run()
    assert [widget.key for widget in at.sidebar if getattr(widget, "key", None) and widget.proto.set_value] == []


def test_the_webcam_page_says_what_size_detection_looks_at(streamer):
    at = open_page("webcam")
    assert {m.label: m.value for m in at.metric}["Detection size"] == "–"  # none yet: nothing has been detected


def test_the_webcam_page_offers_the_delayed_mode_and_says_its_delay(streamer):
    from ui.live import _LIVE_KEY, DELAYED_BY_DEFAULT

    at = open_page("webcam")
    assert at.toggle(key="webcam_delayed").value is DELAYED_BY_DEFAULT
    at.toggle(key="webcam_delayed").set_value(True).run()
    assert not at.exception
    assert at.session_state[_LIVE_KEY].delayed
    assert "Delay" in [m.label for m in at.metric]
