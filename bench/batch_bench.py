"""Figure 10: a batch of one-off process runs queued on a pool of 2 slots.

notebook_sched (``scenario: "batch"``): a real kernel (``kernel_bench.Kernel``).
One cell defines ``work`` in the notebook and N process tasks of it on
``pools={"cpu": 2}``; the next queues all N with ``Task.run()``. While they
drain, the driver sends ``execute_request("1+1")`` 10 ms apart and times each
round trip, asking every second (a cell of its own, not counted) how many runs
have their final record. At the end a cell reads the history: every task must
have exactly one record, final, status ``success``.

APScheduler 3 (``aps_script``-style, ``scenario: "batch_aps"``, in a script —
it has no notebook side): the same N one-off runs of a module-level function
(it cannot ship a cell's function to a process) on a ``ProcessPoolExecutor``
of 2 workers, each a ``DateTrigger`` job due at once. Its ``max_instances``
is not the analogue: it skips a run that comes due while the limit is
reached instead of queueing it.

Overhead per run, both: ``2 × (last end − first start) / N`` minus the mean
of the function's own time (measured inside it) — the wall each slot spends
per run beyond the function itself.

``python -m bench.batch_bench '{"scenario": "batch", "n": 1000, "work_s": 0.002}'``
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any

from bench._util import args_from_argv, emit, summary

SLOTS = 2

DEFINE = """
import json, time
from notebook_sched import Scheduler

app = Scheduler(pools={{"cpu": {slots}}})

def work(seconds={work_s}):       # defined in the cell: travels with cloudpickle
    began = time.perf_counter()
    time.sleep(seconds)
    return time.perf_counter() - began

_t0 = time.perf_counter()
for _i in range({n}):
    app.task(execution="process", name=f"b{{_i}}", pool="cpu")(work)
app.start()
print("BENCH-CELL " + json.dumps(time.perf_counter() - _t0))
"""

QUEUE = """
_t0 = time.perf_counter()
_queued = [app.tasks[f"b{{_i}}"].run() for _i in range({n})]
print("BENCH-CELL " + json.dumps([time.perf_counter() - _t0, sum(_queued)]))
"""

DONE = """
print("BENCH-CELL " + json.dumps(sum(c.get("success", 0) + c.get("fail", 0) + c.get("crash", 0)
                                     + c.get("terminate", 0) for c in app.run_counts().values())))
"""

CHECK = """
import collections
_runs = app.runs()
_per_task = collections.Counter(r.task for r in _runs)
_own = [float(r.result) for r in _runs if r.status == "success"]
_first = min(r.start for r in _runs).timestamp()
_last = max(r.end for r in _runs if r.end is not None).timestamp()
print("BENCH-CELL " + json.dumps({
    "records": len(_runs),
    "statuses": dict(collections.Counter(r.status for r in _runs)),
    "tasks_with_one_record": sum(1 for c in _per_task.values() if c == 1),
    "own_s": _own,
    "run_wall_s": [r.runtime for r in _runs if r.runtime is not None],
    "batch_wall_s": _last - _first,
}))
"""


def batch(n: int, work_s: float, limit_s: float = 600.0, gap: float = 0.01) -> dict[str, Any]:
    from bench.kernel_bench import Kernel, _round_trips, _with_kernel

    def body(k: Kernel) -> dict[str, Any]:
        _round_trips(k, 20, gap)  # warm the kernel up
        define_s = k.cell_json(DEFINE.format(n=n, work_s=work_s, slots=SLOTS), timeout=300)
        queue_s, queued = k.cell_json(QUEUE.format(n=n), timeout=120)
        rtts: list[float] = []
        stop = time.monotonic() + limit_s
        done, next_look = 0, time.monotonic() + 1.0
        while done < n and time.monotonic() < stop:
            rtt, _ = k.execute("1+1", 10)
            rtts.append(rtt)
            if time.monotonic() >= next_look:
                done = k.cell_json(DONE)
                next_look = time.monotonic() + 1.0
            time.sleep(gap)
        check = k.cell_json(CHECK, timeout=120)
        own = check.pop("own_s")
        walls = check.pop("run_wall_s")
        mean_own = sum(own) / len(own) if own else 0.0
        per_run = SLOTS * check["batch_wall_s"] / n - mean_own
        problems = []
        if queued != n:
            problems.append(f"Task.run() returned True for {queued} of {n}")
        if check["records"] != n or check["tasks_with_one_record"] != n:
            problems.append(f"{check['records']} records, {check['tasks_with_one_record']} single")
        if check["statuses"] != {"success": n}:
            problems.append(f"statuses {check['statuses']}")
        return {
            "n": n,
            "slots": SLOTS,
            "work_s": work_s,
            "define_s": define_s,
            "queue_s": queue_s,
            **check,
            "own_s": summary(own),
            "run_wall_s": summary(walls),
            "overhead_per_run_s": per_run,
            "rtt_s": summary(rtts),
            "rtt_samples": len(rtts),
            "problems": problems,
        }

    return _with_kernel(body)


def _aps_work(seconds: float) -> float:
    began = time.perf_counter()
    time.sleep(seconds)
    return time.perf_counter() - began


async def batch_aps(n: int, work_s: float, limit_s: float = 600.0) -> dict[str, Any]:
    import asyncio
    from datetime import datetime, timedelta

    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.executors.pool import ProcessPoolExecutor
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    loop = asyncio.get_running_loop()
    ends: list[tuple[float, float | None, str]] = []
    all_done = asyncio.Event()

    def listener(event: Any) -> None:
        code = {EVENT_JOB_EXECUTED: "success", EVENT_JOB_ERROR: "fail"}.get(event.code, "missed")
        value = getattr(event, "retval", None)
        ends.append((time.time(), value if isinstance(value, float) else None, code))
        if len(ends) >= n:
            loop.call_soon_threadsafe(all_done.set)

    sched = AsyncIOScheduler(executors={"default": ProcessPoolExecutor(max_workers=SLOTS)})
    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    sched.start()
    await asyncio.sleep(0.5)  # the pool's workers start with the first job: warm it
    due = datetime.now() + timedelta(seconds=1)
    t0 = time.perf_counter()
    for i in range(n):
        sched.add_job(
            _aps_work, "date", run_date=due, args=[work_s], id=f"b{i}", misfire_grace_time=3600
        )
    add_s = time.perf_counter() - t0
    first = due.timestamp()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_done.wait(), limit_s)
    sched.shutdown(wait=True)
    own = [v for _, v, _ in ends if v is not None]
    statuses: dict[str, int] = {}
    for _, _, code in ends:
        statuses[code] = statuses.get(code, 0) + 1
    wall = max(t for t, _, _ in ends) - first if ends else None
    mean_own = sum(own) / len(own) if own else 0.0
    problems = [] if statuses == {"success": n} else [f"statuses {statuses}"]
    return {
        "n": n,
        "slots": SLOTS,
        "work_s": work_s,
        "add_s": add_s,
        "records": len(ends),
        "statuses": statuses,
        "own_s": summary(own),
        "batch_wall_s": wall,
        "overhead_per_run_s": None if wall is None else SLOTS * wall / n - mean_own,
        "problems": problems,
    }


def main() -> None:
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    if name == "batch":
        result = batch(**args)
    else:
        import asyncio

        result = asyncio.run(batch_aps(**args))
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    sys.exit(main())
