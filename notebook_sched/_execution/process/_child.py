"""What a process run's child does, once the zygote has forked it.

The parent passes three pipe ends: the payload to read (the
function and the run's arguments, cloudpickled, so functions, lambdas and
closures defined in a notebook's ``__main__`` work), the result to write
(plain pickle of strings and the return value's own pickle: an unpicklable
return value is never a problem, its ``repr()`` is taken here instead),
and the termination flag (readable once the parent sets it).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import sys

# Imported here, so that the zygote has them loaded before it forks a child.
from ...args import TerminationFlag
from ..call import Report, call_away

_PR_SET_PDEATHSIG = 1


class PipeFlagEvent:
    """The child's side of the run's termination flag: set once the parent
    writes to (or closes) the flag pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._set = False

    def is_set(self) -> bool:
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> bool:
        if not self._set:
            readable, _, _ = select.select([self._fd], [], [], timeout)
            self._set = bool(readable)
        return self._set


def _die_with_parent(parent_pid: int) -> None:
    # The kernel may be killed with SIGKILL: the child must not outlive it.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's cleanup still applies
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _on_sigterm(flag: PipeFlagEvent):  # type: ignore[no-untyped-def]
    def handler(signum: int, frame: object) -> None:
        if not flag.is_set():
            # Not the scheduler (it sets the flag before it signals): die of the
            # signal, as the sender meant, so the run is recorded as killed by it.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        from notebook_sched.exc import TaskTerminationException

        raise TaskTerminationException(f"terminated by the scheduler (signal {signum})")

    return handler


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def run_child(payload_fd: int, result_fd: int, flag_fd: int, parent_pid: int) -> None:
    """Run the task in this (freshly forked) process, report, and exit."""
    os.setpgid(0, 0)  # its own group: a kernel interrupt does not reach it
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt is not for us
    flag_event = PipeFlagEvent(flag_fd)
    signal.signal(signal.SIGTERM, _on_sigterm(flag_event))
    message: Report
    try:
        sys_path, cwd, env, blob, args = pickle.loads(_read_all(payload_fd))
        # The zygote started long ago: take the kernel's present directory,
        # environment and import path, as a fresh process would.
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.path[:] = sys_path
        func, flag_params = pickle.loads(blob)  # made by payload.serialize
        kwargs: dict[str, object] = dict.fromkeys(flag_params, TerminationFlag(flag_event))
        if args:
            kwargs.update(pickle.loads(args))  # made by payload.serialize_args
        message = call_away(func, kwargs)
    except BaseException as exc:  # the payload itself could not be loaded
        import traceback

        message = ("fail", "".join(traceback.format_exception(exc)).rstrip(), None, None)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is over: do not cut the report
    data = pickle.dumps(message)
    # Length first: the parent knows the report is whole without waiting for
    # end of file, which a process this task forked could hold off for ever.
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(result_fd, view) :]
    os.close(result_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the run is over: threads the task left behind must not keep the child alive
