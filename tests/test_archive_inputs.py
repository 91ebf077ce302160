"""A zip archive named on the command line is read as the folder it holds: each member anonymized or listed
with its reason, named by its path in the archive, within the limits the Batch page's uploads have."""

import json
import shutil
import zipfile

import pytest

from anonymize.cli import main
from conftest import SAMPLES
from helpers.datasets import coco_dataset


def zipped(path, members: dict[str, bytes]):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def entries(out) -> list[tuple[str, str, str | None]]:
    manifest = json.loads((out / "manifest.json").read_text())
    return [(e["input"], e["status"], e.get("reason")) for e in manifest["entries"]]


def test_each_member_is_anonymized_or_listed_with_its_reason_and_named_by_its_path_in_the_archive(tmp_path, capsys):
    archive = zipped(
        tmp_path / "photos.zip",
        {
            "city.jpg": (SAMPLES / "city.jpg").read_bytes(),
            "sub/astronaut.jpg": (SAMPLES / "astronaut.jpg").read_bytes(),
            "notes.txt": b"not a picture",
            "inner.zip": b"PK",
        },
    )
    assert main([str(archive), "-o", str(tmp_path / "out"), "-q"]) == 1
    assert entries(tmp_path / "out") == [
        (f"{archive}/city.jpg", "anonymized", None),
        (f"{archive}/sub/astronaut.jpg", "anonymized", None),
        (f"{archive}/notes.txt", "failed", "not an image in a supported format (JPEG, PNG, WebP, …)."),
        (f"{archive}/inner.zip", "failed", "a zip inside a zip; unpack it and add its files."),
    ]
    assert f"error: {archive}/inner.zip: a zip inside a zip" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["astronaut.jpg", "city.jpg", "manifest.json"]
    assert (tmp_path / "out" / "city.jpg").read_bytes() != (SAMPLES / "city.jpg").read_bytes()


def test_a_member_named_to_climb_out_of_the_archive_stays_inside_and_two_of_one_name_are_not_merged(tmp_path):
    picture = (SAMPLES / "astronaut.jpg").read_bytes()
    archive = zipped(tmp_path / "in" / "evil.zip", {"../../escaped.jpg": picture, "escaped.jpg": picture})
    assert main([str(archive), "-o", str(tmp_path / "out"), "-q"]) == 1
    assert not (tmp_path / "escaped.jpg").exists() and not (tmp_path / "in" / "escaped.jpg").exists()
    assert [status for _, status, _ in entries(tmp_path / "out")] == ["anonymized", "failed"]
    assert "another member of the archive has this name" in entries(tmp_path / "out")[1][2]


def test_a_member_that_inflates_past_the_limit_is_refused_and_the_others_are_done(tmp_path, monkeypatch):
    import anonymize.run.sources

    monkeypatch.setattr(anonymize.run.sources, "MAX_MEMBER_BYTES", 1024**2)
    archive = zipped(
        tmp_path / "bomb.zip", {"big.png": bytes(4 * 1024**2), "city.jpg": (SAMPLES / "city.jpg").read_bytes()}
    )
    assert main([str(archive), "-o", str(tmp_path / "out"), "-q"]) == 1
    (big, big_status, reason), (_, city_status, _) = entries(tmp_path / "out")
    assert big.endswith("bomb.zip/big.png") and big_status == "failed" and "unpacks to more than 1 MiB" in reason
    assert city_status == "anonymized"


def test_a_damaged_archive_is_one_failed_input_and_the_other_inputs_are_done(tmp_path):
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    assert main([str(damaged), str(SAMPLES / "astronaut.jpg"), "-o", str(tmp_path / "out"), "-q"]) == 1
    (archive, status, reason), (_, done, _) = entries(tmp_path / "out")
    assert (archive, status, done) == (str(damaged), "failed", "anonymized")
    assert "not a readable zip archive" in reason


def test_a_dataset_export_as_a_zip_is_mirrored_as_its_folder_would_be(tmp_path):
    folder = coco_dataset(tmp_path / "dataset")
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", folder)
    assert main([archive, "-o", str(tmp_path / "clean"), "-q"]) == 0
    made = sorted(p.relative_to(tmp_path / "clean").as_posix() for p in (tmp_path / "clean").rglob("*") if p.is_file())
    given = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert made == sorted(given + ["manifest.json"])
    label = "train/_annotations.coco.json"
    assert (tmp_path / "clean" / label).read_bytes() == (folder / label).read_bytes()


@pytest.mark.parametrize("flag", ["--resume"])
def test_a_run_from_an_archive_resumes(tmp_path, capsys, flag):
    archive = zipped(tmp_path / "photos.zip", {"a/city.jpg": (SAMPLES / "city.jpg").read_bytes()})
    assert main([str(archive), "-o", str(tmp_path / "out"), "-q"]) == 0
    first = (tmp_path / "out" / "city.jpg").read_bytes()
    assert main([str(archive), "-o", str(tmp_path / "out"), flag]) == 0
    assert "resumed: 1 file(s) already done" in capsys.readouterr().out
    assert (tmp_path / "out" / "city.jpg").read_bytes() == first
