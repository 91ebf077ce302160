"""Where the CLI writes each output, planned for every input before anything is written.

Each input gets a stem of its own in the output folder (``-2``, ``-3``… where
stems repeat), and its output and its predictions sidecar both take that stem,
so no two inputs ever write the same file, whatever their extensions. A plan
that would write over one of the inputs is refused as a whole.

Example:
    >>> from pathlib import Path
    >>> planned = plan([Path("in/x.jpeg"), Path("in/x.jpg"), Path("in/z.png")], Path("out"), "same", sidecars=True)
    >>> [(p.target.name, p.sidecar.name) for p in planned]
    [('x.jpg', 'x.json'), ('x-2.jpg', 'x-2.json'), ('z.png', 'z.json')]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence

from anonymize.errors import OutputError
from anonymize.manifest import NAME as MANIFEST
from anonymize.media import IMAGE_SUFFIXES, OUTPUT_EXTENSIONS, same_format
from anonymize.records import FOLDER as RECORDS
from anonymize.records import SUMMARY_FILES, files_of
from anonymize.video_io import is_video
from anonymize.writing import temporary_beside

#: Files that mark a folder as an exported dataset (Roboflow's exports, YOLO, COCO).
DATASET_MARKERS = ("data.yaml", "data.yml", "_annotations.coco.json", "_annotations.csv", "_classes.csv")


@dataclass(frozen=True)
class Planned:
    """One input, the file it becomes, its predictions file, and the image format (None for a video);
    ``problem`` says why it cannot be written as planned (it then fails, with that sentence);
    ``origin`` is the input's URI when it is not a local file (``source`` is then where it is fetched to);
    ``label`` names a member of a zip archive given as an input (``photos.zip/sub/x.jpg``: ``source`` is where it was unpacked)."""

    source: Path
    target: Path
    sidecar: Path | None
    format: str | None
    problem: str | None = None
    origin: str | None = None
    label: str | None = None

    @property
    def input(self) -> str:
        """The input as the user named it: its URI, or its path."""
        return self.origin or self.label or str(self.source)


#: The longest file name ext4, XFS, APFS and NTFS take, in bytes (UTF-8): a planned name is shortened to fit.
NAME_MAX = 255


class Names:
    """Every name a run writes under its output folder, each given out once: pictures, videos, their
    predictions files, their records and masks, and the run's own files (``reserved``: its manifest,
    its summary records). Names are compared in lower case: on a case-insensitive disk A.jpg and a.jpg are one file.

    >>> names = Names(["manifest.json"])
    >>> names.claim("manifest", lambda stem: [stem + ".jpg", stem + ".json"]), names.claim("x", lambda stem: [stem + ".png"])
    ('manifest-2', 'x')
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken = {name.lower() for name in reserved}

    def take(self, names: Sequence[str]) -> str | None:
        """Take ``names`` as they are; None when all were free, else the first that was taken before."""
        clash = next((name for name in names if name.lower() in self._taken), None)
        if clash is None:
            self._taken.update(name.lower() for name in names)
        return clash

    def claim(self, stem: str, names: Callable[[str], Sequence[str]]) -> str:
        """The first of ``stem``, ``stem-2``, ``stem-3``… whose ``names(stem)`` are all free and each short
        enough (:data:`NAME_MAX`, the stem cut where needed); those names are then taken."""
        n = 1
        while True:
            candidate = _fitted(stem, "" if n == 1 else f"-{n}", names)
            if self.take(names(candidate)) is None:
                return candidate
            n += 1


def _fitted(stem: str, tail: str, names: Callable[[str], Sequence[str]]) -> str:
    """``stem + tail``, the stem cut (never the tail, nor a folder) until every one of its names fits in :data:`NAME_MAX` bytes."""
    folder, _, base = stem.rpartition("/")
    while (
        base
        and max(len(PurePosixPath(name).name.encode()) for name in names(f"{folder}/{base}{tail}".lstrip("/")))
        > NAME_MAX
    ):
        base = base[:-1]
    return f"{folder}/{base}{tail}".lstrip("/") if folder else base + tail


def reserved_names(*, records: bool) -> list[str]:
    """The names a run writes for itself under its output folder: its manifest, and with records their summaries."""
    return [MANIFEST] + ([f"{RECORDS}/{name}" for name in SUMMARY_FILES] if records else [])


def names_of(suffix: str, sidecar_suffix: str | None, *, records: bool, masks: bool) -> Callable[[str], list[str]]:
    """Every name an output with ``stem`` writes: itself, its predictions file, and a picture's records."""

    def names(stem: str) -> list[str]:
        written = [stem + suffix] + ([stem + sidecar_suffix] if sidecar_suffix else [])
        return written + ([f"{RECORDS}/{name}" for name in files_of(stem + suffix, masks=masks)] if records else [])

    return names


def plan(
    sources: Sequence[Path], outdir: Path, format: str, *, sidecars: bool, records: bool = False, masks: bool = False
) -> list[Planned]:
    """Name every output; ``format`` is an output format or ``"same"`` (kept from the input's extension).

    Raises OutputError, naming both files, when an output would replace an input.
    """
    inputs = {_identity(p): p for p in sources}
    names = Names(reserved_names(records=records))
    planned = []
    for source in sources:
        video = is_video(source)
        image_format = None if video else (same_format(source.suffix) if format == "same" else format)
        suffix = ".mp4" if video else "." + OUTPUT_EXTENSIONS[image_format]
        sidecar_suffix = (".jsonl" if video else ".json") if sidecars else None
        stem = names.claim(source.stem, names_of(suffix, sidecar_suffix, records=records and not video, masks=masks))
        written = [stem + s for s in (suffix, sidecar_suffix) if s]
        for name in written:
            replaced = inputs.get(_identity(outdir / name))
            if replaced is not None:
                raise OutputError(f"{outdir / name} would replace the input {replaced}; choose another -o folder.")
        planned.append(Planned(source, outdir / written[0], outdir / written[1] if sidecars else None, image_format))
    return planned


def is_dataset(files: Iterable[str]) -> bool:
    """True when a folder holding ``files`` (paths relative to it) is an exported dataset: a marker
    (``data.yaml``, ``_annotations.coco.json``…) at its root or one folder down (a split), or COCO's ``annotations/*.json``.

    >>> is_dataset(["train/_annotations.coco.json", "train/a.jpg"]), is_dataset(["a/b/data.yaml", "annotations/x.txt"])
    (True, False)
    """
    for name in files:
        parts = PurePosixPath(name).parts
        if (len(parts) <= 2 and parts[-1] in DATASET_MARKERS) or (
            len(parts) == 2 and parts[0] == "annotations" and name.endswith(".json")
        ):
            return True
    return False


def plan_dataset(
    root: Path, outdir: Path, files: Sequence[Path], *, records: bool = False, masks: bool = False
) -> tuple[list[Planned], list[tuple[Path, Path]]]:
    """A dataset folder mirrored into ``outdir``: each picture (and video) keeps its path and name, so
    label files still name it; every other file (labels, ``data.yaml``, COCO JSON) is to be copied as it is.
    A picture whose name (or records) another file already has fails, with that sentence, rather than be renamed.

    Returns the planned pictures and videos, and the ``(source, target)`` pairs to copy. Raises ValueError
    when the dataset holds a file at a name the run writes for itself (its manifest, its records).
    """
    names = Names(reserved_names(records=records))
    planned, copies = [], []
    for source in files:  # the copies first: a copy cannot be renamed, and the run's own files must not replace one
        relative = source.relative_to(root).as_posix()
        if not (is_video(source) or source.suffix.lower() in IMAGE_SUFFIXES):
            if names.take([relative]) is not None:
                raise ValueError(
                    f"the dataset holds {relative}, where the run writes its own record; move or rename it first"
                )
            copies.append((source, outdir / relative))
    for source in files:
        relative = source.relative_to(root)
        suffix = source.suffix.lower()
        if is_video(source):
            target = relative.with_suffix(".mp4").as_posix()
            clash = names.take([target])
            planned.append(Planned(source, outdir / target, None, None, _clash_problem(clash)))
        elif suffix in IMAGE_SUFFIXES:
            # The name is kept: a picture in a format we cannot write under it fails, rather than be renamed away from its labels.
            target = relative.as_posix()
            clash = names.take(names_of("", None, records=records, masks=masks)(target))
            problem = _clash_problem(clash) or (
                None
                if suffix in KEEPS_NAME
                else f"a dataset picture must be JPEG, PNG or WebP to keep its name (its labels name it); convert {source.name} first."
            )
            planned.append(Planned(source, outdir / target, None, same_format(suffix), problem))
    return planned, copies


def _clash_problem(clash: str | None) -> str | None:
    return (
        None
        if clash is None
        else f"{clash} would be written for it and for another file of the dataset; rename one of them."
    )


#: Picture suffixes whose format we write under the same name.
KEEPS_NAME = {".jpg", ".jpeg", ".jfif", ".png", ".webp"}


def _identity(path: Path) -> object:
    """What makes two paths one file: the same inode where the file exists (links too), else the resolved path."""
    try:
        stat = os.stat(path)
        return stat.st_dev, stat.st_ino
    except OSError:
        return os.path.realpath(path)


def check_writable(outdir: Path) -> None:
    """Create ``outdir`` if needed and prove it takes files, so a bad -o fails before any work."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir} is a file, not a folder: -o names the folder to write into.")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        with temporary_beside(outdir / "probe"):
            pass
    except OSError as error:
        problem = OutputError(f"cannot write into {outdir}: {error.strerror or error}.")
    else:
        return
    raise problem
