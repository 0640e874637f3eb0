"""The kernel's side of the zygote (see ``_zygote``): start it on first use,
ask it for children, and learn when they exit.

One zygote per Python process, shared by every scheduler in it; a reader
thread turns its messages into answers for the threads that wait on them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["ZygoteError", "exit_code", "spawn"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class ZygoteError(RuntimeError):
    """The zygote could not start a child, or died."""


class _Zygote:
    def __init__(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notebook_sched._execution.process._zygote",
                str(child.fileno()),
            ],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
            process_group=0,  # a kernel interrupt is not for it
            env=env,
        )
        child.close()
        self.sock = parent
        self.alive = True
        self._ids = itertools.count()
        self._send_lock = threading.Lock()
        self._cv = threading.Condition()
        self._started: dict[int, int] = {}
        self._exited: dict[int, int] = {}
        threading.Thread(target=self._read, name="notebook_sched-zygote", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                message = self.sock.recv(256)
            except OSError:
                message = b""
            with self._cv:
                if not message:
                    self.alive = False
                    self._cv.notify_all()
                    return
                kind, a, b = message.decode().split()
                if kind == "started":
                    self._started[int(a)] = int(b)
                else:
                    self._exited[int(a)] = int(b)
                self._cv.notify_all()

    def spawn(self, fds: tuple[int, ...]) -> int:
        request = next(self._ids)
        with self._send_lock:
            socket.send_fds(self.sock, [f"spawn {request}".encode()], list(fds))
        with self._cv:
            while request not in self._started:
                if not self.alive:
                    raise ZygoteError("the zygote process died")
                self._cv.wait()
            return self._started.pop(request)

    def exit_code(self, pid: int) -> int | None:
        """Block until child ``pid`` exits; ``None`` if the zygote died first."""
        with self._cv:
            while pid not in self._exited:
                if not self.alive:
                    return None
                self._cv.wait()
            return self._exited.pop(pid)


_lock = threading.Lock()
_zygote: _Zygote | None = None


def _get() -> _Zygote:
    global _zygote
    with _lock:
        if _zygote is None or not _zygote.alive or _zygote.process.poll() is not None:
            _zygote = _Zygote()
        return _zygote


def prestart() -> None:
    """Start the zygote in the background if none runs (it boots in ~50 ms)."""
    if _zygote is None or not _zygote.alive:
        threading.Thread(target=_get, name="notebook_sched-zygote-start", daemon=True).start()


def spawn(payload_r: int, result_w: int, flag_r: int, output_w: int = -1) -> tuple[int, _Zygote]:
    """Fork a child that runs a task from those pipe ends (``output_w``, if
    given, becomes its file descriptors 1 and 2); returns its pid."""
    zygote = _get()
    fds = (payload_r, result_w, flag_r) if output_w < 0 else (payload_r, result_w, flag_r, output_w)
    try:
        return zygote.spawn(fds), zygote
    except OSError as exc:
        raise ZygoteError(f"could not reach the zygote: {exc!r}") from exc


def exit_code(zygote: _Zygote, pid: int) -> int | None:
    return zygote.exit_code(pid)


def _forget_after_fork() -> None:
    # A forked copy of this process must start its own zygote, not share ours.
    global _zygote
    _zygote = None


os.register_at_fork(after_in_child=_forget_after_fork)


def zygote_pid() -> int | None:
    """The zygote's pid, if one runs."""
    zygote = _zygote
    return zygote.process.pid if zygote is not None and zygote.alive else None


def stop(timeout: float = 5.0) -> None:
    """Stop the zygote (it kills any child left); the next spawn starts a new one."""
    global _zygote
    with _lock:
        zygote, _zygote = _zygote, None
    if zygote is None:
        return
    # shutdown() (not just close()) so the reader thread's recv() returns and
    # the zygote sees end of file: it kills its children and exits.
    with contextlib.suppress(OSError):
        zygote.sock.shutdown(socket.SHUT_RDWR)
    zygote.sock.close()
    try:
        zygote.process.wait(timeout)
    except subprocess.TimeoutExpired:
        zygote.process.kill()
        zygote.process.wait()
