"""Hostile input, third pass: replayed files, names and pictures that showed a face, crashed or hung.

Each test is named after the promise it guards; the number is the case in issue 26.
"""

import hashlib
import io
import json
import os
import shutil

import pytest
from PIL import Image, PngImagePlugin

from anonymize.edits import Edits, PictureEdits
from anonymize.media import load_image
from anonymize.settings import Settings
from conftest import SAMPLES, outputs
from helpers.cli import run_cli
from helpers.clips import face_clip


def reviewed_astronaut(tmp_path, settings=None, censor=None, added=None):
    """The astronaut photo and an edits file for it, its settings changed as a hand or a tool might."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / "astronaut.jpg")
    sha = hashlib.sha256((inputs / "astronaut.jpg").read_bytes()).hexdigest()
    payload = Edits({"kind": "local", "preset": "balanced"}, Settings(), {"astronaut.jpg": PictureEdits(sha)}).to_json()
    payload["settings"].update(settings or {})
    payload["settings"]["censor"].update(censor or {})
    if added is not None:
        payload["pictures"]["astronaut.jpg"]["added"] = [added]
    (tmp_path / "edits.json").write_text(json.dumps(payload))
    return inputs / "astronaut.jpg", tmp_path / "edits.json"


# 5. Replayed settings are checked as the command line's are: an unknown class never means "hide nothing".


@pytest.mark.parametrize("classes", [["faces"], "face"], ids=["misspelt", "a-string-not-a-list"])
def test_5_replayed_settings_that_name_an_unknown_class_write_nothing(classes, tmp_path):
    picture, edits = reviewed_astronaut(tmp_path, settings={"classes": classes})
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "faces" in done.stderr or "list of class names" in done.stderr
    assert not (tmp_path / "out").exists()


def test_5_a_replayed_threshold_for_an_unknown_class_writes_nothing(tmp_path):
    picture, edits = reviewed_astronaut(tmp_path, settings={"class_confidence": {"fcae": 10}})
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits)
    assert done.returncode == 2 and "'fcae'" in done.stderr
    assert not (tmp_path / "out").exists()


# 9. Every field of an edits file is checked at load, and the message names it.


@pytest.mark.parametrize(
    "censor,field",
    [
        ({"fill_color": [300, 0, 0]}, "fill_color"),
        ({"fill_color": [0, 0]}, "fill_color"),
        ({"feather": 2.5}, "feather"),
        ({"strength": "5"}, "strength"),
        ({"sharpness": 3}, "sharpness"),
    ],
    ids=["colour-out-of-range", "colour-of-two-values", "fractional-feather", "strength-as-text", "unknown-setting"],
)
def test_9_a_censor_setting_the_app_never_writes_is_refused_by_name(censor, field, tmp_path):
    picture, edits = reviewed_astronaut(tmp_path, censor={"method": "fill", **censor})
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits)
    assert done.returncode == 2 and field in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_9_an_added_box_that_overflows_to_infinity_is_refused(tmp_path):
    picture, edits = reviewed_astronaut(
        tmp_path, added={"x": 1e308, "y": 10, "width": 1e308, "height": 10, "class": "face"}
    )
    done = run_cli(picture, "-o", tmp_path / "out", "--edits", edits)
    assert done.returncode == 2 and "added box 0" in done.stderr and "Traceback" not in done.stderr


# 10. A manifest that is not one is not trusted, and does not crash --resume.


@pytest.mark.parametrize(
    "entries",
    [
        ["x.jpg", None],
        [{"input": 3, "status": "anonymized"}],
        [{"input": "a.jpg", "status": "anonymized", "hidden": "lots"}],
    ],
    ids=["strings-and-null", "a-number-for-a-name", "a-string-for-counts"],
)
def test_10_resume_over_a_malformed_manifest_processes_every_input(entries, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"backend": {}, "settings": {}, "entries": entries}))
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", out, "--resume")
    assert (
        done.returncode == 0 and "Traceback" not in done.stderr and "not a manifest this tool can read" in done.stderr
    )
    assert outputs(out) == ["astronaut.jpg"]
    assert [e["input"] for e in json.loads((out / "manifest.json").read_text())["entries"]] == [
        str(SAMPLES / "astronaut.jpg")
    ]


# 8. A file name as long as Linux allows is an output name too, shortened to fit; the run goes on.

LONG_STEM = "a" * 248  # with ".jpg", 252 bytes: legal, but ".<name>.partial" or "<stem>-2.jsonl" is not


def test_8_a_picture_with_a_252_byte_name_is_written_under_a_name_that_fits(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / f"{LONG_STEM}.jpg")
    Image.open(SAMPLES / "astronaut.jpg").save(inputs / f"{LONG_STEM}.png")
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / "z.jpg")
    done = run_cli(inputs, "-o", tmp_path / "out", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    written = outputs(tmp_path / "out")
    assert len(written) == 6 and "z.jpg" in written and all(len(name.encode()) <= 255 for name in written)
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["entries"]
    assert [e["status"] for e in entries] == ["anonymized"] * 3


def test_8_a_video_with_a_252_byte_name_is_written_and_the_next_input_too(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    face_clip(inputs / f"{'v' * 248}.mp4", frames=5, audio=False)
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / "z.jpg")
    done = run_cli(inputs, "-o", tmp_path / "out", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    written = outputs(tmp_path / "out")
    assert len(written) == 4 and "z.jpg" in written and all(len(name.encode()) <= 255 for name in written)


# 11. Only regular files are read: a pipe or a device is listed, never read forever.


def test_11_a_named_pipe_in_a_folder_is_listed_and_the_run_goes_on(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    os.mkfifo(inputs / "p.jpg")
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / "q.jpg")
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 1 and "p.jpg: a named pipe, not a file" in done.stderr
    assert outputs(tmp_path / "out") == ["q.jpg"]


def test_11_a_photo_that_links_to_dev_zero_is_listed_and_the_run_goes_on(tmp_path):
    (tmp_path / "photo.jpg").symlink_to("/dev/zero")
    done = run_cli(tmp_path / "photo.jpg", SAMPLES / "astronaut.jpg", "-o", tmp_path / "out")
    assert done.returncode == 1 and "photo.jpg: a device, not a file" in done.stderr
    assert outputs(tmp_path / "out") == ["astronaut.jpg"]


# 12. A picture with a large metadata chunk is read (its metadata is never written anyway).


def test_12_a_png_with_a_2_mib_xmp_chunk_is_read(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + "x" * (2 * 1024**2) + "</x:xmpmeta>", zip=True)
    buffer = io.BytesIO()
    Image.open(SAMPLES / "astronaut.jpg").save(buffer, "PNG", pnginfo=info)
    assert load_image(buffer.getvalue()).pixels.shape == (512, 512, 3)


def test_12_a_png_whose_metadata_chunk_is_over_the_limit_says_so(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "x" * (80 * 1024**2), zip=True)  # a text bomb: 80 KiB on disk
    Image.new("RGB", (8, 8)).save(tmp_path / "huge-xmp.png", pnginfo=info)
    done = run_cli(tmp_path / "huge-xmp.png", "-o", tmp_path / "out")
    assert done.returncode == 1 and "its metadata (a PNG text chunk" in done.stderr and "Traceback" not in done.stderr


# 13. A name in a message cannot forge a line of its own.


def test_13_a_file_name_with_a_newline_stays_on_its_line(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a\nerror: none: all 2 pictures anonymized\n.jpg").write_text("not a picture")
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "a\\nerror: none" in lines[0]
