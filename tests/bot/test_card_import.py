import datetime as dt

import pytest

from bot.cards.card_import import HEADER, apply_rows, parse_csv
from bot.cards.holders import describe_cardholder, get_cardholder
from bot.cards.loss_reports import create_loss_report
from bot.errors import CardImportError
from tests.factories import HEADER_LINE, ID_WANG, ID_ZHANG, ROW_WANG, ROW_ZHANG, outbox_for
from tests.support import NOW


def csv_bytes(*rows: str, bom: bool = False) -> bytes:
    text = "\n".join([HEADER_LINE, *rows]) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def test_parse_valid_file_with_bom():
    rows = parse_csv(csv_bytes(ROW_ZHANG, ROW_WANG, bom=True), now=NOW)
    assert [r.id_number for r in rows] == [ID_ZHANG, ID_WANG]
    assert rows[0].phone == "+8613912345678"
    assert rows[1].phone == "+861012345678"
    assert rows[0].updated_at == dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (ROW_WANG.replace(ID_WANG, ID_WANG[:-1] + "6"), "id_number: the check character"),
        (ROW_WANG.replace("010-12345678", "12345"), "phone:"),
        (ROW_WANG.replace("3K0012345", "3K00123"), "card_number"),
        (ROW_WANG.replace("ready_for_pickup", "ready"), "status must be one of"),
        (ROW_WANG.replace("ready_for_pickup", "loss_reported"), "set by a loss report"),
        (ROW_WANG.replace("320102,", "32010,"), "region"),
        (ROW_WANG.replace("王芳", " "), "name is empty"),
        (ROW_WANG.replace("+08:00", ""), "UTC offset"),
        (ROW_WANG.replace("2026-11-18T14:00:00", "yesterday"), "ISO 8601"),
        (ROW_WANG.replace("2026-11-18", "2027-11-18"), "in the future"),
        (ROW_WANG + ",extra", "expected 8 fields, found 9"),
        (ROW_ZHANG.replace("A12345678", "B12345678"), "id_number already given on line 2"),
        (ROW_WANG.replace("3K0012345", "A12345678"), "card_number already given on line 2"),
    ],
)
def test_bad_row_names_its_line(bad_row, reason):
    with pytest.raises(CardImportError) as caught:
        parse_csv(csv_bytes(ROW_ZHANG, bad_row), now=NOW)
    assert caught.value.line == 3
    assert str(caught.value).startswith("line 3: ")
    assert reason in str(caught.value)


def test_reasons_do_not_echo_personal_values():
    bad = ROW_WANG.replace(ID_WANG, ID_WANG[:-1] + "6")
    with pytest.raises(CardImportError) as caught:
        parse_csv(csv_bytes(bad), now=NOW)
    assert ID_WANG[:-1] not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"", 1),
        (b"id,name\n1,2\n", 1),
        (HEADER_LINE.encode() + b"\n", 2),
        (csv_bytes(ROW_ZHANG) + b'"unterminated,quote\n', 3),
        (csv_bytes(ROW_ZHANG) + "\u5f20".encode("gbk") + b"\n", 3),
    ],
)
def test_malformed_files(data, line):
    with pytest.raises(CardImportError) as caught:
        parse_csv(data, now=NOW)
    assert caught.value.line == line


def test_import_then_describe_round_trips_every_field(session, settings, vault):
    rows = parse_csv(csv_bytes(ROW_ZHANG, ROW_WANG), now=NOW)
    result = apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=rows, now=NOW)
    session.commit()
    assert (result.created, result.updated) == (2, 0)
    record = describe_cardholder(
        get_cardholder(session, vault=vault, id_number=ID_WANG), vault=vault, tz=settings.timezone
    )
    assert {k: record[k] for k in HEADER} == {
        "id_number": ID_WANG,
        "name": "王芳",
        "phone": "+861012345678",
        "card_number": "3K0012345",
        "status": "ready_for_pickup",
        "region": "320102",
        "office": "玄武区社保服务中心",
        "updated_at": "2026-11-18T14:00:00+08:00",
    }
    assert record["status_label"] == {"zh": "待领取", "en": "ready for pickup"}


def test_reimport_updates_by_id_number_and_keeps_history(session, settings, vault):
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(ROW_WANG), now=NOW), now=NOW)
    issued = ROW_WANG.replace("ready_for_pickup", "issued").replace("2026-11-18T14:00", "2026-11-19T10:00")
    result = apply_rows(
        session,
        vault=vault,
        outbox=outbox_for(vault),
        rows=parse_csv(csv_bytes(issued.replace("王芳", "王 芳")), now=NOW),
        now=NOW,
    )
    session.commit()
    assert (result.created, result.updated) == (0, 1)
    holder = get_cardholder(session, vault=vault, id_number=ID_WANG)
    assert holder.name == "王 芳"
    assert [(c.from_status, c.to_status) for c in holder.current_card.history] == [
        (None, "ready_for_pickup"),
        ("ready_for_pickup", "issued"),
    ]


def test_card_number_of_another_holder_is_refused(session, vault):
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(ROW_ZHANG), now=NOW), now=NOW)
    stolen = ROW_WANG.replace("3K0012345", "A12345678")
    with pytest.raises(CardImportError) as caught:
        apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(stolen), now=NOW), now=NOW)
    assert caught.value.line == 2


def test_reimport_leaving_loss_reported_closes_the_report(session, settings, vault):
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(ROW_ZHANG), now=NOW), now=NOW)
    card = get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card
    report, _ = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=settings.loss_policy, now=NOW
    )
    lost = ROW_ZHANG.replace("active", "lost").replace("2026-03-01T09:30", "2026-11-20T10:00")
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(lost), now=NOW), now=NOW)
    session.commit()
    assert report.state == "formalised"
    assert card.status == "lost"


def test_id_numbers_are_not_stored_in_clear(session, engine, vault):
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(ROW_ZHANG), now=NOW), now=NOW)
    session.commit()
    with engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.exec_driver_sql("SELECT * FROM cardholders") for v in row)
    assert ID_ZHANG not in dump
    assert ID_ZHANG[:17] not in dump


def test_an_older_row_does_not_undo_a_loss_report_made_since(session, settings, vault):
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(ROW_ZHANG), now=NOW), now=NOW)
    card = get_cardholder(session, vault=vault, id_number=ID_ZHANG).current_card
    report, _ = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="voice", policy=settings.loss_policy, now=NOW
    )
    stale = ROW_ZHANG.replace("2026-03-01T09:30", "2026-11-20T08:00").replace("朝阳区", "海淀区")
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(stale), now=NOW), now=NOW)
    session.commit()
    assert (card.status, report.state) == ("loss_reported", "active")
    assert card.office.startswith("海淀区")  # the other details still update


def _card_ready_notices(session, vault) -> list[str]:
    from sqlalchemy import select

    from bot.models import OutboundMessage

    return [
        vault.decrypt(m.body_cipher)
        for m in session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "card_ready"))
    ]


def _import(session, vault, *rows: str) -> None:
    apply_rows(session, vault=vault, outbox=outbox_for(vault), rows=parse_csv(csv_bytes(*rows), now=NOW), now=NOW)


def test_a_card_made_ready_by_import_is_announced_once_with_its_office(session, vault):
    in_production = ROW_ZHANG.replace("active", "in_production")
    ready = ROW_ZHANG.replace("active", "ready_for_pickup").replace("2026-03-01T09:30", "2026-11-19T09:30")
    _import(session, vault, in_production)
    assert _card_ready_notices(session, vault) == []
    _import(session, vault, ready)
    (notice,) = _card_ready_notices(session, vault)
    assert "朝阳区社保服务大厅" in notice and ID_ZHANG not in notice
    _import(session, vault, ready)  # the same row again
    assert len(_card_ready_notices(session, vault)) == 1


def test_a_first_load_announces_nothing_but_a_replacement_card_does(session, vault):
    first = ROW_ZHANG.replace("active", "ready_for_pickup")
    _import(session, vault, first)
    assert _card_ready_notices(session, vault) == []
    replacement = first.replace("A12345678", "A99999999").replace("2026-03-01T09:30", "2026-11-19T14:00")
    _import(session, vault, replacement)
    assert len(_card_ready_notices(session, vault)) == 1


def test_a_landline_gets_no_sms(session, vault):
    _import(session, vault, ROW_WANG.replace("ready_for_pickup", "in_production"))
    _import(session, vault, ROW_WANG.replace("2026-11-18T14:00", "2026-11-19T14:00"))
    assert _card_ready_notices(session, vault) == []
