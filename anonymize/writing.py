"""Writing a file so that it is whole or absent: under a temporary name, renamed into place when complete.

Every temporary file is new (created exclusively, with a random name) and sits beside its target, so
the rename never crosses disks and nothing a folder already holds (a link planted at a predictable
name, pointing at an input) is ever opened or written through.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

from anonymize.errors import OutputError

#: How every temporary file a run makes is named (``.anonymize-<random>.partial``): never after its target,
#: so a long name still fits, and never a name anyone can plant a link at beforehand.
TEMPORARY_PREFIX = ".anonymize-"


@contextlib.contextmanager
def temporary_beside(path: Path, suffix: str = ".partial") -> Iterator[Path]:
    """A new empty file in ``path``'s folder to write ``path`` under until it is complete, removed on the way out
    unless it was moved into place. Its name is random and it is created exclusively (``O_CREAT|O_EXCL``):
    nothing planted in the folder (a link to an input, say) is ever opened or written through.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.jpg"
    >>> with temporary_beside(target) as partial:
    ...     _ = partial.write_bytes(b"done")
    ...     os.replace(partial, target)
    >>> target.read_bytes(), partial.exists()
    (b'done', False)
    """
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX, suffix=suffix)
    os.close(descriptor)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def temporary_name() -> str:
    """A fresh temporary name, for a filesystem where :func:`temporary_beside` cannot create one exclusively
    (a URI's): random, so nothing can be planted at it beforehand."""
    return f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}.partial"


def is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_PREFIX) and ".partial" in name


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a temporary name and rename when complete; raise OutputError, leaving nothing, on failure."""
    try:
        with temporary_beside(path) as partial:
            with open(os.open(partial, os.O_WRONLY | os.O_NOFOLLOW), "wb") as file:  # never through a link swapped in
                file.write(data)
            os.replace(partial, path)
        return
    except OSError as error:
        problem = OutputError(f"cannot write {path}: {error.strerror or error}.")
    raise problem
