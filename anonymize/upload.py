"""Anonymized pictures into a Roboflow project, through the official ``roboflow`` SDK.

Only the anonymized file is ever sent. Every call has a deadline (the SDK's
own is five minutes), the key is never in a message, and a failed upload is
tried again a bounded number of times, then reported with its reason: the
caller lists it, never drops it. A rejected key or a project that cannot be
opened stops before the first picture.

Example (against a server; see tests/test_upload.py):
    >>> UploadTarget.parse("acme/faces")
    UploadTarget(workspace='acme', project='faces')
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Sequence

from anonymize.detectors.remote import DEFAULT_TIMEOUT, remote_call, status_sentence
from anonymize.detectors.roboflow_hosted import open_project
from anonymize.errors import DetectionError, MissingSettings, UploadError

#: The tag an uploaded picture gets when none is given: where it came from.
DEFAULT_TAG = "anonymized"

SERVICE = "Roboflow"
SPLITS = ("train", "valid", "test")
#: Tries per picture; a rejected key is not tried again.
ATTEMPTS = 3
#: Seconds before the second try, doubled before each next one.
BACKOFF = 0.5


@dataclass(frozen=True)
class UploadTarget:
    """Where pictures go: a workspace and a project, written ``WORKSPACE/PROJECT``."""

    workspace: str
    project: str

    @classmethod
    def parse(cls, text: str) -> UploadTarget:
        workspace, slash, project = text.strip().partition("/")
        if not (slash and workspace and project) or "/" in project:
            raise ValueError(
                f"{text!r} is not WORKSPACE/PROJECT (both as in the project's address on app.roboflow.com)"
            )
        return cls(workspace, project)

    def __str__(self) -> str:
        return f"{self.workspace}/{self.project}"


class RoboflowUploader:
    """Uploads files to one project, into ``split``, as batch ``batch_name`` with ``tags``.

    Opening the project checks the key and the project (UploadError, one sentence, if not).
    """

    def __init__(
        self,
        api_key: str,
        target: UploadTarget,
        *,
        split: str = "train",
        batch_name: str | None = None,
        tags: Sequence[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = ATTEMPTS,
    ) -> None:
        if not api_key:
            raise MissingSettings("Roboflow upload", ("API key",))
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        self._key, self.target, self.split, self.batch_name, self.tags = api_key, target, split, batch_name, list(tags)
        self.timeout, self.attempts = timeout, attempts
        self._project = _as_upload_error(
            lambda: remote_call(
                lambda: open_project(api_key, target.workspace, target.project), SERVICE, timeout, api_key
            )
        )

    @property
    def destination(self) -> dict[str, Any]:
        """Where pictures go, for a run's manifest: project, split, batch and tags (never the key)."""
        return {"to": str(self.target), "split": self.split, "batch_name": self.batch_name, "tags": self.tags}

    def upload(self, path: Path) -> str:
        """Upload the file at ``path``; its id in the project. UploadError, saying why, after the last try."""
        last, tried = UploadError("not tried"), 0
        for tried in range(1, self.attempts + 1):
            if tried > 1:
                time.sleep(BACKOFF * 2 ** (tried - 2))
            try:
                return _as_upload_error(lambda: remote_call(lambda: self._send(path), SERVICE, self.timeout, self._key))
            except UploadError as error:
                last = error
                if "API key rejected" in str(error):  # trying again cannot help
                    break
        raise UploadError(f"not uploaded to {self.target} after {tried} {'try' if tried == 1 else 'tries'}: {last}")

    def _send(self, path: Path) -> str:
        from roboflow.adapters.rfapi import ImageUploadError

        try:
            image, _seconds, _retries = self._project.upload_image(
                str(path), split=self.split, batch_name=self.batch_name, tag_names=self.tags, num_retry_uploads=0
            )
        except ImageUploadError as error:
            status = getattr(error, "status_code", None)
            raise DetectionError(
                status_sentence(status, SERVICE) if status else f"{SERVICE} refused the picture."
            ) from None
        return str(_image_id(image))

    def __repr__(self) -> str:  # never the key
        return f"RoboflowUploader(target={str(self.target)!r}, split={self.split!r})"


def upload_all(
    uploader: RoboflowUploader,
    files: Iterable[tuple[str, bytes]],
    on_progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Upload pictures held in memory (name, bytes), each under its own file name; how each went, by name:
    ``{"status": "uploaded", "id": …}`` or ``{"status": "failed", "reason": …}``. None is dropped."""
    files = list(files)
    outcome = {}
    with tempfile.TemporaryDirectory(prefix="anonymize-upload-") as folder:
        for done, (name, data) in enumerate(files, start=1):
            path = Path(folder) / PurePosixPath(name).name
            path.write_bytes(data)
            try:
                outcome[name] = {"status": "uploaded", "id": uploader.upload(path)}
            except UploadError as error:
                outcome[name] = {"status": "failed", "reason": str(error)}
            finally:
                path.unlink(missing_ok=True)
            if on_progress:
                on_progress(done, len(files), name)
    return outcome


def _image_id(answer: Any) -> str:
    if isinstance(answer, dict) and answer.get("id"):
        return str(answer["id"])
    raise DetectionError(f"{SERVICE} answered the upload without an image id.")


def _as_upload_error(call):
    """``call()``, with a remote failure (a DetectionError from :func:`remote_call`) said as an UploadError."""
    try:
        return call()
    except MissingSettings:
        raise
    except DetectionError as error:
        problem = UploadError(str(error))
    raise problem
