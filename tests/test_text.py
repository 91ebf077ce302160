"""The text class (the [text] extra): lines of text found and hidden when asked for, and only then."""

import json
import sys

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from anonymize.annotate import draw_boxes
from anonymize.cli import main
from anonymize.detections import Detection, Predictions
from anonymize.detectors.text import TextDetector, text_available
from anonymize.media import encode_image, load_image
from conftest import SAMPLES
from helpers.text_pictures import LINES, covered, street, with_lines

pytestmark = pytest.mark.skipif(not text_available(), reason="the [text] extra is not installed")


@pytest.mark.parametrize("angle", [0, 12], ids=["level", "slanted"])
def test_every_rendered_line_from_8_to_40_px_is_found_whole(angle):
    pixels, boxes = with_lines(street(), angle=angle)
    found = TextDetector().detect(pixels, confidence=0.5, overlap=0.3)
    assert {d.class_name for d in found} == {"text"}
    missed = [text for (text, _), box in zip(LINES, boxes) if not covered(box, found)]
    assert not missed


def test_slanted_neighbouring_lines_whose_upright_boxes_overlap_are_each_found():
    lines = [("+44 20 7946 0958", 33), ("Fresh bread daily", 33), ("jane.doe@example.com", 30)]
    background = street()
    picture = Image.fromarray(background)
    draw = ImageDraw.Draw(picture)
    boxes = []
    for n, (text, size) in enumerate(lines):  # 12 px apart: turned, each line's box overlaps the next one's
        font = ImageFont.load_default(size=size)
        box = draw.textbbox((300 + 40 * n, 250 + 45 * n), text, font=font)
        draw.rectangle([box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3], fill=(245, 245, 240))
        draw.text((300 + 40 * n, 250 + 45 * n), text, font=font, fill=(20, 20, 20))
        boxes.append(box)
    height, width = background.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 25, 1.0)
    pixels = cv2.warpAffine(np.asarray(picture), turn, (width, height), borderMode=cv2.BORDER_REFLECT)
    found = TextDetector().detect(pixels, confidence=0.5, overlap=0.3)
    for x1, y1, x2, y2 in boxes:  # the middle of each line, turned, lies in a text box
        cx, cy = cv2.transform(np.array([[[(x1 + x2) / 2, (y1 + y2) / 2]]], np.float32), turn)[0, 0]
        assert any(d.x1 <= cx <= d.x2 and d.y1 <= cy <= d.y2 for d in found)
    assert len(found) >= len(lines)


def test_a_turned_line_is_drawn_on_the_before_picture_as_its_outline_not_its_upright_box():
    diamond = ((30.0, 10.0), (50.0, 30.0), (30.0, 50.0), (10.0, 30.0))
    found = Predictions.of([Detection(10, 10, 50, 50, 0.9, "text", outline=diamond)], 60, 60)
    drawn = draw_boxes(np.zeros((60, 60, 3), np.uint8), found)
    assert drawn[40, 40].any()  # on the outline's edge from (50, 30) to (30, 50)
    assert not drawn[50, 50].any()  # the upright box's corner, outside what was hidden


def test_a_small_picture_is_enlarged_three_times_at_most_so_the_webcams_smaller_copies_cost_less():
    # The webcam detects on a smaller copy when it falls behind (anonymize/pacing.py); enlarged back to the
    # preset's side, the copy would cost the text network as much as the frame.
    detector = TextDetector(short_side=960)
    frame, copy = np.zeros((480, 640, 3), np.uint8), np.zeros((240, 320, 3), np.uint8)
    assert detector._probability(frame)[0].shape == (960, 1280)  # a webcam frame: the preset's side, as before
    # its half-size copy: three times (the sides rounded to 32 px), not four
    assert detector._probability(copy)[0].shape == (704, 960)


def test_a_picture_without_text_has_no_text_box():
    gradient = np.repeat(np.linspace(30, 220, 640, dtype=np.uint8)[None, :, None], 480, axis=0).repeat(3, axis=2)
    assert len(TextDetector().detect(np.ascontiguousarray(gradient), confidence=0.5, overlap=0.3)) == 0


def test_the_cli_hides_text_only_when_asked_and_records_the_model(tmp_path):
    pixels, boxes = with_lines(street())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "van.png").write_bytes(encode_image(pixels, "png"))
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "plain"), "-q", "--json"]) == 0
    plain = json.loads((tmp_path / "plain" / "van.json").read_text())["predictions"]
    assert "text" not in {p["class"] for p in plain}
    assert "text" not in json.loads((tmp_path / "plain" / "manifest.json").read_text())["backend"]
    classes = "face,license-plate,text"
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "text"), "-q", "--json", "--classes", classes]) == 0
    predictions = json.loads((tmp_path / "text" / "van.json").read_text())["predictions"]
    assert sum(p["class"] == "text" for p in predictions) >= len(LINES)
    out = load_image(tmp_path / "text" / "van.png").pixels
    for x1, y1, x2, y2 in boxes:  # every line's pixels changed
        assert np.abs(out[y1:y2, x1:x2].astype(int) - pixels[y1:y2, x1:x2].astype(int)).mean() > 10
    backend = json.loads((tmp_path / "text" / "manifest.json").read_text())["backend"]
    assert backend["text"] is True
    assert {"file": "rapidocr/models/PP-OCRv6_det_small.onnx", "sha256": backend["models"][-1]["sha256"]} in backend[
        "models"
    ]


def test_without_the_extra_asking_for_text_says_how_to_get_it_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # as on an install without the [text] extra
    code = main([str(SAMPLES / "city.jpg"), "-o", str(tmp_path / "out"), "--classes", "face,text"])
    assert code == 2
    assert "pip install 'anonymize[text]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_on_the_image_page_text_is_offered_off_and_found_when_chosen():
    from helpers.apptest import open_page, predictions

    at = open_page("image")  # the City sample: shop signs
    assert "text" in at.multiselect(key="classes").options and "text" not in at.multiselect(key="classes").value
    assert "text" not in {p["class"] for p in predictions(at)}
    at.multiselect(key="classes").set_value(["face", "license-plate", "text"]).run()
    assert not at.exception, at.exception
    figures = {m.label: m.value for m in at.metric}
    assert int(figures["Text lines hidden"]) >= 1
    assert "text" in {p["class"] for p in predictions(at)}
    assert at.slider(key="confidence_text").value == 50


@pytest.mark.parametrize("page", ["video", "webcam"])
def test_the_video_and_webcam_pages_say_what_text_costs_as_measured_once_it_is_chosen(page, streamer):
    from helpers.apptest import open_page

    at = open_page(page)
    assert not any("Text is looked for" in c.value for c in at.caption)
    at.multiselect(key="classes").set_value(["face", "license-plate", "text"]).run()
    notes = [c.value for c in at.caption if "Text is looked for" in c.value]
    assert len(notes) == 1 and "ms with all text" in notes[0] and "Preset fast" in notes[0]
