"""Many images in memory (uploads, zip archives) in; one zip and one JSON out.

A file that fails is listed with its reason and left out of the zip; the
others are still processed. Every file in an archive is either anonymized or
listed (a zip inside a zip, a file that is not a picture): none is dropped
without a word. Archives are read as :func:`~anonymize.run.sources.expand_archives`
says (bombs refused, members unpacked one at a time, as they are processed); each
picture is written to the zip by the command line's own writer
(:func:`~anonymize.run.item.write_picture`, through a :class:`~anonymize.run.sinks.ZipSink`).

Example:
    >>> import numpy as np
    >>> from anonymize.detectors import local_detector
    >>> from anonymize.media import encode_image
    >>> files = [("a.png", encode_image(np.zeros((16, 16, 3), np.uint8), "png")), ("b.jpg", b"oops")]
    >>> done = anonymize_batch(files, local_detector(), Settings())
    >>> sorted(done.predictions), [f.name for f in done.failures]
    (['a.png'], ['b.jpg'])
"""

from __future__ import annotations

import io
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from anonymize.detections import Predictions
from anonymize.detectors.base import Detector
from anonymize.edits import PictureEdits
from anonymize.errors import AnonymizeError, EditsError
from anonymize.manifest import NAME as MANIFEST
from anonymize.manifest import Entry, Manifest, sha256_of
from anonymize.media import OUTPUT_EXTENSIONS, encode_image, load_image, thumbnail
from anonymize.outputs import Names, names_of, reserved_names
from anonymize.pipeline import anonymize_image
from anonymize.records import FOLDER as RECORDS
from anonymize.records import Records
from anonymize.result import Result, summarize
from anonymize.run.item import write_picture
from anonymize.run.sinks import ZipSink
from anonymize.run.sources import expand_archives, read_member
from anonymize.settings import Settings


@dataclass(frozen=True)
class Failure:
    """A file, and the sentence that says what went wrong with it."""

    name: str
    reason: str


#: A detection less than this far (in confidence, 0–1) above its class's threshold was nearly left
#: out: what a person reviewing a batch should look at first.
NEAR_THRESHOLD = 0.10


@dataclass(frozen=True)
class Picture:
    """One anonymized picture, small, for a gallery: JPEG thumbnails before and after, the boxes hidden
    (sized for the thumbnail) and how many of each class were found, as :attr:`Result.summary` counts them.
    ``name`` is its name in the zip, ``source`` the input's; ``near_threshold`` counts the hidden
    detections within :data:`NEAR_THRESHOLD` of their threshold, ``reviewed`` the edits made to it by hand."""

    name: str
    before: bytes
    after: bytes
    hidden: Predictions
    counts: dict[str, int]
    low_confidence: int
    warning: str | None = None
    source: str = ""
    near_threshold: int = 0
    reviewed: str = ""

    @property
    def summary(self) -> str:
        return summarize(self.counts, self.low_confidence) + (f"; {self.reviewed}" if self.reviewed else "")

    @classmethod
    def of(
        cls, name: str, pixels: np.ndarray, result: Result, settings: Settings | None = None, source: str = ""
    ) -> Picture:
        before, after = thumbnail(pixels), thumbnail(result.image)
        counts = dict(sorted(result.counts.items()))
        hidden = result.hidden.resized(before.shape[1], before.shape[0])
        settings = settings or Settings()
        near = sum(d.confidence < settings.threshold(d.class_name) / 100 + NEAR_THRESHOLD for d in result.hidden)
        return cls(
            name,
            encode_image(before, "jpeg", quality=85),
            encode_image(after, "jpeg", quality=85),
            hidden,
            counts,
            len(result.low_confidence),
            result.warning,
            source or name,
            near,
            result.reviewed,
        )


def review_order(pictures: Sequence[Picture]) -> list[int]:
    """The pictures' indices, riskiest first: most detections near their threshold, then most
    low-confidence regions; ties keep their order.

    >>> p = [Picture(n, b"", b"", Predictions.empty(1, 1), {}, low, near_threshold=near) for n, low, near in (("a", 0, 0), ("b", 5, 1), ("c", 9, 0))]
    >>> [p[i].name for i in review_order(p)]
    ['b', 'c', 'a']
    """
    return sorted(range(len(pictures)), key=lambda i: (-pictures[i].near_threshold, -pictures[i].low_confidence))


@dataclass(frozen=True)
class BatchResult:
    """The anonymized images as one zip, their predictions by file name, what failed, the
    pictures written untouched because nothing found was of a class to hide, and a small
    copy of each anonymized picture (by its name in the zip)."""

    zip_bytes: bytes
    predictions: dict[str, dict]
    failures: list[Failure]
    warnings: list[Failure] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    #: What the zip's ``manifest.json`` holds.
    manifest: Manifest | None = None

    def anonymized(self) -> list[tuple[str, bytes]]:
        """Each picture in the zip, by its name there, with its bytes."""
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as archive:
            return [(p.name, archive.read(p.name)) for p in self.pictures]

    def with_uploads(self, outcome: Mapping[str, dict[str, str]], where: dict[str, object]) -> BatchResult:
        """The same result, its manifest (in the zip too) saying where pictures were uploaded and how each upload went."""
        manifest = replace(
            self.manifest,
            entries=[replace(e, upload=outcome.get(e.output, e.upload)) for e in self.manifest.entries],
            upload=where,
        )
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as old,
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as new,
        ):
            for member in old.infolist():
                new.writestr(member, manifest.dumps() if member.filename == MANIFEST else old.read(member))
        return replace(self, zip_bytes=buffer.getvalue(), manifest=manifest)

    @property
    def hidden_counts(self) -> Counter:
        """How many of each class were hidden, over every picture (what the sliders move)."""
        return Counter(d.class_name for picture in self.pictures for d in picture.hidden)


def anonymize_batch(
    files: Iterable[tuple[str, bytes]],
    detector: Detector,
    settings: Settings,
    on_progress: Callable[[int, int, str], None] | None = None,
    edits: Mapping[str, PictureEdits] | None = None,
    model: dict | None = None,
    masks: bool = False,
) -> BatchResult:
    """Anonymize every image; ``on_progress(done, total, name)`` is called after each.

    ``edits`` are review edits by file name (zip members as ``archive/member``, for ``archive.zip``); a file
    whose bytes are not the ones reviewed fails rather than be rendered with another's edits.
    The zip also holds ``manifest.json`` (:mod:`anonymize.manifest`; ``model`` is its model, as
    :func:`~anonymize.manifest.model_entry` gives it) and the redaction records under
    ``records/`` (:mod:`anonymize.records`; mask PNGs with ``masks``).
    """
    items = expand_archives(files)
    buffer, predictions, failures, warnings, pictures = io.BytesIO(), {}, [], [], []
    names = Names(reserved_names(records=True))
    manifest = Manifest.start(model or {"kind": "unknown"}, settings.to_json(), {"masks": masks})
    records = Records(settings.classes or detector.classes, masks=masks)
    # Images are already compressed: storing them is as small and much faster.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        sink = ZipSink(archive)
        for done, (name, read) in enumerate(items, start=1):
            started, digest = time.perf_counter(), None
            try:
                if isinstance(read, AnonymizeError):
                    raise read
                data = read_member(name, read)
                digest = sha256_of(data)
                reviewed = (edits or {}).get(name)
                if reviewed and reviewed.sha256 != digest:
                    raise EditsError("not the file that was reviewed (its bytes changed); review it again.")
                loaded = load_image(data, name=name)
                result = anonymize_image(loaded.pixels, detector, settings, reviewed)
                target = _claim(names, _output_name(name, loaded.output_format), masks)
                encoded = write_picture(result, loaded.output_format, sink, target, None, records, settings)
                manifest.add(
                    Entry.of_picture(
                        name,
                        digest,
                        target,
                        encoded,
                        result,
                        time.perf_counter() - started,
                        reviewed and reviewed.digest,
                    )
                )
                predictions[target] = result.to_json()
                pictures.append(Picture.of(target, loaded.pixels, result, settings, name))
                if result.warning:
                    warnings.append(Failure(name, result.warning))
            except AnonymizeError as error:
                reason = str(error).removeprefix(f"{name}: ")  # media errors start with the name
                failures.append(Failure(name, reason))
                manifest.add(
                    Entry(name, digest, "failed", reason=reason, seconds=round(time.perf_counter() - started, 3))
                )
            if on_progress:
                on_progress(done, len(items), name)
        for record_name, record in records.summary_files().items():
            sink.write(f"{RECORDS}/{record_name}", record)
        manifest.finish()
        sink.write(MANIFEST, manifest.dumps().encode())
    return BatchResult(buffer.getvalue(), predictions, failures, warnings, pictures, manifest)


def _output_name(name: str, format: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    # Keep folders from archives but never let a name climb out of the zip's root.
    parts = [p for p in path.with_suffix("." + OUTPUT_EXTENSIONS[format]).parts if p not in ("..", "/", "")]
    return "/".join(parts)


def _claim(names: Names, output: str, masks: bool) -> str:
    """``output``, or ``stem-2.ext``… when it, or one of its records, is another picture's (or the zip's own files')."""
    path = PurePosixPath(output)
    stem = str(path.with_suffix(""))
    return names.claim(stem, names_of(path.suffix, None, records=True, masks=masks)) + path.suffix
