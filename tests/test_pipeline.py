"""anonymize_image: detect, hide the chosen classes, fail closed."""

import numpy as np
import pytest

from anonymize.censor import CensorSettings
from anonymize.errors import DetectionError
from anonymize.pipeline import Settings, anonymize_image


class BrokenDetector:
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
    plates_off = anonymize_image(dashcam, detector, Settings(classes=("face",), confidence=40))
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
    assert set(payload["predictions"][0]) == {"x", "y", "width", "height", "confidence", "class", "class_id", "detection_id"}


def test_the_method_changes_the_output(city, detector):
    blur = anonymize_image(city, detector, Settings(censor=CensorSettings(method="blur")))
    fill = anonymize_image(city, detector, Settings(censor=CensorSettings(method="fill")))
    assert not np.array_equal(blur.image, fill.image)
