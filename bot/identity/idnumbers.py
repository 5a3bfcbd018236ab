"""Citizen ID numbers (the social security number): validation and normalisation.

`stdnum.cn.ric` supplies the ISO 7064 MOD 11-2 check character and the birth-date reading. Its
region check is deliberately not used: it rejects codes assigned after the holder's birth year
and codes newer than its table, and turning away a real citizen is worse than accepting a number
whose county code we cannot confirm. The province part of the region code must be real. Foreign
permanent residents' IDs issued since 2023 also have 18 characters and start with 9 followed by
a province code, with the same check character.
"""

from __future__ import annotations

import datetime as dt

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from bot.errors import InvalidIdNumber
from bot.language.spoken import normalise_number

ID_LENGTH = 18
_PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
    }
)

REASONS = {
    "length": "an ID number has 18 characters",
    "format": "the first 17 characters of an ID number are digits; the last is a digit or X",
    "checksum": "the check character does not match; please check the number",
    "birth_date": "the birth date in the ID number is not a real date",
    "region": "the region code at the start of the ID number is unknown",
}


def _fail(reason: str) -> InvalidIdNumber:
    return InvalidIdNumber(reason, REASONS[reason])


def _check_birth_date(number: str, today: dt.date) -> None:
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise _fail("birth_date") from None
    if born > today or born.year < 1900:
        raise _fail("birth_date")


def validate_id_number(raw: str, *, today: dt.date | None = None) -> str:
    """Return the ID number in canonical form (18 characters, upper-case X) or raise InvalidIdNumber.

    Accepts spaces, dashes, full-width characters, lower-case x and spoken digits.
    """
    number = normalise_number(raw)
    today = today or dt.date.today()
    if len(number) != ID_LENGTH:
        raise _fail("length")
    if not number.isascii() or not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise _fail("format")
    if number[-1] != ric.calc_check_digit(number):
        raise _fail("checksum")
    _check_birth_date(number, today)
    province = number[1:3] if number.startswith("9") else number[0:2]
    if int(province) not in _PROVINCE_CODES:
        raise _fail("region")
    return number


def is_valid_id_number(raw: str) -> bool:
    """True when `validate_id_number` accepts the text."""
    try:
        validate_id_number(raw)
    except InvalidIdNumber:
        return False
    return True


def with_check_character(first17: str) -> str:
    """Append the ISO 7064 MOD 11-2 check character to 17 digits (for fixtures and demo data)."""
    if len(first17) != ID_LENGTH - 1 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return first17 + ric.calc_check_digit(first17 + "0")
