"""``python -m bench [--quick] [--only NAME ...] [--no-save]``: run the suite.

Every scenario runs in a process of its own, with the interpreter of the
scheduler it measures, and is bounded in time. This process makes itself the
"child subreaper" (Linux ``PR_SET_CHILD_SUBREAPER``), so whatever a scenario
leaves behind — a kernel, a zygote, a forked child — is re-parented here when
its parent dies; after each scenario every such process is stopped by its pid
and reaped, and the count goes into the results.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._util import READY_LINE, RESULT_PREFIX, summary
from bench.report import render_table, table_rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHONS = {
    "notebook_sched": ROOT / ".venv" / "bin" / "python",
    "rocketry": HERE / ".venvs" / "rocketry" / "bin" / "python",
    "apscheduler": HERE / ".venvs" / "apscheduler" / "bin" / "python",
}
MODULES = {
    "notebook_sched": "bench.ns_script",
    "kernel": "bench.kernel_bench",
    "rocketry": "bench.rocketry_script",
    "apscheduler": "bench.aps_script",
    "batch": "bench.batch_bench",
    "capture": "bench.capture_bench",
    "overload": "bench.overload_bench",
}
ROCKETRY_CONFIGS = {"default": None, "cs0.01": 0.01}


@dataclass
class Job:
    key: str  # where the result goes in results["runs"]
    scheduler: str  # notebook_sched | rocketry | apscheduler
    module: str
    args: dict[str, Any]
    timeout: float
    python: Path = field(default=PYTHONS["notebook_sched"])
    # (windows, seconds): sample the process's CPU from outside while it holds still
    sample: tuple[int, float] | None = None


# ------------------------------------------------------------------ plan


def plan(quick: bool) -> list[Job]:
    q = quick
    jobs: list[Job] = []

    def ns(key: str, timeout: float, **args: Any) -> None:
        jobs.append(Job(key, "notebook_sched", MODULES["notebook_sched"], args, timeout))

    def kernel(key: str, timeout: float, **args: Any) -> None:
        jobs.append(Job(key, "notebook_sched", MODULES["kernel"], args, timeout))

    def rk(
        key: str, timeout: float, configs: tuple[str, ...] = tuple(ROCKETRY_CONFIGS), **args: Any
    ) -> None:
        for cfg in configs:
            a = dict(args, cycle_sleep=ROCKETRY_CONFIGS[cfg])
            jobs.append(
                Job(
                    f"{key}/{cfg}", "rocketry", MODULES["rocketry"], a, timeout, PYTHONS["rocketry"]
                )
            )

    def aps(key: str, timeout: float, **args: Any) -> None:
        jobs.append(
            Job(key, "apscheduler", MODULES["apscheduler"], args, timeout, PYTHONS["apscheduler"])
        )

    # 1. Termination latency (timeouts uniform in 0.05-0.5 s) and end condition.
    rounds, rk_rounds = (5, 3) if q else (20, 10)
    for kind in ("async", "thread", "process"):
        ns(f"termination/{kind}/ns", 90, scenario="termination", kind=kind, rounds=rounds, width=10)
        rk(
            f"termination/{kind}/rocketry",
            120,
            scenario="termination",
            kind=kind,
            rounds=rk_rounds,
            width=10,
        )
    # Ray runs: notebook_sched only (the peers have no Ray execution). One job:
    # the local Ray starts once (seconds, not measured) for both figures.
    ns(
        "termination/ray/ns",
        120 if q else 240,
        scenario="ray_termination",
        forced_runs=8 if q else 40,
        cooperative_runs=20 if q else 100,
    )
    ns("end_cond/ns", 60, scenario="end_cond", rounds=2 if q else 6, width=10)
    rk("end_cond/rocketry", 60, scenario="end_cond", rounds=1 if q else 4, width=10)

    # 2. Idle cost, read against the floor of a bare asyncio loop (before and after).
    windows = (4, 0.5) if q else (10, 0.5)
    idle = {"warmup": 0.5 if q else 1.0, "hold_s": 60.0}
    first_idle = len(jobs)
    ns("idle/floor/before", 30, scenario="floor", **idle)
    for n in (10, 100, 1000, 10000):
        ns(f"idle/{n}/ns", 120, scenario="idle", n=n, **idle)
        aps(f"idle/{n}/aps", 60, scenario="idle", n=n, **idle)
        if not q:
            rk(f"idle/{n}/rocketry", 180, scenario="idle", n=n, **idle)
        elif n <= 1000:  # quick: the default config only (cycle_sleep=0.01 costs more)
            rk(f"idle/{n}/rocketry", 60, configs=("default",), scenario="idle", n=n, **idle)
    ns("idle/floor/after", 30, scenario="floor", **idle)
    for job in jobs[first_idle:]:
        job.sample = windows

    # 3. Dispatch: 1,000 no-op async tasks due at the same moment.
    ns("burst/ns", 90, scenario="burst", n=1000, rounds=2 if q else 8)
    aps("burst/aps", 90, scenario="burst", n=1000, rounds=2 if q else 8)
    rk(
        "burst/rocketry",
        180,
        configs=("cs0.01",) if q else tuple(ROCKETRY_CONFIGS),
        scenario="burst",
        n=1000,
        rounds=1 if q else 3,
    )

    # 4-6. Inside a real kernel.
    kernel("kernel/process_start", 120, scenario="process_start", samples=20 if q else 60)
    kernel(
        "kernel/responsiveness",
        240,
        scenario="responsiveness",
        tasks=100,
        interval=0.1,
        requests=40 if q else 200,
        gap=0.01,
        phase_limit=4 if q else 30,
    )
    kernel(
        "kernel/panel_traffic",
        90,
        scenario="panel_traffic",
        tasks=100,
        settle=1.5 if q else 3,
        window=3 if q else 10,
    )

    # 7. History growth.
    total = 20_000 if q else 100_000
    ns(
        "history/ns",
        240,
        scenario="history",
        tasks=100,
        total=total,
        queries=20 if q else 50,
        limit_s=120,
    )
    if not q:
        rk(
            "history/rocketry",
            90,
            configs=("default",),
            scenario="history",
            tasks=100,
            total=total,
            queries=5,
            limit_s=30,
        )

    # 8-9. Loop block: the 1 ms sleeper on the scheduler's loop (and on a bare
    # loop, the same duration, in the same process).
    rounds = 1 if q else 3
    locked = {"rounds": rounds, "window_s": 5.0, "lock_after": 1.0, "hold": 3.0, "interval": 0.2}
    ns("loop_block/locked_db/ns", 60 if q else 120, scenario="locked_db", **locked)
    aps("loop_block/locked_db/aps", 60 if q else 120, scenario="locked_db", **locked)
    many = {"rounds": rounds, "n": 10_000, "per_slice": 500, "after_s": 2.0}
    ns("loop_block/10000_tasks/ns", 90 if q else 180, scenario="many_tasks", **many)
    aps("loop_block/10000_tasks/aps", 90 if q else 180, scenario="many_tasks", **many)

    # 10. A batch of one-off process runs queued on a pool of 2 slots.
    batch = {"n": 1_000 if q else 10_000, "work_s": 0.002}
    jobs.append(
        Job("batch/ns", "notebook_sched", MODULES["batch"], dict(batch, scenario="batch"),
            300 if q else 1200)
    )  # fmt: skip
    jobs.append(
        Job("batch/aps", "apscheduler", MODULES["batch"], dict(batch, scenario="batch_aps"),
            300 if q else 1200, PYTHONS["apscheduler"])
    )  # fmt: skip

    # 11. What output capture costs: figures 3 and 5 with 100 printing tasks,
    # capture_output on and off interleaved in one process (one kernel).
    def capture(key: str, timeout: float, **args: Any) -> None:
        jobs.append(Job(key, "notebook_sched", MODULES["capture"], args, timeout))

    for kind in ("async", "thread"):
        capture(f"capture/burst/{kind}", 120 if q else 300, scenario="capture_burst", kind=kind,
                n=100, rounds=10 if q else 30)  # fmt: skip
    capture("capture/kernel", 240 if q else 600, scenario="capture_kernel", tasks=100,
            interval=0.1, requests=100 if q else 300, gap=0.01, pairs=2 if q else 3,
            phase_limit=8 if q else 30)  # fmt: skip

    # 12. A saturated scheduler in a kernel (~40 s: not in quick mode).
    if not q:
        jobs.append(
            Job("overload/kernel", "notebook_sched", MODULES["overload"],
                {"requests": 300, "gap": 0.01, "phase_limit": 8}, 300)
        )  # fmt: skip
    return jobs


# ------------------------------------------------------------ processes


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def my_children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def reap_strays(grace: float = 3.0) -> list[int]:
    """Stop, by pid, every process left under this one (re-parented here as
    the subreaper); returns their pids."""
    deadline = time.monotonic() + grace
    strays: list[int] = []
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        left = my_children()
        if not left:
            return strays
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid in left:
        strays.append(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    for pid in my_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    return strays


def peer_status() -> dict[str, str | None]:
    """``None`` when the peer can run, else why not (for the table's "n/a")."""
    checks = {
        "rocketry": "import rocketry, pydantic; from importlib.metadata import version; "
        "print(version('rocketry'), 'with pydantic', pydantic.VERSION)",
        "apscheduler": "import apscheduler; from importlib.metadata import version; "
        "print(version('apscheduler'))",
    }
    status: dict[str, str | None] = {}
    for name, code in checks.items():
        python = PYTHONS[name]
        marker = HERE / ".venvs" / f"{name}.failed"
        if not python.exists():
            why = marker.read_text().strip()[-300:] if marker.exists() else "no virtualenv"
            status[name] = f"n/a: install failed ({why})"
            continue
        try:
            out = subprocess.run(
                [str(python), "-c", code], capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired:
            status[name] = "n/a: import timed out"
            continue
        if out.returncode != 0:
            status[name] = f"n/a: import failed ({out.stderr.strip().splitlines()[-1][:200]})"
        else:
            status[name] = None
            status[f"{name}_version"] = out.stdout.strip()
    return status


def prepare_source(source: str) -> Path:
    """Where the scenarios import notebook_sched and bench from. ``head``: a
    snapshot of the committed package (others may be editing the working
    tree mid-run) with the present bench files; ``worktree``: the repository."""
    if source == "worktree":
        return ROOT
    snap = Path(tempfile.mkdtemp(prefix="nsbench-src-"))
    archive = subprocess.run(
        ["git", "archive", "HEAD", "notebook_sched"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(snap)], input=archive, check=True, timeout=60)
    (snap / "bench").mkdir()
    for f in HERE.glob("*.py"):
        shutil.copy2(f, snap / "bench" / f.name)
    return snap


def cpu_ns(pid: int) -> int:
    """CPU time of every live thread of ``pid`` so far, in ns (schedstat)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
    return total


def sample_cpu(pid: int, windows: int, window: float) -> list[float]:
    """CPU seconds per wall second of ``pid``, per window, read from /proc
    without waking the process."""
    samples = []
    c0, t0 = cpu_ns(pid), time.monotonic()
    for _ in range(windows):
        time.sleep(window)
        c1, t1 = cpu_ns(pid), time.monotonic()
        samples.append(max(0, c1 - c0) / 1e9 / (t1 - t0))
        c0, t0 = c1, t1
    return samples


def run_job(job: Job, source: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source)
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [str(job.python), "-m", job.module, json.dumps(job.args)]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=source,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    errs: list[str] = []
    ready = threading.Event()

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(READY_LINE):
                ready.set()

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            errs.append(line.rstrip("\n"))
            del errs[:-50]

    readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
    for t in readers:
        t.start()
    deadline = t0 + job.timeout
    external: list[float] | None = None
    if job.sample is not None:
        while not ready.is_set() and proc.poll() is None and time.monotonic() < deadline:
            ready.wait(0.05)
        if ready.is_set():
            with contextlib.suppress(OSError):
                external = sample_cpu(proc.pid, *job.sample)
    with contextlib.suppress(OSError, ValueError):
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its group: the pid is the group's id
        proc.wait()
        timed_out = True
    for t in readers:
        t.join(5)
    out, err = "\n".join(lines), "\n".join(errs)
    wall = time.monotonic() - t0
    strays = reap_strays()
    result: dict[str, Any] | None = None
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    if result is None:
        tail = (err or out).strip().splitlines()[-3:]
        why = f"timed out after {job.timeout:g} s" if timed_out else f"exit {proc.returncode}"
        result = {"error": f"{why}: {' | '.join(tail)[:400]}"}
    result["job_wall_s"] = wall
    result["strays_stopped"] = strays
    if external is not None:
        result["cpu_fraction"] = summary(external)
        result["samples"] = external
    elif job.sample is not None and "error" not in result:
        result["error"] = "never said it was ready: no CPU samples"
    return result


def load_state() -> dict[str, str]:
    """What else the machine was doing: load average and CPU pressure."""
    state = {}
    for name, path in (("loadavg", "/proc/loadavg"), ("cpu_pressure", "/proc/pressure/cpu")):
        try:
            state[name] = Path(path).read_text().strip().splitlines()[0]
        except OSError:
            pass
    return state


def git_state(source: str) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    state = {"source": source, "commit": git("rev-parse", "HEAD")}
    if source == "worktree":
        state["uncommitted_package_changes"] = git("status", "--porcelain", "notebook_sched")
    return state


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, about 2.5 minutes")
    parser.add_argument(
        "--only", nargs="*", default=None, help="run only jobs whose key starts with one of these"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write results/")
    parser.add_argument(
        "--source",
        choices=("head", "worktree"),
        default="head",
        help="measure the committed package (default) or the working tree",
    )
    opts = parser.parse_args(argv)

    started = time.monotonic()
    now = dt.datetime.now().astimezone()
    subreaper = become_subreaper()
    peers = peer_status()
    source = prepare_source(opts.source)
    results: dict[str, Any] = {
        "date": now.isoformat(timespec="seconds"),
        "mode": "quick" if opts.quick else "full",
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "git": git_state(opts.source),
        "peers": peers,
        "subreaper": subreaper,
        "load_at_start": load_state(),
        "runs": {},
    }
    jobs = plan(opts.quick)
    if opts.only:
        jobs = [j for j in jobs if any(j.key.startswith(p) for p in opts.only)]
    for i, job in enumerate(jobs, 1):
        why_not = peers.get(job.scheduler) if job.scheduler != "notebook_sched" else None
        if why_not:
            results["runs"][job.key] = {"error": why_not}
            continue
        print(f"[{i:2d}/{len(jobs)}] {job.key} ...", end="", flush=True, file=sys.stderr)
        res = run_job(job, source)
        results["runs"][job.key] = res
        note = f" ERROR {res['error'][:120]}" if "error" in res else ""
        print(f" {res['job_wall_s']:.1f} s{note}", file=sys.stderr, flush=True)
    if source != ROOT:
        shutil.rmtree(source, ignore_errors=True)
    results["load_at_end"] = load_state()
    results["total_wall_s"] = time.monotonic() - started
    rows = table_rows(results)
    results["table"] = rows
    table = render_table(results, rows)
    print(table)
    if not opts.no_save and not opts.only:
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        text = json.dumps(results, indent=1, default=str)
        (out / "latest.json").write_text(text)
        stamp = now.strftime("%Y-%m-%dT%H%M")
        (out / f"{stamp}-{results['mode']}.json").write_text(text)
        (out / f"latest-{results['mode']}.md").write_text(table + "\n")
        print(f"\nsaved bench/results/latest.json and bench/results/{stamp}-{results['mode']}.json")
    print(f"total {results['total_wall_s']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
