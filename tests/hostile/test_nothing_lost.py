"""Hostile input, part 2: no user file or result silently disappears.

Each test is named after the promise it guards; the number is the case in issue 9.
"""

import hashlib
import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from anonymize.batch import anonymize_batch
from anonymize.errors import MediaError
from anonymize.media import load_image
from anonymize.settings import Settings
from conftest import SAMPLES, outputs
from helpers.cli import run_cli
from helpers.clips import face_clip, face_patch


def picture(path, colour, format=None):
    Image.fromarray(np.full((64, 96, 3), colour, np.uint8)).save(path, format)
    return path


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def mean_colour(path):
    return np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).mean(axis=0)


# 6. Never write over an input.


@pytest.mark.parametrize(
    "names,options",
    [(["clip.mp4", "photo.jpg"], []), (["x.jpeg", "x.jpg"], []), (["z.jpg", "z.png"], ["--format", "png"])],
    ids=["video-and-photo", "jpeg-and-jpg", "jpg-and-png-as-png"],
)
def test_6_an_output_folder_that_is_the_input_folder_is_refused_before_anything_is_written(names, options, tmp_path):
    for index, name in enumerate(names):
        if name.endswith(".mp4"):
            face_clip(tmp_path / name, frames=5, audio=False)
        else:
            picture(tmp_path / name, (200, 30, 30 + 100 * index), "PNG" if name.endswith("png") else "JPEG")
    before = digests(tmp_path)
    done = run_cli(tmp_path, "-o", tmp_path, *options)
    assert done.returncode == 2 and "would replace the input" in done.stderr
    assert digests(tmp_path) == before


def test_6_two_inputs_with_one_stem_get_two_outputs(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    picture(inputs / "x.jpeg", (200, 30, 30), "JPEG")
    picture(inputs / "x.jpg", (30, 30, 200), "JPEG")
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    colours = sorted(tuple(mean_colour(tmp_path / "out" / name).round(-1)) for name in outputs(tmp_path / "out"))
    assert colours == [(30.0, 30.0, 200.0), (200.0, 30.0, 30.0)]


def test_6_a_format_change_does_not_make_two_outputs_one(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    picture(inputs / "z.jpg", (200, 30, 30), "JPEG")
    picture(inputs / "z.png", (30, 30, 200), "PNG")
    done = run_cli(inputs, "-o", tmp_path / "out", "--format", "png")
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path / "out") == ["z-2.png", "z.png"]


# 7. Sidecar names are reserved like outputs.


def test_7_each_picture_keeps_its_own_predictions_file(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "dashcam_plate.jpg", inputs / "a.jpg")
    picture(inputs / "a.png", (30, 30, 200), "PNG")
    done = run_cli(inputs, "-o", tmp_path / "out", "--json", "--confidence", "40")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert outputs(out) == ["a-2.json", "a-2.png", "a.jpg", "a.json"]
    assert json.loads((out / "a.json").read_text())["image"]["width"] == 1280
    assert json.loads((out / "a-2.json").read_text())["image"]["width"] == 96


# 8. A picture with several frames is refused, never flattened to its first.


def frames_with_a_face_in_the_second():
    blank = np.full((120, 120, 3), 90, np.uint8)
    face = blank.copy()
    face[15:105, 15:105] = face_patch()
    return [Image.fromarray(blank), Image.fromarray(face)]


@pytest.mark.parametrize(
    "format,suffix",
    [("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tiff"), ("PNG", "png")],
    ids=["animated-gif", "animated-webp", "multipage-tiff", "apng"],
)
def test_8_a_picture_with_several_frames_is_refused_with_a_sentence(format, suffix, tmp_path):
    first, second = frames_with_a_face_in_the_second()
    path = tmp_path / f"moving.{suffix}"
    first.save(path, format, save_all=True, append_images=[second], duration=200)
    with pytest.raises(MediaError, match="holds 2 pictures"):
        load_image(path)
    done = run_cli(path, "-o", tmp_path / "out")
    assert done.returncode == 1 and "holds 2 pictures" in done.stderr
    assert outputs(tmp_path / "out") == []


def test_8_a_batch_lists_an_animation_as_not_processed(detector):
    first, second = frames_with_a_face_in_the_second()
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second])
    done = anonymize_batch([("moving.gif", buffer.getvalue())], detector, Settings())
    assert not done.predictions and [f.name for f in done.failures] == ["moving.gif"]


# 9. Every input that is not processed is listed; HEIC, AVIF and JFIF are read.


def face_photo(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.open(SAMPLES / "astronaut.jpg").save(buffer, format)
    return buffer.getvalue()


def face_is_hidden(path) -> bool:
    original = np.asarray(Image.open(SAMPLES / "astronaut.jpg").convert("RGB")).astype(int)
    out = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return np.abs(out[100:180, 190:280] - original[100:180, 190:280]).mean() > 15


def test_9_heic_avif_and_jfif_photos_in_a_folder_are_anonymized(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, format in [("phone.heic", "HEIF"), ("web.avif", "AVIF"), ("old.jfif", "JPEG")]:
        (inputs / name).write_bytes(face_photo(format))
    done = run_cli(inputs, "-o", tmp_path / "out", "--confidence", "30")
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path / "out") == ["old.jpg", "phone.jpg", "web.jpg"]
    assert all(face_is_hidden(tmp_path / "out" / name) for name in outputs(tmp_path / "out"))


def test_9_a_file_in_a_folder_that_cannot_be_read_is_listed_and_fails_the_run(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", inputs / "a.jpg")
    (inputs / "scan.jxl").write_bytes(b"\xff\x0a" + bytes(64))
    (inputs / ".DS_Store").write_bytes(bytes(16))
    done = run_cli(inputs, "-o", tmp_path / "out")
    assert done.returncode == 1
    assert "scan.jxl" in done.stderr and ".DS_Store" not in done.stderr
    assert (tmp_path / "out" / "a.jpg").exists()


def test_9_nothing_in_a_zip_is_skipped_without_a_word(detector):
    buffer = io.BytesIO()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as nested:
        nested.writestr("deep.jpg", face_photo("JPEG"))
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("phone.heic", face_photo("HEIF"))
        archive.writestr("web.avif", face_photo("AVIF"))
        archive.writestr("more.zip", inner.getvalue())
        archive.writestr("readme.txt", "hello")
        archive.writestr("__MACOSX/._phone.heic", b"resource fork")
    done = anonymize_batch([("photos.zip", buffer.getvalue())], detector, Settings(confidence=30))
    assert sorted(done.predictions) == ["photos/phone.jpg", "photos/web.jpg"]
    reasons = {f.name: f.reason for f in done.failures}
    assert sorted(reasons) == ["photos/more.zip", "photos/readme.txt"]
    assert "zip inside a zip" in reasons["photos/more.zip"]
