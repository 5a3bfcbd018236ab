"""No personal value reaches a staff page unmasked, whoever said it and wherever it is shown.

A conversation where both sides speak personal data: the person types an ID number, a wrong name
and a phone number; the assistant reads the ID number back digit by digit (as on the phone),
echoes the wrong name and names the card and the phone's last four digits. Every console page a
reviewer can open (and an admin's without a reveal) must show none of it; an admin's reveal must
show all of it, which proves the values really were in the transcript the pages read.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest

from bot.models import utcnow
from bot.review.accounts import add_staff_user
from bot.services import report_card_lost
from tests.factories import ID_ZHANG, add_card, save_conversation
from tests.support import PASSWORD, make_web_settings, sign_in, token
from webhooks import create_app

CONVERSATION = "web-masking"
READ_BACK = "，".join(ID_ZHANG)  # 1，1，0，1，… as the voice replies read an ID number
TURNS = [
    ("我的卡丢了", "report_loss", 0.96, "请提供您的身份证号码。"),
    (f"{ID_ZHANG[:6]} {ID_ZHANG[6:14]} {ID_ZHANG[14:]}", "inform", 0.99, f"您的身份证号码是 {READ_BACK}，对吗？"),
    ("李四", "inform", 0.93, "李四，这个姓名与登记的不一致，请再说一次。"),
    ("张伟", "inform", 0.95, "张伟您好，您的卡号 A12345678，登记手机尾号 5678。"),
    ("有事打 13912345678 找我", "nlu_fallback", 0.31, "好的，我们会致电 139 1234 5678 联系您。"),
]
# Each value in the forms it was said in; none may appear on a masked page.
PERSONAL = [
    ID_ZHANG,
    ID_ZHANG[6:14],
    READ_BACK,
    "李四",
    "张伟",
    "A12345678",
    "13912345678",
    "139 1234 5678",
    "尾号 5678",
]


@pytest.fixture
def console(settings, sessions, vault, tmp_path):
    tracker_db = tmp_path / "tracker.db"
    save_conversation(tracker_db, CONVERSATION, TURNS)
    with sessions.begin() as db:
        add_card(db, vault)
        report_card_lost(
            db, settings=settings, id_number=ID_ZHANG, conversation_id=CONVERSATION, channel="chat", now=utcnow()
        )
        add_staff_user(db, username="li.reviewer", password=PASSWORD, role="reviewer")
        add_staff_user(db, username="wang.admin", password=PASSWORD, role="admin")
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tracker_db}")
    app = create_app({"WEB": web, "TESTING": True})
    clients = {}
    for name in ("li.reviewer", "wang.admin"):
        clients[name] = app.test_client()
        assert sign_in(clients[name], name).status_code == 302
    return clients


def shown_values(page: str) -> list[str]:
    return [value for value in PERSONAL if value in page]


def flag_page(client) -> tuple[str, str]:
    """The path and page of the conversation's flag, found as staff find it: in the queue."""
    (path,) = set(re.findall(r'href="(/staff/flags/\d+)"', client.get("/staff/flags").get_data(as_text=True)))
    return path, client.get(path).get_data(as_text=True)


def test_no_personal_value_on_any_page_a_reviewer_opens(console):
    reviewer = console["li.reviewer"]
    path, page = flag_page(reviewer)
    assert "我的卡丢了" in page and "请再说一次" in page  # the transcript is there, both sides of it
    assert shown_values(page) == []
    csrf = token(reviewer, path)
    reviewer.post(
        f"{path}/note", data={"csrf_token": csrf, "text": f"回拨 13912345678，张伟的卡 A12345678，{ID_ZHANG}"}
    )
    page = reviewer.get(path).get_data(as_text=True)
    assert "回拨" in page and shown_values(page) == []
    for other in ("/staff/", "/staff/flags", "/staff/flags.csv"):
        assert shown_values(reviewer.get(other).get_data(as_text=True)) == [], other


def test_a_name_the_person_gave_is_masked_in_a_note_too(console):
    reviewer = console["li.reviewer"]
    path, _ = flag_page(reviewer)
    reviewer.post(f"{path}/note", data={"csrf_token": token(reviewer, path), "text": "来电者自称李四"})
    page = reviewer.get(path).get_data(as_text=True)
    assert "来电者自称" in page and "李四" not in page


def test_the_assistants_own_lines_are_masked_like_the_persons(console):
    _, page = flag_page(console["li.reviewer"])
    assert "您的身份证号码是" in page and READ_BACK not in page
    assert "这个姓名与登记的不一致" in page and "李*" in page
    assert "我们会致电" in page and "139 1234 5678" not in page


def test_an_admin_sees_them_only_after_a_reveal(console):
    admin = console["wang.admin"]
    path, page = flag_page(admin)
    assert shown_values(page) == []
    revealed = admin.post(f"{path}/reveal", data={"csrf_token": token(admin, path), "reason": "来电核实，说是张伟的卡"})
    assert set(shown_values(revealed.get_data(as_text=True))) == set(PERSONAL)  # what the masked pages hide is there
    assert shown_values(admin.get(path).get_data(as_text=True)) == []  # and hidden again afterwards


@pytest.mark.parametrize(
    "reason",
    [
        "来电 13912345678 说是张伟的卡",
        "李四来电说是这张卡",
    ],
)
def test_a_reveal_reason_quoting_the_person_is_masked_in_the_audit_log(console, reason):
    admin = console["wang.admin"]
    path, _ = flag_page(admin)
    admin.post(f"{path}/reveal", data={"csrf_token": token(admin, path), "reason": reason})
    audit = admin.get("/staff/audit").get_data(as_text=True)
    assert "来电" in audit and shown_values(audit) == []


def test_the_csv_export_holds_ids_and_outcomes_only(console):
    export = console["li.reviewer"].get("/staff/flags.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert rows and {row["conversation_id"] for row in rows} == {CONVERSATION}
    assert shown_values(export) == []
