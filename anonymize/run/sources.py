"""Where a run's inputs come from: files, folders (searched recursively) and URIs, each planned to its
outputs (:func:`plan_inputs`); or files in memory, zip archives among them, each read when its turn
comes (:func:`expand_archives`: the Batch page's uploads).

A dataset folder (pictures beside YOLO or COCO labels) is mirrored: its pictures anonymized, its
other files copied as they are. Zip archives are read with limits on the number of members and on
the unpacked size, counted as the bytes inflate (a zip can lie about its sizes), and their members
are unpacked one at a time; every member is either read or listed with its reason (a zip inside a
zip, a damaged member), never dropped without a word.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from anonymize import storage
from anonymize.errors import AnonymizeError, MediaError
from anonymize.inputs import find_inputs
from anonymize.media import IGNORED_FILE_NAMES
from anonymize.outputs import Planned, is_dataset, plan, plan_dataset
from anonymize.run.options import RunOptions

#: A file to copy as it is: its source (a str is a URI) and its target.
Copy = tuple[Path | str, Path]

MAX_ARCHIVE_MEMBERS = 5_000
#: Unpacked bytes, counted as they inflate: for one archive, and for one file in it.
MAX_ARCHIVE_BYTES = 2 * 1024**3
MAX_MEMBER_BYTES = 256 * 1024**2
_CHUNK = 1024**2


def plan_inputs(
    inputs: tuple[str, ...], outdir: Path, options: RunOptions, staging: storage.Staging | None = None
) -> tuple[list[Planned], list[Copy]]:
    """The outputs of every input, and the files to copy as they are (a dataset's labels)."""
    # A name that is nothing at all is a typo on the command line: said before anything is written. A link
    # to nothing is something, and is listed with its reason like any input that cannot be read.
    missing = [text for text in inputs if not storage.is_uri(text) and not os.path.lexists(text)]
    if missing:
        raise ValueError(f"{missing[0]}: no such file or folder; nothing was written")
    listed = [_listing(n, text, staging) for n, text in enumerate(inputs)]
    origins = {path: uri for _, _, files in listed for path, uri in files.items() if uri}
    dataset = next(
        (
            (text, root, files)
            for text, root, files in listed
            if root and is_dataset(p.relative_to(root).as_posix() for p in files)
        ),
        None,
    )
    if dataset is not None:
        text, root, files = dataset
        if len(inputs) > 1:
            raise ValueError(
                f"{text} is a dataset: give it alone, and it is mirrored into -o with its pictures anonymized"
            )
        if options.json:
            raise ValueError("--json would write beside a dataset's pictures; use --records for what was hidden")
        planned, copies = plan_dataset(root, outdir, list(files), records=options.records, masks=options.masks)
    else:
        sources = [path for _, _, files in listed for path in files]
        if not sources:
            raise ValueError("no input files found")
        planned = plan(
            sources, outdir, options.format, sidecars=options.json, records=options.records, masks=options.masks
        )
        copies = []
    return [replace(p, origin=origins.get(p.source)) for p in planned], [(origins.get(s, s), t) for s, t in copies]


def _listing(n: int, text: str, staging: storage.Staging | None) -> tuple[str, Path | None, dict[Path, str | None]]:
    """The ``n``-th input as named, its root when it is a folder, and its files, each with its URI (None when local).
    A URI's files are named by where they are planned (:meth:`~anonymize.storage.Staging.input_path`)."""
    if staging is None or not storage.is_uri(text):
        return text, Path(text) if Path(text).is_dir() else None, dict.fromkeys(find_inputs([text]))
    folder, names = storage.list_files(text)
    if not folder:
        return text, None, {staging.input_path(n, text.rstrip("/").rsplit("/", 1)[-1]): text}
    return text, staging.input_path(n, ""), {staging.input_path(n, name): storage.join(text, name) for name in names}


#: A file's bytes, read when called (zip members are unpacked only when their turn comes).
Reader = Callable[[], bytes]


def expand_archives(files: Iterable[tuple[str, bytes]]) -> list[tuple[str, Reader | AnonymizeError]]:
    """``(name, reader)`` for each file, zip members in place of their zip.

    A damaged or oversized zip gives one ``(name, MediaError)`` instead, and so
    does a zip inside a zip (unpack it first): nothing in an archive is skipped unsaid.
    """
    items: list[tuple[str, Reader | AnonymizeError]] = []
    for name, data in files:
        if not _is_zip(name):
            items.append((name, _already_read(data)))
            continue
        try:
            items.extend(_members(name, data))
        except (zipfile.BadZipFile, OSError, RuntimeError) as error:
            items.append((name, MediaError(f"{name}: not a readable zip archive ({error}).")))
        except MediaError as error:
            items.append((name, error))
    return items


def _is_zip(name: str) -> bool:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower() == ".zip"


def _already_read(data: bytes) -> Reader:
    return lambda: data


def _members(name: str, data: bytes) -> list[tuple[str, Reader | AnonymizeError]]:
    archive = zipfile.ZipFile(io.BytesIO(data))  # kept open by the readers
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir()
        and not m.filename.startswith("__MACOSX/")
        and PurePosixPath(m.filename).name not in IGNORED_FILE_NAMES
    ]
    if len(members) > MAX_ARCHIVE_MEMBERS or sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
        raise MediaError(f"{name}: too many or too large files inside; split the archive.")
    budget, folder = _Budget(name), archive_folder(name)
    return [
        (
            f"{folder}/{m.filename}",
            MediaError(f"{folder}/{m.filename}: a zip inside a zip; unpack it and add its files.")
            if _is_zip(m.filename)
            else partial(budget.inflate, archive, m),
        )
        for m in members
    ]


def archive_folder(name: str) -> str:
    """The folder an archive's members are named under: its name without ``.zip``, as unpacking it would make.

    >>> archive_folder("photos.ZIP")
    'photos'
    """
    return name[: -len(".zip")]


class _Budget:
    """Unpacks members of one archive, counting bytes as they inflate: sizes a zip declares can lie."""

    def __init__(self, archive_name: str) -> None:
        self.name, self.left = archive_name, MAX_ARCHIVE_BYTES

    def inflate(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
        chunks, size = [], 0
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                self.left -= len(chunk)
                if size > MAX_MEMBER_BYTES:
                    raise MediaError(
                        f"{self.name}/{member.filename}: unpacks to more than {MAX_MEMBER_BYTES // 1024**2} MiB; refused to protect memory."
                    )
                if self.left < 0:
                    raise MediaError(
                        f"{self.name}: unpacks to more than {MAX_ARCHIVE_BYTES // 1024**2} MiB; split the archive."
                    )
                chunks.append(chunk)
        return b"".join(chunks)


def read_input(files: Iterable[tuple[str, bytes]], name: str) -> bytes:
    """The bytes of the input called ``name`` among ``files`` (a member of ``archive.zip`` as ``archive/member``)."""
    for item, read in expand_archives(files):
        if item == name:
            if isinstance(read, AnonymizeError):
                raise read
            return read_member(name, read)
    raise MediaError(f"{name}: not among the files.")


def read_member(name: str, read: Reader) -> bytes:
    """The bytes ``read`` gives, or MediaError naming ``name`` when a member cannot be unpacked."""
    try:
        return read()
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:  # a damaged member, a CRC error, encryption
        problem = MediaError(f"{name}: cannot be unpacked ({error}).")
    raise problem
