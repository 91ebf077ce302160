"""The bundled offline detectors find real faces and plates."""

import cv2
import numpy as np

from anonymize.detections import corners, iou_matrix
from anonymize.detectors import CenterFaceDetector, PlateDetector, centerface


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


def test_face_passes_at_several_sizes_merge_into_one_detection_per_face(astronaut):
    close_up = cv2.resize(astronaut[30:220, 150:300], None, fx=6, fy=6)  # a face filling a 900×1140 frame
    single = [CenterFaceDetector(sizes=(size,)).detect(close_up, confidence=0.5, overlap=0.3) for size in (None, 640)]
    (face,) = CenterFaceDetector(sizes=(None, 640)).detect(close_up, confidence=0.5, overlap=0.3)
    assert face.confidence == max(d.confidence for found in single for d in found)


def test_a_face_pass_too_large_for_one_run_finds_the_same_faces_in_tiles(city, monkeypatch):
    whole = CenterFaceDetector().detect(city, confidence=0.3, overlap=0.3)
    monkeypatch.setattr(centerface, "TILE", 320)  # the 800×564 photo becomes six overlapping tiles
    tiled = CenterFaceDetector().detect(city, confidence=0.3, overlap=0.3)
    matched = iou_matrix(corners(list(whole)), corners(list(tiled))).max(axis=1) > 0.7
    assert len(whole) >= 20 and matched.mean() >= 0.9
