"""How personal data is stored, shown and logged.

ID numbers are never stored in clear: the database keeps a keyed hash (HMAC-SHA256 with
ID_HASH_KEY) to look a cardholder up, and a Fernet ciphertext (DATA_ENCRYPTION_KEY) so an admin
can reveal the number. Names and phone numbers are Fernet ciphertexts too (a phone also has a
keyed hash for lookups), and so is every event Rasa keeps of a conversation (`EventCipher`).
A leaked database file therefore yields neither the values nor a way to test guesses against
them without the keys. Log lines carry database ids or `Vault.redact()` tokens, never values.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from bot.config import Settings
from bot.errors import ConfigError


class Vault:
    """Hashing and encryption of personal values with the deployment's keys."""

    def __init__(self, settings: Settings) -> None:
        self._hash_key = settings.id_hash_key.encode()
        self._fernet = Fernet(settings.data_encryption_key.encode())

    def id_hash(self, id_number: str) -> str:
        """Keyed hash used to find a cardholder by canonical ID number."""
        return hmac.new(self._hash_key, id_number.encode(), hashlib.sha256).hexdigest()

    def keyed_token(self, value: str, *, purpose: str, length: int = 32) -> str:
        """A stable keyed token for a personal value, e.g. to name a conversation by phone number.

        Different purposes give unrelated tokens; 32 hex characters make collisions negligible.
        """
        message = purpose.encode() + b":" + value.encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()[:length]

    def redact(self, value: str | None) -> str:
        """A short keyed token standing for a personal value in log lines (never the value)."""
        return "#" + self.keyed_token(value, purpose="log", length=8) if value else "-"

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return _decrypt(self._fernet, token)

    def phone_hash(self, e164: str) -> str:
        """Keyed hash to find cardholders by registered phone (E.164) without storing it in clear."""
        return self.keyed_token(e164, purpose="phone", length=64)


def _decrypt(fernet: Fernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError("DATA_ENCRYPTION_KEY does not match the one the data was written with") from None


class EventCipher:
    """Rasa's tracker events at rest: each event's JSON document as a Fernet ciphertext.

    Rows written before events were encrypted hold the JSON itself; a JSON object starts with
    `{` and a Fernet token never does (it is URL-safe base64, starting `gAAAAA`), so both read.
    """

    def __init__(self, data_encryption_key: str) -> None:
        self._fernet = Fernet(data_encryption_key.encode())

    def seal(self, event_json: str) -> str:
        return self._fernet.encrypt(event_json.encode()).decode()

    def open(self, stored: str) -> str:
        """The event's JSON, from a ciphertext or from a row stored in clear."""
        return stored if is_clear_event(stored) else _decrypt(self._fernet, stored)


def is_clear_event(stored: str) -> bool:
    """Whether a tracker-store row still holds its event in clear (written before encryption)."""
    return stored.lstrip().startswith("{")


def mask_id_number(id_number: str) -> str:
    """``320102199003071016`` -> ``3201**********1016``."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_phone(e164: str) -> str:
    """``+8613900001001`` -> ``+86 139******01``: enough to tell numbers apart, not to call one.

    The last four digits stay hidden because callers prove who they are with them.
    """
    if e164.startswith("+86"):
        national = e164[3:]
        return "+86 " + national[:3] + "*" * max(len(national) - 5, 1) + national[-2:]
    digits = e164.lstrip("+")
    return "+" + digits[:2] + "*" * max(len(digits) - 4, 1) + digits[-2:]


def mask_card_number(card_number: str, *, to_holder: bool = False) -> str:
    """Staff see the first character only (``A********``); the verified holder is also told the last
    four (``*****5678``), so they can tell which card is meant without it being read out whole."""
    if to_holder:
        return "*" * (len(card_number) - 4) + card_number[-4:]
    return card_number[0] + "*" * (len(card_number) - 1)


def mask_reference(reference: str) -> str:
    """``4540067156`` -> ``******7156``: a caller quoting their loss reference can be matched by its end."""
    return "*" * (len(reference) - 4) + reference[-4:]


def mask_name(name: str) -> str:
    """``张伟`` -> ``张*``, ``Maria Garcia`` -> ``M**** G*****``: the first letter (of each part)."""
    if not name.isascii():
        return name[:1] + "*" * (len(name) - 1)
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
