"""Cardholders of their own for end-to-end tests, so no test depends on what another one did."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from bot.identity.idnumbers import with_check_character

HEADER = "id_number,name,phone,card_number,status,region,office,updated_at"
OFFICE = "鼓楼区社保服务点"
_SERIAL = itertools.count(1)


@dataclass(frozen=True)
class Holder:
    id_number: str
    name: str
    phone: str


def add_holder(stack, work: Path, name: str, status: str = "active", *, foreign: bool = False) -> Holder:
    """Import one cardholder with a fresh valid ID number (a foreign permanent resident's, starting
    with 9, when `foreign`) into the stack's card database."""
    n = next(_SERIAL)
    first17 = f"93225019800520{n:03d}" if foreign else f"32010619750303{n:03d}"
    holder = Holder(with_check_character(first17), name, f"+8613600{n:06d}")
    row = f"{holder.id_number},{name},{holder.phone},CF{n:07d},{status},320106,{OFFICE},2026-01-05T09:00:00+08:00"
    path = work / f"holder-{n}.csv"
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    result = stack.cli("cards", "import", str(path))
    assert result.returncode == 0, result.stderr
    return holder
