"""Typed exceptions raised by the domain core; adapters translate them into replies."""


class BotError(Exception):
    """Base class for every error the core raises on purpose."""


class ConfigError(BotError):
    """A configuration value is missing or malformed."""


class InvalidIdNumber(BotError, ValueError):
    """An ID number failed validation; ``reason`` is a short machine code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidPhoneNumber(BotError, ValueError):
    """A phone number could not be parsed or is not a valid number."""


class CardNotFound(BotError):
    """No cardholder or card matches the request."""


class UnknownStatus(BotError, ValueError):
    """A card status that is not in the vocabulary."""


class InvalidTransition(BotError):
    """A card status change that the status rules do not allow."""


class LossReportNotAllowed(BotError):
    """The card is in a state where a temporary loss report cannot be made."""


class NoActiveLossReport(BotError):
    """There is no active temporary loss report to cancel."""


class CardFormallyLost(NoActiveLossReport):
    """The card was formally reported lost: no report is left to cancel, and the card is void."""


class SelfServiceUnblockDisabled(BotError):
    """This deployment does not allow cancelling loss reports by chat or phone."""


class IdentityNotVerified(BotError):
    """The details given do not match a cardholder (never says which part)."""

    def __init__(self, message: str, attempts_left: int) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class IdentityLocked(BotError):
    """Too many failed attempts: the ID number or the conversation is locked for now."""


class CardImportError(BotError):
    """A card import file has a bad row; ``line`` is the 1-based line number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class NoRegisteredMobile(BotError):
    """The holder has no mobile number on record, so no code can be sent (the hall can help)."""


class TooManyCodes(BotError):
    """Too many one-time codes were sent for this card in the last hour."""


class WrongCode(BotError):
    """The one-time code given is not the one sent; ``attempts_left`` more tries remain."""

    def __init__(self, message: str, attempts_left: int) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class CodeAttemptsExhausted(BotError):
    """The last try at the one-time code failed: the attempt ends."""


class CodeExpired(BotError):
    """There is no live one-time code for this card in this conversation (expired, used or never sent)."""


class UnblockCodeRequired(BotError):
    """An unblock was asked for without a one-time code checked in this conversation."""
