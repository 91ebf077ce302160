"""Batch: uploads and zips in, one zip of anonymized images and one JSON out."""

import hashlib
import io
import json
import zipfile

from anonymize.batch import anonymize_batch
from anonymize.run.sources import MAX_ARCHIVE_MEMBERS
from anonymize.settings import Settings
from conftest import SAMPLES, pictures_in


def zipped(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_and_loose_files_become_one_zip_and_bad_files_are_listed(detector):
    city = (SAMPLES / "city.jpg").read_bytes()
    upload = [
        ("photos.zip", zipped([("street/city.jpg", city), ("notes.jpg", b"text")])),
        ("car.jpg", (SAMPLES / "dashcam_plate.jpg").read_bytes()),
    ]
    progress = []
    done = anonymize_batch(upload, detector, Settings(), on_progress=lambda n, total, name: progress.append((n, total)))
    assert pictures_in(done.zip_bytes) == ["car.jpg", "photos/street/city.jpg"]
    assert [f.name for f in done.failures] == ["photos/notes.jpg"]
    assert len(done.predictions["photos/street/city.jpg"]["predictions"]) >= 20
    assert progress[-1] == (3, 3)


def test_a_damaged_zip_is_one_failure_not_a_crash(detector):
    done = anonymize_batch([("broken.zip", b"PK\x03\x04 nope")], detector, Settings())
    assert done.failures[0].name == "broken.zip" and "zip" in done.failures[0].reason


def test_an_archive_with_too_many_files_is_refused(detector):
    tiny = [(f"{i}.png", b"") for i in range(MAX_ARCHIVE_MEMBERS + 1)]
    done = anonymize_batch([("bomb.zip", zipped(tiny))], detector, Settings())
    assert "too many" in done.failures[0].reason


def test_names_never_escape_the_zip_root(detector):
    upload = [("evil.zip", zipped([("../../etc/city.jpg", (SAMPLES / "city.jpg").read_bytes())]))]
    assert pictures_in(anonymize_batch(upload, detector, Settings()).zip_bytes) == ["evil/etc/city.jpg"]


def test_a_damaged_member_is_one_failure_and_its_neighbours_still_work(detector):
    city = (SAMPLES / "city.jpg").read_bytes()
    archive = bytearray(zipped([("a.jpg", city), ("b.jpg", city)]))
    archive[archive.index(city[:64]) + 5000] ^= 0xFF  # corrupt a.jpg's stored bytes: its CRC no longer matches
    done = anonymize_batch([("photos.zip", bytes(archive))], detector, Settings())
    assert [f.name for f in done.failures] == ["photos/a.jpg"] and "unpacked" in done.failures[0].reason
    assert list(done.predictions) == ["photos/b.jpg"]


def test_the_zip_holds_a_manifest_whose_hashes_match_and_the_redaction_records(detector):
    city, car = (SAMPLES / "city.jpg").read_bytes(), (SAMPLES / "dashcam_plate.jpg").read_bytes()
    done = anonymize_batch(
        [("city.jpg", city), ("car.jpg", car), ("notes.jpg", b"text")],
        detector,
        Settings(confidence=50),
        model={"kind": "local", "preset": "balanced"},
        masks=True,
    )
    archive = zipfile.ZipFile(io.BytesIO(done.zip_bytes))
    manifest = json.loads(archive.read("manifest.json"))
    by_input = {e["input"]: e for e in manifest["entries"]}
    assert by_input["city.jpg"]["input_sha256"] == hashlib.sha256(city).hexdigest()
    assert by_input["city.jpg"]["output_sha256"] == hashlib.sha256(archive.read("city.jpg")).hexdigest()
    assert by_input["car.jpg"]["hidden"] == {"license-plate": 1} and by_input["notes.jpg"]["status"] == "failed"
    assert manifest["complete"] and manifest["backend"] == {"kind": "local", "preset": "balanced"}
    coco = json.loads(archive.read("records/coco.json"))
    assert sorted(i["file_name"] for i in coco["images"]) == ["car.jpg", "city.jpg"]
    assert {"records/yolo/car.txt", "records/masks/car.png", "records/yolo/classes.txt"} <= set(archive.namelist())
