"""What a run is asked to do: the per-input options, and the whole run's configuration.

The command line builds a :class:`RunConfig` from its flags; the engine and the per-input runner
read only these typed fields, never argparse's namespace.

Example:
    >>> RunOptions(detect_every=3).detect_every, RunOptions().audio
    (3, 'aac')
    >>> RunConfig(("photos",), "out").backend.kind
    'local'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anonymize.censor import CensorSettings
from anonymize.detectors import BackendConfig
from anonymize.frames import DEFAULT_DETECT_EVERY
from anonymize.settings import Settings
from anonymize.upload import DEFAULT_TAG
from anonymize.video_io import DEFAULT_CRF


@dataclass(frozen=True)
class RunOptions:
    """The per-input options of a run (the command line's flags of the same names)."""

    #: Detection on every k-th frame of a video (tracking covers the rest).
    detect_every: int = DEFAULT_DETECT_EVERY
    #: H.264 quality of a written video.
    crf: int = DEFAULT_CRF
    #: ``aac`` or ``copy``: what happens to a video's sound.
    audio: str = "aac"
    #: No progress bars.
    quiet: bool = False
    #: COCO and YOLO records of what was hidden, and with them black-and-white masks.
    records: bool = False
    masks: bool = False
    #: A picture's output format (``same``: its own), and whether its predictions go beside it.
    format: str = "same"
    json: bool = False

    def shaping_outputs(self) -> dict[str, object]:
        """The options that shape the outputs, as the manifest records them (a resumed run must match them)."""
        return {
            "format": self.format,
            "json": self.json,
            "records": self.records,
            "masks": self.masks,
            "detect_every": self.detect_every,
            "crf": self.crf,
            "audio": self.audio,
        }


@dataclass(frozen=True)
class Thresholds:
    """What ``--confidence`` says: one value for every class, and each named class's own."""

    every_class: float | None = None
    per_class: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class UploadOptions:
    """Where anonymized pictures are uploaded: a Roboflow ``workspace/project``, its split, batch and tags."""

    to: str
    split: str = "train"
    batch_name: str | None = None
    tags: tuple[str, ...] = (DEFAULT_TAG,)


@dataclass(frozen=True)
class RunConfig:
    """A whole run: the inputs and where they go, the model, what to hide and how, and the engine."""

    inputs: tuple[str, ...]
    output: str
    backend: BackendConfig = field(default_factory=BackendConfig)
    #: Comma-separated classes to hide; None: every class the model finds.
    classes: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    overlap: float = Settings().overlap
    censor: CensorSettings = field(default_factory=CensorSettings)
    options: RunOptions = field(default_factory=RunOptions)
    #: Review edits to replay: a file or a folder of them.
    edits: str | None = None
    #: Skip inputs an earlier run into the output already did with the same settings.
    resume: bool = False
    #: ``local`` or ``ray``; for Ray, the cluster's address and the actors at once.
    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    upload: UploadOptions | None = None
