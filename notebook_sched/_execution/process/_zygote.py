"""The zygote: a small server process that forks process runs' children,
and hands a run to one it keeps when one is free (``_workers``, ``_reuse``).

Started once per kernel (``python -m notebook_sched._execution.process._zygote FD``),
it imports what children need up front, so a child is running a few
milliseconds after it is asked for — where starting a new interpreter costs
tens. It is single-threaded, so forking it is safe (forking a kernel that
runs threads is not), and it never imports the user's ``__main__``.

Protocol on the SOCK_SEQPACKET socket FD, one message per packet, a kind
letter then its data (pickled); in a lower-case kind the data does not fit a
packet and comes through a pipe, the last descriptor attached:
  ``C``/``c``  the kernel's import path, directory, environment and log
               levels, sent when they change: the zygote takes them itself,
               so every child it forks has them without a word
  ``S``/``s``  start a child for one run (a kept one, or a new fork), its
               payload (``_child.run_child``) in the packet (the child has
               it in memory at once) or in the pipe (the child reads it);
               attached: the result pipe to write,
               the termination flag to read and, when output is captured,
               the output to write
  ``D``/``d``  the same for a run with a timeout: the packet begins with its
               deadline and grace (``_deadlines.pack``), and the termination
               flag's write end is attached after its read end — the zygote
               ends the run at its deadline itself (``_deadlines``)
  ``R``        a scheduler stopped: the kept children that are free end now
The zygote keeps a copy of each run's result pipe. When the child exits, it
kills the child's whole process group and then writes the last message on
that pipe, ``("exited", exit code)`` — so the kernel learns the end of a run
on the one pipe it reads anyway, and only once nothing of the run is left
(``("exited", "why")`` if it could not fork at all) — after
``("deadline", None)`` when the zygote ended it at its deadline. A child
kept for the next run (its run left nothing behind) writes ``("exited",
0)`` itself, and the zygote closes its copy. End of file on the socket
means the kernel is gone: every child's group is killed, kept ones too.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import socket
import sys

# Preloaded so that children start fast.
import cloudpickle  # noqa: F401

from notebook_sched._execution.process import _child, _context, _deadlines, _workers
from notebook_sched._execution.process.channel import frame

PACKET = 1 << 16  # the largest message read in one packet (the kernel keeps within it)
MAX_FDS = 5


def _end_group(pid: int) -> None:
    """Kill what is left of a run's process group: whatever its child forked
    or started. A run is over when its child is, and so is all of that —
    children that ignore SIGTERM, and those left behind by a child that
    returned. (A pid stays reserved while it names a live group, so the
    group is still the run's.)"""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _take_context(data: bytes, workers: _workers.Workers) -> None:
    """Become what the kernel is now: its import path, directory, environment
    and log levels, for every child forked from here on and every kept child
    handed a run (``_context``). A directory that cannot be entered fails
    those runs (``_child``), not this."""
    _context.take(data)
    workers.context(data)


class _Ends:
    """The copies of live runs' result pipes, and the last messages that
    could not be written yet (a pipe the kernel has not read empty)."""

    def __init__(self) -> None:
        self.result_fds: dict[int, int] = {}  # by child pid
        self.unsent: dict[int, bytes] = {}  # by result fd

    def send_last(self, fd: int, message: object, at_deadline: bool = False) -> None:
        data = frame("exited", message)
        if at_deadline:
            data = frame("deadline", None) + data
        # Nothing of the run writes on the pipe any more: no one else minds
        # that it does not block.
        os.set_blocking(fd, False)
        self.unsent[fd] = data
        self.flush(fd)

    def flush(self, fd: int) -> None:
        data = self.unsent[fd]
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:
            return
        except OSError:  # the kernel closed its end: no one is listening
            data = b""
        if data:
            self.unsent[fd] = data
        else:
            del self.unsent[fd]
            os.close(fd)


def _start(
    kind: bytes,
    data: bytes,
    fds: list[int],
    ends: _Ends,
    deadlines: _deadlines.Deadlines,
    workers: _workers.Workers,
    own: tuple[int, ...],
) -> None:
    """Start a run: in a kept child that is free, or in a new one."""
    deadline, flag_w = None, -1
    if kind in (b"D", b"d"):
        deadline = _deadlines.unpack(data[: _deadlines.HEAD])
        data, flag_w = data[_deadlines.HEAD :], fds.pop(2)
    inline = kind in (b"S", b"D")
    pid = workers.hand(b"S" if inline else b"s", data if inline else b"", fds)
    if pid is None:
        payload, pipes = (data, fds) if inline else (fds[-1], fds[:-1])
        pid = _fork(payload, pipes, ends, deadlines, workers, own, flag_w)
        if pid is None:  # it could not: the kernel is told, the pipes closed
            return
    for fd in fds[1:]:  # the child has its own: the flag, the output, the payload's pipe
        os.close(fd)
    ends.result_fds[pid] = fds[0]
    if deadline is not None:
        deadlines.add(pid, *deadline, flag_w)


def _fork(
    payload: bytes | int,
    fds: list[int],
    ends: _Ends,
    deadlines: _deadlines.Deadlines,
    workers: _workers.Workers,
    own: tuple[int, ...],
    flag_w: int,
) -> int | None:
    result_fd, flag_fd, *output = fds
    output_fd = output[0] if output else -1
    link, links_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (flag_fd, output_fd, payload, flag_w):
            if isinstance(fd, int) and fd >= 0:
                os.close(fd)
        link.close()
        links_child.close()
        ends.send_last(result_fd, f"could not fork: {exc!r}")
        return None
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Not the child's: the zygote's own, the other runs' result pipes and
        # flags, the links to its other children, and its own flag's write end.
        others = (*ends.result_fds.values(), *ends.unsent, *deadlines.fds(), *workers.fds())
        for fd in (*own, *others, flag_w):
            if fd >= 0:
                os.close(fd)
        link.close()
        try:
            _child.run_child(
                payload, result_fd, flag_fd, os.getppid(), output_fd, links_child.detach()
            )
        except BaseException:  # never back into the zygote's loop, in a child
            os._exit(1)
        os._exit(0)  # not reached: run_child exits
    links_child.close()
    workers.forked(pid, link)
    return pid


def _reap(ends: _Ends, deadlines: _deadlines.Deadlines, workers: _workers.Workers) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _end_group(pid)
        workers.reaped(pid)
        at_deadline = deadlines.forget(pid)
        fd = ends.result_fds.pop(pid, None)
        if fd is not None:
            ends.send_last(fd, os.waitstatus_to_exitcode(status), at_deadline)


def _free(
    pid: int, ends: _Ends, deadlines: _deadlines.Deadlines, workers: _workers.Workers
) -> None:
    """Child ``pid`` says its run is over and left nothing (it sent the run's
    last message itself): it waits for the next run — unless the zygote
    took a step of the run's termination meanwhile (the run is then ended as
    any other: its group killed, the kernel told at its reaping)."""
    if deadlines.reached(pid):
        workers.end(pid)
        return
    deadlines.forget(pid)
    fd = ends.result_fds.pop(pid, None)
    if fd is not None:
        os.close(fd)
    workers.keep(pid)


def _serve(sock: socket.socket) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # SIGCHLD wakes poll()
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _child.prepare()
    ends = _Ends()
    deadlines = _deadlines.Deadlines()
    workers = _workers.Workers()
    own = (sock.fileno(), wake_r, wake_w)
    while True:
        # poll(), not select(): it holds a result pipe per live child, whose
        # descriptors may number past select()'s 1,024.
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        for fd in ends.unsent:
            poller.register(fd, select.POLLOUT)
        links = workers.links()
        for fd in links:
            poller.register(fd, select.POLLIN)
        waits = [w for w in (deadlines.wait(), workers.wait()) if w is not None]
        ready = dict(poller.poll(math.ceil(min(waits) * 1000) if waits else None))
        for fd in list(ends.unsent):
            if ready.get(fd):
                ends.flush(fd)
        if ready.get(wake_r):
            os.read(wake_r, 4096)
            _reap(ends, deadlines, workers)
        for fd in links:
            if ready.get(fd) and (pid := workers.said(fd)) is not None:
                _free(pid, ends, deadlines, workers)
        if deadlines.due():
            _reap(ends, deadlines, workers)  # first: a child that has exited is past its steps
            deadlines.take_due()
        workers.expire()
        if ready.get(sock.fileno()):
            message, fds, _, _ = socket.recv_fds(sock, PACKET, MAX_FDS)
            if not message:  # the kernel is gone
                for pid in {*ends.result_fds, *workers.pids()}:
                    _end_group(pid)
                return
            kind, data = message[:1], message[1:]
            if kind in (b"S", b"s", b"D", b"d"):
                _start(kind, data, fds, ends, deadlines, workers, own)
            elif kind == b"C":
                _take_context(data, workers)
            elif kind == b"c":
                _take_context(_child.read_all(fds[0]), workers)
            elif kind == b"R":
                workers.let_go()


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
