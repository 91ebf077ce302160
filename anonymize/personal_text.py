"""Which lines of text are personal: the patterns of personal text mode, as named tests on what a line reads.

A text line's reading comes from OCR, which confuses letters and digits (``O`` for ``0``, ``l`` for ``1``,
``S`` for ``5``). The patterns of numbers (phone, IBAN, card, date) are therefore also tried on the line
with those letters read as digits, as long as most of what matched was digits already, so that a word
made of such letters ("SOBBING") does not become a phone number. The checksums of IBANs (mod 97) and
card numbers (Luhn) name them; a number of 16 digits or more is hidden either way, as ``number``, since one
misread digit fails a checksum.

A pattern a user gives (``--text-pattern``, the sidebar's list) is a regular expression or a plain word,
matched anywhere in the line, ignoring case. Records name it ``custom-1``, ``custom-2``…, never by its
text: a user's list of names is the very data being hidden. It is matched by the ``regex`` engine, which
can be stopped: Python's own ``re`` cannot, and holds the interpreter meanwhile, so one pattern that
backtracks without end (``(a|aa)+$`` on a line of forty a's) froze every session of the app. A pattern
still undecided after :data:`PATTERN_SECONDS` on a line counts as matched: the line is hidden.

Example:
    >>> personal_text = PersonalText.of(["Jane Doe"])
    >>> personal_text.match("Call +44 2O 7946 0958"), personal_text.match("Open 24 hours")
    ('phone', None)
    >>> personal_text.match("jane doe, reception")
    'custom-1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable

import regex

#: What a line's own letters look like to OCR when they are digits.
AS_DIGITS = str.maketrans("OoDQIl|iZzSsGbBgq", "00001111225566899")
#: Of a number found only once letters were read as digits, at least this share was digits already.
MOSTLY_DIGITS = 0.6

_PHONE = re.compile(r"(?:\+|\b00)?\d[\d ()./-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+ ?[@©] ?[\w-]+(?: ?[.,] ?[\w-]+)+")
_IBAN = re.compile(r"\b([A-Z]{2}) ?([A-Z0-9]{2})((?: ?[A-Z0-9]){11,30})\b", re.IGNORECASE)
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
# One separator throughout, and no more numbers around it: "06 12 34 56 78" is a phone number, not a date.
_DATE = re.compile(r"(?<![\d./-])\b(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})\b(?![./-]?\d)")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone(text: str) -> bool:
    """8 to 15 digits in one run, with the separators numbers are written with; a date is not one."""
    return any(
        8 <= len(_digits(found.group())) <= 15 and not _DATE.fullmatch(found.group()) for found in _PHONE.finditer(text)
    )


def _long_number(text: str) -> bool:
    """16 digits or more in one run (an account or an ID; an IBAN or a card read with an error fails its checksum)."""
    return any(len(_digits(found.group())) >= 16 for found in _PHONE.finditer(text))


def _email(text: str) -> bool:
    return _EMAIL.search(text) is not None


def _iban(text: str) -> bool:
    """A country's two letters, two check digits and 11–30 letters or digits that pass the mod-97 check, as
    read or with OCR's letter-for-digit confusions undone after the country (its account part may hold
    letters of its own, so both are tried)."""
    for found in _IBAN.finditer(text):
        country, check, account = found.group(1).upper(), found.group(2), found.group(3).replace(" ", "")
        for number in ((check + account).upper(), (check + account).translate(AS_DIGITS).upper()):
            moved = number[2:] + country + number[:2]
            if number[:2].isdigit() and int("".join(str(int(c, 36)) for c in moved)) % 97 == 1:
                return True
    return False


def _luhn(number: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card(text: str) -> bool:
    return any(_luhn(_digits(found.group())) for found in _CARD.finditer(text))


def _plate(text: str) -> bool:
    """One to three neighbouring groups of capitals and digits, 5 to 8 of them with both kinds, no group of
    letters alone longer than 3 (``AB12 CDE``, ``M-AB 1234``, ``B 21·GSB``, ``7ABC123``; not ``EXIT 12``)."""
    groups = re.split(r"[\s·.:-]+", text.strip())  # German plates carry seals, read as dots, between groups
    for start in range(len(groups)):
        for end in range(start + 1, min(start + 3, len(groups)) + 1):
            window = groups[start:end]
            compact = "".join(window)
            if (
                all(re.fullmatch("[A-Z0-9]+", g) and not (g.isalpha() and len(g) > 3) for g in window)
                and 5 <= len(compact) <= 8
                and re.search(r"\d", compact)
                and re.search("[A-Z]", compact)
            ):
                return True
    return False


def _date(text: str) -> bool:
    """A whole date, day, month and year (either way round), of a year that has passed: a birth date can be."""
    for found in _DATE.finditer(text):
        first, _, month, last = found.groups()
        first, month, last = int(first), int(month), int(last)
        day, year = (last, first) if len(found.group(1)) == 4 else (first, last)
        if year < 100:
            year += 1900 if year > date.today().year % 100 else 2000
        if 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= date.today().year:
            return True
    return False


def _numeric(test: Callable[[str], bool]) -> Callable[[str], bool]:
    """``test``, also passed by the line with OCR's letter-for-digit confusions undone, where the digits
    it then finds were mostly digits already."""

    def tolerant(text: str) -> bool:
        if test(text):
            return True
        as_digits = text.translate(AS_DIGITS)
        if as_digits == text or not test(as_digits):
            return False
        changed = sum(a != b for a, b in zip(text, as_digits))
        return changed <= (1 - MOSTLY_DIGITS) * len(_digits(as_digits))

    return tolerant


@dataclass(frozen=True)
class TextPattern:
    """One kind of personal text: its name in records, and whether a line's reading holds one."""

    name: str
    matches: Callable[[str], bool]


#: The built-in patterns, most specific first (a line matching several is named by the first).
BUILT_IN: tuple[TextPattern, ...] = (
    TextPattern("email", _email),
    TextPattern("iban", _iban),
    TextPattern("card", _numeric(_card)),
    TextPattern("date", _numeric(_date)),
    TextPattern("phone", _numeric(_phone)),
    TextPattern("number", _numeric(_long_number)),
    TextPattern("plate", _plate),
)
#: What a line is named when it could not be read, and is hidden for that (fail closed).
UNREAD = "unread"


#: The longest a user's pattern may take on one line before the line is hidden as if it matched (a line
#: is a few dozen characters: a pattern that is not runaway decides in microseconds).
PATTERN_SECONDS = 0.05


def compiled(expression: str) -> regex.Pattern:
    """``expression`` as personal text mode matches it, ignoring case; ValueError saying why when it is not a
    regular expression.

    >>> compiled("[0-9")
    Traceback (most recent call last):
    ValueError: not a regular expression (unterminated character set at position 4)
    """
    try:
        return regex.compile(expression, regex.IGNORECASE)
    except regex.error as error:
        raise ValueError(f"not a regular expression ({error})") from None


def custom_pattern(index: int, expression: str) -> TextPattern:
    """The user's ``index``-th pattern (from 1); raises ValueError naming it when it is not a regular expression.

    >>> custom_pattern(2, "[0-9").name
    Traceback (most recent call last):
    ValueError: text pattern 2 is not a regular expression (unterminated character set at position 4)
    """
    try:
        pattern = compiled(expression)
    except ValueError as error:
        raise ValueError(f"text pattern {index} is {error}") from None

    def matches(text: str) -> bool:
        try:
            return pattern.search(text, timeout=PATTERN_SECONDS) is not None
        except TimeoutError:
            return True  # undecided: hidden, as a line that could not be read is (fail closed)

    return TextPattern(f"custom-{index}", matches)


@dataclass(frozen=True)
class PersonalText:
    """The patterns of personal text mode: the built-in ones and a user's own."""

    patterns: tuple[TextPattern, ...] = BUILT_IN

    @classmethod
    def of(cls, expressions: Iterable[str] = ()) -> PersonalText:
        """The built-in patterns and ``expressions`` (regular expressions or words; ValueError for a bad one)."""
        own = [custom_pattern(index, e) for index, e in enumerate((e for e in expressions if e.strip()), start=1)]
        return cls(BUILT_IN + tuple(own))

    def match(self, reading: str) -> str | None:
        """The name of the first pattern ``reading`` holds, or None when it reads as nothing personal."""
        return next((pattern.name for pattern in self.patterns if pattern.matches(reading)), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(pattern.name for pattern in self.patterns)
