"""The overview page: open flags by reason, loss reports per day and the fallback rate, as charts; the running model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, render_template

from bot.review.overview import overview_figures
from bot.training.trained_model import DEPLOYED_RECORD, read_deployed
from webhooks.staff import bp
from webhooks.staff.charts import columns, horizontal_bars
from webhooks.staff.labels import REASONS, label, t

DAYS = 30


@bp.get("/")
def overview() -> Any:
    web = current_app.config["WEB"]
    tz = web.core.timezone
    today = dt.datetime.now(tz).date()
    figures = overview_figures(web.read_sessions, web.tracker_store, tz, today=today, days=DAYS)
    fallback = figures.fallback_rate
    return render_template(
        "staff/overview.html",
        open_flags=figures.open_flags,
        flags_chart=horizontal_bars(
            [(label(REASONS, r), n) for r, n in figures.open_flags.items()], t("open_flags_by_reason")
        ),
        loss_chart=columns([(f.day.strftime("%m-%d"), f.value) for f in figures.loss_reports], t("loss_per_day")),
        fallback_chart=None
        if fallback is None
        else columns([(f.day.strftime("%m-%d"), f.value) for f in fallback], t("fallback_rate"), percent=True),
        fallback_turns=sum(f.of for f in fallback or []),
        model=read_deployed(current_app.config.get("DEPLOYED_MODEL_RECORD", DEPLOYED_RECORD)),
    )
