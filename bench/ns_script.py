"""notebook_sched in a plain script: figures 1 (ray runs included), 2, 3, 7, 8 and 9
(7, 8 and 9 — the engine at scale — in ``ns_scale.py``).

``python -m bench.ns_script '{"scenario": "termination", "kind": "async", ...}'``
prints one ``BENCH-RESULT {...}`` line. Every scenario runs the scheduler with
``app.start()`` on the script's running asyncio loop, as it runs on a kernel's
loop, and bounds its own waits.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import shutil
import tempfile
import time
from typing import Any

from bench._util import (
    args_from_argv,
    emit,
    far_window,
    hhmmss,
    hold_until_told,
    next_whole_second,
    quiet_logging,
    summary,
)
from bench.ns_scale import history, locked_db, many_tasks, noop
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
from notebook_sched.conds import daily, time_of_day
from notebook_sched.exc import TaskTerminationException

# ------------------------------------------------------------- task bodies


async def sleeps_forever() -> None:
    await asyncio.sleep(3600)


def checks_flag(flag=TerminationFlag()) -> None:
    # "A task checking its flag every 1 ms."
    while True:
        if flag.is_set():
            raise TaskTerminationException()
        time.sleep(0.001)


def sleeps_in_child() -> None:
    time.sleep(3600)


BODIES = {"async": sleeps_forever, "thread": checks_flag, "process": sleeps_in_child}


async def _wait_idle(app: Scheduler, names: list[str], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not any(app.tasks[n].is_alive() for n in names):
            return True
        await asyncio.sleep(0.01)
    return False


# ---------------------------------------------------- 1. termination latency


async def termination(kind: str, rounds: int, width: int, seed: int = 1) -> dict[str, Any]:
    """Deadline → run observed terminated: ``record.end - (record.start + timeout)``.

    Each round redefines ``width`` tasks with timeouts drawn uniformly from
    0.05–0.5 s, starts them together with ``Task.run()``, and waits for them.
    """
    rng = random.Random(seed)
    app = Scheduler()
    names = [f"{kind}{i}" for i in range(width)]
    body = BODIES[kind]
    for name in names:
        app.task(execution=kind, timeout=1.0, name=name)(body)
    app.start()
    latencies: list[float] = []
    problems: list[str] = []
    if kind == "process":  # boot the zygote outside the measurement
        app.task(execution="process", timeout=0.05, name="warmup")(sleeps_in_child)
        app.tasks["warmup"].run()
        await _wait_idle(app, ["warmup"], 10)
    for _ in range(rounds):
        timeouts = {}
        for name in names:
            timeouts[name] = rng.uniform(0.05, 0.5)
            app.task(execution=kind, timeout=timeouts[name], name=name)(body)
        for name in names:
            app.tasks[name].run()
        if not await _wait_idle(app, names, 15):
            problems.append("runs still alive 15 s after the round started")
            break
        for name in names:
            record = app.runs(task=name, limit=1)[0]
            if record.status != "terminate" or record.reason != "timeout":
                problems.append(f"{name}: {record.status}/{record.reason}")
                continue
            latencies.append(record.runtime - timeouts[name])
    app.shut_down(force=True)
    await asyncio.wait_for(app.wait(), 15)
    return {"latency_s": summary(latencies), "samples": latencies, "problems": problems[:5]}


# ------------------------------------- 1a. termination latency, ray runs


def _ray_bodies(folder: str, index: int) -> dict[str, Any]:
    """The ray task bodies of run ``index``. Each appends ``time.time()`` to a
    file of its own on entry (the worker runs on this machine, same clock):
    the proof that the function was running on its worker at the deadline —
    a killed worker returns nothing. They travel by value (cloudpickle)."""
    entry = os.path.join(folder, f"entered-{index}")

    def noop() -> int:
        return os.getpid()

    def stubborn() -> None:  # ignores its flag: only the forced step ends it
        with open(entry, "w") as f:
            f.write(repr(time.time()))
        time.sleep(3600)

    def cooperative(flag=TerminationFlag()) -> None:  # watches its flag
        with open(entry, "w") as f:
            f.write(repr(time.time()))
        while not flag.wait(1):
            pass
        raise TaskTerminationException()

    return {"noop": noop, "stubborn": stubborn, "cooperative": cooperative, "entry": entry}


def _entered_at(path: str) -> float | None:
    try:
        with open(path) as f:
            return float(f.read())
    except (OSError, ValueError):
        return None


async def ray_termination(
    forced_runs: int, cooperative_runs: int, grace: float = 30.0, seed: int = 1
) -> dict[str, Any]:
    """Deadline → run observed terminated, for ``execution="ray"`` (local Ray).

    Warm-up first (not measured): the first ray run starts the local Ray
    (seconds), a cooperative run creates the flag actor. Then, one run at a
    time, timeouts uniform in 0.05–0.5 s, latency = ``record.end - (record.start
    + timeout)``:

    - forced: ``terminate_grace=0``, a function that ignores its flag, so
      ``ray.cancel(ref, force=True)`` is sent at the deadline and the worker is
      killed. Each killed worker is replaced by Ray; a no-op ray run to
      completion before each measured run makes sure an idle worker is ready,
      so the function is running (not waiting for a worker) at its deadline;
    - cooperative: ``terminate_grace`` large, a function in ``flag.wait(1)``
      that raises ``TaskTerminationException`` once the flag is set: the flag
      travels kernel → flag actor → worker, the function returns, the result
      comes back.
    """
    import importlib.util

    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return {"error": "n/a: Ray is not installed (pip install 'notebook_sched[ray]')"}
    rng = random.Random(seed)
    folder = tempfile.mkdtemp(prefix="nsbench-ray-")
    problems: list[str] = []
    index = 0

    def define(app: Scheduler, kind: str, timeout: float | None) -> str:
        nonlocal index
        index += 1
        bodies = _ray_bodies(folder, index)
        app.task(execution="ray", timeout=timeout, name=kind)(bodies[kind])
        return bodies["entry"]

    async def run_one(app: Scheduler, kind: str, timeout: float | None, limit: float) -> Any:
        entry = define(app, kind, timeout)
        app.tasks[kind].run()
        if not await _wait_idle(app, [kind], limit):
            problems.append(f"{kind}: still alive {limit:g} s after it started")
            return None, None
        return app.runs(task=kind, limit=1)[0], _entered_at(entry)

    async def measure(app: Scheduler, kind: str, n: int) -> dict[str, Any]:
        latencies: list[float] = []
        entry_lat: list[float] = []
        late_entries = 0
        t0 = time.monotonic()
        for _ in range(n):
            if kind == "stubborn":  # a worker idle and ready (Ray replaces killed ones)
                record, _ = await run_one(app, "noop", None, 60)
                if record is None or record.status != "success":
                    problems.append(f"noop before a forced run: {record and record.status}")
                    break
            timeout = rng.uniform(0.05, 0.5)
            record, entered = await run_one(app, kind, timeout, 30)
            if record is None:
                break
            if record.status != "terminate" or record.reason != "timeout":
                problems.append(f"{kind}: {record.status}/{record.reason} {record.error}")
                continue
            start = record.start.timestamp()
            latencies.append(record.end.timestamp() - (start + timeout))
            if entered is None or entered > start + timeout:
                late_entries += 1  # not running at its deadline
            else:
                entry_lat.append(entered - start)
        return {
            "latency_s": summary(latencies),
            "samples": latencies,
            "entry_latency_s": summary(entry_lat),
            "not_running_at_deadline": late_entries,
            "phase_wall_s": time.monotonic() - t0,
        }

    result: dict[str, Any] = {}
    try:
        # Forced: terminate_grace=0.
        app = Scheduler(terminate_grace=0.0)
        app.start()
        t0 = time.monotonic()
        record, _ = await run_one(app, "noop", None, 150)
        result["ray_start_and_first_run_s"] = time.monotonic() - t0
        if record is None or record.status != "success":
            why = (record.error or record.status) if record is not None else "no answer in 150 s"
            app.shut_down(force=True)
            await asyncio.wait_for(app.wait(), 15)
            return {"error": f"the local Ray did not start: {why}"[:300]}
        record, _ = await run_one(app, "cooperative", 0.05, 60)  # creates the flag actor
        result["warmup_cooperative"] = record and f"{record.status}/{record.reason}"
        result["forced"] = await measure(app, "stubborn", forced_runs)
        app.shut_down(force=True)
        await asyncio.wait_for(app.wait(), 15)
        # Cooperative: the flag alone ends the run (grace far above the latency).
        app = Scheduler(terminate_grace=grace)
        app.start()
        await run_one(app, "cooperative", 0.05, 60)  # a warm worker for this phase too
        result["cooperative"] = await measure(app, "cooperative", cooperative_runs)
        result["cooperative"]["terminate_grace_s"] = grace
        app.shut_down(force=True)
        await asyncio.wait_for(app.wait(), 15)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    from notebook_sched._execution.ray import cluster as ray_cluster

    # The local Ray is stopped at this process's exit (atexit + its guardian).
    result["guardian_pid"] = ray_cluster.guardian_pid()
    result["problems"] = problems[:5]
    return result


# ------------------------------------------------ 1b. end-condition latency


async def end_cond(rounds: int, width: int) -> dict[str, Any]:
    """A ``time_of_day`` window closing: ``end_cond=~time_of_day.before(B)``
    with B one to two seconds ahead; latency = ``record.end - B``."""
    app = Scheduler()
    names = [f"e{i}" for i in range(width)]
    app.start()
    latencies: list[float] = []
    problems: list[str] = []
    for _ in range(rounds):
        boundary = next_whole_second(1.0)
        cond = ~time_of_day.before(hhmmss(boundary))
        for name in names:
            app.task(execution="async", end_cond=cond, name=name)(sleeps_forever)
        for name in names:
            if not app.tasks[name].run():
                problems.append(f"{name} did not start")
        if not await _wait_idle(app, names, 10):
            problems.append("runs still alive 10 s after the round started")
            break
        for name in names:
            record = app.runs(task=name, limit=1)[0]
            if record.reason != "end_cond":
                problems.append(f"{name}: {record.status}/{record.reason}")
                continue
            latencies.append(record.end.timestamp() - boundary)
    app.shut_down(force=True)
    await asyncio.wait_for(app.wait(), 15)
    return {"latency_s": summary(latencies), "samples": latencies, "problems": problems[:5]}


# ------------------------------------------------------------ 2. idle cost


async def idle(n: int, warmup: float, hold_s: float) -> dict[str, Any]:
    """``n`` tasks not due for hours (``daily.between`` a window that opens in
    an hour); then the process holds still while the orchestrator samples its
    CPU from outside (see ``hold_until_told``)."""
    opens, closes = far_window()
    cond = daily.between(opens, closes)
    app = Scheduler()
    t0 = time.perf_counter()
    for i in range(n):
        app.task(cond, name=f"idle{i}")(noop)
    define_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    app.start()
    await asyncio.sleep(0)  # the first step evaluates every task
    await asyncio.sleep(0)
    first_step_s = time.perf_counter() - t0
    await asyncio.sleep(warmup)
    held = await hold_until_told(hold_s)
    runs = len(app.runs())
    app.shut_down(force=True)
    await asyncio.wait_for(app.wait(), 15)
    return {
        "n": n,
        "rusage": held,
        "define_s": define_s,
        "first_step_s": first_step_s,
        "runs_during": runs,
    }


async def floor(warmup: float, hold_s: float) -> dict[str, Any]:
    """The same hold with no scheduler at all: a bare asyncio loop. On a
    virtual machine a process that only sleeps may still be charged some CPU;
    this is the floor the idle figures are read against."""
    await asyncio.sleep(warmup)
    return {"rusage": await hold_until_told(hold_s)}


# -------------------------------------------- 3. dispatch burst (1,000 due)


async def burst(n: int, rounds: int) -> dict[str, Any]:
    """``n`` no-op async tasks due at the same moment (``daily.after(T)``, T a
    whole second ahead); start latency = function entered - T, throughput =
    n / (last entered - T). A fresh scheduler per round."""
    latencies: list[float] = []
    throughputs: list[float] = []
    all_final: list[float] = []
    problems: list[str] = []
    for _ in range(rounds):
        entered: list[float] = []

        def make() -> Any:
            async def f() -> None:
                entered.append(time.time())

            return f

        app = Scheduler()
        due = next_whole_second(1.0)
        cond = daily.after(hhmmss(due))
        for i in range(n):
            app.task(cond, name=f"b{i}")(make())
        app.start()
        limit = time.monotonic() + (due - time.time()) + 30
        while len(entered) < n and time.monotonic() < limit:
            await asyncio.sleep(0.01)
        if len(entered) < n:
            problems.append(f"only {len(entered)} of {n} ran within 30 s of the due time")
        while app.runs(status="run") and time.monotonic() < limit:
            await asyncio.sleep(0.005)
        all_final.append(time.time() - due)
        if entered:
            latencies.extend(e - due for e in entered)
            throughputs.append(len(entered) / max(max(entered) - due, 1e-9))
        app.shut_down(force=True)
        await asyncio.wait_for(app.wait(), 15)
        del app
        gc.collect()
    return {
        "n": n,
        "start_latency_s": summary(latencies),
        "throughput_per_s": summary(throughputs, low_is_bad=True),
        "throughputs": throughputs,
        "all_records_final_s": summary(all_final),
        "problems": problems[:5],
    }


SCENARIOS = {
    "termination": termination,
    "ray_termination": ray_termination,
    "end_cond": end_cond,
    "idle": idle,
    "floor": floor,
    "burst": burst,
    "history": history,
    "locked_db": locked_db,
    "many_tasks": many_tasks,
}


def main() -> None:
    quiet_logging()
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    result = asyncio.run(SCENARIOS[name](**args))
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    main()
