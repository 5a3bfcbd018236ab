"""Phone numbers: parsing to E.164 with `phonenumbers` (default region CN) and comparisons."""

from __future__ import annotations

import phonenumbers

from bot.errors import InvalidPhoneNumber
from bot.language.spoken import normalise_number

DEFAULT_REGION = "CN"


def parse_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164 form, or raise InvalidPhoneNumber.

    Spoken or full-width digits are normalised first; ``0086`` and ``86`` prefixes are understood.
    """
    text = normalise_number(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("86") and len(text) == 13:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def last_four(e164: str) -> str:
    """The last four digits of a stored E.164 number."""
    return e164[-4:]


def same_phone(caller_id: str | None, registered_e164: str) -> bool:
    """True when a caller ID (any form, possibly missing or withheld) is the registered number."""
    if not caller_id:
        return False
    try:
        return parse_phone(caller_id) == registered_e164
    except InvalidPhoneNumber:
        return False


def matches_last_four(digits: str, registered_e164: str) -> bool:
    """True when the four digits given (spoken or typed) end the registered number."""
    normalised = normalise_number(digits)
    return (
        len(normalised) == 4
        and normalised.isascii()
        and normalised.isdigit()
        and normalised == last_four(registered_e164)
    )


_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def is_mobile(e164: str) -> bool:
    """True for a number that can receive SMS (a landline cannot)."""
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164)) in _MOBILE_TYPES
    except phonenumbers.NumberParseException:
        return False
