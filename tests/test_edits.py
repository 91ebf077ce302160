"""Review edits: keep a detection visible, add a box, record it as a file that replays."""

import hashlib
import json

import numpy as np
import pytest

from anonymize.batch import anonymize_batch
from anonymize.censor import CensorSettings, regions_for
from anonymize.detections import Detection, Predictions
from anonymize.edits import (
    DrawnBox,
    Edits,
    OnFrame,
    PictureEdits,
    VideoEdits,
    as_saved,
    edits_by_name,
    edits_from_boxes,
    load_edits,
)
from anonymize.errors import EditsError
from anonymize.media import encode_image
from anonymize.pipeline import anonymize_image
from anonymize.settings import Settings

SHA = "0" * 64
SETTINGS = Settings(censor=CensorSettings(method="fill"))


def region_mask(detection, image, settings=SETTINGS):
    mask = np.zeros(image.shape[:2], bool)
    for r in regions_for([detection], settings.censor, image.shape[1], image.shape[0]):
        mask[r.y1 : r.y2, r.x1 : r.x2] = True
    return mask


def isolated_face(result, image):
    """A confident detected face whose padded region no other hidden box touches."""
    for index, face in enumerate(result.hidden):
        if face.class_name != "face" or face.confidence < 0.5:
            continue
        mine = region_mask(face, image)
        others = np.zeros_like(mine)
        for other_index, other in enumerate(result.hidden):
            if other_index != index:
                others |= region_mask(other, image)
        if not (mine & others).any():
            return face
    raise AssertionError("no isolated face in the picture")


def test_a_detection_kept_visible_leaves_its_pixels_as_they_were(astronaut, detector):
    before = anonymize_image(astronaut, detector, SETTINGS)
    face = isolated_face(before, astronaut)
    after = anonymize_image(astronaut, detector, SETTINGS, PictureEdits(SHA, kept_visible=(face,)))
    inside = region_mask(face, astronaut)
    assert np.array_equal(after.image[inside], astronaut[inside])
    assert np.array_equal(after.image[~inside], before.image[~inside])
    assert len(after.hidden) == len(before.hidden) - 1


def test_a_box_added_by_hand_is_hidden(city, detector):
    added = Detection(700, 480, 780, 540, 1.0, "license-plate")
    result = anonymize_image(city, detector, SETTINGS, PictureEdits(SHA, added=(added,)))
    assert (result.image[500:520, 720:760] == 0).all()
    assert result.review.added[0].class_name == "license-plate"


def test_a_kept_detection_is_found_again_by_place_when_its_id_differs(astronaut, detector):
    face = isolated_face(anonymize_image(astronaut, detector, SETTINGS), astronaut)
    moved = Detection(face.x1 + 1, face.y1, face.x2 + 1, face.y2, 1.0, "face", detection_id="from-another-run")
    result = anonymize_image(astronaut, detector, SETTINGS, PictureEdits(SHA, kept_visible=(moved,)))
    assert result.review.kept_visible[0].detection_id == face.detection_id and not result.review.unmatched


def test_a_kept_box_that_matches_no_detection_uncovers_nothing_and_is_reported(city, detector):
    plain = anonymize_image(city, detector, SETTINGS)
    nowhere = Detection(0, 0, 5, 5, 1.0, "face")
    result = anonymize_image(city, detector, SETTINGS, PictureEdits(SHA, kept_visible=(nowhere,)))
    assert np.array_equal(result.image, plain.image)
    assert result.review.unmatched == (nowhere,)
    assert result.to_json()["review"]["unmatched"][0]["class"] == "face"


def test_the_json_and_the_summary_say_what_the_review_changed(astronaut, detector):
    face = isolated_face(anonymize_image(astronaut, detector, SETTINGS), astronaut)
    added = Detection(300, 420, 380, 470, 1.0, "license-plate")
    result = anonymize_image(astronaut, detector, SETTINGS, PictureEdits(SHA, kept_visible=(face,), added=(added,)))
    review = result.to_json()["review"]
    assert [d["detection_id"] for d in review["kept_visible"]] == [face.detection_id]
    assert review["added"][0]["class"] == "license-plate" and review["added"][0]["confidence"] == 1.0
    assert result.summary.endswith("; 1 box added by hand; 1 box kept visible on purpose")


def test_a_picture_with_every_detection_kept_visible_is_no_warning(dashcam, detector):
    found = anonymize_image(dashcam, detector, SETTINGS)
    result = anonymize_image(dashcam, detector, SETTINGS, PictureEdits(SHA, kept_visible=tuple(found.hidden)))
    assert len(result.hidden) == 0 and result.warning is None
    assert f"{len(found.hidden)} box" in result.summary


def test_detection_ids_are_the_same_on_every_run(city, detector):
    first, second = (anonymize_image(city, detector, SETTINGS).to_json() for _ in range(2))
    assert [d["detection_id"] for d in first["predictions"]] == [d["detection_id"] for d in second["predictions"]]


def test_a_box_moved_on_the_canvas_keeps_the_detection_visible_and_hides_the_new_place():
    found = Predictions.of([Detection(10, 10, 30, 30, 0.9, "face")], 100, 100)
    moved = edits_from_boxes(SHA, found, [DrawnBox(0, "face", 40, 10, 60, 30)])
    assert [(d.x1, d.class_name) for d in moved.kept_visible] == [(10.0, "face")]
    assert [(d.x1, d.confidence) for d in moved.added] == [(40.0, 1.0)]
    assert not edits_from_boxes(SHA, found, [DrawnBox(0, "face", 10.4, 10, 30, 30.5)])  # within a pixel: not moved


def edits_file(**pictures):
    return Edits({"kind": "local", "preset": "balanced"}, SETTINGS, pictures)


def test_an_edits_file_round_trips():
    edits = edits_file(
        **{
            "a.png": PictureEdits(
                SHA, (Detection(1, 2, 11, 22, 0.4, "face", detection_id="x"),), (Detection(5, 5, 9, 9, 1, "plate"),)
            )
        }
    )
    again = Edits.loads(edits.dumps())
    assert again.to_json() == edits.to_json()
    assert again.settings == SETTINGS and again.pictures["a.png"].kept_visible[0].detection_id == "x"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ('{"pictures": {}}', "not an edits file"),
        (json.dumps(edits_file().to_json() | {"version": 7}), "version 7"),
        (json.dumps(edits_file().to_json() | {"backend": None}), "which model"),
        (json.dumps(edits_file().to_json() | {"settings": {"classes": None}}), "settings have no"),
        (
            json.dumps(edits_file().to_json() | {"settings": Settings().to_json() | {"censor": {"method": "smear"}}}),
            "method must be one of",
        ),
        (json.dumps(edits_file().to_json() | {"pictures": {"a.png": {"sha256": "abc"}}}), "'a.png': its 'sha256'"),
        (
            json.dumps(
                edits_file().to_json()
                | {
                    "pictures": {
                        "a.png": {"sha256": SHA, "added": [{"x": 1, "y": 1, "width": -4, "height": 3, "class": "face"}]}
                    }
                }
            ),
            "added box 0",
        ),
        (
            json.dumps(
                edits_file().to_json()
                | {
                    "pictures": {
                        "a.png": {
                            "sha256": SHA,
                            "added": [{"x": "NaN", "y": 1, "width": 4, "height": 3, "class": "face"}],
                        }
                    }
                }
            ),
            "finite",
        ),
        (
            json.dumps(
                edits_file().to_json()
                | {"pictures": {"a.png": {"sha256": SHA, "kept_visible": [{"x": 1, "y": 1, "width": 4, "height": 3}]}}}
            ),
            "has no 'class'",
        ),
        (json.dumps(edits_file().to_json() | {"pictures": []}), "'pictures' is not an object"),
    ],
)
def test_a_malformed_edits_file_is_refused_saying_what_is_wrong(text, says):
    with pytest.raises(EditsError, match=says):
        Edits.loads(text, "review.json")


def test_a_folder_of_edits_files_is_read_and_a_picture_reviewed_twice_is_refused(tmp_path):
    (tmp_path / "one.json").write_text(edits_file(**{"a.png": PictureEdits(SHA)}).dumps())
    (tmp_path / "two.json").write_text(edits_file(**{"b.png": PictureEdits(SHA)}).dumps())
    assert sorted(edits_by_name(load_edits(tmp_path))) == ["a.png", "b.png"]
    (tmp_path / "three.json").write_text(edits_file(**{"a.png": PictureEdits(SHA)}).dumps())
    with pytest.raises(EditsError, match="a.png is reviewed in two edits files"):
        edits_by_name(load_edits(tmp_path))


def test_the_batch_follows_edits_and_refuses_a_file_that_changed_since_review(city, detector):
    data = encode_image(city, "png")
    added = PictureEdits(hashlib.sha256(data).hexdigest(), added=(Detection(700, 480, 780, 540, 1.0, "face"),))
    done = anonymize_batch([("city.png", data)], detector, SETTINGS, edits={"city.png": added})
    assert done.predictions["city.png"]["review"]["added"] and not done.failures
    changed = anonymize_batch([("city.png", data + b"\0")], detector, SETTINGS, edits={"city.png": added})
    assert "not the file that was reviewed" in changed.failures[0].reason and not changed.predictions


@pytest.mark.parametrize(
    "edits",
    [
        PictureEdits("a" * 64, added=(Detection(10.004, 20.3333, 30.006, 40.127, 1.0, "face"),)),
        VideoEdits("a" * 64, 5, added=(OnFrame(3, Detection(10.004, 20.3333, 30.006, 40.127, 1.0, "face")),)),
    ],
)
def test_edits_as_saved_are_what_a_replay_of_their_file_reads(edits):
    saved = as_saved(edits)
    assert type(saved).from_json(json.loads(json.dumps(saved.to_json()))) == saved
    assert saved != edits  # the drawn box was rounded, as its file says it
