"""Personal text mode: each text line is read, and only what reads as personal is hidden, named by its pattern."""

import json

import numpy as np
import pytest

from anonymize.cli import main
from anonymize.detections import Detection, Predictions
from anonymize.detectors.text import TextDetector, text_available
from anonymize.media import encode_image, load_image
from anonymize.personal_text import PersonalText
from anonymize.tracking import Tracker
from helpers.text_pictures import covered, street, with_lines

needs_the_extra = pytest.mark.skipif(not text_available(), reason="the [text] extra is not installed")

PERSONAL = PersonalText.of()


@pytest.mark.parametrize(
    ("reading", "pattern"),
    [
        ("Call +44 20 7946 0958", "phone"),
        ("06 12 34 56 78", "phone"),
        ("jane.doe@example.com", "email"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("4111 1111 1111 1111", "card"),
        ("born 12.03.1985", "date"),
        ("AB12 CDE", "plate"),
        ("M-AB 1234", "plate"),
        ("B 21·GSB", "plate"),
    ],
)
def test_each_kind_of_personal_text_is_named_by_its_pattern(reading, pattern):
    assert PERSONAL.match(reading) == pattern


@pytest.mark.parametrize(
    "reading", ["OPEN 24 HOURS", "Platform 4", "SALE -50%", "EXIT 12", "Fresh bread daily", "SOBBING", "12.03.2085"]
)
def test_signs_and_words_are_not_personal(reading):
    assert PERSONAL.match(reading) is None


@pytest.mark.parametrize(
    ("reading", "pattern"),
    [
        ("+44 2O 7946 O958", "phone"),  # O for 0
        ("Tel O151 496 O32l", "phone"),  # and l for 1
        ("DE89 37O4 OO44 O532 Ol30 OO", "iban"),  # the checksum holds once the letters are read as digits
        ("jane.doe©example,com", "email"),
        ("4111 l111 1111 11l1", "card"),
    ],
)
def test_what_matches_a_pattern_only_once_ocr_errors_are_undone_is_still_personal(reading, pattern):
    assert PERSONAL.match(reading) == pattern


def test_checksums_name_ibans_and_cards_and_a_long_number_read_with_an_error_is_hidden_all_the_same():
    assert PERSONAL.match("DE88 3704 0044 0532 0130 00") == "number"  # one check digit off
    assert PERSONAL.match("4111 1111 1111 1112") == "number"  # fails Luhn
    assert PERSONAL.match("Order 1234 567") is None  # 7 digits: too short for a phone number


def test_a_users_own_words_and_expressions_are_named_by_number_ignoring_case():
    own = PersonalText.of(["Jane Doe", r"badge #\d+"])
    assert own.match("JANE DOE, reception") == "custom-1"
    assert own.match("Badge #4411") == "custom-2"
    assert own.names[-2:] == ("custom-1", "custom-2")


def test_a_users_pattern_that_backtracks_without_end_hides_the_line_instead_of_freezing_the_app():
    # Python's re takes about half a minute on this and holds the interpreter meanwhile; a longer line, for ever.
    runaway = PersonalText.of([r"(a|aa)+$", "Jane"])
    assert runaway.match("a" * 40 + "!") == "custom-1"  # undecided in time: hidden
    assert runaway.match("Open 24 hours") is None  # decided at once: not hidden


def test_a_users_pattern_that_is_not_a_regular_expression_is_refused_by_number():
    with pytest.raises(ValueError, match="text pattern 2 is not a regular expression"):
        PersonalText.of(["fine", "[0-9"])


def test_a_text_boxs_json_says_the_mode_and_pattern_and_reads_back():
    found = Predictions.of(
        [
            Detection(0, 0, 10, 5, 0.9, "text", 2, pattern="phone"),
            Detection(0, 8, 10, 12, 0.9, "text", 2, pattern="any"),
        ],
        20,
        20,
    )
    json_form = found.to_roboflow()["predictions"]
    assert [(p["text_mode"], p.get("pattern")) for p in json_form] == [("personal", "phone"), ("all", None)]
    assert list(Predictions.from_roboflow(found.to_roboflow()).patterns) == ["phone", "any"]


def test_tracking_carries_a_text_lines_pattern_to_the_frames_between_detections():
    tracker = Tracker()
    tracker.update(0.0, Predictions.of([Detection(10, 10, 60, 20, 0.9, "text", 2, pattern="email")], 100, 100))
    tracker.update(0.2, Predictions.of([Detection(12, 10, 62, 20, 0.9, "text", 2, pattern="email")], 100, 100))
    carried, _ = tracker.motion_boxes(0.1, 100, 100)
    assert list(carried.patterns) == ["email"]


PICTURE_LINES = [
    ("+44 20 7946 0958", 30),
    ("OPEN 24 HOURS", 30),
    ("jane.doe@example.com", 24),
    ("Fresh bread daily", 24),
    ("DE89 3704 0044 0532 0130 00", 18),
    ("Platform 4", 18),
]


@needs_the_extra
def test_personal_mode_hides_the_personal_lines_and_leaves_the_signs():
    pixels, boxes = with_lines(street(), PICTURE_LINES)
    found = TextDetector(personal=PERSONAL).detect(pixels, confidence=0.5, overlap=0.3)
    hidden = [text for (text, _), box in zip(PICTURE_LINES, boxes) if covered(box, found)]
    assert hidden == ["+44 20 7946 0958", "jane.doe@example.com", "DE89 3704 0044 0532 0130 00"]
    assert sorted(set(found.patterns)) == ["email", "iban", "phone", "plate"]  # the plate: the dashcam's own


@needs_the_extra
def test_a_phone_number_printed_with_letter_os_for_zeros_is_hidden():
    pixels, boxes = with_lines(street(), [("Call +44 2O 7946 O958", 30), ("Welcome", 30)])
    found = TextDetector(personal=PERSONAL).detect(pixels, confidence=0.5, overlap=0.3)
    assert covered(boxes[0], found) and not covered(boxes[1], found)


@needs_the_extra
def test_when_the_recogniser_fails_every_line_stays_hidden_as_unread():
    pixels, boxes = with_lines(street(), PICTURE_LINES)
    detector = TextDetector(personal=PERSONAL)
    # A real onnxruntime failure: the orientation model's fixed 192 px input refuses the recogniser's batch.
    detector._reader._recogniser = detector._reader._orientation
    found = detector.detect(pixels, confidence=0.5, overlap=0.3)
    assert all(covered(box, found) for box in boxes)
    assert set(found.patterns) == {"unread"}


@needs_the_extra
def test_the_cli_in_personal_mode_writes_the_pattern_never_the_text_nor_the_users_patterns(tmp_path):
    pixels, boxes = with_lines(street(), PICTURE_LINES + [("Ask for Jane Doe", 24)])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "van.png").write_bytes(encode_image(pixels, "png"))
    arguments = ["--classes", "text", "--text-mode", "personal", "--text-pattern", "jane doe", "--json", "-q"]
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *arguments]) == 0
    written = (tmp_path / "out" / "van.json").read_text() + (tmp_path / "out" / "manifest.json").read_text()
    predictions = json.loads((tmp_path / "out" / "van.json").read_text())["predictions"]
    assert {p["text_mode"] for p in predictions if p["class"] == "text"} == {"personal"}
    assert {p["pattern"] for p in predictions if p["class"] == "text"} == {
        "phone",
        "email",
        "iban",
        "plate",
        "custom-1",
    }
    for secret in ("7946", "jane.doe", "DE89", "example", "jane doe", "Jane Doe"):
        assert secret not in written
    out = load_image(tmp_path / "out" / "van.png").pixels
    x1, y1, x2, y2 = boxes[1]  # OPEN 24 HOURS is left as it was
    assert np.array_equal(out[y1:y2, x1:x2], pixels[y1:y2, x1:x2])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--classes", "text", "--text-pattern", "x"], "--text-pattern is for --text-mode personal"),
        (["--text-mode", "personal"], "needs text in --classes"),
        (["--classes", "text", "--text-mode", "personal", "--text-pattern", "[0-9"], "is not a regular expression"),
    ],
)
def test_text_options_that_cannot_work_are_refused_before_anything_is_written(tmp_path, capsys, arguments, message):
    from conftest import SAMPLES

    with pytest.raises(SystemExit) as stopped:
        main([str(SAMPLES / "city.jpg"), "-o", str(tmp_path / "out"), *arguments])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@needs_the_extra
def test_on_the_image_page_personal_mode_names_its_patterns_and_a_bad_pattern_shows_nothing_as_anonymized():
    from helpers.apptest import open_page, predictions

    at = open_page("image")  # the City sample: shop signs, nothing personal on them
    at.multiselect(key="classes").set_value(["face", "license-plate", "text"]).run()
    every_line = sum(p["class"] == "text" for p in predictions(at))
    at.radio(key="text_mode").set_value("personal").run()
    assert not at.exception, at.exception
    personal_lines = [p for p in predictions(at) if p["class"] == "text"]
    assert every_line >= 1 and len(personal_lines) < every_line
    assert all(p["text_mode"] == "personal" and p["pattern"] for p in personal_lines)
    at.text_area(key="text_patterns").set_value("[0-9").run()
    assert any("not a regular expression" in e.value for e in at.error)
    assert not at.code and not at.image[1:]  # no predictions, and no "after" picture
    assert "text_patterns" not in at.query_params


@needs_the_extra
def test_in_a_video_personal_text_is_found_on_detection_frames_and_carried_by_tracking_between(tmp_path):
    from anonymize.censor import CensorSettings
    from anonymize.detectors.local import local_detector
    from anonymize.settings import Settings
    from anonymize.video import anonymize_video
    from anonymize.video_io import frames_of
    from helpers.clips import write_frames

    background = street(640, 360)
    frames, boxes = [], []
    for i in range(10):  # a van's phone number drifting right, 3 px a frame, beside a sign
        pixels, (box, _) = with_lines(background, [("+44 20 7946 0958", 28), ("OPEN 24 HOURS", 28)])
        frames.append(np.ascontiguousarray(np.roll(pixels, 3 * i, axis=1)))
        boxes.append((box[0] + 3 * i, box[1], box[2] + 3 * i, box[3]))
    write_frames(tmp_path / "van.mp4", frames, size=(640, 360))
    detector = local_detector(text=True, personal=PERSONAL)
    settings = Settings(classes=("text",), censor=CensorSettings(method="fill"))
    anonymize_video(
        tmp_path / "van.mp4",
        tmp_path / "out.mp4",
        detector,
        settings,
        detect_every=5,
        predictions_path=tmp_path / "p.jsonl",
    )
    for (x1, y1, x2, y2), after in zip(boxes, frames_of(tmp_path / "out.mp4")):
        assert after[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2].mean() < 40  # filled black on every frame
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    between = [p for line in lines[1:5] for p in line["carried_by_tracking"]]
    assert {p["pattern"] for p in between} == {"phone", "plate"}  # the van's number, and the dashcam car's plate


@needs_the_extra
def test_a_phone_number_upside_down_is_turned_over_read_and_hidden():
    pixels, boxes = with_lines(street(), [("Call +44 20 7946 0958", 30), ("Welcome", 30)])
    upside_down = np.ascontiguousarray(pixels[::-1, ::-1])  # the picture turned 180°, as a card held upside down
    height, width = pixels.shape[:2]
    turned = [(width - x2, height - y2, width - x1, height - y1) for x1, y1, x2, y2 in boxes]
    found = TextDetector(personal=PERSONAL).detect(upside_down, confidence=0.5, overlap=0.3)
    assert covered(turned[0], found) and not covered(turned[1], found)
    assert "phone" in set(found.patterns)
