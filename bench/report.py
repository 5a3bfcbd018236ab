"""The measured part of docs/benchmarks.md, built from one `make bench` run.

Only the text between the two markers is replaced; what is written around it (notes, history,
the understanding figures) stays as it is.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile
from bench.system import Machine

BEGIN = "<!-- bench:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:end -->"
ROLES = ("actions", "rasa", "web")
KINDS = ("plain", "action", "form", "database")
TWILIO_LIMIT_MS = 15000

# Per concurrency level: seconds per turn kind, and the wall time of the run (bench.chat_latency).
ChatRun = dict[int, tuple[dict[str, list[float]], float]]


@dataclass
class Results:
    """Everything one run measured; a figure left None was not measured in this run."""

    machine: Machine
    rounds: int
    calls_per_line: int
    quick: bool = False
    long_conversations: int = 5
    training_s: dict[str, float | None] = field(default_factory=dict)  # ours, stock
    make_run_healthy_s: float | None = None
    rasa_ready_s: dict[str, float | None] = field(default_factory=dict)  # ours, stock
    memory_mib: dict[str, dict[str, float]] = field(default_factory=dict)  # ours/stock -> role -> MiB
    chat_rasa: ChatRun = field(default_factory=dict)
    chat_web: ChatRun = field(default_factory=dict)
    chat_stock: ChatRun = field(default_factory=dict)
    voice_ms: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    long_chat: dict[str, list[float]] = field(default_factory=dict)  # early/late turns of long conversations


def _ms(values: list[float]) -> list[float]:
    return [v * 1000 for v in values]


def _all_turns(run: tuple[dict[str, list[float]], float]) -> list[float]:
    return [v * 1000 for values in run[0].values() for v in values]


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "not measured" if value is None else f"{value:,.{digits}f}{unit}"


def _ratio(ours: float | None, stock: float | None) -> str:
    return "" if ours is None or not stock else f"{ours / stock:.2f}×"


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= limit else "**not met**"


def machine_section(r: Results) -> str:
    m = r.machine
    scale = f"{r.rounds} rounds of the chat script per conversation, {r.calls_per_line} calls per voice line"
    lines = [
        f"Run on {m.date}: {m.cpu}, {m.cores} cores, {m.memory_gib} GiB RAM, load average {m.load_average} at the "
        f"start; Python {m.python}, Rasa {m.rasa}, rasa-sdk {m.rasa_sdk}. Scale: {scale}.",
    ]
    if r.quick:
        lines.append(
            "\n**Quick run** (`make bench BENCH_ARGS=--quick`): a handful of turns to check that the benchmark "
            "works; the figures are indicative only. Run `make bench` on a quiet machine for real ones."
        )
    return "\n".join(lines)


def targets_table(r: Results) -> str:
    rows = []
    if 8 in r.chat_web:
        p95 = percentile(_all_turns(r.chat_web[8]), 0.95)
        rows.append(("chat turn p95, 8 concurrent conversations, through the web app", f"{p95:.0f} ms", "≤ 500 ms",
                     _verdict(p95, 500)))  # fmt: skip
    if 8 in r.voice_ms:
        turns = r.voice_ms[8]["caller turns (via Rasa)"]
        p95, worst = percentile(turns, 0.95), max(r.voice_ms[8]["all webhooks"])
        rows.append(("voice caller turn p95, 8 concurrent calls", f"{p95:.0f} ms", "≤ 800 ms", _verdict(p95, 800)))
        rows.append(("slowest voice webhook", f"{worst:.0f} ms", "< 15 s", _verdict(worst, TWILIO_LIMIT_MS)))
    for concurrency, (timings, _) in sorted(r.chat_rasa.items()):
        ratio = statistics.median(timings["database"]) / statistics.median(timings["plain"])
        rows.append((f"database turn / plain turn (medians), {concurrency} concurrent", f"{ratio:.2f}×", "≤ 1.5×",
                     _verdict(ratio, 1.5)))  # fmt: skip
    if r.long_chat.get("early") and r.long_chat.get("late"):
        ratio = statistics.median(r.long_chat["late"]) / statistics.median(r.long_chat["early"])
        rows.append(("turn 50 of a conversation / turn 5 (medians)", f"{ratio:.2f}×", "≤ 1.2×", _verdict(ratio, 1.2)))
    rows.append(("`make run` to a healthy `/healthz`, model trained", _num(r.make_run_healthy_s, 1, " s"), "≤ 60 s",
                 _verdict(r.make_run_healthy_s, 60)))  # fmt: skip
    ours = r.training_s.get("ours")
    rows.append(("full training", _num(ours, 0, " s"), "≤ 300 s", _verdict(ours, 300)))
    return _table(("what", "measured", "target", "verdict"), rows)


def side_by_side_table(r: Results) -> str:
    ours_mem, stock_mem = r.memory_mib.get("ours", {}), r.memory_mib.get("stock", {})
    rows = [
        ("training time (s)", r.training_s.get("ours"), r.training_s.get("stock"), 0),
        ("Rasa server start to model loaded (s)", r.rasa_ready_s.get("ours"), r.rasa_ready_s.get("stock"), 1),
        ("peak memory of the Rasa server (MiB)", ours_mem.get("rasa"), stock_mem.get("rasa"), 0),
        ("peak memory of all processes (MiB)", sum(ours_mem.values()) or None, sum(stock_mem.values()) or None, 0),
    ]
    for concurrency in sorted(set(r.chat_rasa) & set(r.chat_stock)):
        ours, stock = _all_turns(r.chat_rasa[concurrency]), _all_turns(r.chat_stock[concurrency])
        for share in (0.5, 0.95):
            label = f"REST turn p{int(share * 100)}, {concurrency} concurrent (ms)"
            rows.append((label, percentile(ours, share), percentile(stock, share), 0))
    return _table(
        ("measure", "ours", "stock Rasa", "ours / stock"),
        [(label, _num(o, d), _num(s, d), _ratio(o, s)) for label, o, s, d in rows],
    )


def memory_table(r: Results) -> str:
    rows = [(f"ours: {role}", _num(r.memory_mib.get("ours", {}).get(role))) for role in ROLES]
    rows.append(("stock: rasa", _num(r.memory_mib.get("stock", {}).get("rasa"))))
    return _table(("process", "peak RSS MiB"), rows)


def chat_tables(run: ChatRun) -> str:
    rows = []
    for concurrency, (timings, _) in sorted(run.items()):
        for kind in [k for k in KINDS if k in timings] or list(timings):
            values = _ms(timings[kind])
            rows.append((concurrency, kind, len(values), *_p(values, 0.5, 0.95, 0.99)))
    summary = []
    for concurrency, (timings, elapsed) in sorted(run.items()):
        everything = _all_turns((timings, elapsed))
        summary.append((concurrency, f"{len(everything) / elapsed:.1f}", f"{percentile(everything, 0.95):.0f}"))
    return (
        _table(("concurrent", "turn", "n", "p50 ms", "p95 ms", "p99 ms"), rows)
        + "\n\n"
        + _table(("concurrent", "turns/s", "p95 all turns ms"), summary)
    )


def voice_table(measured: dict[int, dict[str, list[float]]]) -> str:
    rows = []
    for lines, kinds in sorted(measured.items()):
        for label, values in kinds.items():
            over = sum(v > TWILIO_LIMIT_MS for v in values)
            rows.append((f"{lines}, {label}", len(values), *_p(values, 0.5, 0.95, 0.99), f"{max(values):.0f}", over))
    return _table(("concurrent calls", "turns", "p50 ms", "p95 ms", "p99 ms", "max ms", "over 15 s"), rows)


def _p(values: list[float], *shares: float) -> list[str]:
    return [f"{statistics.median(values) if s == 0.5 else percentile(values, s):.0f}" for s in shares]


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render(r: Results) -> str:
    """The generated block, markers included."""
    sections = [
        ("Machine and run", machine_section(r)),
        ("Against the targets (brief section 7)", targets_table(r)),
        (
            "Side by side with stock Rasa",
            "The stock bot is a minimal mood bot as `rasa init` makes one (bench/stock.py): Rasa's default "
            "pipeline and policies, no custom actions, served by `rasa run` in the same run. Ours is measured "
            "straight at Rasa's input channel like the stock bot (ours: the web app's signed channel, which "
            "checks an HMAC per message; stock: Rasa's REST channel); the web app's own cost is in the chat "
            "table through the web app below.\n\n" + side_by_side_table(r),
        ),
        ("Peak memory per process", memory_table(r)),
    ]
    if r.chat_rasa:
        sections.append(("Chat turns through Rasa's signed channel", chat_tables(r.chat_rasa)))
    if r.chat_web:
        sections.append(("Chat turns through the web app (full stack)", chat_tables(r.chat_web)))
    if r.chat_stock:
        sections.append(("Stock Rasa turns", chat_tables(r.chat_stock)))
    if r.voice_ms:
        sections.append(("Voice webhook turns (signed Twilio webhooks)", voice_table(r.voice_ms)))
    body = "\n\n".join(f"### {title}\n\n{text}" for title, text in sections)
    return f"{BEGIN}\n\n{body}\n\n{END}"


def write_report(path: Path, block: str) -> None:
    """Replace the generated block in `path`, or append one if the file has none yet."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n## Measured by `make bench`\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
