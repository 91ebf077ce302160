"""python -m anonymize: the contract other tools drive."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, SAMPLES
from helpers.cli import run_cli, run_cli_against_fake


def test_a_folder_is_processed_recursively_and_a_bad_file_is_reported(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / "city.jpg", inputs / "city.jpg")
    shutil.copy(SAMPLES / "dashcam_plate.jpg", inputs / "sub" / "car.jpg")
    (inputs / "broken.jpg").write_text("not a picture")
    out = tmp_path / "out"
    done = run_cli(inputs, "-o", out, "--json", "--confidence", "face=50,license-plate=40")
    assert done.returncode == 1
    assert "broken.jpg" in done.stderr and "not an image" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["car.jpg", "car.json", "city.jpg", "city.json", "manifest.json"]
    plates = json.loads((out / "car.json").read_text())["predictions"]
    assert [p["class"] for p in plates] == ["license-plate"]


def test_format_and_method_options(tmp_path):
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", tmp_path, "--format", "png", "--method", "fill", "--shape", "rect")
    assert done.returncode == 0, done.stderr
    out = np.asarray(Image.open(tmp_path / "astronaut.png"))
    assert (out == 0).all(axis=2).sum() > 5_000  # a solid black rectangle over the face


def test_only_named_classes_are_hidden(tmp_path):
    done = run_cli(
        SAMPLES / "dashcam_plate.jpg", "-o", tmp_path, "--classes", "face", "--format", "png", "--confidence", "50"
    )
    assert done.returncode == 0
    original = np.asarray(Image.open(SAMPLES / "dashcam_plate.jpg"))
    assert (
        np.abs(np.asarray(Image.open(tmp_path / "dashcam_plate.png")).astype(int) - original).max() <= 2
    )  # JPEG decode noise only


def test_bad_arguments_exit_with_usage_error(tmp_path):
    assert run_cli(SAMPLES / "city.jpg", "-o", tmp_path, "--confidence", "140").returncode == 2


def test_the_summary_gives_the_totals_the_manifest_gives_pictures_and_videos_alike(tmp_path):
    from helpers.clips import face_clip

    face_clip(tmp_path / "walk.mp4", frames=12, audio=False)
    done = run_cli(SAMPLES / "astronaut.jpg", tmp_path / "walk.mp4", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    totals = json.loads((tmp_path / "out" / "manifest.json").read_text())["totals"]["hidden"]
    in_all = next(line for line in done.stdout.splitlines() if line.strip().startswith("in all:"))
    assert totals["face"] >= 2 and f"{totals['face']} faces" in in_all
    assert "hidden:" in next(line for line in done.stdout.splitlines() if line.strip().startswith("videos:"))


def test_an_input_that_does_not_exist_is_a_usage_error_before_anything_is_written(tmp_path):
    done = run_cli(SAMPLES / "city.jpg", tmp_path / "cty.jpg", "-o", tmp_path / "out")
    assert done.returncode == 2 and "cty.jpg: no such file or folder" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("typo", "meant"),
    [(("--method", "blurr"), "Did you mean 'blur'?"), (("--confidance", "5"), "Did you mean --confidence?")],
)
def test_a_typo_is_one_line_naming_the_nearest_valid_word(tmp_path, typo, meant):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path / "out", *typo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and meant in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_run_of_pictures_and_a_video_asks_no_other_host(tmp_path):
    from helpers.clips import face_clip
    from helpers.recording_proxy import recording_proxy

    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "city.jpg", inputs / "city.jpg")
    face_clip(inputs / "walk.mp4", frames=10)
    with recording_proxy() as (env, attempts):
        done = subprocess.run(
            [sys.executable, "-m", "anonymize", str(inputs), "-o", str(tmp_path / "out"), "--json", "--records"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **env},
        )
    assert done.returncode == 0, done.stderr
    assert attempts == []


def test_the_roboflow_backend_reads_the_key_from_the_environment(tmp_path, fake_roboflow):
    from helpers.fake_roboflow import KEY
    from helpers.remote import red_box_png

    (tmp_path / "box.png").write_bytes(red_box_png())
    done = run_cli_against_fake(
        fake_roboflow,
        KEY,
        tmp_path / "box.png",
        "-o",
        tmp_path / "out",
        "--backend",
        "roboflow",
        "--project",
        "faces",
        "--version",
        "3",
        "--json",
        "--method",
        "fill",
    )
    assert done.returncode == 0, done.stderr
    assert [p["class"] for p in json.loads((tmp_path / "out" / "box.json").read_text())["predictions"]] == ["face"]
    assert (np.asarray(Image.open(tmp_path / "out" / "box.png"))[40:80, 50:90] == 0).all()


def test_a_rejected_key_stops_the_cli_with_one_sentence(tmp_path, fake_roboflow):
    done = run_cli_against_fake(
        fake_roboflow,
        "wrong-key-abc",
        SAMPLES / "city.jpg",
        "-o",
        tmp_path,
        "--backend",
        "roboflow",
        "--project",
        "faces",
    )
    assert done.returncode == 2
    assert "API key rejected by Roboflow" in done.stderr and "wrong-key-abc" not in done.stderr + done.stdout
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_video_becomes_an_mp4_with_per_frame_json_lines(tmp_path):
    from helpers.clips import face_clip

    face_clip(tmp_path / "walk.mov", frames=12)
    done = run_cli(tmp_path / "walk.mov", "-o", tmp_path / "out", "--json")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json", "walk.jsonl", "walk.mp4"]
    assert len((tmp_path / "out" / "walk.jsonl").read_text().splitlines()) == 12


def test_detect_every_k_skips_detection_on_most_frames_and_tracking_covers_them(tmp_path):
    from helpers.clips import face_clip

    face_clip(tmp_path / "walk.mp4", frames=12, audio=False)
    done = run_cli(tmp_path / "walk.mp4", "-o", tmp_path / "out", "--json", "--detect-every", "3")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "out" / "walk.jsonl").read_text().splitlines()]
    detected = [bool(line["predictions"]) for line in lines]
    assert detected[0] and sum(detected) <= 12 // 2
    assert all(line["carried_by_tracking"] for line, found in zip(lines, detected) if not found)


def test_confidence_per_class_is_applied_to_each_class(tmp_path):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path, "--json", "--confidence", "face=60,license-plate=99")
    assert done.returncode == 0, done.stderr
    found = json.loads((tmp_path / "city.json").read_text())["predictions"]
    assert found and all(p["class"] == "face" and p["confidence"] >= 0.6 for p in found)


def test_one_confidence_and_per_class_values_combine(tmp_path):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path, "--json", "--confidence", "99,face=60")
    assert done.returncode == 0, done.stderr
    assert {p["class"] for p in json.loads((tmp_path / "city.json").read_text())["predictions"]} == {"face"}


@pytest.mark.parametrize("value", ["face=", "=20", "20,30", "face=120", "face=nan", "plate=20"])
def test_a_malformed_or_unknown_class_confidence_is_refused_before_anything_is_written(tmp_path, value):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path / "out", "--confidence", value)
    assert done.returncode == 2 and "confidence" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_summary_on_stdout_says_what_was_done_and_with_what(tmp_path):
    (tmp_path / "broken.jpg").write_text("not a picture")
    done = run_cli(SAMPLES / "city.jpg", SAMPLES / "dashcam_plate.jpg", tmp_path / "broken.jpg", "-o", tmp_path / "out")
    assert done.returncode == 1
    first, images, failed, record = done.stdout.splitlines()
    assert first.startswith("2 of 3 file(s) written to") and "on the CPU, preset balanced" in first
    assert "faces" in images and "1 license-plate" in images and "low-confidence" in images
    assert failed.strip().startswith("failed: 1") and record.strip().endswith("manifest.json")
    assert "broken.jpg" in done.stderr and "broken.jpg" not in done.stdout  # reasons stay on stderr


def test_quiet_prints_no_summary_and_no_progress(tmp_path):
    done = run_cli(
        SAMPLES / "city.jpg",
        SAMPLES / "astronaut.jpg",
        SAMPLES / "dashcam_plate.jpg",
        tmp_path / "missing.jpg",
        "-o",
        tmp_path / "out",
        "-q",
    )
    assert done.stdout == "" and "missing.jpg" in done.stderr  # errors are still said
    assert "it/s" not in done.stderr and "%|" not in done.stderr


def test_feather_softens_the_edges_outward(tmp_path):
    for feather in (0, 12):
        assert (
            run_cli(
                SAMPLES / "astronaut.jpg",
                "-o",
                tmp_path / str(feather),
                "--format",
                "png",
                "--method",
                "fill",
                "--feather",
                feather,
            ).returncode
            == 0
        )
    sharp, soft = (np.asarray(Image.open(tmp_path / f / "astronaut.png")).astype(int) for f in ("0", "12"))
    assert (soft[(sharp == 0).all(axis=2)] == 0).all()  # the inside is as fully hidden
    assert np.abs(sharp - soft).sum() > 0  # the band around it is softened


@pytest.mark.parametrize("option", [["--crf", "52"], ["--crf", "x"], ["--feather", "-1"], ["--audio", "mp3"]])
def test_video_quality_audio_and_feather_are_checked(tmp_path, option):
    done = run_cli(SAMPLES / "city.jpg", "-o", tmp_path / "out", *option)
    assert done.returncode == 2 and not (tmp_path / "out").exists()


def test_a_missing_key_says_where_a_command_line_user_sets_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ROBOFLOW_API_KEY"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "anonymize",
            str(SAMPLES / "city.jpg"),
            "-o",
            str(tmp_path),
            "--backend",
            "roboflow",
            "--project",
            "p",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2 and "ROBOFLOW_API_KEY" in done.stderr and "sidebar" not in done.stderr


def reviewed_city(tmp_path, **changes):
    """city.png in ``tmp_path/in``, and an edits file for it that adds a plate box and keeps one face visible."""
    from anonymize.detections import Detection
    from anonymize.edits import Edits, PictureEdits
    from anonymize.settings import Settings

    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.open(SAMPLES / "city.jpg").save(inputs / "city.png")
    sha = hashlib.sha256((inputs / "city.png").read_bytes()).hexdigest()
    entry = PictureEdits(
        sha,
        kept_visible=(Detection(0, 0, 9, 9, 1, "face"),),
        added=(Detection(700, 480, 780, 540, 1, "license-plate"),),
    )
    edits = Edits({"kind": "local", "preset": "balanced"}, Settings(), {"city.png": entry}).to_json()
    edits.update(changes)
    (tmp_path / "edits.json").write_text(json.dumps(edits))
    return inputs / "city.png", tmp_path / "edits.json"


def test_edits_are_replayed_with_the_settings_they_were_made_with(tmp_path):
    picture, edits = reviewed_city(tmp_path)
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits, "--json", "--method", "pixelate")
    assert done.returncode == 0, done.stderr
    review = json.loads((tmp_path / "out" / "city.json").read_text())["review"]
    assert review["added"][0]["class"] == "license-plate" and review["unmatched"][0]["class"] == "face"
    assert "reviewed: 1 file(s) rendered with their edits: 1 box(es) added by hand" in done.stdout
    assert "was not found again; it stays hidden" in done.stderr
    out = np.asarray(Image.open(tmp_path / "out" / "city.png")).astype(int)
    # Blurred as reviewed, not pixelated as the command line says: a blurred plate box has no flat cells.
    assert len(np.unique(out[500:520, 720:760].reshape(-1, 3), axis=0)) > 50


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"pictures": {"other.png": {"sha256": "0" * 64}}}, "name other.png, which is not among the inputs"),
        ({"pictures": {"city.png": {"sha256": "0" * 64}}}, "is not the file that was reviewed"),
        ({"backend": {"kind": "local", "preset": "thorough"}}, "made with preset thorough"),
        ({"settings": {"classes": ["face"]}}, "settings have no"),
        ({"format": "something-else"}, "not an edits file"),
    ],
)
def test_edits_that_do_not_fit_are_refused_before_anything_is_written(tmp_path, change, says):
    picture, edits = reviewed_city(tmp_path, **change)
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits)
    assert done.returncode == 2 and says in done.stderr
    assert not (tmp_path / "out").exists()


def test_video_edits_are_replayed_at_the_rate_they_were_made_at(tmp_path):
    from anonymize.detectors import local_detector
    from anonymize.edits import Edits, OnFrame, VideoEdits
    from anonymize.settings import Settings
    from anonymize.video import anonymize_video
    from helpers.clips import face_clip

    face_clip(tmp_path / "walk.mp4", frames=30)
    settings = Settings(confidence=50)
    first = anonymize_video(tmp_path / "walk.mp4", tmp_path / "first.mp4", local_detector(), settings, detect_every=2)
    (track,) = first.tracks.values()
    video = VideoEdits(
        hashlib.sha256((tmp_path / "walk.mp4").read_bytes()).hexdigest(),
        2,
        kept_tracks=(OnFrame(track.first_frame, track.first_box),),
    )
    (tmp_path / "edits.json").write_text(
        Edits({"kind": "local", "preset": "balanced"}, settings, videos={"walk.mp4": video}).dumps()
    )
    done = run_cli(tmp_path / "walk.mp4", "-o", tmp_path / "out", "--edits", tmp_path / "edits.json", "--json")
    assert done.returncode == 0, done.stderr
    assert "1 detection(s) or track(s) kept visible on purpose" in done.stdout
    lines = (tmp_path / "out" / "walk.jsonl").read_text().splitlines()
    assert len(lines) == 30 and all("kept_visible" in json.loads(line) for line in lines)
