"""The one exception family the library raises for problems a user can fix.

Every message is a plain sentence meant to be shown as is: it names the file
or the server and says what is wrong, and never contains an API key.
"""


class AnonymizeError(Exception):
    """Base class: something could not be anonymized; ``str(error)`` says why."""


class MediaError(AnonymizeError):
    """An input file is not a readable image or video, or is too large."""


class DetectionError(AnonymizeError):
    """A detector failed (model error, remote server error, timeout)."""


class OutputError(AnonymizeError):
    """An output could not be written (a full disk, a read-only folder); the input is fine."""
