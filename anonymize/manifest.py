"""The audit record of a run: which tool, model and settings, and per input what came in, what went
out, what was hidden, and what failed. Written as ``manifest.json`` by the CLI (in its output
folder) and into every Batch zip; read back by ``--resume``. It holds no pixels and no API key.

Example:
    >>> manifest = Manifest.start({"kind": "local", "preset": "balanced"}, {"confidence": 10})
    >>> manifest.add(Entry("in/a.jpg", "ab" * 32, "anonymized", "a.jpg", "cd" * 32, hidden={"face": 2}))
    >>> manifest.to_json()["totals"]
    {'inputs': 1, 'anonymized': 1, 'unchanged': 0, 'failed': 0, 'hidden': {'face': 2}, 'uploaded': 0, 'upload_failed': 0}
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, get_args

from anonymize.detectors import BackendConfig, Detector, model_record
from anonymize.detectors.base import model_path
from anonymize.writing import write_atomically

if TYPE_CHECKING:
    from anonymize.result import Result

NAME = "manifest.json"
#: Seconds between two saves of the manifest while a run goes on: a run killed halfway keeps what it finished.
SAVE_EVERY = 1.0
Status = Literal["anonymized", "unchanged", "failed"]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def model_files(names: Iterable[str]) -> list[dict[str, str]]:
    """Each bundled model file a detector runs, with its sha256: what proves which weights did the work."""
    return [{"file": name, "sha256": file_sha256(model_path(name))} for name in names]


def model_entry(config: BackendConfig, detector: Detector) -> dict[str, Any]:
    """The model of a run, for its manifest: :func:`~anonymize.detectors.model_record`, and the bundled
    model files with their sha256 and the device they ran on, when it runs them."""
    info = detector.info()
    files, device = info.model_files, info.device
    return (
        model_record(config)
        | ({"device": device.name} if device else {})
        | ({"models": model_files(files)} if files else {})
    )


@dataclass
class Entry:
    """One input: its sha256, what became of it (``anonymized``; ``unchanged``: things were found,
    none of a class to hide; ``failed``, with the reason), the output and its sha256, what was hidden
    (confident detections per class, low-confidence regions), what a review changed, the time taken
    and, when asked for, how the upload went."""

    input: str
    input_sha256: str | None
    status: Status
    output: str | None = None
    output_sha256: str | None = None
    hidden: dict[str, int] = field(default_factory=dict)
    low_confidence: int = 0
    kept_visible: int = 0
    added_by_hand: int = 0
    frames: int | None = None
    frames_detected: int | None = None
    reason: str | None = None
    #: The sha256 of the review edits it was rendered with, if any.
    review: str | None = None
    #: Done by an earlier run, found intact by ``--resume``.
    resumed: bool = False
    seconds: float = 0.0
    #: ``{"status": "uploaded", "id": …}`` or ``{"status": "failed", "reason": …}``; None when not uploaded.
    upload: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None and value is not False}

    @classmethod
    def of_picture(
        cls,
        source: str,
        source_sha256: str | None,
        output: str,
        encoded: bytes,
        result: Result,
        seconds: float,
        review: str | None = None,
    ) -> Entry:
        """The entry of a picture written as ``encoded`` from ``result``."""
        entry = cls(
            source,
            source_sha256,
            "unchanged" if result.warning else "anonymized",
            output,
            sha256_of(encoded),
            dict(sorted(result.counts.items())),
            len(result.low_confidence),
            seconds=round(seconds, 3),
            review=review,
        )
        if result.review:
            entry.kept_visible, entry.added_by_hand = len(result.review.kept_visible), len(result.review.added)
        return entry

    @classmethod
    def from_json(cls, item: Any) -> Entry:
        """An entry as :meth:`to_json` wrote it; ValueError for anything else (a hand-edited or damaged manifest)."""
        if not isinstance(item, dict):
            raise ValueError(f"an entry is not a JSON object: {item!r}")
        read = {
            "input_sha256": None,
            **{key: value for key, value in item.items() if key in _ENTRY_TYPES},
        }  # None is left out of the JSON
        for key, value in read.items():
            if not isinstance(value, _ENTRY_TYPES[key]) or (isinstance(value, bool) and bool not in _ENTRY_TYPES[key]):
                raise ValueError(f"an entry's {key!r} is malformed: {value!r}")
        if "input" not in read or read.get("status") not in get_args(Status):
            raise ValueError("an entry has no input or no status")
        if not all(isinstance(k, str) and isinstance(n, int) for k, n in read.get("hidden", {}).items()):
            raise ValueError("an entry's 'hidden' is malformed")
        return cls(**read)


#: The JSON type of each field of an :class:`Entry`.
_ENTRY_TYPES: dict[str, tuple[type, ...]] = {
    "input": (str,),
    "input_sha256": (str, type(None)),
    "status": (str,),
    "output": (str, type(None)),
    "output_sha256": (str, type(None)),
    "hidden": (dict,),
    "low_confidence": (int,),
    "kept_visible": (int,),
    "added_by_hand": (int,),
    "frames": (int, type(None)),
    "frames_detected": (int, type(None)),
    "reason": (str, type(None)),
    "review": (str, type(None)),
    "resumed": (bool,),
    "seconds": (int, float),
    "upload": (dict, type(None)),
}


@dataclass
class Manifest:
    """A run's record; :meth:`fingerprint` is what two runs must share for one to resume the other."""

    backend: dict[str, Any]
    settings: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    started: str = ""
    finished: str | None = None
    entries: list[Entry] = field(default_factory=list)
    #: Where pictures were uploaded: ``{"to": "workspace/project", "split", "batch_name", "tags"}``.
    upload: dict[str, Any] | None = None
    #: A dataset's other files, copied as they were: ``{"file", "sha256"}``.
    copied: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def start(
        cls, backend: dict[str, Any], settings: dict[str, Any], options: dict[str, Any] | None = None
    ) -> Manifest:
        return cls(backend, settings, options or {}, _now())

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    @property
    def fingerprint(self) -> str:
        """The sha256 of the model, the settings and the options: equal when two runs would write the same outputs."""
        return sha256_of(json.dumps([self.backend, self.settings, self.options], sort_keys=True).encode())

    def to_json(self) -> dict[str, Any]:
        from anonymize import __version__

        hidden, uploads = Counter(), Counter()
        for entry in self.entries:
            hidden.update(entry.hidden)
            if entry.upload:
                uploads[entry.upload["status"]] += 1
        statuses = Counter(entry.status for entry in self.entries)
        return {
            "tool": {"name": "anonymize", "version": __version__},
            "started": self.started,
            "finished": self.finished,
            "complete": self.finished is not None,
            "backend": self.backend,
            "settings": self.settings,
            "options": self.options,
            "fingerprint": self.fingerprint,
            **({"upload": self.upload} if self.upload else {}),
            **({"copied": self.copied} if self.copied else {}),
            "totals": {
                "inputs": len(self.entries),
                "anonymized": statuses["anonymized"],
                "unchanged": statuses["unchanged"],
                "failed": statuses["failed"],
                "hidden": dict(sorted(hidden.items())),
                "uploaded": uploads["uploaded"],
                "upload_failed": uploads["failed"],
            },
            "entries": [entry.to_json() for entry in self.entries],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def finish(self) -> None:
        self.finished = _now()

    def save(self, folder: Path, *, finished: bool = False) -> None:
        if finished:
            self.finish()
        write_atomically(folder / NAME, self.dumps().encode())

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        """The manifest a run left in ``folder``, or None when there is none that can be read."""
        try:
            payload = json.loads((folder / NAME).read_text())
            if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
                return None
            return cls(
                payload["backend"],
                payload["settings"],
                payload.get("options", {}),
                payload.get("started", ""),
                payload.get("finished"),
                [Entry.from_json(item) for item in payload["entries"]],
                payload.get("upload"),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
