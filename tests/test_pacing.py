"""Live detection's pace: a smaller picture when it falls behind, the full one again when there is room."""

from anonymize.pacing import DETECTION_SCALES, STEP_UP_AFTER, DetectionPace


def warmed_up(max_staleness=1.0):
    pace = DetectionPace(max_staleness)
    pace.measured(5.0)  # the first detection loads and warms the models up
    return pace


def test_the_first_detection_does_not_count_however_slow():
    pace = DetectionPace(1.0)
    pace.measured(5.0)
    assert pace.scale == 1.0 and pace.reason == ""


def test_a_detection_slower_than_the_limit_allows_steps_down_one_level_and_says_why():
    pace = warmed_up()
    pace.measured(0.7)
    assert pace.scale == DETECTION_SCALES[1]
    assert (
        pace.reason == "detection took 700 ms, more than the 400 ms that keep frames within 1.0 s of it: stepped down"
    )
    assert pace.size(640, 480) == (480, 360)


def test_it_steps_down_no_further_than_the_smallest_picture():
    pace = warmed_up()
    for _ in range(10):
        pace.measured(2.0)
    assert pace.scale == DETECTION_SCALES[-1] and pace.size(640, 480) == (224, 168)


def test_a_detection_within_the_limit_but_not_fast_keeps_the_level():
    pace = warmed_up()
    pace.measured(0.7)
    for _ in range(3 * STEP_UP_AFTER):
        pace.measured(0.3)
    assert pace.scale == DETECTION_SCALES[1]


def test_it_steps_back_up_only_after_enough_fast_detections_in_a_row():
    pace = warmed_up()
    pace.measured(0.7)
    for _ in range(STEP_UP_AFTER - 1):
        pace.measured(0.05)
    pace.measured(0.3)  # a busier moment: the count starts again
    for _ in range(STEP_UP_AFTER - 1):
        pace.measured(0.05)
    assert pace.scale == DETECTION_SCALES[1]
    pace.measured(0.05)
    assert pace.scale == 1.0 and "stepped up" in pace.reason


def test_the_limit_follows_the_staleness_allowed():
    pace = warmed_up(max_staleness=0.25)
    pace.measured(0.15)  # fine for a second, too slow for a quarter of one
    assert pace.scale == DETECTION_SCALES[1]
