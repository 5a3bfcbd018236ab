"""The overview's running model: fingerprint, when it was deployed, its held-out scores."""

from __future__ import annotations

import datetime as dt

from bot.training.trained_model import DeployedModel, write_deployed


def test_the_overview_shows_the_deployed_model(staff_app, reviewer, tmp_path):  # noqa: F811
    record = tmp_path / "deployed_model.json"
    staff_app.config["DEPLOYED_MODEL_RECORD"] = record
    assert "尚无部署记录" in reviewer.get("/staff/").get_data(as_text=True)
    started = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.timezone.utc)
    write_deployed(DeployedModel("model-61fbf386fa2f8969.tar.gz", "0" * 64, started, {}, []), record)  # make run
    page = reviewer.get("/staff/").get_data(as_text=True)
    assert "61fbf386fa2f8969" in page and "尚未评分" in page
    deployed = dt.datetime(2026, 11, 30, 2, 5, tzinfo=dt.timezone.utc)
    scores = {"Mandarin": 0.9893, "wild English": 0.9579, "test conversations": 1.0}
    write_deployed(DeployedModel("model-cc7b55dc4b5d806d.tar.gz", "0" * 64, deployed, scores, ["http://x"]), record)
    page = reviewer.get("/staff/").get_data(as_text=True)
    assert "cc7b55dc4b5d806d" in page
    assert "2026-11-30 10:05" in page  # in the city's time
    assert "0.989" in page and "0.958" in page and "1.000" in page and "test conversations" in page
