"""Predictions: Roboflow JSON in and out, confidence and class filters, NMS."""

from anonymize.detections import Detection, Predictions

ROBOFLOW_RESPONSE = {
    "predictions": [
        {
            "x": 100.5,
            "y": 50.0,
            "width": 40.0,
            "height": 20.0,
            "confidence": 0.91,
            "class": "license-plate",
            "class_id": 1,
            "detection_id": "plate-1",
        },
        {
            "x": 30.0,
            "y": 30.0,
            "width": 10.0,
            "height": 12.0,
            "confidence": 0.35,
            "class": "face",
            "class_id": 0,
            "detection_id": "face-1",
        },
    ],
    "image": {"width": 640, "height": 480},
}


def box(x1, y1, x2, y2, confidence, name="face"):
    return Detection(x1, y1, x2, y2, confidence, name, detection_id=f"{name}-{x1}-{confidence}")


def test_roboflow_json_round_trips_every_field_and_marks_low_confidence_ones():
    written = Predictions.from_roboflow(ROBOFLOW_RESPONSE).to_roboflow()
    assert [p.pop("low_confidence") for p in written["predictions"]] == [False, True]  # 0.91 and 0.35
    assert written == ROBOFLOW_RESPONSE


def test_a_threshold_per_class_keeps_each_class_at_its_own():
    p = Predictions.of((box(0, 0, 1, 1, 0.3), box(5, 5, 6, 6, 0.3, "license-plate")), 10, 10)
    kept = p.above(lambda name: {"face": 0.2, "license-plate": 0.4}[name])
    assert [d.class_name for d in kept] == ["face"]


def test_roboflow_centre_becomes_corners():
    plate = Predictions.from_roboflow(ROBOFLOW_RESPONSE)[0]
    assert (plate.x1, plate.y1, plate.x2, plate.y2) == (80.5, 40.0, 120.5, 60.0)


def test_image_size_given_as_strings_is_read():
    # roboflow's pred.json() reports the size as strings.
    p = Predictions.from_roboflow({"predictions": [], "image": {"width": "640", "height": "480"}})
    assert (p.image_width, p.image_height) == (640, 480)


def test_confidence_filter_keeps_boxes_at_the_threshold():
    p = Predictions.of((box(0, 0, 1, 1, 0.4), box(5, 5, 6, 6, 0.39)), 10, 10)
    assert [d.confidence for d in p.above(0.4)] == [0.4]


def test_class_filter():
    p = Predictions.from_roboflow(ROBOFLOW_RESPONSE)
    assert [d.class_name for d in p.of_classes(["face"])] == ["face"]


def test_nms_drops_the_weaker_of_two_boxes_overlapping_above_the_threshold():
    # IoU of these two is 50/150 = 1/3.
    p = Predictions.of((box(0, 0, 10, 10, 0.9), box(5, 0, 15, 10, 0.8)), 20, 20)
    assert len(p.suppress_overlaps(0.30)) == 1
    assert p.suppress_overlaps(0.30)[0].confidence == 0.9
    assert len(p.suppress_overlaps(0.34)) == 2


def test_nms_never_suppresses_across_classes():
    p = Predictions.of((box(0, 0, 10, 10, 0.9, "face"), box(0, 0, 10, 10, 0.8, "license-plate")), 20, 20)
    assert len(p.suppress_overlaps(0.0)) == 2
