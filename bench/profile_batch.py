"""Where a queued process run's time goes (``python -m bench.profiles batch [N]``).

N one-off process runs (default 500) of a 2 ms function queued on a pool of
2 slots, in a script (no kernel). Each run's way is stamped on the wall
clock: its record's start (the slot given), the waiter thread taking it, the
request sent to the zygote, the child's pid arriving (its first message),
the function entered and returned (stamped by the function), the waiter
done reading (the child exited and its group is gone, or it is kept for
the next run with nothing of this one left) and the record's end;
then from one run's end to the next start on a freed slot. Printed: the
median and p90 of each step, and the CPU per run of each thread of this
process, of the zygote and of the children (those it reaped and those it
keeps), read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from typing import Any

STEPS = ["waiter", "sent", "pid", "entered", "returned", "read", "end"]


def _cpu(path: str) -> tuple[float, float, float, float]:
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return tuple(int(x) / tick for x in fields[11:15])  # type: ignore[return-value]


def _children(parent: int) -> dict[int, float]:
    """CPU seconds of ``parent``'s live children: the zygote's kept ones are
    not in its reaped children's counters until they exit."""
    try:
        with open(f"/proc/{parent}/task/{parent}/children") as f:
            pids = [int(p) for p in f.read().split()]
    except OSError:
        return {}
    cpu = {}
    for pid in pids:
        try:
            user, system, _, _ = _cpu(f"/proc/{pid}/stat")
        except OSError:
            continue
        cpu[pid] = user + system
    return cpu


def _threads() -> dict[str, float]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    cpu: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        user, system, _, _ = _cpu(f"/proc/self/task/{tid}/stat")
        name = names.get(int(tid), "other")
        cpu[name] = cpu.get(name, 0.0) + user + system
    return cpu


def _instrument(stamps: dict[int, dict[str, float]]) -> None:
    from notebook_sched._execution.process import handle, zygote

    local = threading.local()
    serve, started, read, spawn = (
        handle.ProcessHandle._serve,
        handle.ProcessHandle._started,
        handle.read_child,
        zygote.spawn,
    )

    def timed_serve(self: Any) -> None:
        local.run = stamps.setdefault(self._job.run_id, {})
        local.run["waiter"] = time.time()
        serve(self)

    def timed_spawn(*args: Any, **kwargs: Any) -> int:
        fd = spawn(*args, **kwargs)
        local.run["sent"] = time.time()
        return fd

    def timed_started(self: Any, pid: int) -> None:
        local.run["pid"] = time.time()
        started(self, pid)

    def timed_read(*args: Any) -> Any:
        ended = read(*args)
        local.run["read"] = time.time()
        return ended

    handle.ProcessHandle._serve = timed_serve  # type: ignore[method-assign]
    handle.ProcessHandle._started = timed_started  # type: ignore[method-assign]
    handle.read_child = timed_read
    zygote.spawn = timed_spawn


def _work(seconds: float = 0.002) -> tuple[float, float]:
    import time

    entered = time.time()
    time.sleep(seconds)
    return entered, time.time()


async def _batch(n: int) -> None:
    import cloudpickle

    from notebook_sched import Scheduler
    from notebook_sched._execution.process import zygote

    # By value, as a notebook cell's function travels (by reference, each
    # child would import this module first: what a module's task costs).
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

    stamps: dict[int, dict[str, float]] = {}
    _instrument(stamps)
    app = Scheduler(pools={"cpu": 2})
    for i in range(n):
        app.task(execution="process", name=f"b{i}", pool="cpu")(_work)
    app.task(execution="process", name="warm")(_work)
    app.start()
    app.tasks["warm"].run()  # boots the zygote
    while (last := app.tasks["warm"].last_run) is None or last.status == "run":
        await asyncio.sleep(0.05)
    server_pid = zygote.zygote_pid()
    assert server_pid is not None
    server = f"/proc/{server_pid}/stat"
    live0 = _children(server_pid)
    threads0, zygote0, t0 = _threads(), _cpu(server), time.perf_counter()
    for i in range(n):
        app.tasks[f"b{i}"].run()
    names = [f"b{i}" for i in range(n)]
    while any((r := app.tasks[x].last_run) is None or r.status == "run" for x in names[-4:]):
        await asyncio.sleep(0.2)
    while len([r for r in app.runs() if r.status != "run"]) < n + 1:
        await asyncio.sleep(0.2)
    wall = time.perf_counter() - t0
    threads1, zygote1, live1 = _threads(), _cpu(server), _children(server_pid)
    steps: dict[str, list[float]] = {s: [] for s in STEPS}
    for name in names:
        record, (entered, returned) = app.tasks[name].last_run, app.tasks[name].result
        assert record is not None and record.end is not None and record.status == "success"
        times = {**stamps[record.run_id], "entered": entered, "returned": returned}
        times["end"] = record.end.timestamp()
        previous = record.start.timestamp()
        for step in STEPS:
            steps[step].append(1000 * (times[step] - previous))
            previous = times[step]
    runs = sorted((r for r in app.runs() if r.task != "warm"), key=lambda r: r.start)
    ends = sorted(r.end.timestamp() for r in runs if r.end is not None)
    handover = [1000 * (r.start.timestamp() - ends[i]) for i, r in enumerate(runs[2:])]
    app.shut_down()
    await app.wait(10)
    load = os.getloadavg()[0]
    print(f"{n} runs on 2 slots, {1000 * wall / n:.2f} ms of wall per run; load {load:.1f}")
    labels = {
        "waiter": "record start -> the waiter takes the run",
        "sent": "-> request sent to the zygote",
        "pid": "-> the child's first message (its pid)",
        "entered": "-> the function entered",
        "returned": "-> the function returned",
        "read": "-> child exited or kept, waiter done",
        "end": "-> the record's end",
    }
    rows = [(labels[step], steps[step]) for step in STEPS]
    rows.append(("a run ends -> the next starts on its slot", handover))
    print(f"{'step (ms)':44s} {'p50':>7s} {'p90':>7s}")
    for label, values in rows:
        print(f"{label:44s} {_q(values, 0.5):7.2f} {_q(values, 0.9):7.2f}")
    cpu = {f"this process, {name}": threads1[name] - threads0.get(name, 0.0) for name in threads1}
    cpu["the zygote"] = sum(zygote1[:2]) - sum(zygote0[:2])
    # Reaped ones' whole CPU (less what those alive at the start had spent
    # then), and what the live ones spent.
    reaped = sum(zygote1[2:]) - sum(zygote0[2:])
    cpu["its children"] = reaped + sum(live1.values()) - sum(live0.values())
    print("CPU per run (ms):")
    for label, seconds in cpu.items():
        print(f"  {label:42s} {1000 * seconds / n:.3f}")


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def batch() -> None:
    asyncio.run(_batch(int(sys.argv[2]) if len(sys.argv) > 2 else 500))
