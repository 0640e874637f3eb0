"""notebook_sched inside a real ipykernel: figures 4, 5 and 6.

The kernel is the main virtualenv's ``python -m ipykernel_launcher``, started
and driven with jupyter_client from this process, with private Jupyter and
IPython directories. One thread reads iopub for the kernel's whole life and
keeps every message with its arrival time, so widget traffic (``comm_msg``)
can be counted over any window. Each scenario starts its own kernel and, at
the end, shuts it down and kills by pid whatever of it (or its children) is
left.

``python -m bench.kernel_bench '{"scenario": "process_start", "samples": 20}'``
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._util import args_from_argv, emit, summary

# The folder notebook_sched and bench are imported from (the repository, or the
# orchestrator's snapshot of it); the kernel runs on this process's interpreter.
ROOT = Path(__file__).resolve().parents[1]
CELL_PREFIX = "BENCH-CELL "


# ------------------------------------------------------------ process tree


def _ppid_map() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    parents = _ppid_map()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ------------------------------------------------------------------ kernel


class Kernel:
    """A running ipykernel and its client."""

    def __init__(self, home: Path) -> None:
        for var, sub in (
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_CONFIG_DIR", "config"),
            ("IPYTHONDIR", "ipython"),
        ):
            (home / sub).mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(home / sub)
        os.environ.pop("JUPYTER_PATH", None)
        spec = home / "data" / "kernels" / "nsbench"
        spec.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "nsbench",
                    "language": "python",
                    "env": {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
                }
            )
        )
        from jupyter_client import KernelManager

        self.log = open(home / "kernel.log", "wb")  # noqa: SIM115 - closed in shutdown
        self.km = KernelManager(kernel_name="nsbench")
        self.km.start_kernel(stdout=self.log, stderr=self.log, cwd=str(home))
        self.pid: int = self.km.provisioner.process.pid  # type: ignore[union-attr]
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        # Indexed as they arrive: a flood of widget messages must not make
        # finding a cell's own messages slow.
        self.by_parent: dict[str, list[dict[str, Any]]] = {}
        self.comm_msg_times: list[float] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name="iopub", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            except Exception:
                return
            at = time.monotonic()
            kind = msg["msg_type"]
            parent = msg["parent_header"].get("msg_id")
            with self._lock:
                self.counts[kind] = self.counts.get(kind, 0) + 1
                if kind == "comm_msg":
                    self.comm_msg_times.append(at)
                elif parent:
                    self.by_parent.setdefault(parent, []).append(msg)

    def execute(self, code: str, timeout: float = 60) -> tuple[float, str]:
        """Run a cell; returns (round trip to execute_reply in s, stdout text).
        Raises on an error in the cell or a time-out."""
        t0 = time.monotonic()
        msg_id = self.client.execute(code, store_history=False)
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no execute_reply within {timeout} s for {code[:60]!r}")
            try:
                reply = self.client.get_shell_msg(timeout=left)
            except queue.Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        rtt = time.monotonic() - t0
        # Outputs arrive on iopub; the cell is done when its status goes idle.
        while time.monotonic() < deadline:
            with self._lock:
                mine = list(self.by_parent.get(msg_id, ()))
            if any(
                m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                for m in mine
            ):
                break
            time.sleep(0.002)
        text = "".join(m["content"]["text"] for m in mine if m["msg_type"] == "stream")
        errors = [m for m in mine if m["msg_type"] == "error"]
        if reply["content"]["status"] != "ok" or errors:
            content = errors[0]["content"] if errors else reply["content"]
            trace = "\n".join(content.get("traceback", []))
            raise RuntimeError(
                f"cell failed: {content.get('ename')}: {content.get('evalue')}\n{trace[-2000:]}"
            )
        return rtt, text

    def cell_json(self, code: str, timeout: float = 60) -> Any:
        _, text = self.execute(code, timeout)
        for line in text.splitlines():
            if line.startswith(CELL_PREFIX):
                return json.loads(line[len(CELL_PREFIX) :])
        raise RuntimeError(f"the cell printed no result: {text[-500:]!r}")

    def comm_msgs(self, t0: float, t1: float) -> list[float]:
        with self._lock:
            return [at for at in self.comm_msg_times if t0 <= at < t1]

    def shutdown(self) -> dict[str, Any]:
        """Shut the kernel down; kill by pid whatever is left of it and its
        children. Returns what was left over, for the record."""
        tree = {self.pid} | descendants(self.pid)
        try:
            self.execute("try:\n    app.shut_down(force=True)\nexcept NameError:\n    pass", 15)
        except Exception:
            pass
        self._stop.set()
        try:
            self.client.stop_channels()
        except Exception:
            pass
        try:
            self.km.shutdown_kernel(now=False)
        except Exception:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in tree):
            time.sleep(0.05)
        killed = []
        for p in tree:
            if alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                    killed.append(p)
                except ProcessLookupError:
                    pass
        self.log.close()
        return {"kernel_pid": self.pid, "tree": sorted(tree), "killed_after_shutdown": killed}


def _with_kernel(body: Any) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="nsbench-kernel-"))
    kernel = Kernel(home)
    try:
        result = body(kernel)
    except Exception as exc:
        log = (home / "kernel.log").read_text(errors="replace")[-1500:]
        result = {"error": f"{type(exc).__name__}: {exc}", "kernel_log": log}
    finally:
        cleanup = kernel.shutdown()
        shutil.rmtree(home, ignore_errors=True)  # the kernel's isolated dirs and log
    result["cleanup"] = cleanup
    return result


# ------------------------------------------------ 4. process start latency

PROCESS_START = """
import asyncio, json, time
from notebook_sched import Scheduler

app = Scheduler()

def stamp():            # defined in the cell: travels with cloudpickle
    return time.time()

app.task(execution="process", name="stamp")(stamp)
app.start()
_lat = []
for _ in range({samples} + 1):
    _t = app.tasks["stamp"]
    _t.run()
    while _t.is_alive():
        await asyncio.sleep(0.001)
    _r = _t.last_run
    _lat.append(float(_r.result) - _r.start.timestamp())
    await asyncio.sleep(0.02)
print("BENCH-CELL " + json.dumps(_lat))
"""


def process_start(samples: int) -> dict[str, Any]:
    def body(k: Kernel) -> dict[str, Any]:
        lat = k.cell_json(PROCESS_START.format(samples=samples), timeout=120)
        first, rest = lat[0], lat[1:]
        return {"first_s": first, "latency_s": summary(rest), "samples": rest}

    return _with_kernel(body)


# ------------------------------------------------ 5. kernel responsiveness

RESPONSIVE_SETUP = """
import asyncio, json, time
from notebook_sched import Scheduler
from notebook_sched.conds import every

app = Scheduler()

async def noop():
    pass

for _i in range({tasks}):
    app.task(every("{interval} seconds"), name=f"t{{_i}}")(noop)
app.start()
"""

RUN_COUNT = """
import json, time
print("BENCH-CELL " + json.dumps([time.time(), sum(sum(c.values()) for c in app.run_counts().values())]))
"""


def _round_trips(k: Kernel, n: int, gap: float, limit: float = 60.0) -> list[float]:
    """Up to ``n`` round trips, ``gap`` s apart, for at most ``limit`` s."""
    out: list[float] = []
    stop = time.monotonic() + limit
    for _ in range(n):
        if time.monotonic() > stop:
            break
        rtt, _ = k.execute("1+1", 10)
        out.append(rtt)
        time.sleep(gap)
    return out


def responsiveness(
    tasks: int, interval: float, requests: int, gap: float, phase_limit: float = 30.0
) -> dict[str, Any]:
    """Round trips of ``execute_request("1+1")``: in an idle kernel, then with
    the scheduler running ``tasks`` tasks every ``interval`` s, then with its
    panel displayed too (the figure)."""

    def phase(k: Kernel) -> dict[str, Any]:
        t_a, runs_a = k.cell_json(RUN_COUNT)
        m0 = time.monotonic()
        rtts = _round_trips(k, requests, gap, phase_limit)
        m1 = time.monotonic()
        t_b, runs_b = k.cell_json(RUN_COUNT)
        return {
            "rtt_s": summary(rtts),
            "samples": rtts,
            "runs_per_s": (runs_b - runs_a) / (t_b - t_a),
            "comm_msg_per_s": len(k.comm_msgs(m0, m1)) / (m1 - m0),
        }

    def body(k: Kernel) -> dict[str, Any]:
        _round_trips(k, 20, gap)  # warm the kernel up
        baseline = _round_trips(k, requests, gap, phase_limit)
        k.execute(RESPONSIVE_SETUP.format(tasks=tasks, interval=interval), 60)
        time.sleep(1.0)
        no_panel = phase(k)
        t0 = time.monotonic()
        k.execute("app", 60)  # the panel, displayed
        display_s = time.monotonic() - t0
        time.sleep(1.0)
        with_panel = phase(k)
        return {
            "tasks": tasks,
            "interval_s": interval,
            "runs_per_s_asked": tasks / interval,
            "baseline_rtt_s": summary(baseline),
            "no_panel": no_panel,
            "panel_display_s": display_s,
            "with_panel": with_panel,
            "rtt_s": with_panel["rtt_s"],
        }

    return _with_kernel(body)


# --------------------------------------------------------- 6. panel traffic

TRAFFIC_SETUP = """
import asyncio
from notebook_sched import Scheduler

app = Scheduler()

async def long_run():
    await asyncio.sleep(3600)

for _i in range({tasks}):
    app.task(name=f"c{{_i}}", timeout="1 hour")(long_run)
app.start()
for _i in range({tasks}):
    app.tasks[f"c{{_i}}"].run()
"""

LIVE_COUNT = """
import json
print("BENCH-CELL " + json.dumps(sum(t.is_alive() for t in app.tasks.values())))
"""


def panel_traffic(tasks: int, settle: float, window: float) -> dict[str, Any]:
    def body(k: Kernel) -> dict[str, Any]:
        k.execute(TRAFFIC_SETUP.format(tasks=tasks), 60)
        k.execute("app", 30)
        time.sleep(settle)
        m0 = time.monotonic()
        time.sleep(window)
        m1 = time.monotonic()
        live = k.cell_json(LIVE_COUNT)
        stamps = k.comm_msgs(m0, m1)
        buckets = [0] * max(1, int(window))
        for at in stamps:
            i = int(at - m0)
            if i < len(buckets):
                buckets[i] += 1
        return {
            "tasks": tasks,
            "live_runs": live,
            "window_s": m1 - m0,
            "comm_msg_total": len(stamps),
            "rate_per_s": len(stamps) / (m1 - m0),
            "per_second": summary(buckets),
            "buckets": buckets,
        }

    return _with_kernel(body)


SCENARIOS = {
    "process_start": process_start,
    "responsiveness": responsiveness,
    "panel_traffic": panel_traffic,
}


def main() -> None:
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    result = SCENARIOS[name](**args)
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    sys.exit(main())
