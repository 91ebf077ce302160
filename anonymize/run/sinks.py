"""Where a run's files go: a folder, or a zip archive.

The per-input runner writes a picture, its predictions and its records to a sink by their names under
the output's root (POSIX paths, as :mod:`anonymize.outputs` plans them), whichever sink it is: the
command line's folder and the Batch page's zip get the same bytes.

Example:
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     ZipSink(archive).write("records/coco.json", b"{}")
    >>> zipfile.ZipFile(buffer).namelist()
    ['records/coco.json']
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anonymize.writing import write_atomically


class Sink(Protocol):
    def write(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name``, a path under the output's root; complete or not at all."""
        ...


def write_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole (a temporary name renamed when complete), making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)


@dataclass(frozen=True)
class FolderSink:
    """Files under ``root`` (a run whose -o is a URI pushes them on afterwards: :mod:`anonymize.storage`)."""

    root: Path

    def write(self, name: str, data: bytes) -> None:
        write_file(self.root / name, data)


@dataclass(frozen=True)
class ZipSink:
    """Members of an open zip archive, stored as they are: pictures are compressed already."""

    archive: zipfile.ZipFile

    def write(self, name: str, data: bytes) -> None:
        self.archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
