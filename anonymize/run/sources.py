"""Where a run's inputs come from: files, folders (searched recursively) and URIs, each planned to its outputs.

A dataset folder (pictures beside YOLO or COCO labels) is mirrored: its pictures anonymized, its
other files copied as they are.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from anonymize import storage
from anonymize.inputs import find_inputs
from anonymize.outputs import Planned, is_dataset, plan, plan_dataset
from anonymize.run.options import RunOptions

#: A file to copy as it is: its source (a str is a URI) and its target.
Copy = tuple[Path | str, Path]


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
