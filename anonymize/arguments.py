"""The command line's words, parsed: numbers in a range, whole numbers, thresholds, and a usage error
that names the nearest valid word instead of printing the whole usage.

Example:
    >>> number(0, 100)("40")
    40.0
    >>> thresholds("40,face=20")
    Thresholds(every_class=40.0, per_class=(('face', 20.0),))
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from typing import Callable, NoReturn

from anonymize.errors import printable
from anonymize.personal_text import compiled
from anonymize.run.options import Thresholds


class Parser(argparse.ArgumentParser):
    """argparse with a usage error in one line naming the nearest valid word, instead of the whole usage."""

    def error(self, message: str) -> NoReturn:
        guess = nearest_word(message, [o for action in self._actions for o in action.option_strings])
        hint = f" Did you mean {guess}?" if guess else ""
        self.exit(2, printable(f"{self.prog}: error: {message}.{hint} (`{self.prog} -h` lists every option.)") + "\n")


def nearest_word(message: str, options: list[str]) -> str | None:
    """The valid word nearest to the mistyped one in argparse's ``message``: an option or a choice.

    >>> nearest_word("argument --method: invalid choice: 'blurr' (choose from 'blur', 'pixelate', 'fill', 'fog')", [])
    "'blur'"
    >>> nearest_word("unrecognized arguments: --confidance 5", ["--confidence", "--classes"])
    '--confidence'
    """
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        found = difflib.get_close_matches(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)), n=1, cutoff=0.5)
        return f"'{found[0]}'" if found else None
    if message.startswith("unrecognized arguments:"):
        for word in message.split(":", 1)[1].split():
            found = (
                difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.6) if word.startswith("-") else []
            )
            if found:
                return found[0]
    return None


def text_pattern(text: str) -> str:
    """An argparse type: a regular expression (a plain word is one), checked as personal text mode compiles it."""
    try:
        compiled(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is {error}") from None
    return text


def number(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high`` (NaN and infinity are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}, not {text}")
        return value

    return parse


def thresholds(text: str) -> Thresholds:
    """``40``, ``face=20,license-plate=40``, or both (``40,face=20``), each a finite 0–100."""
    every, per_class = None, {}
    percent = number(0, 100)
    for part in (p.strip() for p in text.split(",")):
        if "=" not in part:
            if every is not None:
                raise argparse.ArgumentTypeError("give one value for every class, at most")
            every = percent(part)
            continue
        name, _, value = part.partition("=")
        if not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} names no class")
        per_class[name.strip()] = percent(value)
    return Thresholds(every, tuple(per_class.items()))


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be at least {low}" if high is None else f"must be from {low} to {high}, not {text}"
            )
        return value

    return parse
