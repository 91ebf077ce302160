"""What a run asks of each input beyond the settings: the video options, the records, and how much it says.

Example:
    >>> RunOptions(detect_every=3).detect_every, RunOptions().audio
    (3, 'aac')
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from anonymize.video import DEFAULT_CRF, DEFAULT_DETECT_EVERY


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

    @classmethod
    def of(cls, namespace: Any) -> RunOptions:
        """The options an argparse namespace (or any object with these attributes) holds.

        >>> import argparse
        >>> RunOptions.of(argparse.Namespace(detect_every=2, crf=18, audio="copy", quiet=True, records=False, masks=False, x=1)).crf
        18
        """
        return cls(**{f.name: getattr(namespace, f.name) for f in fields(cls)})
