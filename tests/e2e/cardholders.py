"""Cardholders of their own for end-to-end tests, so no test depends on what another one did."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from bot.idnumbers import with_check_character

HEADER = "id_number,name,phone,card_number,status,region,office,updated_at"
_SERIAL = itertools.count(1)


@dataclass(frozen=True)
class Holder:
    id_number: str
    name: str
    phone: str


def add_holder(stack, work: Path, name: str, status: str = "active") -> Holder:
    """Import one cardholder with a fresh valid ID number into the stack's card database."""
    n = next(_SERIAL)
    holder = Holder(with_check_character(f"32010619750303{n:03d}"), name, f"+8613600{n:06d}")
    row = (
        f"{holder.id_number},{name},{holder.phone},CF{n:07d},{status},320106,鼓楼区社保服务点,2026-01-05T09:00:00+08:00"
    )
    path = work / f"holder-{n}.csv"
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    result = stack.cli("cards", "import", str(path))
    assert result.returncode == 0, result.stderr
    return holder
