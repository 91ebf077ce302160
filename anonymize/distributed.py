"""``anonymize … --engine ray``: the same run on Ray Data, in a pool of actors that each load the models once.

The driver plans every output name and keeps the manifest, exactly as the local
CLI does (``--resume`` included); each actor reads its input, anonymizes it with
the same function as the local CLI and writes its outputs under their temporary
names, renamed when complete, so the bytes and the fail-closed rules are the
CLI's. A file that fails comes back as a failed entry with its reason, never
dropped. Inputs and OUTDIR are paths every node sees (one machine, or a shared
filesystem) or URIs (``s3://…``, ``gs://…``: :mod:`anonymize.storage`): an actor
then fetches its input into a folder of its own, writes there and pushes the outputs. Review edits, redaction records and uploads work as in the local CLI (the driver
uploads and numbers the records). ``ray`` comes with the ``[ray]`` extra; nothing else imports this.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Iterator, Sequence

from anonymize import storage
from anonymize.detectors import API_KEY_VARIABLE, BackendConfig, create_detector
from anonymize.manifest import Entry
from anonymize.outputs import Planned
from anonymize.records import Records
from anonymize.run.item import input_sha256, process_or_fail, process_staged
from anonymize.run.options import RunOptions
from anonymize.settings import Settings


def check_installed() -> None:
    """ValueError when ``ray`` is missing."""
    if importlib.util.find_spec("ray") is None:
        raise ValueError("--engine ray needs Ray: pip install 'anonymize[ray]'")


class _Worker:
    """One actor: the detector, loaded once, the settings and the review edits; anonymizes a batch of planned inputs.

    With records asked for, each picture's are written beside its output and its COCO part
    goes back to the driver, which numbers them for the whole run.
    """

    def __init__(
        self,
        backend: dict,
        settings: dict,
        options: RunOptions,
        outdir: str,
        reviews: dict,
        classes: tuple[str, ...],
        staging: storage.Staging | None,
    ) -> None:
        self.detector = create_detector(BackendConfig(**backend), os.environ.get(API_KEY_VARIABLE, ""))
        self.settings, self.options, self.outdir = Settings.from_json(settings), options, Path(outdir)
        self.reviews, self.classes, self.staging = reviews, classes, staging

    def __call__(self, batch: dict) -> dict:
        entries, cocos = [], []
        columns = ("source", "target", "sidecar", "format", "problem", "origin", "label")
        for source, target, sidecar, image_format, problem, origin, label in zip(*(batch[c] for c in columns)):
            item = Planned(
                Path(source),
                Path(target),
                Path(sidecar) if sidecar else None,
                image_format or None,
                problem or None,
                origin or None,
                label or None,
            )
            records = Records(self.classes, masks=self.options.masks) if self.options.records else None
            entry = self.anonymize(item, records)
            entries.append(json.dumps(entry.to_json()))
            cocos.append(json.dumps(records.coco() if records else {}))
        return {"entry": entries, "coco": cocos}

    def anonymize(self, item: Planned, records: Records | None) -> Entry:
        """One input's entry; with URIs, through a folder of this actor's own, left empty after."""
        review = self.reviews.get(item.source)
        if self.staging is None:
            sha256 = input_sha256(item)
            return process_or_fail(
                item, self.detector, self.settings, self.options, self.outdir, records, review, sha256
            )
        return process_staged(
            item, self.detector, self.settings, self.options, self.outdir, records, review, self.staging
        )


def anonymize_on_ray(
    items: Sequence[Planned],
    backend: BackendConfig,
    settings: Settings,
    options: RunOptions,
    outdir: Path,
    *,
    reviews: dict | None = None,
    classes: tuple[str, ...] = (),
    address: str | None = None,
    workers: int | None = None,
    staging: storage.Staging | None = None,
) -> Iterator[tuple[Entry, dict]]:
    """Each planned input's manifest entry and the COCO part of its records (empty without records),
    as the actors finish them (in no set order). ``reviews`` are :func:`anonymize.run.item.reviews_for`'s.

    ``address`` is a cluster's (``ray://host:10001`` or ``auto``); None starts Ray on this machine.
    ``workers`` actors run at once (default: one per CPU of the cluster); each takes one CPU, or
    one GPU when ``backend.device`` is ``cuda``. ``staging`` is a run's with URIs.
    """
    import ray

    if not items:
        return
    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            **({} if address else {"num_cpus": os.cpu_count()}),
        )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the CLI has its own progress bar and summary
    pool = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    rows = [
        {
            "source": str(i.source),
            "target": str(i.target),
            "sidecar": str(i.sidecar or ""),
            "format": i.format or "",
            "problem": i.problem or "",
            "origin": i.origin or "",
            "label": i.label or "",
        }
        for i in items
    ]
    done = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        _Worker,
        batch_size=1,
        concurrency=min(pool, len(rows)),
        batch_format="numpy",
        fn_constructor_kwargs={
            "backend": asdict(backend),
            "settings": settings.to_json(),
            "options": options,
            "outdir": str(outdir),
            "reviews": reviews or {},
            "classes": tuple(classes),
            "staging": staging,
        },
        **({"num_gpus": 1} if backend.device == "cuda" else {"num_cpus": 1}),
    )
    for row in done.iter_rows():
        yield Entry.from_json(json.loads(row["entry"])), json.loads(row["coco"])
