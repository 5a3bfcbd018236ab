"""The staff console through the Flask test client: sign-in, roles, CSRF, masking, audit, export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.models import AuditEntry, Flag, NluLabel, StaffUser
from bot.review.flags import flag_conversation
from tests.factories import ID_ZHANG, save_conversation
from tests.support import PASSWORD, make_web_settings, sign_in, token
from webhooks import create_app


def test_every_console_page_needs_a_session(staff_app, flagged):
    client = staff_app.test_client()
    csrf = token(client)  # a valid token, so POSTs are refused for want of a session, not of a token
    pages = [r.rule for r in staff_app.url_map.iter_rules() if r.rule.startswith("/staff") and r.rule != "/staff/login"]
    assert len(pages) >= 12
    for rule in pages:
        path = re.sub(r"<id:\w+>", "1", rule.replace("<id:flag_id>", str(flagged["loss"])))
        for method in ("GET", "POST"):
            response = client.open(path, method=method, data={"csrf_token": csrf} if method == "POST" else None)
            if response.status_code == 405:
                continue
            assert response.status_code == 302, (method, path)
            assert "/staff/login" in response.headers["Location"]


def test_sign_in_and_out(staff_app, flagged, sessions):
    client = staff_app.test_client()
    assert sign_in(client, "li.reviewer", "wrong password!").status_code == 401
    response = sign_in(client, "li.reviewer", query_string={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert "li.reviewer" in client.get("/staff/").get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": token(client, "/staff/")})
    assert client.get("/staff/flags").status_code == 302
    with sessions() as db:
        user = db.scalars(select(StaffUser).where(StaffUser.username == "li.reviewer")).one()
        assert user.last_login_at is not None
        assert db.scalars(select(AuditEntry.action).where(AuditEntry.actor == "staff:li.reviewer")).all() == [
            "staff_login"
        ]


def test_sign_in_goes_back_to_the_page_asked_for(staff_app, flagged):
    client = staff_app.test_client()
    asked = client.get("/staff/flags?reason=loss_reported")
    next_page = re.search(r"next=([^\s\"&]+)", asked.headers["Location"]).group(1)
    response = sign_in(
        client,
        "li.reviewer",
        query_string={"next": next_page.replace("%2F", "/").replace("%3F", "?").replace("%3D", "=")},
    )
    assert response.headers["Location"] == "/staff/flags?reason=loss_reported"


def test_failed_sign_ins_are_throttled_per_user_name(staff_app, flagged):
    client = staff_app.test_client()
    for _ in range(5):
        assert sign_in(client, "wang.admin", "not the password").status_code == 401
    refused = sign_in(client, "wang.admin")  # even the right password, for a while
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.get_data(as_text=True)
    assert sign_in(client, "li.reviewer").status_code == 302  # other accounts are unaffected


def test_behind_a_proxy_sign_ins_are_counted_per_client(settings, sessions, flagged):
    web = replace(make_web_settings(settings), trusted_proxies=1)
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    for n in range(20):
        sign_in(client, f"nobody{n}", "not the password")
    assert sign_in(client, "li.reviewer").status_code == 429  # this client made 20 failed attempts
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    assert sign_in(client, "li.reviewer").status_code == 302  # another client, behind the same proxy, is not


def test_a_deactivated_account_loses_access_at_once(reviewer, sessions):
    with sessions.begin() as db:
        db.scalars(select(StaffUser).where(StaffUser.username == "li.reviewer")).one().active = False
    assert reviewer.get("/staff/flags").status_code == 302


def test_queue_filters_counts_and_pages(reviewer, flagged):
    page = reviewer.get("/staff/flags").get_data(as_text=True)
    assert page.count('href="/staff/flags/') == 5
    assert "共 5 条" in page
    voice = reviewer.get("/staff/flags?channel=voice").get_data(as_text=True)
    assert voice.count('href="/staff/flags/') == 3 and "要求人工 <b>3</b>" in voice
    losses = reviewer.get("/staff/flags?reason=loss_reported").get_data(as_text=True)
    assert 'name="flag_ids"' in losses  # bulk review is offered for loss reports only
    assert 'name="flag_ids"' not in voice
    bad = reviewer.get("/staff/flags?reason=bogus&page=x&channel=voice")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "“reason”无效" in text and "“page”无效" in text
    assert text.count('href="/staff/flags/') == 3  # the valid filter still applies
    english = reviewer.get("/staff/flags?lang=en").get_data(as_text=True)
    assert "Review queue" in english and "5 in all" in english
    assert "Review queue" in reviewer.get("/staff/flags").get_data(as_text=True)  # the choice sticks


def test_transcript_is_masked_with_intents_and_the_linked_card(reviewer, flagged):
    page = reviewer.get(f"/staff/flags/{flagged['loss']}").get_data(as_text=True)
    assert "我的卡丢了" in page and "report_loss" in page and "0.96" in page
    assert "1101**********002X" in page  # the ID number the person typed, masked
    assert ID_ZHANG not in page and ID_ZHANG[6:14] not in page
    assert "张伟" not in page and "张*" in page
    assert "13912345678" not in page and "+86 139******78" in page
    reference = flagged["reference"]
    assert reference not in page and f"******{reference[-4:]}" in page  # masked as in transcripts
    assert f'href="/staff/flags/{flagged["fallback"]}"' in page  # the conversation's other flag
    assert "nlu_fallback" in page and 'name="intent"' in page
    assert 'action="/staff/flags/' in page and "/reveal" not in page  # reviewers cannot reveal


def test_mark_reviewed_persists_and_is_audited(reviewer, flagged, sessions):
    flag_id = flagged["loss"]
    response = reviewer.post(
        f"/staff/flags/{flag_id}/review", data={"csrf_token": token(reviewer, f"/staff/flags/{flag_id}")}
    )
    assert response.status_code == 303
    with sessions() as db:
        flag = db.get(Flag, flag_id)
        assert flag.status == "reviewed" and flag.reviewed_at is not None
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "flag_reviewed")).one()
        assert (entry.actor, entry.target_id) == ("staff:li.reviewer", str(flag_id))
    assert "已审" in reviewer.get(f"/staff/flags/{flag_id}").get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(reviewer, flagged, sessions):
    flag_id = flagged["loss"]
    for action, data in (("review", {}), ("escalate", {}), ("assign", {}), ("note", {"text": "x"})):
        response = reviewer.post(f"/staff/flags/{flag_id}/{action}", data=data)
        assert response.status_code == 400
    assert reviewer.post("/staff/flags/bulk-review", data={"flag_ids": [flag_id]}).status_code == 400
    wrong = reviewer.post(f"/staff/flags/{flag_id}/review", data={"csrf_token": "forged"})
    assert wrong.status_code == 400 and "表单已过期或无效" in wrong.get_data(as_text=True)
    with sessions() as db:
        flag = db.get(Flag, flag_id)
        assert (flag.status, flag.assignee_id, flag.notes) == ("open", None, [])
        assert db.scalars(select(AuditEntry).where(AuditEntry.target_type == "flag")).all() == []


def test_notes_assignment_escalation_and_bulk_review(reviewer, flagged, sessions):
    loss, fallback = flagged["loss"], flagged["fallback"]
    csrf = token(reviewer, f"/staff/flags/{fallback}")
    reviewer.post(f"/staff/flags/{fallback}/assign", data={"csrf_token": csrf})
    reviewer.post(f"/staff/flags/{fallback}/escalate", data={"csrf_token": csrf})
    reviewer.post(f"/staff/flags/{fallback}/note", data={"csrf_token": csrf, "text": "需要回访"})
    empty = reviewer.post(f"/staff/flags/{fallback}/note", data={"csrf_token": csrf, "text": "   "})
    assert empty.status_code == 400
    page = reviewer.get(f"/staff/flags/{fallback}").get_data(as_text=True)
    assert "需要回访" in page and "已升级" in page and "flag_assigned" in page
    refused = reviewer.post("/staff/flags/bulk-review", data={"csrf_token": csrf, "flag_ids": [loss, fallback]})
    assert refused.status_code == 303
    with sessions() as db:
        assert db.get(Flag, loss).status == "open"  # a mixed batch changes nothing
    reviewer.post("/staff/flags/bulk-review", data={"csrf_token": csrf, "flag_ids": [loss]})
    with sessions() as db:
        assert db.get(Flag, loss).status == "reviewed"
        assert db.get(Flag, fallback).assignee.username == "li.reviewer"


def test_only_an_admin_reveals_and_every_reveal_is_audited(reviewer, admin, flagged, sessions):
    flag_id = flagged["loss"]
    csrf = token(reviewer, f"/staff/flags/{flag_id}")
    assert (
        reviewer.post(f"/staff/flags/{flag_id}/reveal", data={"csrf_token": csrf, "reason": "just curious"}).status_code
        == 403
    )
    assert reviewer.get("/staff/users").status_code == 403
    csrf = token(admin, f"/staff/flags/{flag_id}")
    no_reason = admin.post(f"/staff/flags/{flag_id}/reveal", data={"csrf_token": csrf, "reason": ""})
    assert no_reason.status_code == 400 and ID_ZHANG not in no_reason.get_data(as_text=True)
    shown = admin.post(
        f"/staff/flags/{flag_id}/reveal", data={"csrf_token": csrf, "reason": "citizen disputes the report"}
    )
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and ID_ZHANG in page and "张伟" in page and "+8613912345678" in page
    assert ID_ZHANG not in admin.get(f"/staff/flags/{flag_id}").get_data(as_text=True)  # masked again
    with sessions() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data_revealed")).all()
    assert [(e.actor, e.target_id) for e in entries] == [("staff:wang.admin", str(flag_id))]
    assert "citizen disputes" in entries[0].detail


def test_admin_manages_accounts(admin, sessions):
    csrf = token(admin, "/staff/users")
    weak = admin.post(
        "/staff/users", data={"csrf_token": csrf, "username": "zhao", "password": "short", "role": "reviewer"}
    )
    assert weak.status_code == 400
    made = admin.post(
        "/staff/users", data={"csrf_token": csrf, "username": "zhao.li", "password": PASSWORD, "role": "reviewer"}
    )
    assert made.status_code == 303
    with sessions() as db:
        user = db.scalars(select(StaffUser).where(StaffUser.username == "zhao.li")).one()
    admin.post(f"/staff/users/{user.id}/active", data={"csrf_token": csrf})
    with sessions() as db:
        assert db.get(StaffUser, user.id).active is False
    assert "staff_deactivated" in admin.get("/staff/audit").get_data(as_text=True)


def test_labelling_a_missed_message_feeds_the_export(reviewer, flagged, sessions):
    flag_id = flagged["fallback"]
    csrf = token(reviewer, f"/staff/flags/{flag_id}")
    saved = reviewer.post(
        f"/staff/flags/{flag_id}/label", data={"csrf_token": csrf, "message_id": "m3", "intent": "request_human"}
    )
    assert saved.status_code == 303
    foreign = reviewer.post(
        f"/staff/flags/{flag_id}/label", data={"csrf_token": csrf, "message_id": "zz", "intent": "greet"}
    )
    assert foreign.status_code == 400
    with sessions() as db:
        (label,) = db.scalars(select(NluLabel)).all()
    assert label.intent == "request_human" and label.predicted_intent == "nlu_fallback"
    assert "13912345678" not in label.text and label.text.startswith("那啥 电话")
    assert "request_human" in reviewer.get(f"/staff/flags/{flag_id}").get_data(as_text=True)


def test_csv_export_of_the_filtered_queue(reviewer, flagged, sessions):
    response = reviewer.get("/staff/flags.csv?channel=voice")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and {r["reason"] for r in rows} == {"human_requested"}
    assert list(rows[0]) == [
        "id",
        "created",
        "channel",
        "reason",
        "status",
        "conversation_id",
        "assignee",
        "reviewer",
        "reviewed",
    ]
    with sessions() as db:
        assert db.scalars(select(AuditEntry.action).where(AuditEntry.action == "queue_exported")).all() == [
            "queue_exported"
        ]


def test_overview_charts_are_inline_svg(reviewer, flagged):
    page = reviewer.get("/staff/").get_data(as_text=True)
    assert page.count("<svg") == 3
    assert "已挂失: 1" in page  # open flags by reason, as text too
    assert "25%" in page  # 1 of the 4 messages today fell back
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from another host


def test_pages_work_when_the_tracker_store_cannot_be_read(settings, sessions, flagged, tmp_path):
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tmp_path / 'absent.db'}")
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    sign_in(client, "li.reviewer")
    assert "暂时无法读取对话记录" in client.get(f"/staff/flags/{flagged['loss']}").get_data(as_text=True)
    assert "暂时无法读取对话数据" in client.get("/staff/").get_data(as_text=True)
    assert client.get("/staff/flags/99999").status_code == 404


def test_malformed_queries_get_a_clear_answer_not_an_error(reviewer, flagged, sessions):
    for query in ("date_to=9999-12-31", "date_from=0001-01-01", "date_from=2026-13-40", "page=-3"):
        response = reviewer.get(f"/staff/flags?{query}")
        assert response.status_code == 400 and "无效" in response.get_data(as_text=True), query
    later = reviewer.get("/staff/flags?date_from=2026-12-01&date_to=2026-11-01")
    assert later.status_code == 400 and "起始日期晚于截止日期" in later.get_data(as_text=True)
    odd = reviewer.get("/staff/flags?_method=POST&_external=1&_anchor=x&reason=call_dropped")
    assert odd.status_code == 200 and "http://" not in odd.get_data(as_text=True).split("<main>")[1]
    assert reviewer.get("/staff/flags/99999999999999999999999").status_code == 404
    csrf = token(reviewer, "/staff/flags")
    assert reviewer.post("/staff/flags/99999999999999999999999/review", data={"csrf_token": csrf}).status_code == 404
    huge = reviewer.post("/staff/flags/bulk-review", data={"csrf_token": csrf, "flag_ids": ["99999999999999999999999"]})
    assert huge.status_code == 303
    csv_refused = reviewer.get("/staff/flags.csv?reason=bogus")
    assert csv_refused.status_code == 400 and "reason" in csv_refused.get_data(as_text=True)
    with sessions() as db:
        assert db.scalars(select(AuditEntry).where(AuditEntry.action == "queue_exported")).all() == []
        assert {f.status for f in db.scalars(select(Flag))} == {"open"}


def test_signing_out_ends_copies_of_the_session_and_pages_are_not_cached(staff_app, flagged):
    first = staff_app.test_client()
    sign_in(first, "li.reviewer")
    page = first.get("/staff/flags")
    assert page.headers["Cache-Control"] == "no-store"
    copy = staff_app.test_client()
    cookie = first.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    assert copy.get("/staff/flags").status_code == 200
    first.post("/staff/logout", data={"csrf_token": token(first, "/staff/")})
    assert copy.get("/staff/flags").status_code == 302  # the copied cookie stopped working too


def test_notes_and_card_numbers_are_masked_for_other_readers(reviewer, admin, flagged):
    flag_id = flagged["loss"]
    csrf = token(reviewer, f"/staff/flags/{flag_id}")
    reviewer.post(
        f"/staff/flags/{flag_id}/note", data={"csrf_token": csrf, "text": f"回拨 13912345678，证件 {ID_ZHANG}"}
    )
    page = admin.get(f"/staff/flags/{flag_id}").get_data(as_text=True)
    assert "回拨" in page and "13912345678" not in page and ID_ZHANG not in page
    assert "A12345678" not in page and "A********" in page
    english = admin.get(f"/staff/flags/{flag_id}?lang=en").get_data(as_text=True)
    assert "Transcript" in english
    after_post = admin.post(f"/staff/flags/{flag_id}/note", data={"csrf_token": csrf, "text": " "})
    assert 'class="lang" href="/staff/?lang=zh"' in after_post.get_data(as_text=True)  # not back to a POST-only URL


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRACKER_STORE_URL", "not a url"), ("RATELIMIT_STORAGE_URI", "bogus://u:secret@host"), ("TRUSTED_PROXIES", "x")],
)
def test_bad_console_settings_are_named_at_start_up(name, value):
    from cryptography.fernet import Fernet

    from bot.errors import ConfigError
    from webhooks.settings import load_web_settings

    env = {"FLASK_SECRET_KEY": "s" * 32, "ID_HASH_KEY": "k" * 32, "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    with pytest.raises(ConfigError, match=name) as refused:
        load_web_settings({**env, name: value})
    assert "secret" not in str(refused.value)


def test_queue_rows_say_what_was_asked_what_came_of_it_and_in_what_language(reviewer, flagged, sessions, tracker_db):
    turns = [("hello", "greet", 0.99, "Hi!"), ("my card is gone", "report_loss", 0.4, "Sorry?")]
    save_conversation(tracker_db, "web-en-7", turns, language="en")
    with sessions.begin() as db:
        english = flag_conversation(db, conversation_id="web-en-7", channel="chat", reason="nlu_fallback").id
    page = reviewer.get("/staff/flags").get_data(as_text=True)
    row = re.compile(r'<td data-label="#">(\d+)</td>.*?class="summary">([^<]*)</td>', re.S)
    rows = {int(m.group(1)): m.group(2) for m in row.finditer(page)}
    assert rows[flagged["fallback"]] == "挂失 · 已挂失 · 中文 · 网页"  # the same conversation made a loss report
    assert rows[english] == "挂失 · 未理解 · 英文 · 网页"
    assert list(rows.values()).count("无具体请求 · 已转人工 · 中文 · 电话") == 3  # calls with no transcript
