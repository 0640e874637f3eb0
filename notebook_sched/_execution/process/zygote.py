"""The kernel's side of the zygote (see ``_zygote``): start it on first use,
tell it what the kernel is now, ask it for children (new or kept, which is
the zygote's choice) and tell it when the kept ones may go.

One zygote per Python process, shared by every scheduler in it. It never
answers on the socket: what a run's child does, and when it has exited,
comes back on the run's own result pipe (``channel.py``), so a run costs the
kernel one message sent and no thread of its own beyond its waiter. The
zygote's pidfd tells a waiter when the zygote itself is gone.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import subprocess
import sys
import threading
from pathlib import Path

from ..capture import log_levels
from ..waiters import wait_in_thread
from . import _deadlines

__all__ = ["ZygoteError", "let_go_of_free", "spawn", "stop", "zygote_pid"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
INLINE = 48 * 1024  # data up to this size travels in the packet itself (the zygote reads 64 KiB)


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
        self.pidfd = os.pidfd_open(self.process.pid)
        self._broken = False
        self._send_lock = threading.Lock()
        self._context: tuple[object, ...] | None = None

    @property
    def alive(self) -> bool:
        return not self._broken and self.process.poll() is None

    def spawn(self, payload: bytes, fds: tuple[int, ...], deadline: bytes = b"") -> None:
        """Ask for a child running ``payload``, with those pipe ends; what it
        does comes back on the result pipe (the first of ``fds``).
        ``deadline``: the run's (``_deadlines.pack``), which the zygote keeps."""
        # Read each time (a few microseconds; only a change is sent): a
        # child starts where the kernel is now, as a fresh process would.
        context = (list(sys.path), os.getcwd(), _environment(), log_levels())
        try:
            with self._send_lock:
                if context != self._context:
                    self._send(b"C", pickle.dumps(context), ())
                    self._context = context
                self._send(b"D" if deadline else b"S", payload, fds, deadline)
        except OSError:
            self._broken = True
            raise

    def let_go_of_free(self) -> None:
        with self._send_lock, contextlib.suppress(OSError):  # gone: so are its children
            self._send(b"R", b"", ())

    def _send(self, kind: bytes, data: bytes, fds: tuple[int, ...], head: bytes = b"") -> None:
        # ``head`` travels in the packet whatever the size of ``data``.
        if len(data) <= INLINE:
            socket.send_fds(self.sock, [kind, head, data], list(fds))
            return
        read, write = os.pipe()
        try:
            socket.send_fds(self.sock, [kind.lower(), head], [*fds, read])
        finally:
            os.close(read)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(write, view) :]
        except BrokenPipeError:  # the reader died first: what it was for ends in a crash
            pass
        finally:
            os.close(write)


def _environment() -> dict[bytes, bytes]:
    """The kernel's environment variables, encoded: a copy of ``os.environ``'s
    own (CPython keeps them so on POSIX) costs no decoding — 0.4 us where
    ``dict(os.environ)`` costs 60, and this is read for every run."""
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict):
        return dict(data)
    return {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}


_lock = threading.Lock()
_zygote: _Zygote | None = None


def _get() -> _Zygote:
    global _zygote
    with _lock:
        if _zygote is None or not _zygote.alive:
            # A zygote gone keeps its pidfd open: waiters of its runs may
            # still be watching it (one descriptor per zygote ever started).
            _zygote = _Zygote()
        return _zygote


def prestart() -> None:
    """Start the zygote in the background if none runs (it boots in ~50 ms)."""
    if _zygote is None or not _zygote.alive:
        threading.Thread(target=_get, name="notebook_sched-zygote-start", daemon=True).start()


def spawn(
    payload: bytes,
    result_w: int,
    flag_r: int,
    output_w: int = -1,
    deadline: tuple[float, float, int] | None = None,
) -> int:
    """Fork a child that runs ``payload`` (``_child.run_child``), writing its
    messages on ``result_w`` (``output_w``, if given, becomes its file
    descriptors 1 and 2); returns the zygote's pidfd, which becomes readable
    if the zygote dies. ``deadline``: ``(at, grace, flag_w)`` — the zygote
    ends the run at ``at`` (``time.monotonic()``) itself, setting its flag
    through ``flag_w`` (``_deadlines``)."""
    zygote = _get()
    fds = (result_w, flag_r) if output_w < 0 else (result_w, flag_r, output_w)
    head = b""
    if deadline is not None:
        at, grace, flag_w = deadline
        fds, head = (*fds[:2], flag_w, *fds[2:]), _deadlines.pack(at, grace)
    try:
        zygote.spawn(payload, fds, head)
    except OSError as exc:
        raise ZygoteError(f"could not reach the zygote: {exc!r}") from exc
    return zygote.pidfd


def let_go_of_free() -> None:
    """A scheduler stopped: the children the zygote keeps for the next runs
    (``_workers``) end now rather than when they have been idle a while.
    Cheap, and no system call here (it may be called on the loop): the
    message goes from a waiter thread."""
    zygote = _zygote
    if zygote is not None:
        wait_in_thread(zygote.let_go_of_free)


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
    # shutdown() (not just close()) so the zygote sees end of file at once:
    # it kills its children's groups and exits.
    with contextlib.suppress(OSError):
        zygote.sock.shutdown(socket.SHUT_RDWR)
    zygote.sock.close()
    try:
        zygote.process.wait(timeout)
    except subprocess.TimeoutExpired:
        zygote.process.kill()
        zygote.process.wait()
