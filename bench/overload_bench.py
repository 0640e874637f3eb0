"""Figure 12: a saturated scheduler in a real kernel — does the kernel still
answer first?

One kernel (``kernel_bench.Kernel``), three phases, each measured the same
way: ``execute_request("1+1")`` round trips ``gap`` s apart (the user's
view), and a 1 ms sleeper on the kernel's own loop (``_util.Sleeper``,
started in the first cell: how late a timer on that loop fires, which is
what every shell message and every async task on it meets). Per phase also
the runs a second the scheduler achieved, the widget messages a second, and
the kernel's garbage collections (count and longest, by generation: a pause
of the whole interpreter, which the scheduler's allocations trigger and the
kernel's heap makes long).

- ``idle``: no scheduler (the reference).
- ``async_panel``: ``tasks_async`` async no-op tasks ``every(interval_async)``
  (300 every 0.05 s: 6,000 runs a second asked), the panel displayed.
- ``threads``: ``tasks_thread`` thread no-op tasks ``every(interval_thread)``
  (2,000 every 0.01 s: 200,000 runs a second asked), plus ``timeout_tasks``
  thread tasks that wait on their flag, ``timeout`` 0.2 s, every 0.3 s:
  how late their timeouts end (record end - start - timeout).

``python -m bench.overload_bench '{"requests": 100, "phase_limit": 5}'``
"""

from __future__ import annotations

import time
from typing import Any

from bench._util import args_from_argv, emit, summary
from bench.kernel_bench import RESPONSIVE_SETUP, RUN_COUNT, Kernel, _round_trips, _with_kernel

PREPARE = """
import asyncio, gc, json, time
from bench._util import Sleeper, percentile
_sleeper = Sleeper()
_sleeper.start()
_gcs = []
def _gc_watch(phase, info, _t=[0.0]):
    if phase == "start":
        _t[0] = time.perf_counter()
    else:
        _gcs.append((info["generation"], time.perf_counter() - _t[0], time.perf_counter()))
gc.callbacks.append(_gc_watch)
app = None
"""

MARK = """
_mark_{name} = time.perf_counter()
"""

WINDOW = """
_b = [b for b, e in zip(_sleeper.blocks, _sleeper.ends) if _mark_{a} <= e <= _mark_{b}]
_g = [g for g in _gcs if _mark_{a} <= g[2] <= _mark_{b}]
print("BENCH-CELL " + json.dumps({{
    "lateness_s": {{"n": len(_b), "median": percentile(_b, 50), "p99": percentile(_b, 99),
                   "max": max(_b)}} if _b else None,
    "wakeups_per_s": len(_b) / (_mark_{b} - _mark_{a}),
    "gc": {{str(gen): {{"count": sum(1 for g in _g if g[0] == gen),
                        "longest_s": max((g[1] for g in _g if g[0] == gen), default=0.0),
                        "total_s": sum(g[1] for g in _g if g[0] == gen)}} for gen in (0, 1, 2)}},
}}))
"""

THREAD_PHASE = """
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
from notebook_sched.conds import every
from notebook_sched.exc import TaskTerminationException

app = Scheduler()

def noop():
    pass

def waits(flag=TerminationFlag()):
    flag.wait(30)
    raise TaskTerminationException()

for _i in range({tasks}):
    app.task(every("{interval} seconds"), name=f"t{{_i}}", execution="thread")(noop)
for _i in range({timeout_tasks}):
    app.task(every("0.3 seconds"), name=f"late{{_i}}", execution="thread",
             timeout={timeout})(waits)
app.start()
"""

STOP = """
if app is not None:
    app.shut_down(force=True)
    await app.wait(30)
"""

TIMEOUTS = """
_late = [r.end.timestamp() - r.start.timestamp() - {timeout} for r in app.runs()
         if r.task.startswith("late") and r.reason == "timeout"]
print("BENCH-CELL " + json.dumps(_late))
"""


def overload(
    requests: int,
    gap: float,
    phase_limit: float,
    tasks_async: int = 300,
    interval_async: float = 0.05,
    tasks_thread: int = 2_000,
    interval_thread: float = 0.01,
    timeout_tasks: int = 5,
    timeout: float = 0.2,
    settle: float = 1.0,
) -> dict[str, Any]:
    def phase(k: Kernel, name: str) -> dict[str, Any]:
        t_a, runs_a = k.cell_json(RUN_COUNT) if name != "idle" else (0.0, 0)
        k.execute(MARK.format(name=f"{name}_0"))
        m0 = time.monotonic()
        rtts = _round_trips(k, requests, gap, phase_limit)
        m1 = time.monotonic()
        k.execute(MARK.format(name=f"{name}_1"))
        window = k.cell_json(WINDOW.format(a=f"{name}_0", b=f"{name}_1"))
        result = {"rtt_s": summary(rtts), "samples": rtts, **window}
        result["comm_msg_per_s"] = len(k.comm_msgs(m0, m1)) / (m1 - m0)
        if name != "idle":
            t_b, runs_b = k.cell_json(RUN_COUNT)
            result["runs_per_s"] = (runs_b - runs_a) / (t_b - t_a)
        return result

    def body(k: Kernel) -> dict[str, Any]:
        k.execute(PREPARE, 30)
        _round_trips(k, 20, gap)  # warm the kernel up
        out: dict[str, Any] = {"idle": phase(k, "idle")}

        t0 = time.monotonic()
        k.execute(RESPONSIVE_SETUP.format(tasks=tasks_async, interval=interval_async), 120)
        k.execute("app", 60)  # the panel, displayed
        out["async_panel_setup_s"] = time.monotonic() - t0
        time.sleep(settle)
        out["async_panel"] = phase(k, "async_panel")
        out["async_panel"]["runs_per_s_asked"] = tasks_async / interval_async
        k.execute(STOP, 60)

        t0 = time.monotonic()
        setup = THREAD_PHASE.format(
            tasks=tasks_thread, interval=interval_thread, timeout_tasks=timeout_tasks,
            timeout=timeout,
        )  # fmt: skip
        k.execute(setup, 120)
        out["threads_setup_s"] = time.monotonic() - t0
        time.sleep(settle)
        out["threads"] = phase(k, "threads")
        out["threads"]["runs_per_s_asked"] = tasks_thread / interval_thread
        late = k.cell_json(TIMEOUTS.format(timeout=timeout), 60)
        out["threads"]["timeout_late_s"] = summary(late) if late else None
        k.execute(STOP, 60)
        out["params"] = {
            "tasks_async": tasks_async, "interval_async": interval_async,
            "tasks_thread": tasks_thread, "interval_thread": interval_thread,
            "requests": requests, "gap": gap, "phase_limit": phase_limit,
        }  # fmt: skip
        return out

    return _with_kernel(body)


def main() -> None:
    args = args_from_argv()
    args.pop("scenario", None)
    t0 = time.monotonic()
    result = overload(**args)
    result["wall_s"] = time.monotonic() - t0
    emit(result)


if __name__ == "__main__":
    main()
