"""The guardian of the local Ray: starts it, and makes sure that no Ray process
outlives the kernel that asked for it.

Run as ``python -m notebook_sched._execution.ray._head`` by the kernel (see
``cluster.py``). Why a process of its own: ``ray.init()`` inside the kernel
ties Ray's head to the *thread* that called it (PR_SET_PDEATHSIG fires when
that thread ends) and leaves its agent processes behind when the kernel is
killed. Here instead:

- the guardian makes itself a child subreaper, so every Ray process (started
  by ``ray start``, which exits at once) stays its descendant;
- it lives in a session of its own, so a kernel interrupt never reaches Ray;
- it reads its stdin, whose other end only the kernel holds: end of file
  means the kernel is gone, however it ended (even ``kill -9``), and then it
  terminates every descendant, removes Ray's temporary directory and exits.

Protocol on stdout: one line, ``ready <address>`` or ``error <message>``.
Imports only the standard library: it never imports Ray itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

_PR_SET_CHILD_SUBREAPER = 36
START_TRIES = 3  # a port picked free may be taken before Ray binds it
# Seconds between SIGTERM and SIGKILL for Ray's processes. Short on purpose:
# the cluster is thrown away with its folder, and Ray's GCS server takes 2 s to
# honour a SIGTERM — longer than a kernel is given to exit (jupyter_client
# sends its own SIGTERM 2.5 s after a shutdown request).
STOP_GRACE = 0.5


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(root: int) -> list[int]:
    """Live processes below ``root`` (children first found, any depth)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def stop_all(grace: float = STOP_GRACE) -> None:
    """SIGTERM every descendant, SIGKILL what is left after ``grace``; give up
    on a process that even SIGKILL cannot end (stuck in the kernel) after 10 s."""
    me = os.getpid()
    _signal_all(descendants(me), signal.SIGTERM)
    kill_at = time.monotonic() + grace
    give_up_at = kill_at + 10.0
    while pids := descendants(me):
        now = time.monotonic()
        if now > give_up_at:
            break
        if now > kill_at:
            _signal_all(pids, signal.SIGKILL)
        time.sleep(0.05)  # a helper process shutting others down; nothing waits on it
        _reap()
    _reap()


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def start_ray(temp_dir: str, extra: list[str]) -> str:
    """``ray start --head`` on a free port; the address, or raises."""
    error = ""
    for _ in range(START_TRIES):
        port = _free_port()
        command = [
            sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
            f"--port={port}", "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}",
            "--include-dashboard=false", "--disable-usage-stats",
            # Ray's agent listens on the fixed port 52365 by default, which a
            # second kernel's local Ray would fail on: every port is picked free.
            f"--dashboard-agent-listen-port={_free_port()}", *extra,
        ]  # fmt: skip
        if importlib.util.find_spec("grpc") is not None:
            # With ray[client], Ray starts a client server on the fixed port 10001,
            # which would make a second kernel's local Ray fail: pick it free.
            command.append(f"--ray-client-server-port={_free_port()}")
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode == 0:
            return f"127.0.0.1:{port}"
        error = (done.stderr or done.stdout).strip()[-2000:]
        stop_all(grace=0.5)  # whatever it started before failing
    raise RuntimeError(f"'ray start' failed {START_TRIES} times; the last error:\n{error}")


def _watch_stdin() -> None:
    # End of file, at any moment (even while 'ray start' runs): the kernel is gone.
    while os.read(sys.stdin.fileno(), 1 << 16):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    temp_dir = argv[0]
    extra = argv[1:]
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A SIGTERM (someone stopping the guardian) cleans up like end of file does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=_watch_stdin, daemon=True).start()
    try:
        try:
            _become_subreaper()
            address = start_ray(temp_dir, extra)
        except Exception as exc:
            message = " ".join(str(exc).split())
            print(f"error {message}", flush=True)
            return 1
        print(f"ready {address}", flush=True)
        while True:
            signal.pause()  # until the stdin watcher's SIGTERM
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all()
        shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
