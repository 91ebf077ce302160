"""URIs, with --engine ray and with the local engine: inputs read from and outputs written to S3 (a moto
server on 127.0.0.1, spoken to by pyarrow as a real bucket would be) and file:// URIs, with the local
CLI's bytes, names and manifest."""

import json
import logging
import os
import sys

import pytest
from PIL import Image

from anonymize.cli import main
from conftest import SAMPLES

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
moto_server = pytest.importorskip("moto.server", reason="the test requirements are not installed")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

SECRET = "s3cr3t-never-shown"
PHOTOS = ("city.png", "dashcam_plate.png", "astronaut.png")


@pytest.fixture(scope="module")
def s3():
    """A bucket named "bucket" on a local S3 server, and a boto3 client for it; the environment points pyarrow there
    (set before Ray starts, so that the actors have it too)."""
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's line per request
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as environment:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        }.items():
            environment.setenv(name, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket="bucket")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield client
        ray.shutdown()
    server.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three photos and a file that is not one."""
    inputs = tmp_path_factory.mktemp("in")
    for name in PHOTOS:
        Image.open(SAMPLES / name.replace(".png", ".jpg")).save(inputs / name)
    (inputs / "notes.png").write_text("not a picture")
    return inputs


@pytest.fixture(scope="module")
def in_bucket(s3, folder):
    """The folder's files under s3://bucket/in/ (the bad one in a sub-folder: the files keep the local folder's order)."""
    for path in sorted(folder.iterdir()):
        s3.put_object(
            Bucket="bucket", Key=f"in/{'sub/' if path.name == 'notes.png' else ''}{path.name}", Body=path.read_bytes()
        )
    return "s3://bucket/in"


def objects(s3, prefix: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket="bucket", Prefix=prefix).get("Contents", [])
    return {
        item["Key"].removeprefix(prefix): s3.get_object(Bucket="bucket", Key=item["Key"])["Body"].read()
        for item in listed
        if not item["Key"].endswith("/")
    }


def test_a_bucket_is_anonymized_into_a_bucket_with_the_local_clis_bytes(s3, folder, in_bucket, tmp_path, capsys):
    assert main([str(folder), "-o", str(tmp_path / "local"), "-q", "--json", "--records"]) == 1
    capsys.readouterr()
    assert main([in_bucket, "-o", "s3://bucket/out", "--engine", "ray", "--workers", "2", "--json", "--records"]) == 1
    said = capsys.readouterr()
    assert "error: s3://bucket/in/sub/notes.png: not an image" in said.err
    assert "record: s3://bucket/out/manifest.json" in said.out
    written = objects(s3, "out/")
    for name in ("city.png", "dashcam_plate.png", "astronaut.png", "records/yolo/city.txt", "records/coco.json"):
        assert written[name] == (tmp_path / "local" / name).read_bytes(), name
    assert not [name for name in written if name.endswith(".partial")]
    manifest = json.loads(written["manifest.json"])
    assert [(e["input"], e["status"]) for e in manifest["entries"]] == [
        ("s3://bucket/in/astronaut.png", "anonymized"),
        ("s3://bucket/in/city.png", "anonymized"),
        ("s3://bucket/in/dashcam_plate.png", "anonymized"),
        ("s3://bucket/in/sub/notes.png", "failed"),
    ]
    assert manifest["complete"]


def test_a_run_into_a_bucket_resumes(s3, in_bucket, capsys):
    assert main([in_bucket, "-o", "s3://bucket/again", "--engine", "ray", "-q"]) == 1
    first = objects(s3, "again/")
    assert main([in_bucket, "-o", "s3://bucket/again", "--engine", "ray", "--resume"]) == 1
    assert "resumed: 3 file(s) already done" in capsys.readouterr().out
    assert {name: data for name, data in objects(s3, "again/").items() if name != "manifest.json"} == {
        name: data for name, data in first.items() if name != "manifest.json"
    }


def test_a_file_uri_reads_into_a_local_folder(s3, folder, tmp_path):
    assert main([(folder / "city.png").as_uri(), "-o", str(tmp_path / "out"), "--engine", "ray", "-q"]) == 0
    assert (tmp_path / "out" / "city.png").read_bytes() != (folder / "city.png").read_bytes()
    assert (
        json.loads((tmp_path / "out" / "manifest.json").read_text())["entries"][0]["input"]
        == (folder / "city.png").as_uri()
    )


def test_a_bucket_that_does_not_exist_is_refused_before_any_work(s3, in_bucket, capsys):
    assert main([in_bucket, "-o", "s3://no-such-bucket/out", "--engine", "ray", "-q"]) == 2
    assert "cannot write into s3://no-such-bucket/out" in capsys.readouterr().err


@pytest.mark.parametrize("output", ["s3://bucket/in", "s3://bucket/in/out", "s3://bucket"])
def test_an_output_that_is_or_holds_the_input_is_refused(s3, in_bucket, output, capsys):
    before = objects(s3, "")
    assert main([in_bucket, "-o", output, "--engine", "ray", "-q"]) == 2
    assert "one holds the other" in capsys.readouterr().err
    assert objects(s3, "") == before


def test_the_local_engine_anonymizes_a_bucket_into_a_bucket_with_the_same_bytes(
    s3, folder, in_bucket, tmp_path, capsys
):
    assert main([str(folder), "-o", str(tmp_path / "local"), "-q", "--json", "--records", "--masks"]) == 1
    capsys.readouterr()
    assert main([in_bucket, "-o", "s3://bucket/by-local", "--json", "--records", "--masks"]) == 1
    said = capsys.readouterr()
    assert "error: s3://bucket/in/sub/notes.png: not an image" in said.err
    assert "record: s3://bucket/by-local/manifest.json" in said.out
    written = objects(s3, "by-local/")
    local = {p.relative_to(tmp_path / "local").as_posix() for p in (tmp_path / "local").rglob("*") if p.is_file()}
    assert set(written) == local
    for name in local - {"manifest.json"}:
        assert written[name] == (tmp_path / "local" / name).read_bytes(), name
    entries = json.loads(written["manifest.json"])["entries"]
    assert [(e["input"], e["status"]) for e in entries] == [
        ("s3://bucket/in/astronaut.png", "anonymized"),
        ("s3://bucket/in/city.png", "anonymized"),
        ("s3://bucket/in/dashcam_plate.png", "anonymized"),
        ("s3://bucket/in/sub/notes.png", "failed"),
    ]


def test_the_local_engine_resumes_a_run_into_a_bucket(s3, in_bucket, capsys):
    assert main([in_bucket, "-o", "s3://bucket/local-again", "-q"]) == 1
    first = objects(s3, "local-again/")
    assert main([in_bucket, "-o", "s3://bucket/local-again", "--resume"]) == 1
    assert "resumed: 3 file(s) already done" in capsys.readouterr().out
    assert {name: data for name, data in objects(s3, "local-again/").items() if name != "manifest.json"} == {
        name: data for name, data in first.items() if name != "manifest.json"
    }


def test_uris_without_pyarrow_say_which_extra_brings_it(in_bucket, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as on an install without the [ray] extra
    assert main([in_bucket, "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "pip install 'anonymize[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "uri, said",
    [
        ("s3://bucket/nothing-here", "no such file or folder"),
        ("s3://bucket/in?endpoint_override=127.0.0.1:9", "not in the URI"),
        ("nosuchscheme://bucket/in", "cannot open"),
    ],
)
def test_an_input_uri_that_cannot_be_read_is_a_usage_error(s3, in_bucket, tmp_path, uri, said, capsys):
    assert main([uri, "-o", str(tmp_path / "out"), "--engine", "ray", "-q"]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_credentials_never_appear_in_what_is_written(s3, in_bucket, capsys):
    assert main([in_bucket, "-o", "s3://bucket/creds", "--engine", "ray"]) == 1
    said = capsys.readouterr()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert SECRET not in objects(s3, "creds/")["manifest.json"].decode() + said.out + said.err


def test_a_dataset_in_a_bucket_is_mirrored_as_the_local_cli_mirrors_it(s3, tmp_path):
    from helpers.datasets import coco_dataset

    source = coco_dataset(tmp_path / "dataset")
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        s3.put_object(Bucket="bucket", Key=f"dataset/{path.relative_to(source).as_posix()}", Body=path.read_bytes())
    assert main([str(source), "-o", str(tmp_path / "local"), "-q"]) == 0
    assert main(["s3://bucket/dataset", "-o", "s3://bucket/dataset-anonymized", "--engine", "ray", "-q"]) == 0
    written = objects(s3, "dataset-anonymized/")
    local = {
        p.relative_to(tmp_path / "local").as_posix(): p.read_bytes()
        for p in (tmp_path / "local").rglob("*")
        if p.is_file()
    }
    assert sorted(written) == sorted(local)
    assert {name: data for name, data in written.items() if name != "manifest.json"} == {
        n: d for n, d in local.items() if n != "manifest.json"
    }


def test_pictures_written_to_a_bucket_are_uploaded_from_there(s3, in_bucket, fake_roboflow, monkeypatch):
    from helpers.fake_roboflow import KEY, PROJECT, WORKSPACE

    monkeypatch.setenv("ROBOFLOW_API_KEY", KEY)
    assert (
        main([in_bucket, "-o", "s3://bucket/sent", "--engine", "ray", "-q", "--upload-to", f"{WORKSPACE}/{PROJECT}"])
        == 1
    )
    assert sorted(u["name"] for u in fake_roboflow.uploads) == sorted(PHOTOS)
    entries = json.loads(objects(s3, "sent/")["manifest.json"])["entries"]
    assert [e.get("upload", {}).get("status") for e in entries] == ["uploaded", "uploaded", "uploaded", None]


@pytest.mark.parametrize("engine", ["ray", "local"])
def test_an_output_that_cannot_be_pushed_fails_its_input_and_leaves_no_partial_file(
    s3, folder, tmp_path, capsys, engine
):
    (tmp_path / "out" / "city.png").mkdir(parents=True)  # a folder where the output should go
    assert main([folder.as_uri(), "-o", (tmp_path / "out").as_uri(), "--engine", engine, "-q"]) == 1
    assert (
        f"error: {(folder / 'city.png').as_uri()}: cannot write {(tmp_path / 'out' / 'city.png').as_uri()}"
        in capsys.readouterr().err
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "astronaut.png",
        "city.png",
        "dashcam_plate.png",
        "manifest.json",
    ]
    assert (tmp_path / "out" / "city.png").is_dir()
    statuses = {
        e["input"].rsplit("/", 1)[-1]: e["status"]
        for e in json.loads((tmp_path / "out" / "manifest.json").read_text())["entries"]
    }
    assert statuses == {
        "astronaut.png": "anonymized",
        "city.png": "failed",
        "dashcam_plate.png": "anonymized",
        "notes.png": "failed",
    }
