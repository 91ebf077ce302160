"""Hostile input, third pass: links, names and records that lost data.

Each test is named after the promise it guards; the number is the case in issue 26.
"""

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile

import pytest
from PIL import Image

from anonymize.batch import anonymize_batch
from anonymize.settings import Settings
from conftest import SAMPLES, outputs
from helpers.cli import run_cli
from helpers.clips import face_clip


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_with(tmp_path, *names, source=SAMPLES / "dashcam_plate.jpg"):
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    for name in names:
        if name.endswith(".png"):
            Image.open(source).save(inputs / name)
        else:
            shutil.copy(source, inputs / name)
    return inputs


# 1. A link planted at a temporary name is never written through.


def test_1_a_link_planted_at_a_pictures_old_temporary_name_leaves_the_input_as_it_was(tmp_path):
    inputs = folder_with(tmp_path, "photo.jpg")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".photo.jpg.partial").symlink_to(inputs / "photo.jpg")
    before = digest(inputs / "photo.jpg")
    done = run_cli(inputs, "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    assert digest(inputs / "photo.jpg") == before
    assert not (out / "photo.jpg").is_symlink() and digest(out / "photo.jpg") != before


def test_1_links_planted_at_a_videos_old_temporary_names_leave_the_input_as_it_was(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    face_clip(inputs / "clip.mp4", frames=5, audio=False)
    out = tmp_path / "out"
    out.mkdir()
    for planted in (".clip.mp4.partial.mp4", ".clip.jsonl.partial"):
        (out / planted).symlink_to(inputs / "clip.mp4")
    before = digest(inputs / "clip.mp4")
    done = run_cli(inputs, "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    assert digest(inputs / "clip.mp4") == before
    assert not (out / "clip.mp4").is_symlink() and not (out / "clip.jsonl").is_symlink()


def test_1_a_temporary_name_that_exists_already_is_never_opened(tmp_path, monkeypatch):
    from anonymize.writing import write_atomically

    # tempfile's names made predictable, the first one planted as a link to a file that must survive.
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: iter(["planted", "fresh"]))
    precious = tmp_path / "precious.jpg"
    precious.write_bytes(b"original")
    (tmp_path / ".anonymize-planted.partial").symlink_to(precious)
    write_atomically(tmp_path / "out.jpg", b"anonymized")
    assert precious.read_bytes() == b"original" and (tmp_path / "out.jpg").read_bytes() == b"anonymized"


# 2. A URI that reaches the output folder through ".." or a link is the output folder.


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLES / "dashcam_plate.jpg", folder / "car.jpg")
    return folder


def test_2_a_ray_input_uri_through_dotdot_into_the_output_folder_is_refused(tmp_path, photos):
    pytest.importorskip("pyarrow")
    (tmp_path / "x").mkdir()
    before = digest(photos / "car.jpg")
    done = run_cli(f"file://{tmp_path}/x/../photos", "-o", f"file://{photos}", "--engine", "ray")
    assert done.returncode == 2 and "one folder" in done.stderr
    assert digest(photos / "car.jpg") == before and sorted(os.listdir(photos)) == ["car.jpg"]


def test_2_a_ray_input_uri_through_a_link_to_the_output_folder_is_refused(tmp_path, photos):
    pytest.importorskip("pyarrow")
    (tmp_path / "link").symlink_to(photos)
    before = digest(photos / "car.jpg")
    done = run_cli(f"file://{tmp_path}/link", "-o", photos, "--engine", "ray")
    assert done.returncode == 2 and "one folder" in done.stderr
    assert digest(photos / "car.jpg") == before and sorted(os.listdir(photos)) == ["car.jpg"]


# 3. Records, predictions and the run's own files are planned with the pictures: none replaces another.


def yolo_lines(path):
    return path.read_text().splitlines()


def test_3_two_pictures_with_one_stem_keep_a_label_file_and_a_mask_each(tmp_path):
    inputs = folder_with(tmp_path, "x.jpg")
    Image.new("RGB", (64, 48), (30, 30, 200)).save(inputs / "x.png")
    out = tmp_path / "out"
    done = run_cli(inputs, "-o", out, "--masks")
    assert done.returncode == 0, done.stderr
    assert outputs(out) == ["x-2.png", "x.jpg"]
    assert sorted(os.listdir(out / "records" / "yolo")) == ["classes.txt", "x-2.txt", "x.txt"]
    assert sorted(os.listdir(out / "records" / "masks")) == ["x-2.png", "x.png"]
    assert yolo_lines(out / "records" / "yolo" / "x.txt") and not yolo_lines(out / "records" / "yolo" / "x-2.txt")


def test_3_a_picture_named_classes_keeps_its_labels_and_the_class_list_stays(tmp_path):
    inputs = folder_with(tmp_path, "classes.jpg")
    out = tmp_path / "out"
    done = run_cli(inputs, "-o", out, "--records")
    assert done.returncode == 0, done.stderr
    assert yolo_lines(out / "records" / "yolo" / "classes.txt") == ["face", "license-plate"]
    labels = yolo_lines(out / "records" / "yolo" / "classes-2.txt")
    assert any(line.startswith("1 ") for line in labels)  # the plate
    assert outputs(out) == ["classes-2.jpg"]


def test_3_a_picture_named_manifest_keeps_its_predictions_beside_the_runs_manifest(tmp_path):
    inputs = folder_with(tmp_path, "manifest.jpg")
    out = tmp_path / "out"
    done = run_cli(inputs, "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    assert "entries" in json.loads((out / "manifest.json").read_text())
    assert json.loads((out / "manifest-2.json").read_text())["predictions"]
    assert json.loads((out / "manifest.json").read_text())["entries"][0]["output"] == "manifest-2.jpg"


@pytest.mark.parametrize("own", ["manifest.json", "records/coco.json"])
def test_3_a_dataset_holding_a_file_where_the_run_writes_its_record_is_refused(own, tmp_path):
    dataset = tmp_path / "dataset"
    (dataset / "train").mkdir(parents=True)
    shutil.copy(SAMPLES / "dashcam_plate.jpg", dataset / "train" / "car.jpg")
    (dataset / "data.yaml").write_text("names: [car]\n")
    (dataset / own).parent.mkdir(exist_ok=True)
    (dataset / own).write_text('{"theirs": true}')
    done = run_cli(dataset, "-o", tmp_path / "out", "--records")
    assert done.returncode == 2 and own in done.stderr
    assert not (tmp_path / "out").exists()


def test_3_a_batch_zip_never_holds_two_members_of_one_name(detector):
    buffer = io.BytesIO()
    Image.open(SAMPLES / "dashcam_plate.jpg").save(buffer, "PNG")
    files = [
        ("x.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes()),
        ("x.png", buffer.getvalue()),
        ("classes.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes()),
    ]
    done = anonymize_batch(files, detector, Settings(), masks=True)
    names = zipfile.ZipFile(io.BytesIO(done.zip_bytes)).namelist()
    assert len(names) == len(set(names))
    assert sorted(done.predictions) == ["classes-2.jpg", "x-2.png", "x.jpg"]


# 4. A link in an input folder is followed, or listed as not processed: never dropped without a word.


def test_4_a_linked_folder_of_photos_is_searched(tmp_path, photos):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "linked").symlink_to(photos)
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path / "out") == ["car.jpg"]


def test_4_a_linked_photo_is_anonymized(tmp_path, photos):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "car.jpg").symlink_to(photos / "car.jpg")
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path / "out") == ["car.jpg"]


@pytest.mark.parametrize(
    "link,target,reason",
    [
        ("dangling.jpg", "nowhere.jpg", "a link to nothing"),
        ("loop.jpg", "loop.jpg", "a link loop"),
        ("again", ".", "a link to a folder it is in"),
    ],
    ids=["dangling", "loop", "folder-loop"],
)
def test_4_a_link_that_leads_nowhere_is_listed_with_its_reason_and_fails_the_run(
    link, target, reason, tmp_path, photos
):
    (photos / link).symlink_to(target)
    done = run_cli(photos, "-o", tmp_path / "out")
    assert done.returncode == 1
    assert f"{link}: {reason}" in done.stderr
    assert outputs(tmp_path / "out") == ["car.jpg"]
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["entries"]
    assert [e["status"] for e in entries] == ["anonymized", "failed"] or [e["status"] for e in entries] == [
        "failed",
        "anonymized",
    ]


# 6. A link restores settings; it never moves pictures off the offline model, nor spends the operator's key.


def test_6_a_link_naming_a_hosted_model_leaves_the_image_page_on_the_offline_model(monkeypatch, fake_roboflow):
    from helpers.apptest import open_page
    from helpers.fake_roboflow import KEY, PROJECT, TRAINED_VERSION

    monkeypatch.setenv("ROBOFLOW_API_KEY", KEY)
    monkeypatch.setenv("ROBOFLOW_PROJECTS", f"acme/{PROJECT}")  # listed, and still not chosen by a link
    fake_roboflow.requests.clear()
    at = open_page(
        "image",
        {
            "source": "roboflow",
            "project": PROJECT,
            "version": str(TRAINED_VERSION),
            "workspace": "acme",
            "method": "fill",
        },
    )
    assert not at.exception
    assert at.session_state["source"] == "local" and at.session_state["method"] == "fill"
    assert fake_roboflow.requests == []


def test_6_the_operators_key_serves_no_project_the_operator_did_not_list(monkeypatch, fake_roboflow):
    from helpers.apptest import open_page
    from helpers.fake_roboflow import KEY
    from helpers.remote import use_remote

    monkeypatch.setenv("ROBOFLOW_API_KEY", KEY)
    monkeypatch.setenv("ROBOFLOW_PROJECTS", "acme/another-project")
    fake_roboflow.requests.clear()
    at = use_remote(open_page("image"), "roboflow", key="")  # the visitor types no key of their own
    assert not at.exception
    assert any("serves only the projects in ROBOFLOW_PROJECTS" in c.value for c in at.sidebar.caption)
    assert fake_roboflow.requests == []


def test_6_the_operators_key_serves_a_project_the_operator_listed(monkeypatch, fake_roboflow):
    from helpers.apptest import open_page
    from helpers.fake_roboflow import KEY, PROJECT
    from helpers.remote import use_remote

    monkeypatch.setenv("ROBOFLOW_API_KEY", KEY)
    monkeypatch.setenv("ROBOFLOW_PROJECTS", PROJECT)
    at = use_remote(open_page("image"), "roboflow", key="")
    assert not at.exception
    assert any("Using the key from secrets or the environment" in c.value for c in at.sidebar.caption)
    assert KEY not in str([e.value for e in at.sidebar.caption])
