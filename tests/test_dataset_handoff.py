"""From raw photos to a dataset with the CLI: the manifest, resumable runs, redaction records,
dataset folders kept whole, and uploads with the real roboflow SDK to the fake Roboflow."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from conftest import ROOT, SAMPLES
from helpers.cli import run_cli
from helpers.datasets import coco_dataset
from helpers.fake_roboflow import KEY, PROJECT, WORKSPACE


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def photos(folder, count=3):
    folder.mkdir(parents=True, exist_ok=True)
    names = ["city.jpg", "dashcam_plate.jpg", "astronaut.jpg"]
    for n in range(count):
        shutil.copy(SAMPLES / names[n % 3], folder / f"{n:02d}_{names[n % 3]}")
    return folder


def test_the_manifest_records_model_settings_and_each_input_with_hashes_that_match(tmp_path):
    inputs = photos(tmp_path / "in")
    (inputs / "broken.jpg").write_text("not a picture")
    done = run_cli(inputs, "-o", tmp_path / "out", "--method", "fill", "--confidence", "face=30")
    assert done.returncode == 1
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["tool"]["name"] == "anonymize"
    models = {m["file"]: m["sha256"] for m in manifest["backend"]["models"]}
    assert any(name.startswith("centerface") for name in models) and any(
        name.startswith("license_plate") for name in models
    )
    assert all(digest == sha(ROOT / "anonymize" / "models" / name) for name, digest in models.items())
    assert manifest["backend"]["preset"] == "balanced" and manifest["settings"]["censor"]["method"] == "fill"
    assert manifest["settings"]["class_confidence"]["face"] == 30
    by_input = {os.path.basename(e["input"]): e for e in manifest["entries"]}
    assert by_input["broken.jpg"]["status"] == "failed" and "not an image" in by_input["broken.jpg"]["reason"]
    city = by_input["00_city.jpg"]
    assert city["input_sha256"] == sha(inputs / "00_city.jpg") and city["output_sha256"] == sha(
        tmp_path / "out" / city["output"]
    )
    assert city["hidden"]["face"] >= 20 and city["seconds"] > 0
    assert manifest["totals"] | {"hidden": None} == {
        "inputs": 4,
        "anonymized": 3,
        "unchanged": 0,
        "failed": 1,
        "hidden": None,
        "uploaded": 0,
        "upload_failed": 0,
    }


def test_the_manifest_never_holds_the_api_key(tmp_path, fake_roboflow):
    from helpers.cli import run_cli_against_fake

    done = run_cli_against_fake(
        fake_roboflow, KEY, SAMPLES / "astronaut.jpg", "-o", tmp_path / "out", "--upload-to", f"{WORKSPACE}/{PROJECT}"
    )
    assert done.returncode == 0, done.stderr
    assert KEY not in (tmp_path / "out" / "manifest.json").read_text()


def test_a_run_killed_halfway_resumes_with_only_what_is_missing_and_the_same_outputs(tmp_path):
    inputs = photos(tmp_path / "in", count=12)
    whole = run_cli(inputs, "-o", tmp_path / "whole", "-q")
    assert whole.returncode == 0
    run = subprocess.Popen([sys.executable, "-m", "anonymize", inputs, "-o", tmp_path / "out", "-q"], cwd=ROOT)
    manifest = tmp_path / "out" / "manifest.json"
    deadline = time.monotonic() + 120
    while (
        not (manifest.exists() and 0 < len(json.loads(manifest.read_text())["entries"]) < 10)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 143
    done_before = len(json.loads(manifest.read_text())["entries"])
    assert not json.loads(manifest.read_text())["complete"]

    resumed = run_cli(inputs, "-o", tmp_path / "out", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {done_before} file(s) already done" in resumed.stdout
    final = json.loads(manifest.read_text())
    assert (
        final["complete"]
        and len(final["entries"]) == 12
        and sum(e.get("resumed", False) for e in final["entries"]) == done_before
    )
    for picture in (tmp_path / "whole").glob("*.jpg"):
        assert (tmp_path / "out" / picture.name).read_bytes() == picture.read_bytes()
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_resume_processes_again_what_changed_or_was_damaged(tmp_path):
    inputs = photos(tmp_path / "in")
    assert run_cli(inputs, "-o", tmp_path / "out", "-q").returncode == 0
    (tmp_path / "out" / "00_city.jpg").write_bytes(b"damaged")
    again = run_cli(inputs, "-o", tmp_path / "out", "--resume")
    assert "resumed: 2 file(s)" in again.stdout and Image.open(tmp_path / "out" / "00_city.jpg").size == (800, 564)
    other = run_cli(inputs, "-o", tmp_path / "out", "--resume", "--method", "fill")
    assert "other settings" in other.stderr and "resumed" not in other.stdout


def test_records_are_coco_and_yolo_with_the_boxes_hidden_and_masks_of_the_exact_pixels(tmp_path):
    done = run_cli(
        SAMPLES / "dashcam_plate.jpg",
        SAMPLES / "astronaut.jpg",
        "-o",
        tmp_path / "out",
        "--records",
        "--masks",
        "--json",
        "--confidence",
        "50",
        "--method",
        "fill",
        "--shape",
        "rect",
        "--format",
        "png",
    )
    assert done.returncode == 0, done.stderr
    records = tmp_path / "out" / "records"
    coco = json.loads((records / "coco.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    (car,) = [i for i in coco["images"] if i["file_name"] == "dashcam_plate.png"]
    boxes = [a for a in coco["annotations"] if a["image_id"] == car["id"]]
    predicted = json.loads((tmp_path / "out" / "dashcam_plate.json").read_text())["predictions"]
    assert [names[a["category_id"]] for a in boxes] == [p["class"] for p in predicted] == ["license-plate"]
    x, y, w, h = boxes[0]["bbox"]
    assert abs(x + w / 2 - predicted[0]["x"]) < 0.02 and abs(w - predicted[0]["width"]) < 0.02
    classes = (records / "yolo" / "classes.txt").read_text().split()
    index, cx, cy, bw, bh = (records / "yolo" / "dashcam_plate.txt").read_text().split()
    assert classes[int(index)] == "license-plate" and abs(float(cx) * car["width"] - predicted[0]["x"]) < 0.01
    mask = np.asarray(Image.open(records / "masks" / "dashcam_plate.png").convert("L")) > 0
    out = np.asarray(Image.open(tmp_path / "out" / "dashcam_plate.png"))
    assert mask.sum() > 100 and (out[mask] == 0).all()  # every masked pixel was filled


def test_records_tell_the_low_confidence_regions_hidden_to_be_safe_from_the_confident_ones(tmp_path):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path / "out", "--records", "--json")
    assert done.returncode == 0, done.stderr
    coco = json.loads((tmp_path / "out" / "records" / "coco.json").read_text())
    predicted = json.loads((tmp_path / "out" / "city.json").read_text())["predictions"]
    marked = [a["low_confidence"] for a in coco["annotations"]]
    assert marked == [p["low_confidence"] for p in predicted] and any(marked) and not all(marked)
    assert all(a["low_confidence"] == (a["score"] < 0.5) for a in coco["annotations"])


def test_a_coco_dataset_folder_comes_out_with_the_same_structure_and_its_labels_untouched(tmp_path):
    source = coco_dataset(tmp_path / "dataset")
    done = run_cli(source, "-o", tmp_path / "clean", "--method", "fill")
    assert done.returncode == 0, done.stderr
    made = sorted(p.relative_to(tmp_path / "clean").as_posix() for p in (tmp_path / "clean").rglob("*") if p.is_file())
    given = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    assert made == sorted(given + ["manifest.json"])
    for label in ("train/_annotations.coco.json", "valid/_annotations.coco.json", "README.roboflow.txt"):
        assert (tmp_path / "clean" / label).read_bytes() == (source / label).read_bytes()
    assert (tmp_path / "clean" / "train" / "city.jpg").read_bytes() != (source / "train" / "city.jpg").read_bytes()
    assert {c["file"] for c in json.loads((tmp_path / "clean" / "manifest.json").read_text())["copied"]} >= {
        "README.roboflow.txt"
    }


def test_a_dataset_folder_must_come_alone_and_without_json_sidecars(tmp_path):
    source = coco_dataset(tmp_path / "dataset")
    assert "give it alone" in run_cli(source, SAMPLES / "city.jpg", "-o", tmp_path / "a").stderr
    assert "--records" in run_cli(source, "-o", tmp_path / "b", "--json").stderr


def test_one_command_from_raw_photos_to_a_roboflow_upload(tmp_path, fake_roboflow):
    from helpers.cli import run_cli_against_fake

    inputs = photos(tmp_path / "in")
    fake_roboflow.refuse_uploads["01_dashcam_plate.jpg"] = 99  # this one never goes through
    done = run_cli_against_fake(
        fake_roboflow,
        KEY,
        inputs,
        "-o",
        tmp_path / "out",
        "--upload-to",
        f"{WORKSPACE}/{PROJECT}",
        "--split",
        "valid",
        "--batch-name",
        "clean",
        "--tag",
        "anonymized",
        "--tag",
        "street",
    )
    assert done.returncode == 1 and "01_dashcam_plate.jpg" in done.stderr and "after 3 tries" in done.stderr
    sent = {u["name"]: u for u in fake_roboflow.uploads}
    assert sorted(sent) == ["00_city.jpg", "02_astronaut.jpg"]
    assert (
        sent["00_city.jpg"]["data"] == (tmp_path / "out" / "00_city.jpg").read_bytes()
    )  # the anonymized file, never the original
    assert sent["00_city.jpg"]["split"] == "valid" and sent["00_city.jpg"]["tags"] == ["anonymized", "street"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["totals"]["uploaded"] == 2 and manifest["totals"]["upload_failed"] == 1
    assert "uploaded: 2 to acme/faces, 1 failed" in done.stdout

    fake_roboflow.refuse_uploads.clear()
    again = run_cli_against_fake(
        fake_roboflow,
        KEY,
        inputs,
        "-o",
        tmp_path / "out",
        "--upload-to",
        f"{WORKSPACE}/{PROJECT}",
        "--split",
        "valid",
        "--batch-name",
        "clean",
        "--tag",
        "anonymized",
        "--tag",
        "street",
        "--resume",
    )
    assert again.returncode == 0, again.stderr
    assert sorted(u["name"] for u in fake_roboflow.uploads) == [
        "00_city.jpg",
        "01_dashcam_plate.jpg",
        "02_astronaut.jpg",
    ]  # only the missing one again


def test_a_rejected_upload_key_stops_the_run_before_anything_is_written(tmp_path, fake_roboflow):
    from helpers.cli import run_cli_against_fake

    done = run_cli_against_fake(
        fake_roboflow,
        "Wrong-key-123abc",
        SAMPLES / "city.jpg",
        "-o",
        tmp_path / "out",
        "--upload-to",
        f"{WORKSPACE}/{PROJECT}",
    )
    assert done.returncode == 2 and "API key rejected" in done.stderr and "Wrong-key" not in done.stderr
    assert not (tmp_path / "out").exists()
