"""Two processes reporting the same card lost at the same moment get one report and one reference."""

import os
import subprocess
import sys
import time

from sqlalchemy import select

from bot.models import LossReport
from tests.factories import add_card

RACER = """
import datetime as dt, sys, time
from sqlalchemy import text
from bot.config import load_settings
from bot.db import make_engine, make_session_factory
from bot.cards.loss_reports import create_loss_report
from bot.sms.outbox import Outbox
from bot.identity.privacy import Vault

settings = load_settings(env_file=None)
sessions = make_session_factory(make_engine(settings.database_url), vault=Vault(settings))
with sessions() as warm:
    warm.execute(text("SELECT 1"))
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.0005)
with sessions.begin() as session:
    report, created = create_loss_report(
        session, outbox=Outbox.for_settings(settings), card_id=int(sys.argv[1]), channel="voice",
        policy=settings.loss_policy, now=dt.datetime.now(dt.timezone.utc),
    )
    reference = report.reference
print(reference, created)
"""


def test_concurrent_reports_share_one_reference(session, sessions, settings, vault):
    card_ids = []
    for i in range(3):
        card = add_card(
            session,
            vault,
            id_number=["11010519491231002X", "320102198503121015", "320102199007072028"][i],
            card_number=f"C0000000{i}",
        )
        card_ids.append(card.id)
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ID_HASH_KEY": settings.id_hash_key,
        "DATA_ENCRYPTION_KEY": settings.data_encryption_key,
    }
    for card_id in card_ids:
        start = time.time() + 1.5
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(card_id), str(start)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [r.communicate(timeout=60) for r in racers]
        assert all(r.returncode == 0 for r in racers), [(out, err[-300:]) for out, err in outputs]
        results = [out.split() for out, _ in outputs]
        assert results[0][0] == results[1][0]
        assert sorted(created for _, created in results) == ["False", "True"]
        # A short session of its own: on SQLite every open transaction holds the write lock.
        with sessions() as check:
            reports = [
                (r.reference, r.state) for r in check.scalars(select(LossReport).where(LossReport.card_id == card_id))
            ]
        assert reports == [(results[0][0], "active")]
