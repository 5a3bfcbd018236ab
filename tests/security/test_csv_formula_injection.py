"""Threat: a value a citizen controls reaches the staff CSV export and runs as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest

from bot.review.flags import flag_conversation
from bot.review.queue import spreadsheet_safe

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "＝1+1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_starting_like_a_formula_is_quoted(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["web-5f3a", "2026-11-20T10:00:00+08:00", "", 42, "a=b"])
def test_ordinary_cells_are_unchanged(value):
    assert spreadsheet_safe(value) == value


def test_the_export_quotes_formulas_in_every_row(reviewer, sessions):
    with sessions.begin() as db:
        for value in FORMULAS:
            flag_conversation(db, conversation_id=value, channel="chat", reason="nlu_fallback")
    response = reviewer.get("/staff/flags.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    exported = sorted(row["conversation_id"] for row in rows)
    assert exported == sorted("'" + value for value in FORMULAS)
    for row in rows:
        assert not any(str(cell).startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
