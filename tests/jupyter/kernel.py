"""A real ipykernel, driven with jupyter_client, for tests.

``start_kernel(tmp)`` launches the virtualenv's ``ipykernel_launcher`` with
isolated Jupyter/IPython directories and ``PYTHONPATH`` pointing at the
repository, and returns a ``Kernel``: run cells (``execute``), send widget
clicks (``click``), interrupt, and count the widget messages the kernel sent.

One thread reads iopub for the whole life of the kernel and keeps every
message with the (monotonic) time it arrived, so a cell's outputs and the
widget traffic are both read from the same record.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# Where the kernel imports notebook_sched from: the repository, unless
# NOTEBOOK_SCHED_SOURCE names another checkout (a snapshot, while the working
# tree is mid-edit).
SOURCE = Path(os.environ.get("NOTEBOOK_SCHED_SOURCE", str(ROOT)))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------- processes


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """True for a live, non-zombie process."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` in the process tree (walks /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def wait_for(predicate: Any, timeout: float, what: str = "condition", step: float = 0.005) -> Any:
    """Poll ``predicate()`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(step)


# ------------------------------------------------------------------ kernel


def isolated_env(
    tmp: Path, extra: dict[str, str] | None = None, source: Path | None = SOURCE
) -> dict[str, str]:
    """The environment for a kernel or server: private Jupyter/IPython
    directories, the repository (``source``) on ``PYTHONPATH`` — none with
    ``source=None``, for a kernel of an installed notebook_sched."""
    env = dict(os.environ)
    for var, sub in (
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = tmp / "jupyter-home" / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env.pop("JUPYTER_PATH", None)
    env.pop("PYTHONPATH", None)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Message:
    at: float  # time.monotonic() when it arrived
    msg: dict[str, Any]

    @property
    def type(self) -> str:
        return self.msg["header"]["msg_type"]

    @property
    def parent_id(self) -> str | None:
        return self.msg.get("parent_header", {}).get("msg_id")

    @property
    def content(self) -> dict[str, Any]:
        return self.msg["content"]


class CellError(AssertionError):
    pass


class Kernel:
    """A running kernel and its client."""

    def __init__(self, km: KernelManager, log_path: Path) -> None:
        self.km = km
        self.log_path = log_path
        self.client = km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self._messages: list[Message] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._tree: set[int] | None = None  # set by shutdown()
        self._reader = threading.Thread(target=self._read_iopub, name="iopub-reader", daemon=True)
        self._reader.start()
        self.pid = self._provisioner_pid()

    # -- iopub ---------------------------------------------------------

    def _read_iopub(self) -> None:
        channel = self.client.iopub_channel
        while not self._stop.is_set():
            try:
                msg = channel.get_msg(timeout=0.05)
            except queue.Empty:
                continue
            except Exception:  # the channel closed under us at shutdown
                if self._stop.is_set():
                    return
                raise
            with self._cond:
                self._messages.append(Message(time.monotonic(), msg))
                self._cond.notify_all()

    def messages(self, parent_id: str | None = None) -> list[Message]:
        with self._cond:
            return [m for m in self._messages if parent_id is None or m.parent_id == parent_id]

    def _idle(self, msg_id: str) -> bool:
        return any(
            m.type == "status" and m.content["execution_state"] == "idle"
            for m in self.messages(msg_id)
        )

    def is_busy(self, msg_id: str) -> bool:
        """True while the cell sent as ``msg_id`` has not finished."""
        return not self._idle(msg_id)

    # -- cells ---------------------------------------------------------

    def execute_async(self, code: str) -> str:
        """Send a cell; return its msg_id at once."""
        return self.client.execute(code, store_history=False, allow_stdin=False)

    def wait(self, msg_id: str, timeout: float = 30.0) -> tuple[list[dict[str, Any]], Any]:
        """Wait until the cell ``msg_id`` is done; return (outputs, error).

        ``outputs`` are dicts with ``output_type`` ("stream", "execute_result",
        "display_data", "error") and the message content; ``error`` is the
        content of the error output (ename, evalue, traceback) or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._idle_locked(msg_id):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"cell {msg_id} still running after {timeout} s")
                self._cond.wait(left)
        outputs: list[dict[str, Any]] = []
        error = None
        for m in self.messages(msg_id):
            if m.type in ("stream", "execute_result", "display_data", "error"):
                out = {"output_type": m.type, **m.content}
                outputs.append(out)
                if m.type == "error":
                    error = m.content
        return outputs, error

    def _idle_locked(self, msg_id: str) -> bool:
        return any(
            m.parent_id == msg_id and m.type == "status" and m.content["execution_state"] == "idle"
            for m in self._messages
        )

    def execute(self, code: str, timeout: float = 30.0) -> tuple[list[dict[str, Any]], Any]:
        return self.wait(self.execute_async(code), timeout)

    def run(self, code: str, timeout: float = 30.0) -> str:
        """Execute a cell that must not fail; return its stdout."""
        outputs, error = self.execute(code, timeout)
        if error is not None:
            raise CellError(
                f"cell failed: {error['ename']}: {error['evalue']}\n"
                + ANSI.sub("", "\n".join(error.get("traceback", [])))
                + f"\n--- code ---\n{code}"
            )
        return stdout(outputs)

    def json(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate ``expression`` in the kernel; return it via JSON."""
        out = self.run(f"import json as _json\nprint(_json.dumps({expression}))", timeout)
        return json.loads(out.strip().splitlines()[-1])

    # -- widgets and signals -------------------------------------------

    def click(self, model_id: str) -> str:
        """Click a widget button: a comm_msg on the shell channel, as the front end sends."""
        content = {"comm_id": model_id, "data": {"method": "custom", "content": {"event": "click"}}}
        msg = self.client.session.msg("comm_msg", content)
        self.client.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def comm_msgs_since(self, t: float, until: float | None = None) -> int:
        """How many widget ``comm_msg`` the kernel sent on iopub in [t, until)."""
        return sum(
            1
            for m in self.messages()
            if m.type == "comm_msg" and m.at >= t and (until is None or m.at < until)
        )

    # -- shutdown ------------------------------------------------------

    def _provisioner_pid(self) -> int:
        provisioner = self.km.provisioner
        process = getattr(provisioner, "process", None)
        if process is not None:
            return int(process.pid)
        return int(self.json("__import__('os').getpid()"))

    def shutdown(self, timeout: float = 15.0) -> set[int]:
        """Shut the kernel down (killing it if it does not go), and return
        the pids that were its descendants just before. A second call (the
        fixture's, after a test that shut it down itself) returns the same."""
        if self._tree is not None:
            return self._tree
        tree = self._tree = descendants(self.pid) | {self.pid}
        try:
            self.km.shutdown_kernel(now=False)
        except Exception as exc:  # do not let a failed request hide the kill below
            print(f"shutdown_kernel failed: {exc!r}", file=sys.stderr)
        try:
            wait_for(lambda: not pid_alive(self.pid), timeout, "kernel exit")
        except AssertionError:
            os.kill(self.pid, signal.SIGKILL)
        self._stop.set()
        self.client.stop_channels()
        self._reader.join(5)
        return tree


def start_kernel(tmp: Path, python: Path = VENV_PYTHON, source: Path | None = SOURCE) -> Kernel:
    """Launch the virtualenv's kernel (or ``python``'s) with isolated
    directories, importing notebook_sched from ``source`` (``None``: from
    where ``python`` has it installed)."""
    env = isolated_env(tmp, source=source)
    spec_dir = tmp / "kernelspecs" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "notebook_sched test kernel",
                "language": "python",
                "env": {} if source is None else {"PYTHONPATH": str(source)},
                "interrupt_mode": "signal",
            }
        )
    )
    ksm = KernelSpecManager(
        kernel_dirs=[str(tmp / "kernelspecs")],
        ensure_native_kernel=False,
        data_dir=env["JUPYTER_DATA_DIR"],
    )
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    km.connection_file = str(Path(env["JUPYTER_RUNTIME_DIR"]) / "kernel-test.json")
    log_path = tmp / "kernel.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the kernel writes to it for its whole life
    try:
        km.start_kernel(env=env, cwd=str(tmp), stdout=log, stderr=log)
    finally:
        log.close()
    try:
        return Kernel(km, log_path)
    except Exception:
        km.shutdown_kernel(now=True)
        raise


def stdout(outputs: list[dict[str, Any]]) -> str:
    return "".join(
        o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == "stdout"
    )


def stderr(outputs: list[dict[str, Any]]) -> str:
    return "".join(
        o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"
    )
