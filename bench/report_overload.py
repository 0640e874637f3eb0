"""The table's rows for figure 12 (``overload_bench.py``): a saturated
scheduler in a real kernel — the ``1+1`` round trip and the kernel loop's
lateness side by side, for each load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.report import MS, _cell, _met, _num, _pair, _value

Add = Callable[[str, str, str, str, str, str], None]

KEY = "overload/kernel"
NOT_MEASURED = "n/a: measured for notebook_sched only"


def _phase_fmt(name: str) -> Callable[[dict[str, Any]], str]:
    def fmt(run: dict[str, Any]) -> str:
        phase, idle = run[name], run["idle"]
        late = phase["lateness_s"] or {}
        gc2 = phase["gc"]["2"]
        text = (
            f"1+1 {_pair(phase['rtt_s'], MS)} (idle kernel {_pair(idle['rtt_s'], MS)}); "
            f"loop lateness {_num((late.get('median') or 0) * MS)} / "
            f"{_num((late.get('p99') or 0) * MS)}, longest {_num((late.get('max') or 0) * MS)}; "
            f"{_num(phase.get('runs_per_s'))} runs/s of {_num(phase.get('runs_per_s_asked'))} "
            f"asked; {_num(phase['comm_msg_per_s'])} widget msg/s; "
            f"{gc2['count']} full GCs, longest {_num(gc2['longest_s'] * MS)}"
        )
        timeouts = phase.get("timeout_late_s")
        if timeouts:
            text += f"; timeouts late {_pair(timeouts, MS)}"
        return text

    return fmt


def overload_rows(r: dict[str, Any], add: Add) -> None:
    for name, what in (
        ("async_panel", "300 async tasks every 0.05 s, panel displayed"),
        ("threads", "2,000 thread tasks every 0.01 s"),
    ):
        p99 = _value(r, KEY, (name, "rtt_s", "p99"))
        add(
            f"12. overload, {what}: kernel `1+1` round trip (ms, median / p99); the 1 ms "
            "sleeper on the kernel's loop (ms, median / p99)",
            _cell(r, KEY, _phase_fmt(name)),
            NOT_MEASURED,
            NOT_MEASURED,
            "1+1 p99 ≤ 50 ms",
            _met(None if p99 is None else p99 * MS <= 50),
        )
