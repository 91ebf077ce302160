"""--engine ray: a local Ray cluster, started here, anonymizes a folder as the local CLI does, byte for byte."""

import hashlib
import json

import pytest
from PIL import Image

from anonymize.cli import main
from conftest import SAMPLES, outputs

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
# Ray Data's own context warns about its deprecated settings when it copies itself to the actors.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three photos and a file that is not one."""
    inputs = tmp_path_factory.mktemp("in")
    for name in ("city.jpg", "dashcam_plate.jpg", "astronaut.jpg"):
        Image.open(SAMPLES / name).save(inputs / name.replace(".jpg", ".png"))
    (inputs / "notes.png").write_text("not a picture")
    return inputs


def test_ray_writes_the_local_clis_bytes_and_reports_the_bad_file(cluster, folder, tmp_path, capsys):
    assert main([str(folder), "-o", str(tmp_path / "local"), "-q"]) == 1
    capsys.readouterr()
    assert main([str(folder), "-o", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2", "-q", "--json"]) == 1
    assert "notes.png: not an image" in capsys.readouterr().err
    assert outputs(tmp_path / "ray") == [
        "astronaut.json",
        "astronaut.png",
        "city.json",
        "city.png",
        "dashcam_plate.json",
        "dashcam_plate.png",
    ]
    for name in ("astronaut.png", "city.png", "dashcam_plate.png"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert [e["status"] for e in manifest["entries"]] == [
        "anonymized",
        "anonymized",
        "anonymized",
        "failed",
    ]  # the planned order
    assert manifest["complete"] and manifest["totals"]["hidden"]["face"] >= 20


def test_a_ray_run_resumes_like_a_local_one(cluster, folder, tmp_path, capsys):
    assert main([str(folder), "-o", str(tmp_path / "out"), "--engine", "ray", "-q"]) == 1
    assert main([str(folder), "-o", str(tmp_path / "out"), "--engine", "ray", "--resume"]) == 1
    assert "resumed: 3 file(s) already done" in capsys.readouterr().out


def test_records_edits_and_uploads_on_ray_are_the_local_clis(
    cluster, folder, tmp_path, capsys, fake_roboflow, monkeypatch
):
    from anonymize.detections import Detection
    from anonymize.edits import Edits, PictureEdits
    from anonymize.settings import Settings
    from helpers.fake_roboflow import KEY, PROJECT, WORKSPACE

    sha = hashlib.sha256((folder / "city.png").read_bytes()).hexdigest()
    edits = Edits(
        {"kind": "local", "preset": "balanced"},
        Settings(),
        {"city.png": PictureEdits(sha, added=(Detection(700, 480, 780, 540, 1, "face"),))},
    )
    (tmp_path / "edits.json").write_text(edits.dumps())
    monkeypatch.setenv("ROBOFLOW_API_KEY", KEY)
    options = ["--records", "--masks", "--edits", str(tmp_path / "edits.json"), "-q"]
    assert main([str(folder), "-o", str(tmp_path / "local"), *options]) == 1
    assert (
        main(
            [
                str(folder),
                "-o",
                str(tmp_path / "ray"),
                "--engine",
                "ray",
                *options,
                "--upload-to",
                f"{WORKSPACE}/{PROJECT}",
            ]
        )
        == 1
    )
    for name in (
        "city.png",
        "records/yolo/city.txt",
        "records/masks/city.png",
        "records/yolo/classes.txt",
        "records/coco.json",
    ):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert json.loads((tmp_path / "ray" / "manifest.json").read_text())["entries"][1]["added_by_hand"] == 1
    assert sorted(u["name"] for u in fake_roboflow.uploads) == ["astronaut.png", "city.png", "dashcam_plate.png"]


def test_a_dataset_folder_on_ray_comes_out_as_the_local_clis(cluster, tmp_path):
    from helpers.datasets import coco_dataset

    source = coco_dataset(tmp_path / "dataset")
    assert main([str(source), "-o", str(tmp_path / "local"), "-q"]) == 0
    assert main([str(source), "-o", str(tmp_path / "ray"), "--engine", "ray", "-q"]) == 0
    made = sorted(p.relative_to(tmp_path / "ray").as_posix() for p in (tmp_path / "ray").rglob("*") if p.is_file())
    assert made == sorted(
        p.relative_to(tmp_path / "local").as_posix() for p in (tmp_path / "local").rglob("*") if p.is_file()
    )
    for name in made:
        if name != "manifest.json":
            assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_an_input_that_cannot_be_read_is_a_failed_entry_on_ray(cluster, folder, tmp_path, capsys):
    (tmp_path / "gone.png").symlink_to(
        tmp_path / "deleted.png"
    )  # a link to nothing (a name that is nothing is a usage error)
    assert (
        main(
            [str(folder / "city.png"), str(tmp_path / "gone.png"), "-o", str(tmp_path / "out"), "--engine", "ray", "-q"]
        )
        == 1
    )
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["entries"]
    assert [(e["status"], "input_sha256" in e) for e in entries] == [("anonymized", True), ("failed", False)]


def test_an_archive_is_read_on_ray_as_locally_its_members_named_by_their_path_in_it(cluster, folder, tmp_path):
    import shutil

    archive = shutil.make_archive(str(tmp_path / "photos"), "zip", folder)
    runs = {}
    for engine in ("local", "ray"):
        assert main([archive, "-o", str(tmp_path / engine), "--engine", engine, "-q"]) == 1
        manifest = json.loads((tmp_path / engine / "manifest.json").read_text())
        runs[engine] = [(e["input"], e["status"], e.get("output_sha256")) for e in manifest["entries"]]
    assert runs["ray"] == runs["local"]
    assert [name for name, _, _ in runs["ray"]] == [
        f"{archive}/{name}" for name in sorted(p.name for p in folder.iterdir())
    ]
