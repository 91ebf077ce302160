"""What both remote backends share: deadlines, key scrubbing, plain error sentences.

Neither the ``roboflow`` SDK nor a bare ``requests`` call has a timeout by
default, and the SDK's errors carry the API key inside request URLs. Every
remote failure therefore leaves here as a :class:`DetectionError` whose message
is one plain sentence with the key replaced by ``***``, raised with no exception
chain at all (``__cause__`` and ``__context__`` are None: the SDK's own errors
carry the key in their URLs). Every call has one total deadline, however a
server answers: a server that drips a byte at a time does not hold it longer.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Callable, TypeVar

import requests

from anonymize.detections import Predictions
from anonymize.errors import DetectionError

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0  # seconds
#: The seconds a remote answer may be given, in all: the CLI's --timeout and the sidebar's field.
TIMEOUT_RANGE = (0.1, 3600.0)
_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+")


class RedactKeysInUrls(logging.Filter):
    """urllib3 logs every request URL at DEBUG level; the SDK puts the key in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_key=" in message:
            record.msg, record.args = _KEY_IN_URL.sub(r"\1***", message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactKeysInUrls())


def scrub(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by ``***``.

    >>> scrub("GET /p?api_key=s3cr3t failed", "s3cr3t")
    'GET /p?api_key=*** failed'
    """
    return text.replace(secret, "***") if secret else text


def call_with_deadline(call: Callable[[], T], seconds: float) -> T:
    """Run ``call`` on a daemon thread and give up after ``seconds`` with TimeoutError.

    The SDK offers no timeout, so a server that never answers would otherwise
    block forever; the abandoned thread dies with the process.
    """
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            finished.set()

    # A deadline of 0 or less, or NaN, would wait forever or not at all.
    if not seconds > 0:
        raise ValueError(f"a deadline must be a positive number of seconds, not {seconds}")
    threading.Thread(target=run, daemon=True, name="remote-call").start()
    if not finished.wait(seconds):
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def remote_call(call: Callable[[], T], service: str, seconds: float, secret: str) -> T:
    """``call()`` within a total deadline of ``seconds``; any failure becomes one DetectionError.

    The error is raised outside the ``except`` block on purpose: raised inside,
    it would keep the original exception (and the key in its URL) as ``__context__``.
    """
    try:
        return call_with_deadline(call, seconds)
    except DetectionError as error:  # our own sentence; a fresh copy drops what it was raised in
        problem = DetectionError(scrub(str(error), secret))
    except Exception as error:
        problem = failure(error, service, seconds, secret)
    raise problem


def parse_predictions(payload: object, service: str) -> Predictions:
    """A server's JSON answer as Predictions, or a DetectionError saying it cannot be read."""
    if not isinstance(payload, dict):
        raise DetectionError(f"{service} sent an answer that is not a JSON object of predictions.")
    try:
        return Predictions.from_roboflow(payload)
    except ValueError as error:
        problem = DetectionError(
            f"{service} sent predictions that cannot be read ({error}); the picture was not anonymized."
        )
    raise problem


def status_sentence(status: int, service: str) -> str:
    """One sentence for an HTTP error status from ``service``."""
    if status in (401, 403):
        return f"API key rejected by {service} (HTTP {status})."
    if status == 404:
        return f"{service} does not know this model: check the project and version (HTTP 404)."
    if status == 429:
        return f"{service} is rate-limiting this key (HTTP 429); try again shortly."
    if status >= 500:
        return f"{service} failed on its side (HTTP {status}); try again later."
    return f"{service} refused the request (HTTP {status})."


def failure(error: BaseException, service: str, seconds: float, secret: str) -> DetectionError:
    """The DetectionError to raise, ``from None``, for a transport-level ``error``."""
    if isinstance(error, (TimeoutError, requests.Timeout)):
        return DetectionError(f"{service} did not answer in {seconds:g} s.")
    if isinstance(error, requests.ConnectionError):
        return DetectionError(f"Cannot reach {service}: connection refused or no network.")
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return DetectionError(status_sentence(error.response.status_code, service))
    return DetectionError(_KEY_IN_URL.sub(r"\1***", scrub(f"{service} failed: {error}", secret)))
