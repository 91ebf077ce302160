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
from dataclasses import dataclass, field, replace
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


@dataclass
class _Listing:
    """One input as named: its root when it is a folder (an unpacked archive is one), and its files, each
    with its URI (None when local), its name in an archive, and why it cannot be read."""

    text: str
    root: Path | None
    files: dict[Path, str | None]
    labels: dict[Path, str] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)


def plan_inputs(
    inputs: tuple[str, ...],
    outdir: Path,
    options: RunOptions,
    staging: storage.Staging | None = None,
    scratch: Path | None = None,
) -> tuple[list[Planned], list[Copy]]:
    """The outputs of every input, and the files to copy as they are (a dataset's labels). A zip archive
    named as an input is unpacked under ``scratch`` and read as the folder it holds."""
    # A name that is nothing at all is a typo on the command line: said before anything is written. A link
    # to nothing is something, and is listed with its reason like any input that cannot be read.
    missing = [text for text in inputs if not storage.is_uri(text) and not os.path.lexists(text)]
    if missing:
        raise ValueError(f"{missing[0]}: no such file or folder; nothing was written")
    listed = [_listing(n, text, staging, scratch) for n, text in enumerate(inputs)]
    origins = {path: uri for listing in listed for path, uri in listing.files.items() if uri}
    labels = {path: label for listing in listed for path, label in listing.labels.items()}
    problems = {path: reason for listing in listed for path, reason in listing.problems.items()}
    dataset = next(
        (
            listing
            for listing in listed
            if listing.root and is_dataset(p.relative_to(listing.root).as_posix() for p in listing.files)
        ),
        None,
    )
    if dataset is not None:
        if len(inputs) > 1:
            raise ValueError(
                f"{dataset.text} is a dataset: give it alone, and it is mirrored into -o with its pictures anonymized"
            )
        if options.json:
            raise ValueError("--json would write beside a dataset's pictures; use --records for what was hidden")
        planned, copies = plan_dataset(
            dataset.root, outdir, list(dataset.files), records=options.records, masks=options.masks
        )
    else:
        sources = [path for listing in listed for path in listing.files]
        if not sources:
            raise ValueError("no input files found")
        planned = plan(
            sources, outdir, options.format, sidecars=options.json, records=options.records, masks=options.masks
        )
        copies = []
    planned = [
        replace(
            p, origin=origins.get(p.source), label=labels.get(p.source), problem=p.problem or problems.get(p.source)
        )
        for p in planned
    ]
    return planned, [(origins.get(s, s), t) for s, t in copies]


def _listing(n: int, text: str, staging: storage.Staging | None, scratch: Path | None) -> _Listing:
    """The ``n``-th input as named. A URI's files are named by where they are planned
    (:meth:`~anonymize.storage.Staging.input_path`); an archive's by where it is unpacked."""
    if is_archive(text) and scratch is not None:
        folder = scratch / str(n) / archive_folder(Path(text).name)
        labels, problems = unpack(Path(text), folder)
        return _Listing(text, folder, dict.fromkeys(labels), labels, problems)
    if staging is None or not storage.is_uri(text):
        return _Listing(text, Path(text) if Path(text).is_dir() else None, dict.fromkeys(find_inputs([text])))
    folder, names = storage.list_files(text)
    if not folder:
        return _Listing(text, None, {staging.input_path(n, text.rstrip("/").rsplit("/", 1)[-1]): text})
    files = {staging.input_path(n, name): storage.join(text, name) for name in names}
    return _Listing(text, staging.input_path(n, ""), files)


def is_archive(text: str) -> bool:
    """A local zip file named as an input (``photos.zip``): read as the folder it holds."""
    return not storage.is_uri(text) and _is_zip(text) and Path(text).is_file()


def unpack(archive: Path, folder: Path) -> tuple[dict[Path, str], dict[Path, str]]:
    """Every member of the zip at ``archive`` written under ``folder`` at its path in the archive, read as
    uploads are (:func:`expand_archives`: limits counted as the bytes inflate); each file with its name
    (``photos.zip/sub/x.jpg``), and the reason of each that could not be unpacked. Such a member (or the
    archive itself, when it cannot be read) is an empty file, so that it is listed with its reason."""
    labels: dict[Path, str] = {}
    problems: dict[Path, str] = {}
    folder.mkdir(parents=True)
    try:
        members = _members(archive.name, archive)
    except (zipfile.BadZipFile, OSError, RuntimeError, MediaError) as error:
        reason = str(error) if isinstance(error, MediaError) else f"not a readable zip archive ({error})."
        problems[folder / archive.name] = reason.removeprefix(f"{archive.name}: ")
        labels[folder / archive.name] = str(archive)
        (folder / archive.name).touch()
        return labels, problems
    prefix = archive_folder(archive.name) + "/"
    for name, read in members:
        member = name.removeprefix(prefix)
        # Never outside the folder, whatever the archive says: no "..", no root.
        path = folder.joinpath(*(part for part in PurePosixPath(member).parts if part not in ("..", "/", "")))
        if (
            path in labels
        ):  # "a/../b.jpg" and "b.jpg": the second is listed with its reason, never written over the first
            path = folder / ".same-name" / str(len(labels)) / path.name
            problems[path] = "another member of the archive has this name; unpack it and rename one."
        labels[path] = f"{archive}/{member}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path in problems:
            path.touch()
            continue
        try:
            if isinstance(read, AnonymizeError):
                raise read
            path.write_bytes(read_member(name, read))
        except MediaError as error:
            problems[path] = str(error).removeprefix(f"{name}: ")
            path.touch()
    return labels, problems


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


def _members(name: str, data: bytes | Path) -> list[tuple[str, Reader | AnonymizeError]]:
    """Each member of the zip ``name`` (its bytes, or the file at a path) with its reader, as :func:`expand_archives` says."""
    archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)  # kept open by the readers
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
