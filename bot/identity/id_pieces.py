"""An ID number said or keyed in pieces over several phone turns ("320102", then "198605257079").

Callers often pause in the middle of 18 characters and the recogniser sends what it heard so
far. Pieces are joined only while they are digit runs shorter than a whole number, and the
joined number is used only when it passes the check character; anything else is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.identity.idnumbers import ID_LENGTH, is_valid_id_number
from bot.language.extraction import normalise_message
from bot.language.spoken import normalise_number

_PIECE = re.compile(r"\d{1,17}X?")
# Words said around a piece of the number ("号码是 三二零一零二", "嗯 好了 零七零七", "my ID is nine three…"),
# a pause among them ("三二零一零二 等一下 我看看身份证", "three two zero one zero two wait").
_SAID_AROUND = re.compile(
    r"嗯|呃|额|啊|那个|就是|好了|好的|我的|身份证号码|身份证号|身份证|证件号码|证件号|号码|后面是|接着是|是"
    r"|等一下|等一等|等等|等下|稍等|(?:让)?我(?:看|找|翻)(?:一下|看|找|翻)"
    r"|\b(?:my|the|id|number|is|it's|its|ok|okay|um|uh|er|then|and|wait|hold on|hang on|one sec(?:ond)?"
    r"|let me (?:check|look|see|find it))\b",
    re.IGNORECASE,
)


def id_piece(text: str) -> str | None:
    """The text as part of an ID number: a digit run shorter than 18 (X only at its end), said in
    Chinese or English digits with a few words around it, else None."""
    value = normalise_number(_SAID_AROUND.sub(" ", normalise_message(text)))
    return value if _PIECE.fullmatch(value) and len(value) < ID_LENGTH else None


@dataclass(frozen=True)
class Joined:
    """What to do with a piece: send `number` on, or keep `held` and ask for the rest."""

    number: str | None = None
    held: str | None = None


def join_piece(held: str | None, piece: str) -> Joined:
    """Add `piece` to the digits `held` from earlier turns (None if there are none).

    A whole number that passes the check character is sent on; a run still short of 18 digits
    (and not ending in X, which only the last character can be) is held; anything else is
    nothing to join (an empty `Joined`), and the piece goes on as said.
    """
    joined = (held or "") + piece
    if len(joined) == ID_LENGTH and is_valid_id_number(joined):
        return Joined(number=joined)
    if len(joined) < ID_LENGTH and not joined.endswith("X"):
        return Joined(held=joined)
    return Joined()
