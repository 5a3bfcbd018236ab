"""The operator CLI, run in-process with its own SQLite database (and once as `python -m bot`)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bot.cards.demo import DEMO_CARDHOLDERS, LOSS_REPORTED_DEMO
from bot.cli import main
from bot.db import make_engine
from bot.identity.idnumbers import with_check_character
from tests.factories import ID_UNKNOWN, ID_WANG, ID_ZHANG, ROW_WANG, ROW_ZHANG
from tests.support import database_rows, run_cli, write_csv


def test_import_then_show_json_round_trips(cli_env, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG, ROW_WANG)))
    assert code == 0 and "2 new" in out
    code, out, _ = run_cli(capsys, "cards", "show", ID_ZHANG.lower(), "--json")
    record = json.loads(out)
    assert code == 0
    assert record["id_number"] == ID_ZHANG
    assert record["phone"] == "+8613912345678"
    assert record["updated_at"] == "2026-03-01T09:30:00+08:00"
    assert record["loss_reports"] == []


def test_bad_check_character_imports_nothing_and_names_the_line(cli_env, tmp_path, capsys):
    bad = ROW_WANG.replace(ID_WANG, ID_WANG[:-1] + "6")
    code, _, err = run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG, bad)))
    assert code == 2
    assert err.startswith("line 3: id_number")
    code, _, err = run_cli(capsys, "cards", "show", ID_ZHANG)
    assert code == 1 and "not found" in err


def test_reimport_with_a_bad_row_leaves_earlier_data_untouched(cli_env, tmp_path, capsys):
    run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG)))
    changed = ROW_ZHANG.replace("张伟", "张大伟")
    bad = ROW_WANG.replace("ready_for_pickup", "nope")
    code, _, _ = run_cli(capsys, "cards", "import", str(write_csv(tmp_path, changed, bad, name="b.csv")))
    assert code == 2
    _, out, _ = run_cli(capsys, "cards", "show", ID_ZHANG, "--json")
    assert json.loads(out)["name"] == "张伟"


def test_missing_file_and_malformed_id(cli_env, tmp_path, capsys):
    code, _, err = run_cli(capsys, "cards", "import", str(tmp_path / "nope.csv"))
    assert code == 2 and "cannot read" in err
    code, _, err = run_cli(capsys, "cards", "show", "12345")
    assert code == 2 and "18 characters" in err


def test_set_status_follows_the_rules(cli_env, tmp_path, capsys):
    run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_WANG)))
    code, out, _ = run_cli(capsys, "cards", "set-status", ID_WANG, "issued")
    assert code == 0 and "ready_for_pickup -> issued" in out
    code, _, err = run_cli(capsys, "cards", "set-status", ID_WANG, "submitted")
    assert code == 2 and "cannot go from issued to submitted" in err
    code, _, err = run_cli(capsys, "cards", "set-status", ID_WANG, "found")
    assert code == 2 and "unknown status" in err
    _, out, _ = run_cli(capsys, "cards", "show", ID_WANG, "--json")
    assert json.loads(out)["status"] == "issued"


def test_demo_seed_covers_every_status_and_runs_once(cli_env, capsys):
    code, out, _ = run_cli(capsys, "demo", "seed")
    assert code == 0
    for holder in DEMO_CARDHOLDERS:
        assert holder.id_number in out
    _, out, _ = run_cli(capsys, "cards", "show", LOSS_REPORTED_DEMO.id_number, "--json")
    record = json.loads(out)
    assert record["status"] == "loss_reported"
    assert [r["state"] for r in record["loss_reports"]] == ["active"]
    shown = set()
    for holder in DEMO_CARDHOLDERS:
        _, out, _ = run_cli(capsys, "cards", "show", holder.id_number, "--json")
        shown.add(json.loads(out)["status"])
    assert len(shown) == 11
    code, _, err = run_cli(capsys, "demo", "seed")
    assert code == 2 and "empty" in err


def test_flags_list_json(cli_env, capsys):
    code, out, _ = run_cli(capsys, "flags", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_staff_add_user_reads_password_from_stdin(cli_env, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    code, out, _ = run_cli(capsys, "staff", "add-user", "liwei", "--role", "reviewer")
    assert code == 0 and "liwei (reviewer)" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = run_cli(capsys, "staff", "add-user", "zhao", "--role", "admin")
    assert code == 2 and "at least" in err


def test_unreachable_database_is_a_clear_error(cli_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:9/none")
    code, _, err = run_cli(capsys, "flags", "list")
    assert code == 3 and "database error" in err and "secret" not in err


def test_no_id_numbers_in_logs(cli_env, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    assert run_cli(capsys, "demo", "seed")[0] == 0
    assert run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG, ROW_WANG)))[0] == 0
    assert run_cli(capsys, "cards", "show", ID_ZHANG, "--json")[0] == 0
    assert caplog.records  # the loss report of the demo data is logged, by id
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for value in (ID_ZHANG, ID_WANG, LOSS_REPORTED_DEMO.id_number, "张伟", "13912345678"):
        assert value not in logged


def test_python_dash_m_bot_exit_codes(cli_env, tmp_path):
    bad = write_csv(tmp_path, ROW_ZHANG.replace("active", "activated"))
    result = subprocess.run([sys.executable, "-m", "bot", "cards", "import", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("line 2: status must be one of: submitted, under_review")
    assert "Traceback" not in result.stderr


def test_review_export_nlu_writes_rasa_yaml_without_partial_files(cli_env, tmp_path, capsys):
    from bot.db import make_engine, make_session_factory
    from bot.models import NluLabel

    engine = make_engine(cli_env["DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        session.add(NluLabel(conversation_id="web-1", message_id="m1", text="卡不见了咋整", intent="report_loss"))
        session.add(NluLabel(conversation_id="web-1", message_id="m2", text="找个真人", intent="request_human"))
    engine.dispose()
    code, out, err = run_cli(capsys, "review", "export-nlu")
    assert code == 0 and "- intent: report_loss" in out and "    - 卡不见了咋整" in out and "2 labelled" in err
    target = tmp_path / "reviewed.yml"
    assert run_cli(capsys, "review", "export-nlu", "--output", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == out
    code, out, _ = run_cli(capsys, "review", "export-nlu", "--since", "2999-01-01")
    assert code == 0 and "nlu: []" in out
    code, _, err = run_cli(capsys, "review", "export-nlu", "--output", str(tmp_path / "missing" / "x.yml"))
    assert code == 2 and "cannot write" in err and not list(tmp_path.glob("missing*"))
    with pytest.raises(SystemExit) as bad_date:
        main(["review", "export-nlu", "--since", "yesterday"])
    assert bad_date.value.code == 2


def test_review_merge_nlu_adds_labels_and_names_every_refusal(cli_env, tmp_path, capsys):
    import shutil

    from sqlalchemy import select

    from bot.db import make_engine, make_session_factory
    from bot.models import AuditEntry, NluLabel
    from bot.training.nlu_merge import DATA_DIR

    data = shutil.copytree(DATA_DIR, tmp_path / "nlu")
    engine = make_engine(cli_env["DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        for n, (text, intent) in enumerate([("卡让耗子啃了个洞还能用吗", "replace_card"), ("你好", "greet")]):
            session.add(NluLabel(conversation_id="web-1", message_id=f"m{n}", text=text, intent=intent))
    code, out, err = run_cli(capsys, "review", "merge-nlu", "--data-dir", str(data))
    assert code == 0, err
    assert f"merged 1 examples into {data}: replace_card 1" in out
    assert "refused label 2 (greet): the same or nearly the same as a held-out test message" in out
    assert "    - 卡让耗子啃了个洞还能用吗" in (data / "replace_card.yml").read_text(encoding="utf-8")
    code, out, _ = run_cli(capsys, "review", "merge-nlu", "--data-dir", str(data))
    assert code == 0 and "merged 0 examples" in out and "skipped 1 already in the training data" in out
    with make_session_factory(engine).begin() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "nlu_merged")).all()
        assert [json.loads(a.detail) for a in audits] == [
            {"added": 1, "skipped": 0, "refused": 1},
            {"added": 0, "skipped": 1, "refused": 1},
        ]
    engine.dispose()
    code, _, err = run_cli(capsys, "review", "merge-nlu", "--data-dir", str(tmp_path / "absent"))
    assert code == 2 and "cannot write" in err and not (tmp_path / "absent").exists()


def test_demo_list_needs_no_database(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    code, out, _ = run_cli(capsys, "demo", "list")
    assert code == 0 and all(d.id_number in out for d in DEMO_CARDHOLDERS)


@pytest.fixture
def card_database(cli_env):
    engine = make_engine(cli_env["DATABASE_URL"])
    yield engine
    engine.dispose()


def test_a_row_refused_while_it_is_written_leaves_the_rows_before_it_unwritten(card_database, tmp_path, capsys):
    """Line 4 passes every check of the file and is refused only against the database (its card
    number is another holder's): the new holder on line 2 and the change on line 3 must not stay."""
    other_id = with_check_character("11010519800101001")
    other = f"{other_id},周杰,13900001009,C00000001,active,110105,朝阳区,2026-03-01T09:30:00+08:00"
    run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG, other)))
    before = database_rows(card_database)
    takes_other = f"{ID_UNKNOWN},李娜,13900001003,C00000001,active,320102,玄武区,2026-03-01T09:30:00+08:00"
    rows = (ROW_WANG, ROW_ZHANG.replace("张伟", "张大伟").replace("active", "issued"), takes_other)
    code, out, err = run_cli(capsys, "cards", "import", str(write_csv(tmp_path, *rows, name="b.csv")))
    assert (code, out) == (2, "")
    assert err.startswith("line 4: card_number already belongs to another cardholder")
    assert database_rows(card_database) == before


def test_a_card_number_never_moves_to_another_known_holder(card_database, tmp_path, capsys):
    run_cli(capsys, "cards", "import", str(write_csv(tmp_path, ROW_ZHANG, ROW_WANG)))
    before = database_rows(card_database)
    taken = ROW_WANG.replace("3K0012345", "A12345678").replace("2026-11-18", "2026-11-19")
    code, _, err = run_cli(capsys, "cards", "import", str(write_csv(tmp_path, taken, name="b.csv")))
    assert code == 2 and err.startswith("line 2: card_number already belongs to another cardholder")
    assert database_rows(card_database) == before
