"""Inputs and outputs named by URI (``s3://bucket/photos``, ``gs://bucket/out``, ``file:///data``) for
either engine: any filesystem pyarrow opens, with the credentials of the environment it runs in
(``AWS_*`` variables or files, Google's application default credentials…), as the vendors' own tools do.

A file is fetched to a local path when its turn comes and an output is pushed from one. A push writes
under a temporary name and moves it into place, so an output's name never holds a part of it.
``pyarrow`` comes with Ray (the ``[ray]`` extra): only a run with a URI needs it.

Example:
    >>> is_uri("s3://bucket/photos"), is_uri("photos/s3"), is_uri(r"C:\\photos")
    (True, False, False)
    >>> join("s3://bucket/out/", "records/coco.json")
    's3://bucket/out/records/coco.json'
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from anonymize.errors import MediaError, OutputError
from anonymize.media import IGNORED_FILE_NAMES
from anonymize.outputs import Planned
from anonymize.writing import is_temporary, temporary_name

# Two letters at least before "://": "C:\\" is a Windows drive, not a scheme.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
CHUNK = 1 << 20


def is_uri(text: str) -> bool:
    return bool(_SCHEME.match(text))


def location(text: str) -> tuple[str, PurePosixPath]:
    """Which filesystem a URI or local path is on, and the path in it: what tells whether two folders nest."""
    if not is_uri(text):
        return "local", PurePosixPath(Path(text).resolve().as_posix())
    filesystem, path = _open(text)
    if filesystem.type_name == "local":  # file://…/x/../photos, or a link, may be the output folder itself
        path = os.path.realpath(path)
    return filesystem.type_name, PurePosixPath(path)


def check_apart(inputs: list[str], output: str) -> None:
    """OutputError when the output folder is an input folder, or one holds the other: outputs must not mix with inputs."""
    out_fs, out_path = location(output)
    for text in inputs:
        in_fs, in_path = location(text)
        if in_fs == out_fs and (in_path == out_path or in_path in out_path.parents or out_path in in_path.parents):
            raise OutputError(
                f"{output} and the input {text} are one folder, or one holds the other; choose another -o."
            )


def join(uri: str, relative: str) -> str:
    return f"{uri.rstrip('/')}/{relative}"


def _open(uri: str):
    """pyarrow's filesystem for ``uri`` and the path in it; a URI it cannot open is a ValueError that says so."""
    from pyarrow import fs

    if "?" in uri:  # join() would put a file's name after the options
        raise ValueError(
            f"{uri}: give the filesystem's options in its environment (AWS_ENDPOINT_URL, AWS_REGION…), not in the URI"
        )
    try:
        return fs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as error:  # an unknown scheme, a malformed URI, a filesystem pyarrow was built without
        raise ValueError(f"cannot open {uri}: {error}") from None


def list_files(uri: str) -> tuple[bool, list[str]]:
    """Whether ``uri`` is a folder, and its files' paths relative to it (sorted, searched recursively;
    a file's own is ``[""]``). The operating system's own files are left out, as in a local folder.

    Raises ValueError when there is nothing at ``uri``, or it cannot be listed.
    """
    from pyarrow import fs

    filesystem, path = _open(uri)
    try:
        kind = filesystem.get_file_info(path).type
        if kind == fs.FileType.File:
            return False, [""]
        if kind != fs.FileType.Directory:
            raise ValueError(f"{uri}: no such file or folder")
        found = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    except OSError as error:
        raise ValueError(f"cannot list {uri}: {error}") from None
    root = PurePosixPath(path)
    return True, sorted(
        PurePosixPath(info.path).relative_to(root).as_posix()
        for info in found
        if info.type == fs.FileType.File
        and info.base_name not in IGNORED_FILE_NAMES
        and not is_temporary(info.base_name)
    )


def fetch(uri: str, local: Path) -> None:
    """Copy the file at ``uri`` to ``local``; MediaError, leaving nothing, when it cannot be read."""
    filesystem, path = _open(uri)
    local.parent.mkdir(parents=True, exist_ok=True)
    try:
        with filesystem.open_input_stream(path) as source, open(local, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
    except OSError as error:
        local.unlink(missing_ok=True)
        raise MediaError(f"cannot read {uri}: {error}") from None


def push(local: Path, uri: str) -> None:
    """Copy ``local`` to ``uri``, under a temporary name moved into place when complete; OutputError, leaving nothing, on failure."""
    filesystem, path = _open(uri)
    partial = str(PurePosixPath(path).with_name(temporary_name()))
    try:
        filesystem.create_dir(str(PurePosixPath(path).parent), recursive=True)
        with open(local, "rb") as source, filesystem.open_output_stream(partial) as target:
            shutil.copyfileobj(source, target, CHUNK)
        filesystem.move(partial, path)
    except OSError as error:
        try:
            filesystem.delete_file(partial)
        except OSError:
            pass  # it was never made
        raise OutputError(f"cannot write {uri}: {error}") from None


def sha256(uri: str) -> str | None:
    """The sha256 of the file at ``uri`` (streamed), or None when there is none or it cannot be read."""
    filesystem, path = _open(uri)
    digest = hashlib.sha256()
    try:
        with filesystem.open_input_stream(path) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def read(uri: str) -> bytes:
    """The bytes of the file at ``uri``; MediaError when it cannot be read."""
    filesystem, path = _open(uri)
    try:
        with filesystem.open_input_stream(path) as source:
            return source.read()
    except OSError as error:
        raise MediaError(f"cannot read {uri}: {error}") from None


def check_writable(uri: str) -> None:
    """Prove the folder at ``uri`` takes files, so a bad -o fails before any work."""
    filesystem, path = _open(uri)
    probe = str(PurePosixPath(path) / temporary_name())
    try:
        filesystem.create_dir(path, recursive=True)
        with filesystem.open_output_stream(probe) as target:
            target.write(b"")
        filesystem.delete_file(probe)
    except OSError as error:
        raise OutputError(f"cannot write into {uri}: {error}") from None


@dataclass(frozen=True)
class Staging:
    """The local folder a run with URIs works in. An input at a URI is planned as if it were at
    ``root/in/<n>/<its path in the n-th input>``; with an ``output`` URI, the run's files are planned under
    ``root/out`` as in a local OUTDIR, and each goes to the same relative name under ``output``.

    Each actor works in a folder of its own (:meth:`localize`): it fetches its input there, writes the
    outputs there, pushes them and removes both, so no node keeps a copy.
    """

    root: Path
    output: str | None = None

    @property
    def outdir(self) -> Path:
        return self.root / "out"

    def input_path(self, n: int, relative: str) -> Path:
        return self.root / "in" / str(n) / relative

    def uri_of(self, local: Path) -> str:
        """The output URI of a file planned under :attr:`outdir`."""
        assert self.output is not None
        return join(self.output, local.relative_to(self.outdir).as_posix())

    def outdir_in(self, work: Path) -> Path:
        """Where an actor working in ``work`` writes what is planned under :attr:`outdir`."""
        return work / self.outdir.relative_to(self.root)

    def localize(self, item: Planned, work: Path) -> Planned:
        """``item`` with its fetched input and its outputs in an actor's own folder ``work``."""
        here = replace(item, source=work / item.source.relative_to(self.root)) if item.origin else item
        if self.output is None:
            return here
        return replace(
            here,
            target=work / item.target.relative_to(self.root),
            sidecar=work / item.sidecar.relative_to(self.root) if item.sidecar else None,
        )

    def push_all(self, work: Path) -> None:
        """Push every complete file an actor wrote under :meth:`outdir_in` ``work`` to its output URI, removing it;
        OutputError on the first that fails."""
        written = self.outdir_in(work)
        for local in sorted(p for p in written.rglob("*") if p.is_file() and not is_temporary(p.name)):
            push(local, self.uri_of(self.outdir / local.relative_to(written)))
            local.unlink()
