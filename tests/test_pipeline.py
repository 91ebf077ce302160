"""anonymize_image: detect, hide the chosen classes, fail closed."""

import numpy as np
import pytest

from anonymize.censor import CensorSettings
from anonymize.detections import Detection, Predictions
from anonymize.detectors.base import DetectorDefaults
from anonymize.errors import DetectionError
from anonymize.pipeline import anonymize_image
from anonymize.settings import Settings


class BrokenDetector(DetectorDefaults):
    """A backend that fails, as a crashed model or a dead server does."""

    classes = ("face",)

    def detect(self, image, *, confidence, overlap):
        raise RuntimeError("model exploded")


def test_faces_in_a_real_photo_are_hidden(city, detector):
    result = anonymize_image(city, detector, Settings())
    assert len(result.hidden) >= 20
    face = result.hidden[0]
    x, y = map(int, face.center)
    assert not np.array_equal(result.image[y - 3 : y + 3, x - 3 : x + 3], city[y - 3 : y + 3, x - 3 : x + 3])


def test_only_the_chosen_classes_are_hidden(dashcam, detector):
    plates_off = anonymize_image(dashcam, detector, Settings(classes=("face",), confidence=50))
    assert any(d.class_name == "license-plate" for d in plates_off.predictions)
    assert len(plates_off.hidden) == 0 and np.array_equal(plates_off.image, dashcam)


def test_a_failing_detector_yields_no_image():
    with pytest.raises(DetectionError, match="model exploded"):
        anonymize_image(np.zeros((8, 8, 3), np.uint8), BrokenDetector(), Settings())


def test_a_higher_confidence_finds_fewer(city, detector):
    loose = anonymize_image(city, detector, Settings(confidence=20))
    strict = anonymize_image(city, detector, Settings(confidence=70))
    assert len(strict.predictions) < len(loose.predictions)


def test_the_json_is_in_roboflow_shape(city, detector):
    payload = anonymize_image(city, detector, Settings()).to_json()
    assert payload["image"] == {"width": 800, "height": 564}
    assert set(payload["predictions"][0]) == {
        "x",
        "y",
        "width",
        "height",
        "confidence",
        "class",
        "class_id",
        "detection_id",
        "low_confidence",
    }


def test_the_method_changes_the_output(city, detector):
    blur = anonymize_image(city, detector, Settings(censor=CensorSettings(method="blur")))
    fill = anonymize_image(city, detector, Settings(censor=CensorSettings(method="fill")))
    assert not np.array_equal(blur.image, fill.image)


class FixedDetector(DetectorDefaults):
    """A backend that always answers the same boxes: one sure face, one doubtful face, one plate."""

    classes = ("face", "license-plate")

    def detect(self, image, *, confidence, overlap):
        found = (
            Detection(2, 2, 20, 20, 0.9, "face"),
            Detection(40, 2, 60, 20, 0.15, "face"),
            Detection(70, 30, 95, 40, 0.3, "license-plate"),
        )
        return Predictions.of([d for d in found if d.confidence >= confidence], 100, 50)


BLANK = np.zeros((50, 100, 3), np.uint8)


def test_each_class_is_kept_at_its_own_threshold():
    result = anonymize_image(BLANK, FixedDetector(), Settings(class_confidence=(("face", 10), ("license-plate", 40))))
    assert sorted((d.class_name, d.confidence) for d in result.hidden) == [("face", 0.15), ("face", 0.9)]


def test_one_confidence_applies_to_every_class_without_its_own():
    result = anonymize_image(BLANK, FixedDetector(), Settings(confidence=20, class_confidence=(("face", 10),)))
    assert {d.class_name for d in result.hidden} == {"face", "license-plate"}


def test_a_class_threshold_outside_0_to_100_is_refused():
    for value in (-1, 101, float("nan")):
        with pytest.raises(ValueError):
            Settings(class_confidence=(("face", value),))


def test_what_is_counted_is_what_the_model_is_sure_of_and_the_rest_is_said_to_be_hidden_to_be_safe():
    result = anonymize_image(BLANK, FixedDetector(), Settings(confidence=10))
    assert [d.confidence for d in result.confident] == [0.9]
    assert result.summary == "1 face, plus 2 low-confidence regions hidden to be safe"
    assert [p["low_confidence"] for p in result.to_json()["predictions"]] == [False, True, True]
