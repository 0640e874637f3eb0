"""The zygote's children that are kept for the next process run (``_reuse``
is theirs), and which of them are free.

Every child the zygote forks gets a link (a socket pair) to it. A child
whose run left nothing behind writes the run's last message itself, says
``I`` on its link and waits there; the next run is handed to it — its
payload and pipes, the same message the kernel sent, and the kernel's
directory, environment, import path and log levels when they changed since
it last took them (in a memory file: the zygote never waits on a child) —
instead of forking a new one. The most recently freed is handed a run
first, so the others stay free and go.

Free children are few and short-lived: one is ended (its link closed: it
exits by itself) when it has been free ``IDLE_FOR`` seconds, when
more are free than the number of runs that were alive at once within the
last ``IDLE_FOR`` to twice that seconds, when the kernel says a
scheduler stopped (``R``), and with the zygote (its group killed). A child
that says nothing and exits is reaped as before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

__all__ = ["IDLE_FOR", "Workers"]

IDLE_FOR = 3.0  # seconds a free child is kept


class _Worker:
    __slots__ = ("fd", "generation", "link", "pid", "since", "state")

    def __init__(self, pid: int, link: socket.socket, generation: int) -> None:
        self.pid = pid
        self.link = link
        self.fd = link.fileno()
        self.generation = generation  # of the context it has
        self.state = "busy"  # "busy", "over" (its run, just now), "free", "ending"
        self.since = 0.0  # free since (time.monotonic())


class Workers:
    def __init__(self) -> None:
        self._by_pid: dict[int, _Worker] = {}
        self._by_link: dict[int, _Worker] = {}
        self._free: list[_Worker] = []  # the most recently freed last
        self._generation = 0
        self._context = b""
        self._memfd = -1
        self._busy = 0
        self._peak = 0  # most runs alive at once in this window
        self._peak_before = 0  # in the window before
        self._window_end = time.monotonic() + IDLE_FOR

    def context(self, data: bytes) -> None:
        """The kernel's new context (``_context.take`` takes it here too)."""
        self._generation += 1
        self._context = data
        if self._memfd >= 0:
            os.close(self._memfd)
            self._memfd = -1

    def fds(self) -> list[int]:
        """The zygote's descriptors of its children, which no child may hold."""
        return [*self._by_link, *([self._memfd] if self._memfd >= 0 else [])]

    def links(self) -> list[int]:
        """The links to poll: those of children that can still speak."""
        return list(self._by_link)

    def pids(self) -> list[int]:
        return list(self._by_pid)

    def forked(self, pid: int, link: socket.socket) -> None:
        link.setblocking(False)  # the zygote never waits on a child
        self._by_pid[pid] = self._by_link[link.fileno()] = _Worker(pid, link, self._generation)
        self._started()

    def hand(self, kind: bytes, data: bytes, fds: list[int]) -> int | None:
        """Hand a run to a free child; its pid, or ``None`` if none is free.
        ``kind`` is ``S`` (``data`` is the payload) or ``s`` (the payload's
        pipe is the last of ``fds``: the result pipe, the termination flag's
        read end, the output pipe if captured)."""
        while self._free:
            worker = self._free.pop()
            attached = list(fds)
            stale = worker.generation != self._generation
            if stale:
                attached.append(self._context_fd())
            try:
                socket.send_fds(worker.link, [kind, b"1" if stale else b"0", data], attached)
            except OSError:  # gone meanwhile (killed by someone): its reaping is coming
                self._kill(worker)
                continue
            worker.state, worker.generation = "busy", self._generation
            self._started()
            return worker.pid
        return None

    def said(self, fd: int) -> int | None:
        """Read child ``fd``'s link: its pid if it says its run is over and
        it is free (``keep`` or ``end`` it then), ``None`` otherwise."""
        worker = self._by_link.get(fd)
        if worker is None:  # reaped (or let go) since the poll
            return None
        try:
            message = worker.link.recv(16)
        except BlockingIOError:
            return None
        except OSError:
            message = b""
        if message != b"I" or worker.state != "busy":
            if not message:  # exited: reaped soon; its link says no more
                self.end(worker.pid)
            return None
        self._busy -= 1
        worker.state = "over"
        return worker.pid

    def keep(self, pid: int) -> None:
        """Child ``pid``, free, waits for the next run — unless more would be
        free than runs were alive at once of late."""
        worker = self._by_pid[pid]
        self._roll(time.monotonic())
        self._peak = max(self._peak, self._busy + 1)  # its run was alive in this window
        if len(self._free) + 1 > max(self._peak, self._peak_before) - self._busy:
            self._retire(worker)
            return
        worker.state, worker.since = "free", time.monotonic()
        self._free.append(worker)

    def end(self, pid: int) -> None:
        """Kill child ``pid`` (its group), which is not to serve again."""
        worker = self._by_pid.get(pid)
        if worker is not None:
            if worker.state == "busy":
                self._busy -= 1
            self._kill(worker)

    def reaped(self, pid: int) -> None:
        worker = self._by_pid.pop(pid, None)
        if worker is None:
            return
        if worker.state == "busy":
            self._busy -= 1
        self._unlink(worker)

    def wait(self) -> float | None:
        """Seconds until a free child may be due to end (``None``: none is free)."""
        if not self._free:
            return None
        due = min(self._window_end, self._free[0].since + IDLE_FOR)
        return max(0.0, due - time.monotonic())

    def expire(self) -> None:
        """End the children free too long, or more than are needed of late."""
        now = time.monotonic()
        self._roll(now)
        wanted = max(self._peak, self._peak_before) - self._busy
        while self._free and (self._free[0].since + IDLE_FOR <= now or len(self._free) > wanted):
            self._retire(self._free[0])

    def let_go(self) -> None:
        """A scheduler stopped: the free children end now."""
        while self._free:
            self._retire(self._free[0])
        self._peak = self._peak_before = self._busy

    def _roll(self, now: float) -> None:
        """The window of the peak moves on (two at once after a quiet time)."""
        if now < self._window_end:
            return
        if now < self._window_end + IDLE_FOR:
            self._peak_before, self._peak = self._peak, self._busy
        else:
            self._peak_before = self._peak = self._busy
        self._window_end = now + IDLE_FOR

    def _started(self) -> None:
        self._busy += 1
        self._peak = max(self._peak, self._busy)

    def _retire(self, worker: _Worker) -> None:
        """A free child ends: its link closed, it exits by itself — once it
        has sent its run's last message, which may not be written yet."""
        self._unlink(worker)
        worker.state = "ending"

    def _kill(self, worker: _Worker) -> None:
        self._unlink(worker)
        worker.state = "ending"
        with contextlib.suppress(OSError):
            os.killpg(worker.pid, signal.SIGKILL)  # reaped as any child

    def _unlink(self, worker: _Worker) -> None:
        if worker.state == "free":
            self._free.remove(worker)
        if self._by_link.pop(worker.fd, None) is not None:
            worker.link.close()

    def _context_fd(self) -> int:
        if self._memfd < 0:
            fd = os.memfd_create("notebook_sched-context", os.MFD_CLOEXEC)
            view = memoryview(self._context)
            while view:
                view = view[os.write(fd, view) :]
            self._memfd = fd
        return self._memfd
