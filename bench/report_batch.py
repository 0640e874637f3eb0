"""The table's rows for figure 10 (``batch_bench.py``): a batch of one-off
process runs queued on a pool of 2 slots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.report import MS, _cell, _met, _num, _pair, _value

Add = Callable[[str, str, str, str, str, str], None]


def batch_rows(r: dict[str, Any], add: Add) -> None:
    def n_of(run: dict[str, Any]) -> str:
        return f"{run['n']:,} runs, {run['slots']} slots, function {run['work_s'] * MS:g} ms"

    def overhead_fmt(run: dict[str, Any]) -> str:
        ok = run["statuses"] == {"success": run["n"]}
        records = "one final record each" if ok else f"statuses {run['statuses']}"
        return (
            f"{_num(run['overhead_per_run_s'] * MS)} ({n_of(run)}; {records}; "
            f"batch {_num(run['batch_wall_s'])} s)"
        )

    def ns_overhead_fmt(run: dict[str, Any]) -> str:
        return (
            f"{overhead_fmt(run)}; run start → end {_pair(run['run_wall_s'], MS)} ms; "
            f"defining {_num(run['define_s'])} s, queueing {_num(run['queue_s'] * MS)} ms"
        )

    overhead = _value(r, "batch/ns", ("overhead_per_run_s",))
    add(
        "10. batch: one-off process runs of a cell-defined function queued on a pool of 2 "
        "slots, scheduler overhead per run: 2 × batch wall ÷ runs − the function's own time "
        "(ms)",
        _cell(r, "batch/ns", ns_overhead_fmt),
        "not measured",
        _cell(
            r,
            "batch/aps",
            lambda run: f"{overhead_fmt(run)} — a module-level function, ProcessPoolExecutor(2)",
        ),
        "< 10 ms, every run one final record",
        _met(None if overhead is None else overhead * MS < 10),
    )
    p99 = _value(r, "batch/ns", ("rtt_s", "p99"))
    add(
        "10. kernel responsiveness while the batch drains: `1+1` round trip (ms, median / p99)",
        _cell(
            r, "batch/ns", lambda run: f"{_pair(run['rtt_s'], MS)} ({run['rtt_samples']} requests)"
        ),
        "n/a: measured for notebook_sched only",
        "n/a: measured for notebook_sched only",
        "p99 ≤ 20 ms",
        _met(None if p99 is None else p99 * MS <= 20),
    )
