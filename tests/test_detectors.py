"""The bundled offline detectors find real faces and plates."""

import sys

import cv2
import numpy as np
import pytest

from anonymize.detections import absorb_nested, iou_matrix
from anonymize.detectors import CenterFaceDetector, PlateDetector, centerface
from anonymize.detectors.face_scoring import (
    DUPLICATE_IOU,
    DUPLICATE_RATIO,
    Candidates,
    agreement,
    distinct,
    score_in_pass,
)
from conftest import NicenessNoting, niceness


def test_centerface_finds_the_crowd_in_the_city_photo(city):
    faces = CenterFaceDetector().detect(city, confidence=0.2, overlap=0.3)
    assert len(faces) >= 20
    assert {d.class_name for d in faces} == {"face"}


def test_centerface_finds_the_astronaut_where_her_face_is(astronaut):
    faces = CenterFaceDetector().detect(astronaut, confidence=0.5, overlap=0.3)
    (face,) = faces
    assert 150 < face.center[0] < 300 and 50 < face.center[1] < 200
    assert face.confidence > 0.8


def test_plate_detector_finds_the_dashcam_plate(dashcam):
    plates = PlateDetector().detect(dashcam, confidence=0.25, overlap=0.3)
    (plate,) = plates
    # Ground truth from the dataset: (549, 486)–(674, 516).
    assert plate.x1 < 560 and plate.x2 > 665 and plate.y1 < 490 and plate.y2 > 512
    assert plate.class_name == "license-plate"


def test_a_blank_image_has_no_detections(detector):
    found = detector.detect(np.full((240, 320, 3), 128, np.uint8), confidence=0.2, overlap=0.3)
    assert len(found) == 0 and (found.image_width, found.image_height) == (320, 240)


def test_the_confidence_threshold_is_applied(city):
    detector = CenterFaceDetector()
    loose = detector.detect(city, confidence=0.2, overlap=0.3)
    strict = detector.detect(city, confidence=0.7, overlap=0.3)
    assert 0 < len(strict) < len(loose)
    assert min(d.confidence for d in strict) >= 0.7


def test_a_face_filling_the_frame_is_found_whole_by_the_passes_together(astronaut):
    close_up = cv2.resize(astronaut[30:220, 150:300], None, fx=6, fy=6)  # a face filling a 900×1140 frame
    found = CenterFaceDetector(passes=((None, False), (640, False))).detect(close_up, confidence=0.5, overlap=0.3)
    assert max(found.xyxy[:, 2] - found.xyxy[:, 0]) > 600 and found.confidence.max() > 0.9  # the whole face among them


def test_a_face_pass_too_large_for_one_run_finds_the_same_faces_in_tiles(city, monkeypatch):
    detector = CenterFaceDetector()
    whole, _ = detector._run(city, 800, 576, False, 0.3)
    monkeypatch.setattr(centerface, "TILE", 320)  # the 800×576 input becomes six overlapping tiles
    tiled, _ = detector._run(city, 800, 576, False, 0.3)
    matched = iou_matrix(whole, tiled).max(axis=1) > 0.7
    assert len(whole) >= 20 and matched.mean() >= 0.9


def candidate(score, full_resolution_score, side=20.0):
    boxes = np.array([[0, 0, side, side]], float)
    return Candidates(boxes, np.array([score]), np.array([full_resolution_score]), np.array([score]))


def test_a_candidate_the_full_resolution_pass_did_not_see_is_doubted():
    assert agreement(candidate(0.3, 0.0))[0] < 0.001 < agreement(candidate(0.3, 0.3))[0]


@pytest.mark.parametrize("side", [8, 20, 60, 200, 1000])
def test_a_higher_raw_score_never_lowers_the_confidence(side):
    raw = np.linspace(0.02, 0.99, 50)
    scores = agreement(Candidates(np.tile([0, 0, side, side], (50, 1)).astype(float), raw, raw, raw))
    assert (np.diff(scores) >= 0).all() and scores[0] < 0.001 and scores[-1] > 0.99


def test_a_larger_candidate_needs_more_to_be_hidden_when_it_is_doubtful():
    # A false alarm costs the picture its area: the fit weighs a non-face by its size.
    assert agreement(candidate(0.05, 0.05, side=200))[0] < agreement(candidate(0.05, 0.05, side=20))[0]


def test_a_doubtful_box_overlapping_a_far_surer_one_is_dropped_and_one_alone_is_kept():
    face, on_its_chin, elsewhere = [0, 0, 40, 40], [0, 25, 40, 65], [200, 0, 240, 40]
    kept = distinct(np.array([face, on_its_chin, elsewhere], float), np.array([0.9, 0.005, 0.005], np.float32))
    assert kept.tolist() == [True, False, True]


def test_a_face_half_behind_another_is_kept_when_it_is_not_far_less_sure():
    front, behind = [0, 0, 40, 40], [25, 5, 65, 45]
    kept = distinct(np.array([front, behind], float), np.array([0.95, 0.95 * DUPLICATE_RATIO * 2], np.float32))
    assert kept.all()


def test_the_city_crowd_loses_only_doubtful_duplicates_of_surer_faces(city):
    detector = CenterFaceDetector()
    candidates = detector.candidates(city, 0.3)
    scores = agreement(candidates)
    above = scores >= 0.001
    shown = detector.select(candidates, 0.001, city.shape[1], city.shape[0], 0.3)
    dropped = np.array([not (iou_matrix(b[None], shown.xyxy) > 0.99).any() for b in candidates.boxes[above]])
    assert dropped.sum() > 0
    boxes, doubtful = candidates.boxes[above], scores[above]
    for box, score in zip(boxes[dropped], doubtful[dropped]):
        surer = (iou_matrix(box[None], boxes)[0] >= DUPLICATE_IOU) & (doubtful * DUPLICATE_RATIO > score)
        assert surer.any()
    assert (doubtful[dropped] < DUPLICATE_RATIO).all()


def test_the_int8_model_sees_what_the_float_model_sees(dashcam):
    # Calibrated on the extremes, a few large activations stretched the int8 levels: on this frame the
    # model then lit 249 cells at 5 % (the float one 49) and missed a fifth of the float model's.
    detector = CenterFaceDetector(passes=((None, False), (None, True)))
    ((width, height, _),) = detector.input_sizes(1280, 720)
    exact, _ = detector._run(dashcam, width, height, False, 0.05)
    quantized, _ = detector._run(dashcam, width, height, True, 0.05)
    assert abs(len(quantized) - len(exact)) <= 0.2 * len(exact)
    assert (iou_matrix(exact, quantized).max(axis=1) >= 0.4).mean() >= 0.95
    assert (iou_matrix(quantized, exact).max(axis=1) >= 0.4).mean() >= 0.9


def test_two_passes_of_one_size_run_once_in_float():
    detector = CenterFaceDetector(passes=((1920, False), (640, True)))
    assert detector.input_sizes(640, 480) == [(640, 480, False)]
    assert detector.input_sizes(1280, 720) == [(640, 384, True), (1280, 736, False)]


def test_a_face_in_the_corner_of_a_larger_box_keeps_its_own_region():
    # The union of these two boxes would be the large one; its ellipse leaves the small one's corner open.
    boxes, scores, _ = absorb_nested(np.array([[0, 0, 100, 100], [80, 80, 100, 100]]), np.array([0.3, 0.9]))
    assert len(boxes) == 2


def test_a_box_inside_another_ones_ellipse_is_absorbed_and_passes_on_its_confidence():
    boxes, scores, _ = absorb_nested(np.array([[0, 0, 100, 100], [40, 40, 60, 60]]), np.array([0.3, 0.9]))
    assert boxes.tolist() == [[0, 0, 100, 100]] and scores.tolist() == [np.float32(0.9)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux gives a thread a niceness of its own")
def test_the_background_twin_runs_the_models_at_background_priority_and_the_detector_itself_does_not():
    from anonymize.detectors.base import BACKGROUND_NICE
    from anonymize.detectors.combined import CombinedDetector

    caller = niceness()
    faces, plates = NicenessNoting(), NicenessNoting()
    combined, image = CombinedDetector(faces, plates), np.zeros((8, 8, 3), np.uint8)
    combined.detect(image, confidence=0.5, overlap=0.3)
    combined.in_background().detect(image, confidence=0.5, overlap=0.3)
    assert faces.niceness[0] == plates.niceness[0] == caller  # batch and video: the normal priority
    assert faces.niceness[1] >= BACKGROUND_NICE and plates.niceness[1] >= BACKGROUND_NICE
    assert combined.in_background() is combined.in_background() and niceness() == caller


def test_matching_a_crowd_in_blocks_gives_what_every_pair_would():
    rng = np.random.default_rng(0)

    def corners(n, most):
        xy = rng.uniform(0, 1900, (n, 2))
        return np.concatenate([xy, xy + rng.uniform(2, most, (n, 2))], axis=1).astype(np.float32)

    candidates, cells = corners(3000, 120), corners(20000, 300)
    scores = rng.uniform(0.02, 1, len(cells)).astype(np.float32)
    every_pair = np.where(iou_matrix(candidates, cells) >= 0.4, scores[None, :], 0).max(axis=1)
    assert (every_pair > 0).sum() > 500  # enough matches for the comparison to mean something
    np.testing.assert_array_equal(score_in_pass(candidates, cells, scores), every_pair)


def test_dropping_duplicates_in_blocks_gives_what_every_pair_would():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1900, (3000, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(4, 150, (3000, 2))], axis=1).astype(np.float32)
    scores = (10 ** rng.uniform(-3, 0, 3000)).astype(np.float32)
    surest = np.where(iou_matrix(boxes, boxes) >= DUPLICATE_IOU, scores[None, :], 0).max(axis=1)
    every_pair = scores >= DUPLICATE_RATIO * surest
    assert 100 < (~every_pair).sum() < 2900
    np.testing.assert_array_equal(distinct(boxes, scores), every_pair)


def test_a_new_backend_is_one_registry_entry_and_the_cli_runs_it_end_to_end(monkeypatch, tmp_path, city, capsys):
    import json

    from anonymize.cli import main
    from anonymize.detections import Detection, Predictions
    from anonymize.detectors import BackendConfig, create_detector, describe, model_record
    from anonymize.detectors.base import DetectorDefaults, DetectorInfo
    from anonymize.detectors.registry import REGISTRY, Backend
    from anonymize.media import encode_image

    class Corner(DetectorDefaults):
        """Finds one 'sign' in the top-left corner of every picture."""

        classes = ("sign",)

        def info(self):
            return DetectorInfo(details={"Made": "in a test"})

        def detect(self, image, *, confidence, overlap):
            return Predictions.of([Detection(0, 0, 40, 30, 0.9, "sign")], image.shape[1], image.shape[0])

    corner = Backend(
        "corner",
        "Corner finder",
        "corner finder",
        ("project",),
        needs_key=False,
        create=lambda config, key: Corner(),
        describe=lambda config: f"corner finder ({config.project})",
        record=lambda config: {"kind": "corner", "project": config.project},
    )
    monkeypatch.setitem(REGISTRY, "corner", corner)
    config = BackendConfig("corner", project="test")
    assert create_detector(config).info().details == {"Made": "in a test"}
    assert (describe(config), model_record(config)) == ("corner finder (test)", {"kind": "corner", "project": "test"})
    (tmp_path / "city.png").write_bytes(encode_image(city, "png"))
    assert (
        main([str(tmp_path / "city.png"), "-o", str(tmp_path / "out"), "--backend", "corner", "--project", "test"]) == 0
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["backend"] == {"kind": "corner", "project": "test"} and manifest["totals"]["hidden"] == {"sign": 1}
    assert "with the corner finder (test)" in capsys.readouterr().out
