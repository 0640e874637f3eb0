"""The table: one row per figure, notebook_sched against its peers, with the
target and whether notebook_sched meets it. Built from ``results["runs"]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MS = 1000.0
PCT = 100.0


def _get(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    return results["runs"].get(key)


def _err(run: dict[str, Any] | None) -> str | None:
    if run is None:
        return "not run"
    if "error" in run:
        text = run["error"]
        return text if text.startswith("n/a") else f"failed: {text[:90]}"
    return None


def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "?"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.{digits}f}" if ax >= 0.01 else f"{x:.2g}"


def _pair(summary: dict[str, Any] | None, scale: float = 1.0) -> str:
    if not summary or summary.get("median") is None:
        return "?"
    return f"{_num(summary['median'] * scale)} / {_num(summary['p99'] * scale)}"


def _cell(results: dict[str, Any], key: str, fmt: Callable[[dict[str, Any]], str]) -> str:
    run = _get(results, key)
    err = _err(run)
    if err:
        return err
    assert run is not None
    extra = ""
    if run.get("problems"):
        extra = f" ({len(run['problems'])} problem(s): {run['problems'][0][:60]})"
    return fmt(run) + extra


def _rocketry(results: dict[str, Any], key: str, fmt: Callable[[dict[str, Any]], str]) -> str:
    parts = []
    for cfg, label in (("default", "default"), ("cs0.01", "cycle_sleep=0.01")):
        full = f"{key}/{cfg}"
        if full in results["runs"]:
            parts.append(f"{label}: {_cell(results, full, fmt)}")
    return "; ".join(parts) if parts else "not run"


def _value(results: dict[str, Any], key: str, path: tuple[str, ...]) -> float | None:
    run = _get(results, key)
    if run is None or "error" in run:
        return None
    node: Any = run
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def _met(ok: bool | None) -> str:
    if ok is None:
        return "?"
    return "yes" if ok else "**NO**"


def table_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    r = results

    def add(figure: str, ns: str, rk: str, aps: str, target: str, met: str) -> None:
        rows.append(
            {
                "figure": figure,
                "notebook_sched": ns,
                "Rocketry": rk,
                "APScheduler": aps,
                "target": target,
                "met": met,
            }
        )

    # 1. Termination latency.
    no_timeout = "n/a: APScheduler 3 has no job timeout"
    for kind, limit in (("async", 5), ("thread", 10), ("process", 20)):
        key = f"termination/{kind}"
        fmt = lambda run: _pair(run["latency_s"], MS)  # noqa: E731
        p99 = _value(r, f"{key}/ns", ("latency_s", "p99"))
        add(
            f"1. termination latency, {kind} (ms, median / p99)",
            _cell(r, f"{key}/ns", fmt),
            _rocketry(r, f"{key}/rocketry", fmt),
            no_timeout,
            f"p99 ≤ {limit} ms",
            _met(None if p99 is None else p99 * MS <= limit),
        )
    # Ray runs (one job, two figures); the peers cannot run on Ray.
    no_ray = "n/a: no Ray execution"
    for phase, label in (
        (
            "forced",
            "ray, forced: flag ignored, `terminate_grace=0`, `ray.cancel(force=True)` "
            "at the deadline",
        ),
        ("cooperative", "ray, cooperative: `flag.wait(1)` returns, function ends"),
    ):

        def ray_fmt(run: dict[str, Any], phase: str = phase) -> str:
            data = run[phase]
            text = f"{_pair(data['latency_s'], MS)} ({data['latency_s']['n']} runs"
            if data.get("not_running_at_deadline"):
                text += f", {data['not_running_at_deadline']} not yet running at the deadline"
            entered = _num(data["entry_latency_s"]["median"] * MS)
            text += f"; function entered {entered} ms after start"
            if phase == "forced":
                text += (
                    f"; excluded: Ray's start and first run, "
                    f"{_num(run['ray_start_and_first_run_s'])} s"
                )
            return text + ")"

        add(
            f"1. termination latency, {label} (ms, median / p99)",
            _cell(r, "termination/ray/ns", ray_fmt),
            no_ray,
            no_ray,
            "—",
            "—",
        )
    fmt = lambda run: _pair(run["latency_s"], MS)  # noqa: E731
    add(
        "1. end-condition latency, `~time_of_day.before(B)` (ms after B, median / p99)",
        _cell(r, "end_cond/ns", fmt),
        _rocketry(r, "end_cond/rocketry", fmt),
        "n/a: APScheduler 3 has no end condition",
        "— (acts at the boundary)",
        "—",
    )

    # 2. Idle cost, against the floor of a bare asyncio loop measured the same way.
    from bench._util import summary

    floor_samples = []
    for key in ("idle/floor/before", "idle/floor/after"):
        run = _get(r, key)
        if run and "error" not in run:
            floor_samples.extend(run["samples"])
    floor = summary(floor_samples)
    floor_med = floor["median"] or 0.0
    add(
        "2. (reference) floor: a bare asyncio loop, no scheduler, sampled the same way (% of a core, median / p99)",
        (_pair(floor, PCT) if floor_samples else "?"),
        "",
        "",
        "—",
        "—",
    )

    def idle_fmt(run: dict[str, Any]) -> str:
        text = _pair(run["cpu_fraction"], PCT)
        rusage = run.get("rusage")
        if rusage:
            text += f" (getrusage over {_num(rusage['wall_s'])} s: {_num(rusage['cpu_fraction'] * PCT)})"
        return text

    medians = {}
    for n in (10, 100, 1000, 10000):
        p99 = _value(r, f"idle/{n}/ns", ("cpu_fraction", "p99"))
        medians[n] = _value(r, f"idle/{n}/ns", ("cpu_fraction", "median"))
        rk = _rocketry(r, f"idle/{n}/rocketry", idle_fmt)
        if rk == "not run":
            rk = "skipped (--quick)" if results.get("mode") == "quick" else rk
        add(
            f"2. idle CPU, {n:,} tasks not due for hours (% of a core, median / p99)",
            _cell(r, f"idle/{n}/ns", idle_fmt),
            rk,
            _cell(r, f"idle/{n}/aps", idle_fmt),
            "p99 − floor ≤ 1 %" if n == 10000 else "p99 − floor ≤ 1 %, flat in N",
            _met(None if p99 is None else (p99 - floor_med) * PCT <= 1.0),
        )
    if medians.get(10) is not None and medians.get(10000) is not None:
        spread = (medians[10000] - medians[10]) * PCT
        add(
            "2. idle CPU growth from 10 to 10,000 tasks (percentage points of a core, medians)",
            f"{spread:+.3f}",
            "",
            "",
            "flat: ≤ +0.5",
            _met(spread <= 0.5),
        )
    first = _value(r, "idle/10000/ns", ("first_step_s",))
    if first is not None:
        add(
            "2. (info) first scheduler step with 10,000 tasks: evaluates every condition, blocks the loop (s)",
            _num(first),
            "",
            "",
            "—",
            "—",
        )

    # 3. Dispatch burst.
    tp_fmt = lambda run: _pair(run["throughput_per_s"])  # noqa: E731
    lat_fmt = lambda run: _pair(run["start_latency_s"], MS)  # noqa: E731
    ns_tp = _value(r, "burst/ns", ("throughput_per_s", "median"))
    rk_tps = [
        v
        for v in (
            _value(r, "burst/rocketry/default", ("throughput_per_s", "median")),
            _value(r, "burst/rocketry/cs0.01", ("throughput_per_s", "median")),
        )
        if v is not None
    ]
    aps_tp = _value(r, "burst/aps", ("throughput_per_s", "median"))
    ok = None
    if ns_tp is not None:
        checks = []
        if rk_tps:
            checks.append(ns_tp >= 10 * max(rk_tps))
        if aps_tp is not None:
            checks.append(ns_tp >= 1.5 * aps_tp)
        ok = all(checks) if checks else None
    add(
        "3. dispatch throughput, 1,000 no-op async tasks due at once (runs/s, median / worst)",
        _cell(r, "burst/ns", tp_fmt),
        _rocketry(r, "burst/rocketry", tp_fmt),
        _cell(r, "burst/aps", tp_fmt),
        "≥ 10× Rocketry and ≥ 1.5× APScheduler",
        _met(ok),
    )
    ns_lat = _value(r, "burst/ns", ("start_latency_s", "p99"))
    rk_lats = [
        v
        for v in (
            _value(r, "burst/rocketry/default", ("start_latency_s", "p99")),
            _value(r, "burst/rocketry/cs0.01", ("start_latency_s", "p99")),
        )
        if v is not None
    ]
    aps_lat = _value(r, "burst/aps", ("start_latency_s", "p99"))
    ok = None
    if ns_lat is not None:
        checks = []
        if rk_lats:
            checks.append(ns_lat * 10 <= min(rk_lats))
        if aps_lat is not None:
            checks.append(ns_lat <= aps_lat)
        ok = all(checks) if checks else None
    add(
        "3. start latency, due time → function entered, same burst (ms, median / p99)",
        _cell(r, "burst/ns", lat_fmt),
        _rocketry(r, "burst/rocketry", lat_fmt),
        _cell(r, "burst/aps", lat_fmt),
        "p99 ≤ Rocketry's ÷ 10 and ≤ APScheduler's",
        _met(ok),
    )

    # 4-6. In a kernel.
    kernel_only = "n/a: measured for notebook_sched only"
    med = _value(r, "kernel/process_start", ("latency_s", "median"))
    add(
        "4. process start in a kernel, cell-defined function, start → child running (ms, median / p99)",
        _cell(
            r,
            "kernel/process_start",
            lambda run: (
                f"{_pair(run['latency_s'], MS)} (first, booting the zygote: "
                f"{_num(run['first_s'] * MS)})"
            ),
        ),
        kernel_only,
        kernel_only,
        "p50 ≤ 15 ms",
        _met(None if med is None else med * MS <= 15),
    )
    add(
        "5. (reference) `1+1` round trip, idle kernel, no scheduler (ms, median / p99)",
        _cell(r, "kernel/responsiveness", lambda run: _pair(run["baseline_rtt_s"], MS)),
        "",
        "",
        "—",
        "—",
    )
    add(
        "5. (reference) `1+1` round trip, 100 tasks every 0.1 s, no panel (ms, median / p99)",
        _cell(
            r,
            "kernel/responsiveness",
            lambda run: (
                f"{_pair(run['no_panel']['rtt_s'], MS)} "
                f"({_num(run['no_panel']['runs_per_s'])} runs/s of 1,000 asked)"
            ),
        ),
        "",
        "",
        "—",
        "—",
    )
    p99 = _value(r, "kernel/responsiveness", ("with_panel", "rtt_s", "p99"))
    idle_p99 = _value(r, "kernel/responsiveness", ("baseline_rtt_s", "p99"))
    add(
        "5. kernel responsiveness: `1+1` round trip, 100 tasks every 0.1 s, panel displayed (ms, median / p99)",
        _cell(
            r,
            "kernel/responsiveness",
            lambda run: (
                f"{_pair(run['with_panel']['rtt_s'], MS)} "
                f"({_num(run['with_panel']['runs_per_s'])} runs/s of 1,000 asked, "
                f"{_num(run['with_panel']['comm_msg_per_s'])} comm_msg/s)"
            ),
        ),
        kernel_only,
        kernel_only,
        "p99 ≤ 20 ms and ≤ 2× the idle kernel's",
        _met(
            None
            if p99 is None
            else p99 * MS <= 20 and (idle_p99 is None or p99 <= 2 * idle_p99)
        ),
    )
    rate = _value(r, "kernel/panel_traffic", ("rate_per_s",))
    add(
        "6. panel traffic, 100 live countdowns at steady state (comm_msg/s: mean; per-second median / p99)",
        _cell(
            r,
            "kernel/panel_traffic",
            lambda run: (
                f"{_num(run['rate_per_s'])}; {_pair(run['per_second'])} "
                f"({run['live_runs']} live runs, {_num(run['window_s'])} s)"
            ),
        ),
        "n/a: no panel",
        "n/a: no panel",
        "≤ 5/s",
        _met(None if rate is None else rate <= 5),
    )

    # 7. History.
    hist = _get(r, "history/ns")
    runs_label = f"{hist.get('recorded_runs', '?'):,}" if hist and "error" not in hist else "?"
    growth = _value(r, "history/ns", ("rss_growth_mb",))
    add(
        f"7. history: RSS growth over {runs_label} recorded runs, `runs_db` file (MB)",
        _cell(
            r,
            "history/ns",
            lambda run: (
                f"{_num(run['rss_growth_mb'])} from before the first run; "
                f"{_num(run.get('rss_growth_after_first_1000_mb'))} after the first 1,000; "
                f"{_num(run['rss_growth_after_first_tenth_mb'])} after the first tenth"
            ),
        ),
        _cell(
            r,
            "history/rocketry/default",
            lambda run: (
                f"{_num(run['rss_growth_mb'])} over {run['runs_done']:,} runs in "
                f"{_num(run['elapsed_s'])} s (its default in-memory log; "
                f"{_num(run['rss_growth_per_1000_runs_mb'])} MB per 1,000 runs, so "
                f"~{_num(run['rss_growth_per_1000_runs_mb'] * 100)} MB at 100,000)"
            ),
        )
        if "history/rocketry/default" in r["runs"]
        else ("skipped (--quick)" if results.get("mode") == "quick" else "not run"),
        "n/a: keeps no run history",
        "≤ 10 MB",
        _met(None if growth is None else growth <= 10),
    )
    for label, field, count_field in (
        ("`app.runs(task=...)`", "runs_task_s", "runs_task_records"),
        ("`app.runs(task=..., limit=100)`", "runs_task_limit100_s", "runs_task_limit100_records"),
    ):
        p99 = _value(r, "history/ns", (field, "p99"))
        rk = ""
        if field == "runs_task_s" and "history/rocketry/default" in r["runs"]:
            rk = _cell(
                r,
                "history/rocketry/default",
                lambda run: (
                    f"{_pair(run['query_task_s'], MS)} "
                    f"(`filter_by(task_name=...)`, {run['query_task_records']:,} records)"
                ),
            )
        add(
            f"7. history: {label} for one task (ms, median / p99)",
            _cell(
                r,
                "history/ns",
                lambda run, f=field, c=count_field: f"{_pair(run[f], MS)} ({run[c]:,} records)",
            ),
            rk,
            "n/a: keeps no run history",
            "≤ 10 ms",
            _met(None if p99 is None else p99 * MS <= 10),
        )
    add(
        "7. (info) sustained dispatch, 100 no-op async tasks always due, runs_db file (runs/s)",
        _cell(r, "history/ns", lambda run: _num(run["runs_per_s"])),
        _cell(r, "history/rocketry/default", lambda run: _num(run["runs_per_s"]))
        if "history/rocketry/default" in r["runs"]
        else "",
        "",
        "—",
        "—",
    )

    # 8-9. Loop block: the 1 ms sleeper on the scheduler's loop, beside the
    # same sleeper on a bare loop (same process, same duration).
    not_measured = "not measured"

    def ms(x: float | None) -> str:
        return "?" if x is None else _num(x * MS)

    def block(fig: dict[str, Any]) -> str:
        return f"{ms(fig.get('longest'))} / {ms(fig.get('p99'))}"

    def locked_fmt(run: dict[str, Any]) -> str:
        runs = run["runs_in_window"]
        counted = (
            f"{runs['min']:.0f}"
            if runs["min"] == runs["max"]
            else f"{runs['min']:.0f} to {runs['max']:.0f}"
        )
        rounds = run["rounds"]
        return (
            f"{block(run['loop_block'])}; {counted} of {run['expected_runs']} runs in the window "
            f"(bare loop: {block(run['bare_loop_block'])}; "
            f"{rounds} round{'s' if rounds != 1 else ''})"
        )

    longest = _value(r, "loop_block/locked_db/ns", ("loop_block", "longest"))
    add(
        "8. loop block, another process holds the `runs_db` write lock 3 s, one task every "
        "0.2 s (1 ms sleeper, ms: longest / p99 over 5 s; the task's runs)",
        _cell(r, "loop_block/locked_db/ns", locked_fmt),
        not_measured,
        _cell(
            r,
            "loop_block/locked_db/aps",
            lambda run: f"{locked_fmt(run)} — `SQLAlchemyJobStore` on the SQLite file",
        ),
        "longest ≤ 20 ms",
        _met(None if longest is None else longest * MS <= 20),
    )

    def many_fmt(run: dict[str, Any]) -> str:
        rounds = run["rounds"]
        return (
            f"{block(run['loop_block'])}; after start: "
            f"{ms(run['loop_block_after_start']['longest'])}; "
            f"while defining ({run['per_slice']} per slice): "
            f"{ms(run['loop_block_while_defining']['longest'])}, one slice alone up to "
            f"{ms(run.get('longest_slice_s'))} "
            f"(bare loop: {block(run['bare_loop_block'])}; "
            f"{rounds} round{'s' if rounds != 1 else ''})"
        )

    longest = _value(r, "loop_block/10000_tasks/ns", ("loop_block", "longest"))
    add(
        "9. loop block, 10,000 tasks not due for hours defined then started, until 2 s after "
        "start (1 ms sleeper, ms: longest / p99; longest after start; longest while defining)",
        _cell(r, "loop_block/10000_tasks/ns", many_fmt),
        not_measured,
        _cell(r, "loop_block/10000_tasks/aps", lambda run: f"{many_fmt(run)} — `add_job` calls"),
        "longest ≤ 50 ms",
        _met(None if longest is None else longest * MS <= 50),
    )

    from bench.report_batch import batch_rows  # figure 10

    batch_rows(r, add)
    from bench.report_capture import capture_rows  # figure 11

    capture_rows(r, add)
    from bench.report_overload import overload_rows  # figure 12

    overload_rows(r, add)
    return rows


def render_table(results: dict[str, Any], rows: list[dict[str, str]]) -> str:
    peers = results.get("peers", {})
    head = (
        f"notebook_sched benchmark — {results['mode']} mode, {results['date']}, "
        f"nproc={results['machine']['nproc']}, Python {results['machine']['python']}; "
        f"Rocketry {peers.get('rocketry_version', '?')}, APScheduler "
        f"{peers.get('apscheduler_version', '?')}; total {results.get('total_wall_s', 0):.0f} s"
    )
    cols = ["figure", "notebook_sched", "Rocketry", "APScheduler", "target", "met"]
    lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(row[c].replace("|", "/") for c in cols) + " |")
    return "\n".join(lines)
