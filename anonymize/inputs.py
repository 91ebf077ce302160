"""Which files a run reads: the ones named, and every file in the folders named, links followed.

Only regular files are read. Anything else found (a link to nothing, a link loop, a named pipe,
a device) is still an input, so that it is listed as not processed with its reason
(:func:`not_a_file`) instead of being dropped, or read forever (a pipe, ``/dev/zero``).

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "a.jpg").write_bytes(b"")
    0
    >>> (folder / "gone.jpg").symlink_to("nowhere.jpg")
    >>> [(p.name, not_a_file(p)) for p in find_inputs([str(folder)])]
    [('a.jpg', None), ('gone.jpg', 'a link to nothing')]
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterator, Sequence

from anonymize.media import IGNORED_FILE_NAMES


def find_inputs(paths: Sequence[str]) -> list[Path]:
    """Named files as given; folders searched recursively, in sorted order, following links to files and folders.

    Every file in a folder is an input (but the operating system's own, like ``.DS_Store``): one that
    is not a picture or video we read is then reported, never skipped without a word. A link to a folder
    it is in is an input too (it is not searched again), and so is a folder that cannot be searched.
    """
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(_walk(path, {_identity(path)}))
        else:
            found.append(path)
    return found


def _walk(folder: Path, above: set[tuple[int, int]]) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        yield folder  # listed with its reason
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name in IGNORED_FILE_NAMES:
            continue
        if not _is_dir(entry):
            yield path
        elif _identity(path) in above:
            yield path  # a link back up: a loop
        else:
            yield from _walk(path, above | {_identity(path)})


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether a folder's entry is a folder, links followed (a dangling link or a loop is not one)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _identity(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def not_a_file(path: Path) -> str | None:
    """Why ``path`` is not read as an input (a sentence), or None for a regular file (links followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a link loop"
        if error.errno == errno.ENOENT:
            return "a link to nothing" if os.path.islink(path) else "no such file"
        return f"cannot be read ({error.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        try:
            os.scandir(path).close()
        except OSError as error:
            return f"a folder that cannot be searched ({error.strerror})"
        return "a link to a folder it is in (a loop): not searched again"
    kinds = {
        stat.S_ISFIFO: "a named pipe",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "not a regular file")
    return f"{kind}, not a file: only regular files are read"
