"""Figure 11: what output capture costs — the same figures with
``capture_output=True`` and ``capture_output=False``, side by side in one
process, the two modes interleaved (ABBA) so that the machine's drift during
the run falls on both alike.

``capture_burst`` (a script, as figure 3): ``n`` tasks (``kind``: async or
thread) due at the same whole second T, each printing one line and then
stamping ``time.time()``; a fresh scheduler per round. Runs/s = n / (last
stamp - T), as figure 3 reads it (the print is inside the span); also n /
(T to the moment no run is alive, polled every 2 ms), which counts the ends
(each buffer closed into its record), and the process's CPU per run over
that span. Uncaptured, ``sys.stdout`` is ``open(os.devnull, "w")``: what
Python gives a script whose output goes to a file (block-buffered), the
cheapest real sink, so the ratio is an upper bound of capture's cost.
Captured, the scheduler wraps that same file object.

``capture_kernel`` (a real kernel, ``kernel_bench.Kernel``, as figure 5):
``execute_request("1+1")`` round trips while ``tasks`` async tasks print a line
each every ``interval`` s; phases alternate between a scheduler with and one
without capture. Uncaptured, the lines go where the kernel sends them: its
``OutStream``, as ``stream`` messages on iopub (counted) parented to whatever
cell ran last — the driver's reader thread drains them.

Between modes the streams capture wrapped are put back (``RunAwareStream
.wrapped``), so an uncaptured phase is today's behaviour exactly but for the
patches capture leaves on ``logging`` and ``threading`` (a context-variable
read per ``Thread.start`` and per log call).

``python -m bench.capture_bench '{"scenario": "capture_burst", "kind": "async",
"n": 100, "rounds": 8}'``
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from typing import Any

from bench._util import args_from_argv, emit, hhmmss, next_whole_second, quiet_logging, summary

MODES = ("captured", "uncaptured")


def _order(i: int) -> tuple[str, str]:
    """ABBA: round pairs alternate which mode goes first."""
    return MODES if i % 2 == 0 else MODES[::-1]


def _unwrap_streams() -> None:
    from notebook_sched._execution.capture import RunAwareStream

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RunAwareStream):
            setattr(sys, name, stream.wrapped)


def _cost(captured: float | None, uncaptured: float | None, *, rate: bool) -> float | None:
    """What capture adds, as a fraction of the uncaptured figure: the time per
    run for a rate (``uncaptured / captured - 1``), the time itself for a
    latency (``captured / uncaptured - 1``)."""
    if not captured or not uncaptured:
        return None
    return uncaptured / captured - 1 if rate else captured / uncaptured - 1


# ------------------------------------------------------ (a) dispatch burst


async def _burst_round(kind: str, n: int, capture: bool, ahead: float) -> dict[str, Any]:
    from notebook_sched import Scheduler
    from notebook_sched.conds import daily

    loop = asyncio.get_running_loop()
    stamps: list[float] = []
    all_ran = asyncio.Event()

    def stamp() -> None:
        stamps.append(time.time())
        if len(stamps) == n:
            loop.call_soon_threadsafe(all_ran.set)

    def make(i: int) -> Any:
        line = f"a line from p{i}"
        if kind == "async":

            async def f() -> None:
                print(line)
                stamp()

        else:

            def f() -> None:
                print(line)
                stamp()

        return f

    app = Scheduler(capture_output=capture)
    due = next_whole_second(ahead)
    cond = daily.after(hhmmss(due))
    for i in range(n):
        app.task(cond, name=f"p{i}", execution=kind)(make(i))
    app.start()
    tasks = list(app.tasks.values())
    await asyncio.sleep(max(0.0, due - time.time() - 0.05))
    cpu0 = time.process_time()
    problems: list[str] = []
    try:
        await asyncio.wait_for(all_ran.wait(), due - time.time() + 30)
    except TimeoutError:
        problems.append(f"only {len(stamps)} of {n} ran within 30 s of the due time")
    limit = time.monotonic() + 30
    while any(t.is_alive() for t in tasks) and time.monotonic() < limit:
        await asyncio.sleep(0.002)
    final = time.time()
    cpu = time.process_time() - cpu0
    records = app.runs()
    app.shut_down(force=True)
    await asyncio.wait_for(app.wait(), 15)
    if capture:
        _unwrap_streams()
    if len(records) != n:
        problems.append(f"{len(records)} records of {n} runs")
    wrong = [
        r.task
        for r in records
        if r.status != "success" or r.output != (f"a line from {r.task}\n" if capture else "")
    ]
    if wrong:
        problems.append(f"{len(wrong)} records without their own line (or with one uncaptured)")
    del app, tasks
    gc.collect()
    return {
        "throughput": n / max(max(stamps) - due, 1e-9) if stamps else None,
        "final_throughput": n / max(final - due, 1e-9),
        "cpu_per_run": cpu / n,
        "latencies": [s - due for s in stamps],
        "problems": problems,
    }


async def capture_burst(kind: str, n: int, rounds: int, ahead: float = 0.5) -> dict[str, Any]:
    real = sys.stdout
    sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    sys.stdout = sink
    per: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    try:
        for mode in MODES:  # warm-up, not kept: imports, the first install of capture
            await _burst_round(kind, n, mode == "captured", ahead)
        for i in range(rounds):
            for mode in _order(i):
                per[mode].append(await _burst_round(kind, n, mode == "captured", ahead))
    finally:
        _unwrap_streams()
        sys.stdout = real
        sink.close()
    result: dict[str, Any] = {"kind": kind, "n": n, "rounds": rounds, "sink": "/dev/null"}
    for mode, rows in per.items():
        result[mode] = {
            "throughput_per_s": summary((r["throughput"] for r in rows), low_is_bad=True),
            "throughputs": [r["throughput"] for r in rows],
            "final_throughput_per_s": summary(
                (r["final_throughput"] for r in rows), low_is_bad=True
            ),
            "cpu_per_run_s": summary(r["cpu_per_run"] for r in rows),
            "start_latency_s": summary(x for r in rows for x in r["latencies"]),
        }
    med = {m: result[m]["throughput_per_s"]["median"] for m in MODES}
    fin = {m: result[m]["final_throughput_per_s"]["median"] for m in MODES}
    result["cost"] = _cost(med["captured"], med["uncaptured"], rate=True)
    result["final_cost"] = _cost(fin["captured"], fin["uncaptured"], rate=True)
    cpu = {m: result[m]["cpu_per_run_s"]["median"] for m in MODES}
    result["cpu_cost"] = _cost(cpu["captured"], cpu["uncaptured"], rate=False)
    # The spread: each round's pair (run next to each other) on its own.
    result["pair_costs"] = [
        _cost(c["throughput"], u["throughput"], rate=True)
        for c, u in zip(per["captured"], per["uncaptured"], strict=True)
    ]
    # The least CPU per run of each mode: interference only adds CPU time.
    least = {m: min(r["cpu_per_run"] for r in per[m]) for m in MODES}
    result["cpu_least_cost"] = _cost(least["captured"], least["uncaptured"], rate=False)
    path = result["path"] = capture_path()
    # Capture's own work per run, as a share of an uncaptured run's least CPU.
    result["path_cost"] = path["added_s"] / least["uncaptured"]
    result["problems"] = [p for rows in per.values() for r in rows for p in r["problems"]][:5]
    return result


def capture_path(repeats: int = 9, number: int = 20000) -> dict[str, Any]:
    """What capture adds to one run that prints one line, timed alone (the
    least of ``repeats`` timings of ``number`` runs, timeit's estimator: a
    loaded machine only ever adds time): a run's buffer made, the context
    variable set, the line printed through ``RunAwareStream`` into it and the
    buffer closed into its text, as ``starting.py``, ``async_.py`` /
    ``thread.py`` and ``ledger.py`` do — against the same line printed to the
    uncaptured sink (``/dev/null``, block-buffered)."""
    import timeit

    from notebook_sched._execution import capture
    from notebook_sched._execution.output import DEFAULT_LIMIT, OutputBuffer

    sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    stream = capture.RunAwareStream(sink)
    line = "a line from p17"

    def captured() -> None:
        buffer = OutputBuffer(DEFAULT_LIMIT)
        token = capture.CURRENT.set(buffer)
        print(line, file=stream)
        capture.CURRENT.reset(token)
        buffer.close()

    def uncaptured() -> None:
        print(line, file=sink)

    try:
        per = {
            name: min(timeit.repeat(f, number=number, repeat=repeats)) / number
            for name, f in (("captured", captured), ("uncaptured", uncaptured))
        }
    finally:
        sink.close()
    return {"captured_s": per["captured"], "uncaptured_s": per["uncaptured"],
            "added_s": per["captured"] - per["uncaptured"], "repeats": repeats,
            "number": number}  # fmt: skip


# -------------------------------------------------- (b) kernel round trip

KERNEL_SETUP = """
import json, sys
from notebook_sched import Scheduler
from notebook_sched.conds import every
from notebook_sched._execution.capture import RunAwareStream

def _unwrap_streams():
    for _name in ("stdout", "stderr"):
        _s = getattr(sys, _name)
        if isinstance(_s, RunAwareStream):
            setattr(sys, _name, _s.wrapped)

def _talker(i):
    async def talk():
        print(f"a line from t{i}")
    return talk

app = None
"""

KERNEL_PHASE = """
if app is not None:
    app.shut_down(force=True)
    await app.wait(15)
_unwrap_streams()
app = Scheduler(capture_output={capture})
for _i in range({tasks}):
    app.task(every("{interval} seconds"), name=f"t{{_i}}")(_talker(_i))
app.start()
"""

KERNEL_COUNT = """
import time
_last = [r.output for r in app.runs(task="t0", limit=5) if r.end is not None]
print("BENCH-CELL " + json.dumps([
    time.time(), sum(sum(c.values()) for c in app.run_counts().values()), _last]))
"""


def capture_kernel(
    tasks: int, interval: float, requests: int, gap: float, pairs: int, phase_limit: float
) -> dict[str, Any]:
    from bench.kernel_bench import Kernel, _round_trips, _with_kernel

    def phase(k: Kernel, capture: bool) -> dict[str, Any]:
        k.execute(KERNEL_PHASE.format(capture=capture, tasks=tasks, interval=interval), 60)
        time.sleep(1.0)
        t_a, runs_a, _ = k.cell_json(KERNEL_COUNT)
        streams_a, m0 = k.counts.get("stream", 0), time.monotonic()
        rtts = _round_trips(k, requests, gap, phase_limit)
        streams_b, m1 = k.counts.get("stream", 0), time.monotonic()
        t_b, runs_b, outputs = k.cell_json(KERNEL_COUNT)
        expected = "a line from t0\n" if capture else ""
        problems = [] if outputs and all(o == expected for o in outputs) else [
            f"t0's last records hold {outputs!r}, not {expected!r}"
        ]  # fmt: skip
        return {
            "rtts": rtts,
            "runs_per_s": (runs_b - runs_a) / (t_b - t_a),
            "stream_msgs_per_s": (streams_b - streams_a) / (m1 - m0),
            "problems": problems,
        }

    def body(k: Kernel) -> dict[str, Any]:
        _round_trips(k, 20, gap)  # warm the kernel up
        baseline = _round_trips(k, requests, gap, phase_limit)
        k.execute(KERNEL_SETUP, 60)
        phases: list[dict[str, Any]] = []
        for i in range(pairs):
            for mode in _order(i):
                phases.append(dict(phase(k, mode == "captured"), mode=mode))
        result: dict[str, Any] = {
            "tasks": tasks,
            "interval_s": interval,
            "pairs": pairs,
            "baseline_rtt_s": summary(baseline),
            "phases": [
                {
                    "mode": p["mode"],
                    "rtt_s": summary(p["rtts"]),
                    "runs_per_s": p["runs_per_s"],
                    "stream_msgs_per_s": p["stream_msgs_per_s"],
                }
                for p in phases
            ],
            "problems": [x for p in phases for x in p["problems"]][:5],
        }
        for mode in MODES:
            mine = [p for p in phases if p["mode"] == mode]
            result[mode] = {
                "rtt_s": summary(x for p in mine for x in p["rtts"]),
                "runs_per_s": summary(p["runs_per_s"] for p in mine),
                "stream_msgs_per_s": summary(p["stream_msgs_per_s"] for p in mine),
            }
        for q in ("median", "p99"):
            result[f"cost_{q}"] = _cost(
                result["captured"]["rtt_s"][q], result["uncaptured"]["rtt_s"][q], rate=False
            )
            # The noise floor: the same mode's phases against each other.
            result[f"same_mode_spread_{q}"] = max(
                _cost(max(v), min(v), rate=False) or 0.0
                for v in (
                    [p["rtt_s"][q] for p in result["phases"] if p["mode"] == mode] for mode in MODES
                )
            )
        path = result["path"] = capture_path()
        # Capture's own work, as a share of the kernel loop's time: what it can add to a wait.
        result["loop_share"] = path["added_s"] * result["captured"]["runs_per_s"]["median"]
        return result

    return _with_kernel(body)


def main() -> None:
    quiet_logging()
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    if name == "capture_burst":
        result = asyncio.run(capture_burst(**args))
    else:
        result = capture_kernel(**args)
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    sys.exit(main())
