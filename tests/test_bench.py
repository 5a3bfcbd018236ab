"""`make bench` pieces that can be checked without a run: the figures, the report, the plot, the stock
bot, process roles."""

from __future__ import annotations

import math
import struct

import pytest
import yaml

from bench.__main__ import role_of
from bench.chat_latency import ChatLevel, answered
from bench.plot import write_plot
from bench.production import comparison_table, one_rasa
from bench.report import BEGIN, END, Results, chat_meets, figures, render, voice_meets, write_report
from bench.stats import Level, capacity, percentile, scaled, summarise
from bench.stock import INTENT_EXAMPLES, RESPONSES, SCRIPT, write_bot
from bench.system import Machine, MemorySampler, describe_machine
from bench.voice_latency import APOLOGIES as VOICE_APOLOGIES
from bench.voice_latency import VoiceLevel
from bench.voice_latency import answered as webhook_answered
from bot.config import ROOT

MACHINE = Machine("Test CPU", 2, 8.0, 0.5, "2026-11-29", "3.10.13", "3.6.21", "3.6.2")


def chat(seconds: dict[str, float], *, turns: int = 4, errors: int = 0, elapsed: float = 1.0) -> ChatLevel:
    """A measured level whose every turn of a kind took the same time."""
    return ChatLevel({kind: [value] * turns for kind, value in seconds.items()}, errors, elapsed)


OURS = {"plain": 0.02, "action": 0.04, "form": 0.04, "database": 0.05}  # 16 turns per level, p95 50 ms
STOCK = {kind: 0.01 for kind, _ in SCRIPT}  # 16 turns per level, 10 ms each


def results(**changes) -> Results:
    made = Results(
        MACHINE,
        rounds=4,
        calls_per_line=2,
        training_s={"ours": 120.0, "stock": 60.0},
        make_run_healthy_s=12.0,
        rasa_ready_s={"ours": 10.0, "stock": 20.0},
        memory_mib={"ours": {"actions": 70.0, "rasa": 900.0, "web": 150.0}, "stock": {"rasa": 1000.0}},
        chat_rasa={1: chat(OURS), 8: chat(OURS)},
        chat_web={1: chat(OURS, elapsed=0.5), 8: chat(OURS, elapsed=0.16), 32: chat(OURS, elapsed=0.1),
                  64: chat({**OURS, "database": 1.2}, errors=2, elapsed=0.2)},
        chat_stock={level: chat(STOCK, elapsed=0.4) for level in (1, 8, 32, 64)},
        voice={8: VoiceLevel([0.1, 0.9, 0.3, 0.7], [0.3, 0.7], 0, 2.0), 32: VoiceLevel([0.2, 0.95], [0.95], 1, 1.0)},
        long_chat={"early": [0.02, 0.03, 0.04], "late": [0.03, 0.033, 0.05]},
        plot="bench-scale.png",
    )  # fmt: skip
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def level(p95_ms: float, errors: int = 0, slowest_ms: float | None = None) -> Level:
    return Level(100, 10.0, p95_ms / 2, p95_ms, p95_ms, slowest_ms or p95_ms, errors)


def test_percentiles_and_a_level_summary_come_from_the_answered_turns():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile(list(range(1, 101)), 0.95) == 95
    figures = summarise([0.01] * 90 + [0.1] * 9 + [1.0], errors=3, elapsed_s=2.0)
    assert (figures.turns, figures.turns_per_s, figures.errors) == (100, 50.0, 3)
    assert (figures.p50_ms, figures.p95_ms, figures.slowest_ms) == pytest.approx((10, 100, 1000))
    nothing = summarise([], errors=5, elapsed_s=1.0)
    assert nothing.turns == 0 and math.isnan(nothing.p95_ms) and not chat_meets(1, nothing)


def test_levels_above_eight_run_about_as_many_turns_as_eight_and_never_fewer_than_five_rounds():
    assert [scaled(15, level) for level in (1, 8, 32, 64)] == [15, 15, 5, 5]
    assert [scaled(40, level) for level in (1, 8, 32, 64)] == [40, 40, 10, 5]
    assert [scaled(3, level) for level in (1, 8, 32, 64)] == [3, 3, 3, 3]
    assert [scaled(1, level) for level in (1, 8, 32, 64)] == [1, 1, 1, 1]  # a quick run stays quick


def test_capacity_is_the_highest_level_that_it_and_every_level_below_meet():
    curve = {1: level(60), 8: level(240), 32: level(900), 64: level(1400)}
    assert capacity(curve, chat_meets) == 32
    assert capacity({**curve, 8: level(260)}, chat_meets) == 1  # 250 ms up to 8 at once
    assert capacity({**curve, 8: level(100, errors=1)}, chat_meets) == 1  # an error fails a level
    assert capacity({**curve, 32: level(1100), 64: level(900)}, chat_meets) == 8  # read from the bottom up
    assert capacity({1: level(300)}, chat_meets) is None
    assert capacity({1: level(100), 8: level(700), 32: level(790)}, voice_meets) == 32
    assert capacity({1: level(100), 8: level(700, slowest_ms=12_000)}, voice_meets) == 1  # near Twilio's 15 s


def test_answers_are_told_from_failures():
    assert answered(200, {"replies": ["您好"]}, via_web=True)
    assert not answered(200, {"replies": []}, via_web=True)
    assert not answered(503, {"replies": ["您好"]}, via_web=True)
    apology = "抱歉，系统暂时无法办理，请稍后再试，或拨打 12333 咨询。"
    assert not answered(200, {"replies": [apology]}, via_web=True)
    assert answered(200, [{"text": "Hello!"}], via_web=False) and not answered(200, [], via_web=False)
    assert webhook_answered(204, "") and webhook_answered(200, "<Response><Say>请说</Say></Response>")
    assert not webhook_answered(200, f"<Response><Say>{VOICE_APOLOGIES[0]}</Say><Dial/></Response>")
    assert not webhook_answered(403, "")


def test_the_scale_curve_is_one_table_ours_beside_stock_with_the_ratios():
    block = render(results())
    header = (
        "| concurrent conversations | ours turns/s | stock turns/s | turns/s ours / stock | ours p50 / p95 / p99 ms "
        "| stock p50 / p95 / p99 ms | p95 ours / stock | errors ours / stock |"
    )
    assert header in block
    assert "| 8 | 100.0 | 40.0 | 2.50× | 40 / 50 / 50 | 10 / 10 / 10 | 5.00× | 0 / 0 |" in block
    assert "| 64 | 80.0 | 40.0 | 2.00× | 40 / 1,200 / 1,200 | 10 / 10 / 10 | 120.00× | 2 / 0 |" in block
    assert "| 32 | 2 | 2.0 | 950 | 950 | 950 | 950 | 1 |" in block  # voice: webhooks/s, caller turns, errors
    assert "| 8 | 4 | 2.0 | 500 | 700 | 700 | 900 | 0 |" in block
    assert "![Scale curve: turns/s and p95 against concurrency, ours and stock Rasa](bench-scale.png)" in block


def test_the_targets_table_judges_the_measured_figures():
    block = render(results())
    assert "| throughput, 8 concurrent conversations | 100.0 turns/s | ≥ 80 turns/s | met |" in block
    assert "| throughput ours / stock Rasa's, 8 concurrent, same run | 2.50× | ≥ 2× | met |" in block
    assert "| chat turn p95, 8 concurrent conversations | 50 ms | ≤ 250 ms | met |" in block
    at_64 = "| chat turn p95 and errors, 64 concurrent conversations | 1,200 ms, 2 errors | ≤ 1 s, no errors |"
    assert at_64 + " **not met** |" in block
    assert "| voice caller turn p95, 32 concurrent calls | 950 ms | ≤ 800 ms | **not met** |" in block
    assert "| slowest voice webhook and errors, all levels | 950 ms, 1 error |" in block
    assert "| database turn / plain turn (medians), 1 concurrent | 2.50× | ≤ 1.5× | **not met** |" in block
    assert "| turn 50 of a conversation / turn 5 (medians) | 1.10× | ≤ 1.2× | met |" in block
    assert "| full training | 120 s | ≤ 60 s | **not met** |" in block
    assert "| Rasa server peak memory | 900 MiB | ≤ 600 MiB | **not met** |" in block
    assert "Test CPU, 2 cores, 8.0 GiB RAM" in block and "Quick run" not in block


def test_the_report_states_what_the_machine_carries():
    block = render(results())
    assert "Chat through the web app: **32 concurrent conversations**, p95 50 ms at 160.0 turns/s" in block
    assert "At 64: p95 1,200 ms, 2 errors." in block
    assert "Calls through the signed Twilio webhooks: **8 concurrent calls**, p95 700 ms" in block
    assert "same limits: **64 concurrent conversations** (the highest level measured)" in block
    slow = render(results(chat_web={1: chat({"plain": 0.3})}))
    assert "Chat through the web app: **none of the measured levels**" in slow and "At 1: p95 300 ms" in slow
    one = render(results(chat_web={1: chat({"plain": 0.1}), 8: chat({"plain": 0.3})}))
    assert "Chat through the web app: **1 concurrent conversation**, p95 100 ms" in one


def test_the_report_puts_ours_beside_stock_straight_at_rasa():
    block = render(results())
    assert "| training time (s) | 120 | 60 | 2.00× |" in block
    assert "| Rasa server start to model loaded (s) | 10.0 | 20.0 | 0.50× |" in block
    assert "| peak memory of all processes (MiB) | 1,120 | 1,000 | 1.12× |" in block
    assert "| turn p95 at Rasa's channel, 8 concurrent (ms) | 50 | 10 | 5.00× |" in block
    assert "| turns/s at Rasa's channel, 8 concurrent | 16.0 | 40.0 | 0.40× |" in block
    assert "| 1 | mood | 4 | 10 | 10 | 10 |" in block  # the stock bot's own turn kinds


def test_figures_a_run_did_not_take_say_so():
    block = render(results(training_s={"stock": 60.0}, chat_web={}, voice={}, quick=True))
    assert "| full training | not measured | ≤ 60 s | not measured |" in block
    assert "| training time (s) | not measured | 60 |  |" in block
    assert "| throughput, 8 concurrent conversations | not measured | ≥ 80 turns/s | not measured |" in block
    assert "Calls through the signed Twilio webhooks: not measured." in block
    assert "**Quick run**" in block


def test_the_plot_is_a_small_png(tmp_path):
    curve = {1: level(60), 8: level(240), 32: level(900), 64: level(1400)}
    picture = tmp_path / "scale.png"
    write_plot(picture, curve, {1: level(40), 8: level(500)}, {1: level(70), 8: level(380), 32: level(1200)})
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (640, 240)  # 8 × 3 inches at 80 dpi
    assert len(data) < 60_000
    assert figures({}) == {}


def test_writing_keeps_everything_outside_the_markers(tmp_path):
    report = tmp_path / "benchmarks.md"
    report.write_text(
        f"# Benchmarks\n\n## Understanding\n\nF1 0.99\n\n{BEGIN}\nold figures\n{END}\n\n## Notes\n\nkept\n"
    )
    write_report(report, render(results()))
    text = report.read_text()
    assert "old figures" not in text and "## Understanding\n\nF1 0.99" in text and text.endswith("## Notes\n\nkept\n")
    assert text.count(BEGIN) == 1
    fresh = tmp_path / "new.md"
    write_report(fresh, render(results()))
    assert fresh.read_text().startswith("# Benchmarks\n") and END in fresh.read_text()


def test_the_stock_bot_is_a_complete_rasa_project(tmp_path):
    project = write_bot(tmp_path / "stock")
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["pipeline"] is None and config["policies"] is None  # Rasa's defaults
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert domain["intents"] == list(INTENT_EXAMPLES) and set(domain["responses"]) == set(RESPONSES)
    stories = yaml.safe_load((project / "data" / "stories.yml").read_text())["stories"]
    used = {step.get("intent") or step.get("action") for story in stories for step in story["steps"]}
    assert used <= set(INTENT_EXAMPLES) | set(RESPONSES)
    assert "rest" in yaml.safe_load((project / "credentials.yml").read_text())


def test_a_quick_run_trains_rasas_default_components_for_fewer_epochs(tmp_path):
    config = yaml.safe_load((write_bot(tmp_path / "stock", epochs=7) / "config.yml").read_text())
    names = [item["name"] for item in config["pipeline"] + config["policies"]]
    assert "DIETClassifier" in names and "TEDPolicy" in names and "RulePolicy" in names
    trained = [item for item in config["pipeline"] + config["policies"] if "epochs" in item]
    assert len(trained) >= 3 and all(item["epochs"] == 7 for item in trained)


def test_processes_are_told_apart_by_their_command_lines():
    assert role_of([".venv/bin/python", "-m", "rasa_sdk", "--actions", "actions"]) == "actions"
    assert role_of([".venv/bin/python", "-m", "rasa_addons", "run", "--enable-api"]) == "rasa"
    assert (
        role_of([".venv/bin/python", "-m", "actions", "--logging-config_file", "bot/platform/logging.yml"]) == "actions"
    )
    assert role_of(["/x/.venv/bin/python", "/x/.venv/bin/rasa", "run", "--enable-api"]) == "rasa"
    assert role_of(["/x/.venv/bin/python", "/x/.venv/bin/gunicorn", "webhooks:create_app()"]) == "web"
    assert role_of(["/bin/sh", "-c", ".venv/bin/rasa run"]) is None  # the supervisor's shell
    assert role_of(["/x/.venv/bin/rasa", "train"]) is None


def test_the_machine_and_this_process_memory_are_read(tmp_path):
    import os

    assert describe_machine().cores >= 1
    sampler = MemorySampler(os.getpid(), lambda command: "me" if command else None)
    if sampler.available:  # Linux
        sampler.sample()
        assert sampler.peaks["me"] > 10


def test_the_production_comparison_drops_only_the_second_rasa_server():
    procfile = (ROOT / "Procfile.production").read_text()
    single = one_rasa(procfile)
    assert [line.split(":")[0] for line in single.splitlines()] == [
        line.split(":")[0] for line in procfile.splitlines() if not line.startswith("rasa2:")
    ]
    assert "rasa1:" in single and "rasa2:" not in single


def test_the_production_comparison_puts_two_rasa_servers_beside_one():
    two = {8: Level(400, 50.0, 140, 250, 290, 300, 0), 32: Level(400, 52.0, 480, 970, 1100, 1200, 1)}
    one = {8: Level(400, 37.0, 200, 314, 365, 400, 0), 32: Level(400, 39.0, 700, 982, 1106, 1200, 0)}
    table = comparison_table(two, one).splitlines()
    assert table[2] == "| 8 | 50.0 | 37.0 | 1.35× | 250 | 314 | 0 / 0 |"
    assert table[3] == "| 32 | 52.0 | 39.0 | 1.33× | 970 | 982 | 1 / 0 |"
