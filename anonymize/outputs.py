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
from typing import Iterable, Sequence

from anonymize.errors import OutputError
from anonymize.media import IMAGE_SUFFIXES, OUTPUT_EXTENSIONS, same_format
from anonymize.video import is_video


#: Files that mark a folder as an exported dataset (Roboflow's exports, YOLO, COCO).
DATASET_MARKERS = ("data.yaml", "data.yml", "_annotations.coco.json", "_annotations.csv", "_classes.csv")


@dataclass(frozen=True)
class Planned:
    """One input, the file it becomes, its predictions file, and the image format (None for a video);
    ``problem`` says why it cannot be written as planned (it then fails, with that sentence);
    ``origin`` is the input's URI when it is not a local file (``source`` is then where it is fetched to)."""

    source: Path
    target: Path
    sidecar: Path | None
    format: str | None
    problem: str | None = None
    origin: str | None = None

    @property
    def input(self) -> str:
        """The input as the user named it: its URI, or its path."""
        return self.origin or str(self.source)


def plan(sources: Sequence[Path], outdir: Path, format: str, *, sidecars: bool) -> list[Planned]:
    """Name every output; ``format`` is an output format or ``"same"`` (kept from the input's extension).

    Raises OutputError, naming both files, when an output would replace an input.
    """
    inputs = {_identity(p): p for p in sources}
    taken: set[str] = set()
    planned = []
    for source in sources:
        video = is_video(source)
        image_format = None if video else (same_format(source.suffix) if format == "same" else format)
        suffix = ".mp4" if video else "." + OUTPUT_EXTENSIONS[image_format]
        sidecar_suffix = (".jsonl" if video else ".json") if sidecars else None
        stem, n = source.stem, 1
        # Lower case: on a case-insensitive disk A.jpg and a.jpg are one file.
        while {(stem + s).lower() for s in (suffix, sidecar_suffix) if s} & taken:
            n += 1
            stem = f"{source.stem}-{n}"
        names = [stem + s for s in (suffix, sidecar_suffix) if s]
        taken.update(name.lower() for name in names)
        for name in names:
            replaced = inputs.get(_identity(outdir / name))
            if replaced is not None:
                raise OutputError(f"{outdir / name} would replace the input {replaced}; choose another -o folder.")
        planned.append(Planned(source, outdir / names[0], outdir / names[1] if sidecars else None, image_format))
    return planned


def is_dataset(files: Iterable[str]) -> bool:
    """True when a folder holding ``files`` (paths relative to it) is an exported dataset: a marker
    (``data.yaml``, ``_annotations.coco.json``…) at its root or one folder down (a split), or COCO's ``annotations/*.json``.

    >>> is_dataset(["train/_annotations.coco.json", "train/a.jpg"]), is_dataset(["a/b/data.yaml", "annotations/x.txt"])
    (True, False)
    """
    for name in files:
        parts = PurePosixPath(name).parts
        if (len(parts) <= 2 and parts[-1] in DATASET_MARKERS) or (len(parts) == 2 and parts[0] == "annotations" and name.endswith(".json")):
            return True
    return False


def plan_dataset(root: Path, outdir: Path, files: Sequence[Path]) -> tuple[list[Planned], list[tuple[Path, Path]]]:
    """A dataset folder mirrored into ``outdir``: each picture (and video) keeps its path and name, so
    label files still name it; every other file (labels, ``data.yaml``, COCO JSON) is to be copied as it is.

    Returns the planned pictures and videos, and the ``(source, target)`` pairs to copy.
    """
    planned, copies = [], []
    for source in files:
        target = outdir / source.relative_to(root)
        suffix = source.suffix.lower()
        if is_video(source):
            planned.append(Planned(source, target.with_suffix(".mp4"), None, None))
        elif suffix in IMAGE_SUFFIXES:
            # The name is kept: a picture in a format we cannot write under it fails, rather than be renamed away from its labels.
            keeps = suffix in KEEPS_NAME
            planned.append(Planned(source, target, None, same_format(suffix), None if keeps else
                                   f"a dataset picture must be JPEG, PNG or WebP to keep its name (its labels name it); convert {source.name} first."))
        else:
            copies.append((source, target))
    return planned, copies


#: Picture suffixes whose format we write under the same name.
KEEPS_NAME = {".jpg", ".jpeg", ".jfif", ".png", ".webp"}


def _identity(path: Path) -> object:
    """What makes two paths one file: the same inode where the file exists (links too), else the resolved path."""
    try:
        stat = os.stat(path)
        return stat.st_dev, stat.st_ino
    except OSError:
        return os.path.realpath(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a temporary name and rename when complete; raise OutputError, leaving nothing, on failure."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
        return
    except OSError as error:
        problem = OutputError(f"cannot write {path}: {error.strerror or error}.")
    finally:
        partial.unlink(missing_ok=True)
    raise problem


def check_writable(outdir: Path) -> None:
    """Create ``outdir`` if needed and prove it takes files, so a bad -o fails before any work."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir} is a file, not a folder: -o names the folder to write into.")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / f".anonymize-{os.getpid()}.partial"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        problem = OutputError(f"cannot write into {outdir}: {error.strerror or error}.")
    else:
        return
    raise problem
