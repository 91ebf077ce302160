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


class MissingSettings(DetectionError):
    """A remote backend cannot start: settings it needs were not given.

    ``missing`` names them ("API key", "project") so that each front end can
    say where its user sets them (an environment variable, a sidebar field).
    """

    def __init__(self, service: str, missing: tuple[str, ...]) -> None:
        self.missing = missing
        super().__init__(
            f"The {service} needs {' and '.join(f'a {name}' if name != 'API key' else 'an API key' for name in missing)}."
        )


class EditsError(AnonymizeError):
    """A review's edits cannot be used: a malformed edits file, or one that does not fit the inputs."""


class UploadError(AnonymizeError):
    """An anonymized picture could not be uploaded (a rejected key, a server that failed or did not answer)."""


def printable(text: str) -> str:
    """``text`` with each control character (a newline, a carriage return, an escape) written as Python would
    (``\\n``), for a message that names a file: a name is bytes its owner chose.

    >>> printable("a\\nerror: forged.jpg"), printable("café.jpg")
    ('a\\\\nerror: forged.jpg', 'café.jpg')
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
