"""Hosting: where the scheduler's loop runs, and how callers wait for it.

``start()`` runs the loop in the background on the running asyncio loop (in
a kernel: the kernel's), or on a thread of its own when none runs;
``serve()`` runs it on the caller's loop until it stops; ``run()`` blocks
(nested on a running loop through nest-asyncio2). Interrupts during
``run()``/``serve()``: the first shuts down gracefully, the second forces.
``post`` hands a callback to the loop from any thread. A loop that ends
or closes under a running scheduler stops it (``loop_end.py``).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from .._execution.base import on_loop
from .interrupts import interrupts_shut_down

__all__ = ["Host", "Hosted"]


class Hosted(Protocol):
    """What the host asks of its scheduler."""

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def claim(self) -> None: ...
    def begin(self, own_thread: bool) -> int: ...
    def serve_loop(self, gen: int) -> Coroutine[Any, Any, None]: ...
    def shut_down(self, force: bool = False) -> None: ...
    def exit_grace(self) -> float: ...
    def generation(self) -> int: ...
    def loop_ended(self, gen: int, closed: bool) -> bool: ...


def _let_threads_end() -> None:
    """Load the C library's unwinder now, while memory is there to load it.

    At the interpreter's exit, each daemon thread still alive (the
    scheduler's waiters, workers and watchdog) ends in ``pthread_exit``,
    which loads ``libgcc_s`` the first time it is needed; in a process whose
    memory is full then (a task that filled it), the load fails and the C
    library aborts the whole process ("libgcc_s.so.1 must be installed for
    pthread_exit to work"). Loaded once beforehand, it is only found."""
    global _threads_can_end
    if _threads_can_end:
        return
    _threads_can_end = True
    try:
        import ctypes

        ctypes.CDLL("libgcc_s.so.1")
    except OSError:  # not glibc's (musl, macOS): nothing of the kind to load
        pass


_threads_can_end = False


class Host:
    def __init__(self, hosted: Hosted) -> None:
        _let_threads_end()
        self._hosted = hosted
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.thread: threading.Thread | None = None
        self.stopped = threading.Event()
        self.stopped.set()
        self._serve_task: asyncio.Task[None] | None = None  # held: the loop keeps only weak refs
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    # ------------------------------------------------------------ the loop's thread

    def on_loop(self) -> bool:
        return threading.get_ident() == self.loop_thread

    def post(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop soon; at once where no loop serves."""
        loop = self.loop
        if loop is None or loop.is_closed():
            callback()
        elif self.on_loop():
            loop.call_soon(callback)
        else:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop closed in between
                callback()

    def post_later(self, delay: float, callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the loop ``delay`` seconds from now; ``False``
        (and nothing done) where no loop serves."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return False
        if self.on_loop():
            loop.call_later(delay, callback)
            return True
        try:
            loop.call_soon_threadsafe(loop.call_later, delay, callback)
        except RuntimeError:  # the loop closed in between
            return False
        return True

    # ------------------------------------------------------------ starting

    def enter(self, loop: asyncio.AbstractEventLoop, own_thread: bool = False) -> int:
        """The scheduler enters "running" on ``loop`` (under its lock). Refused
        (``RuntimeError``) before anything changes when another scheduler of
        this process runs on the same ``runs_db`` file."""
        self._hosted.claim()
        self.loop = loop
        self.loop_thread = None if own_thread else threading.get_ident()
        self.stopped.clear()
        gen = self._hosted.begin(own_thread)
        if own_thread:
            atexit.unregister(self._at_exit)  # once, however often it restarts
            atexit.register(self._at_exit)
        return gen

    def start(self) -> None:
        """On the running loop, or on a thread of its own when none runs."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.start_thread()  # (outside the except: a refusal is not chained to it)
        else:
            self.start_here(loop)

    def start_here(self, loop: asyncio.AbstractEventLoop) -> None:
        gen = self.enter(loop)
        self._serve_task = loop.create_task(self._serve(gen), name="notebook_sched:scheduler")

    async def _serve(self, gen: int) -> None:
        """Serve session ``gen`` on a loop the scheduler does not own. When
        that loop ends under it (``asyncio.run()`` returning cancels every task
        left), the scheduler shuts down, forced, and this goes on serving —
        the loop turns until its tasks are done — until it has stopped, so
        every run ends with its record before the loop closes."""
        ending = False
        while True:
            try:
                await self._hosted.serve_loop(gen)
                break
            except asyncio.CancelledError:
                if not self._hosted.loop_ended(gen, closed=False):
                    raise
                ending = True
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
        if ending:
            self.loop_thread = None  # the loop is gone: no caller is on it from now on

    def check_loop(self) -> None:
        """A loop that closed without ending its tasks (``run_until_complete``
        then ``close()``) is noticed here, when the scheduler is next used."""
        loop = self.loop
        if loop is not None and loop.is_closed():
            self.loop, self.loop_thread = None, None  # callbacks run where they are posted
            self._hosted.loop_ended(self._hosted.generation(), closed=True)

    def start_thread(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            gen = self.enter(loop, own_thread=True)
        except BaseException:
            loop.close()
            raise
        self.thread = threading.Thread(
            target=self._thread_main, args=(loop, gen), name="notebook_sched-loop", daemon=True
        )
        self.thread.start()

    def _thread_main(self, loop: asyncio.AbstractEventLoop, gen: int) -> None:
        self.loop_thread = threading.get_ident()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._hosted.serve_loop(gen))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _at_exit(self) -> None:
        # The interpreter is exiting under a scheduler on its own thread: stop
        # the runs so their records are final, and do not wait forever.
        atexit.unregister(self._at_exit)
        if self._hosted.state != "stopped":
            self._hosted.shut_down(force=True)
            self.stopped.wait(self._hosted.exit_grace())

    # ------------------------------------------------------------ serving, blocking

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        with self._hosted.lock:
            if self._hosted.state == "stopped":
                self.start_here(loop)
        with interrupts_shut_down(loop, self._shut_down_from_signal):
            while True:
                try:
                    await asyncio.shield(self.stopped_future(loop))
                    return
                except asyncio.CancelledError:
                    self._hosted.shut_down()
                    task = asyncio.current_task()
                    if task is not None:
                        task.uncancel()

    def run(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            loop = asyncio.new_event_loop()
            try:
                self._run_until_stopped(loop)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        else:
            import nest_asyncio2  # the maintained fork; applied only for a nested run

            nest_asyncio2.apply(loop)
            self._run_until_stopped(loop)

    def _run_until_stopped(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._hosted.lock:
            if self._hosted.state == "stopped":
                self.start_here(loop)
        if self.loop is not loop:  # already running on a thread of its own
            interrupts = 0
            while True:
                try:
                    self.stopped.wait()
                    return
                except KeyboardInterrupt:
                    interrupts += 1
                    self._hosted.shut_down(force=interrupts >= 2)
        with interrupts_shut_down(loop, self._shut_down_from_signal):
            loop.run_until_complete(self.stopped_future(loop))

    def _shut_down_from_signal(self, force: bool) -> None:
        self._hosted.shut_down(force=force)

    # ------------------------------------------------------------ waiting

    def stopped_future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()
        with self._hosted.lock:
            if self._hosted.state == "stopped":
                future.set_result(None)
            else:
                self._waiters.append((loop, future))
        return future

    def release(self) -> None:
        """The scheduler stopped (under its lock): wake every waiter."""
        self.stopped.set()
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            _resolve(loop, future)


def _resolve(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    def set_done() -> None:
        if not future.done():
            future.set_result(None)

    on_loop(loop, set_done)
