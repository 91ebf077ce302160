"""Presets give the documented settings; tiling finds the small plates a single pass misses."""

import numpy as np
import pytest

from anonymize.detectors import PlateDetector, local_detector, plates
from anonymize.presets import DEFAULT_PRESET, PRESETS
from anonymize.settings import Settings


@pytest.mark.parametrize(
    ("name", "face_passes", "plate_sizes", "plate_tile", "plate_int8"),
    [
        ("fast", ((640, True),), (640,), None, True),
        ("balanced", ((1920, True), (640, True)), (1280,), None, True),
        ("thorough", ((None, False), (640, False)), (960, 1280), 1280, False),
    ],
)
def test_each_preset_builds_the_documented_detector(name, face_passes, plate_sizes, plate_tile, plate_int8):
    faces, plates = local_detector(name).detectors
    assert faces.passes == face_passes
    assert (plates.sizes, plates.tile, plates.int8) == (plate_sizes, plate_tile, plate_int8)


def test_balanced_is_the_default_with_low_thresholds_per_class_and_generous_padding():
    assert DEFAULT_PRESET == "balanced" and set(PRESETS) == {"fast", "balanced", "thorough"}
    assert (Settings().threshold("face"), Settings().threshold("license-plate"), Settings().threshold("car")) == (
        0.1,
        5,
        5,
    )
    assert Settings().censor.padding == 1.3


@pytest.fixture
def distant_car(dashcam):
    """A 2560×1440 picture with the dashcam car small in its lower right: a plate about 60×15 px."""
    canvas = np.full((1440, 2560, 3), 90, np.uint8)
    canvas[720:1360, 1500:2560] = dashcam[:640, :1060]
    return canvas


def test_one_downscaled_pass_misses_the_distant_plate(distant_car):
    assert len(PlateDetector(sizes=(640,)).detect(distant_car, confidence=0.25, overlap=0.3)) == 0


def test_full_resolution_tiles_find_it_where_it_is(distant_car):
    (plate,) = PlateDetector(sizes=(640,), tile=1280).detect(distant_car, confidence=0.25, overlap=0.3)
    # The dashcam frame's plate, (549, 486)–(674, 516), moved by the paste offset (1500, 720).
    assert abs(plate.x1 - 2049) < 15 and abs(plate.y1 - 1206) < 30 and plate.x2 > 2170


class RecordingSession:
    """Stands in for an ONNX session: notes each run's batch size, then runs it."""

    def __init__(self, session):
        self.session, self.batches = session, []

    def run(self, names, feed):
        self.batches.append(len(feed["images"]))
        return self.session.run(names, feed)


def test_tiles_run_a_few_at_a_time(distant_car):
    detector = PlateDetector(sizes=(640,), tile=640)
    detector._session = recorder = RecordingSession(detector._session)
    detector.detect(distant_car, confidence=0.25, overlap=0.3)
    whole_pass, *tiles = recorder.batches
    assert whole_pass == 1 and sum(tiles) > plates.TILES_PER_RUN and max(tiles) <= plates.TILES_PER_RUN
