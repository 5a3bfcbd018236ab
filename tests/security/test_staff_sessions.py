"""Threats: a stolen staff session that never ends while it is used, and sign-in guessing that
slips past the throttle by sending its attempts in parallel."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.review.accounts import add_staff_user
from tests.support import PASSWORD, sign_in, token

HOUR = 3600.0


@pytest.fixture
def clock(monkeypatch):
    """The wall clock, moved forward by the test (Flask's signed cookies read it too)."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])
    return offset


def test_a_session_ends_eight_hours_after_sign_in_however_active(staff_app, clock):
    client = staff_app.test_client()
    assert sign_in(client, "li.reviewer").status_code == 302
    for hour in range(8):  # busy all day: a page every hour
        clock[0] = hour * HOUR + 3500
        assert client.get("/staff/").status_code == 200, hour
    clock[0] = 8 * HOUR + 1
    ended = client.get("/staff/")
    assert ended.status_code == 302 and "/staff/login" in ended.headers["Location"]
    assert client.get("/staff/flags").status_code == 302  # over for good, not just for one request
    assert sign_in(client, "li.reviewer").status_code == 302  # signing in again starts a new day
    assert client.get("/staff/").status_code == 200


def _parallel_sign_ins(app, usernames: list[str]) -> list[int]:
    """Every attempt prepared (its own client and form token), then all sent at once."""
    clients = [app.test_client() for _ in usernames]
    tokens = [token(client) for client in clients]
    start = threading.Barrier(len(usernames))

    def attempt(n: int) -> int:
        start.wait()
        form = {"username": usernames[n], "password": "not the password", "csrf_token": tokens[n]}
        return clients[n].post("/staff/login", data=form).status_code

    with ThreadPoolExecutor(max_workers=len(usernames)) as pool:
        return list(pool.map(attempt, range(len(usernames))))


def test_parallel_failed_sign_ins_for_one_name_are_all_counted(staff_app):
    codes = _parallel_sign_ins(staff_app, ["li.reviewer"] * 12)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
    assert sign_in(staff_app.test_client(), "li.reviewer").status_code == 429  # even the right password


def test_parallel_failed_sign_ins_from_one_address_are_all_counted(staff_app, sessions):
    codes = _parallel_sign_ins(staff_app, [f"nobody{n}" for n in range(26)])
    assert codes.count(401) == 20 and codes.count(429) == 6, codes


def test_a_successful_sign_in_costs_nothing(staff_app, sessions):
    with sessions.begin() as db:
        add_staff_user(db, username="wang.admin", password=PASSWORD, role="admin")
    for _ in range(8):
        assert sign_in(staff_app.test_client(), "wang.admin").status_code == 302
    for _ in range(4):
        assert sign_in(staff_app.test_client(), "wang.admin", "not the password").status_code == 401
    assert sign_in(staff_app.test_client(), "wang.admin").status_code == 302
