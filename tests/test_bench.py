"""`make bench` pieces that can be checked without a run: the report, the stock bot, process roles."""

from __future__ import annotations

import yaml

from bench.__main__ import role_of
from bench.report import BEGIN, END, Results, render, write_report
from bench.stock import INTENT_EXAMPLES, RESPONSES, SCRIPT, write_bot
from bench.system import Machine, MemorySampler, describe_machine

MACHINE = Machine("Test CPU", 2, 8.0, 0.5, "2026-11-29", "3.10.13", "3.6.21", "3.6.2")


def results(**changes) -> Results:
    ours = {"plain": [0.02] * 4, "action": [0.04] * 4, "form": [0.04] * 8, "database": [0.05] * 4}
    stock_turns = {kind: [0.01] * 4 for kind, _ in SCRIPT}
    made = Results(
        MACHINE,
        rounds=4,
        calls_per_line=2,
        training_s={"ours": 120.0, "stock": 60.0},
        make_run_healthy_s=12.0,
        rasa_ready_s={"ours": 10.0, "stock": 20.0},
        memory_mib={"ours": {"actions": 70.0, "rasa": 900.0, "web": 150.0}, "stock": {"rasa": 1000.0}},
        chat_rasa={1: (ours, 1.0), 8: (ours, 1.0)},
        chat_web={1: (ours, 1.0), 8: (ours, 1.0)},
        chat_stock={1: (stock_turns, 1.0), 8: (stock_turns, 1.0)},
        voice_ms={8: {"all webhooks": [100.0, 900.0], "caller turns (via Rasa)": [300.0, 700.0]}},
        long_chat={"early": [0.02, 0.03, 0.04], "late": [0.03, 0.033, 0.05]},
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def test_the_report_puts_ours_beside_stock_as_ratios_and_judges_the_targets():
    block = render(results())
    assert block.startswith(BEGIN) and block.endswith(END)
    assert "| training time (s) | 120 | 60 | 2.00× |" in block
    assert "| Rasa server start to model loaded (s) | 10.0 | 20.0 | 0.50× |" in block
    assert "| peak memory of all processes (MiB) | 1,120 | 1,000 | 1.12× |" in block
    assert "| REST turn p95, 8 concurrent (ms) | 50 | 10 | 5.00× |" in block
    assert "| chat turn p95, 8 concurrent conversations, through the web app | 50 ms | ≤ 500 ms | met |" in block
    assert "| database turn / plain turn (medians), 1 concurrent | 2.50× | ≤ 1.5× | **not met** |" in block
    assert "| voice caller turn p95, 8 concurrent calls | 700 ms | ≤ 800 ms | met |" in block
    assert "| turn 50 of a conversation / turn 5 (medians) | 1.10× | ≤ 1.2× | met |" in block
    assert "| 1 | mood | 4 | 10 | 10 | 10 |" in block  # the stock bot's own turn kinds
    assert "Test CPU, 2 cores, 8.0 GiB RAM" in block and "Quick run" not in block


def test_figures_a_run_did_not_take_say_so():
    block = render(results(training_s={"stock": 60.0}, quick=True))
    assert "| full training | not measured | ≤ 300 s | not measured |" in block
    assert "| training time (s) | not measured | 60 |  |" in block
    assert "**Quick run**" in block


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
