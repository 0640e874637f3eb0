"""What a run writes: one bounded buffer per run, and its progress.

Every execution method writes into the run's ``OutputBuffer`` — the kernel's
stream proxies for thread, async and main runs (``capture.py``), the waiter
thread reading a process child's file descriptors, the result of a Ray run —
from whatever thread that happens on. The buffer keeps the last ``limit``
characters while it is written to, so a run that prints megabytes costs at
most about twice the limit in memory, never what it wrote; what it dropped is
said in one line at the top of the text.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable

__all__ = ["Coalescer", "OutputBuffer", "ProgressSink", "dropped_line"]

DEFAULT_LIMIT = 65536


def dropped_line(count: int) -> str:
    """The line that begins an output whose oldest ``count`` characters were dropped."""
    return f"[{count:,} earlier characters dropped: output_limit]\n"


class OutputBuffer:
    """The text a run wrote, at most ``limit`` characters of it (the newest).

    ``write`` may be called from any thread. Once the run's record is final
    (``close()``) the buffer takes no more: ``write`` returns ``False``, and
    what a thread the run left behind writes goes where it would have gone
    without capture (the kernel's stream) rather than nowhere."""

    __slots__ = (
        "_closed", "_decoder", "_dropped", "_limit", "_lock", "_parts", "_size", "_trim_at",
        "changes",
    )  # fmt: skip

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._trim_at = 2 * limit + 4096  # trimmed seldom: each trim copies the kept text
        self._parts: list[str] = []
        self._size = 0
        self._dropped = 0
        self._closed = False
        self._lock = threading.Lock()
        self._decoder: codecs.IncrementalDecoder | None = None
        #: Counts the writes: a reader that saw ``changes`` has seen it all.
        self.changes = 0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, text: str) -> bool:
        """Add ``text``; ``False`` (and nothing kept) once the buffer is closed."""
        # Every print of a run comes here twice (its text, then its end):
        # one lock and no more than the bookkeeping.
        with self._lock:
            if self._closed:
                return False
            if text:
                self._parts.append(text)
                self._size += len(text)
                self.changes += 1
                if self._size > self._trim_at:
                    self._trim()
        return True

    def write_bytes(self, data: bytes) -> bool:
        """Add bytes a child wrote (UTF-8; an undecodable byte becomes U+FFFD;
        a character split between two reads is joined)."""
        with self._lock:
            if self._decoder is None:
                self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
            text = self._decoder.decode(data)
        return self.write(text)

    def _trim(self) -> None:  # under _lock
        text = "".join(self._parts)
        cut = len(text) - self._limit
        if cut > 0:
            text = text[cut:]
            self._dropped += cut
        self._parts = [text]
        self._size = len(text)

    def text(self) -> str:
        """What the run wrote so far (or in all, once closed)."""
        with self._lock:
            return self._text()

    def _text(self) -> str:  # under _lock
        body = self._body()
        return dropped_line(self._dropped) + body if self._dropped else body

    def parts(self) -> tuple[int, str]:
        """How many characters were dropped, and the text kept."""
        with self._lock:
            return self._dropped, self._body()

    def _body(self) -> str:  # under _lock
        parts = self._parts
        if self._size > self._limit:
            self._trim()
        elif len(parts) > 1:
            self._parts = parts = ["".join(parts)]
        return self._parts[0] if self._parts else ""

    def extend(self, dropped: int, text: str) -> None:
        """Add what another buffer kept (``parts()``) — a Ray worker's."""
        with self._lock:
            self._dropped += dropped
        self.write(text)

    def close(self) -> str:
        """Take no more writes; returns the final text (one lock: every
        captured run ends here, on the scheduler's loop)."""
        with self._lock:
            self._seal()
            return self._text()

    def seal(self) -> None:
        """Take no more writes."""
        with self._lock:
            self._seal()

    def _seal(self) -> None:  # under _lock
        if self._decoder is not None:
            rest = self._decoder.decode(b"", final=True)
            self._decoder = None
            if rest:
                self._parts.append(rest)
                self._size += len(rest)
        self._closed = True


class ProgressSink:
    """Where a run's progress lands in the kernel: the latest value only.

    Setting it is one assignment, so a task that reports in a tight loop
    costs nothing more; readers (``Task.progress``, the panel) take the
    latest when they look."""

    __slots__ = ("latest",)

    def __init__(self) -> None:
        self.latest: tuple[float, str] | None = None

    def __call__(self, fraction: float, message: str = "") -> None:
        self.latest = (fraction, message)


class Coalescer:
    """Progress reports sent from away from the kernel (a process child, a
    Ray worker): at most one per ``interval``, the latest value winning, the
    last one sent at most ``interval`` after it was made — so a task that
    reports in a tight loop costs the kernel ten messages a second."""

    def __init__(self, send: Callable[[tuple[float, str]], None], interval: float = 0.1) -> None:
        self._send = send
        self._interval = interval
        # Reentrant: in a process child SIGTERM raises in the main thread,
        # maybe while it holds the lock; the report that follows takes it again.
        self.lock = threading.RLock()
        self._pending: tuple[float, str] | None = None
        self._last = 0.0
        self._flusher = False
        self._closed = False

    def __call__(self, fraction: float, message: str) -> None:
        with self.lock:
            if self._closed:
                return
            if time.monotonic() - self._last >= self._interval:
                self._send_now((fraction, message))
                return
            self._pending = (fraction, message)
            if not self._flusher:
                self._flusher = True
                threading.Thread(target=self._flush_later, daemon=True).start()

    def _flush_later(self) -> None:
        while True:
            time.sleep(self._interval)
            with self.lock:
                if self._closed or self._pending is None:
                    self._flusher = False
                    return
                self._send_now(self._pending)

    def _send_now(self, value: tuple[float, str]) -> None:  # under lock
        self._pending = None
        self._last = time.monotonic()
        self._send(value)

    def close(self) -> None:
        """Send nothing more (what is pending is dropped: the run is over)."""
        with self.lock:
            self._closed = True
