"""Which process owns a run, and whether that process is still alive.

An owner is written as ``"<pid>:<start>:<boot>:<pidns>"``:

* ``start`` is the process's start time (field 22 of ``/proc/<pid>/stat``, in
  clock ticks since boot), so a reused pid is not mistaken for the owner;
* ``boot`` is the kernel's boot id, so a pid seen before a reboot is known dead;
* ``pidns`` is the pid namespace, so a pid is only looked up where it means
  the same process.

Where ``/proc`` is missing (not Linux) the last three are ``?`` and liveness
falls back to ``kill(pid, 0)``. Records written before this format have
``"<pid>:<start>"`` and are taken to come from this boot and namespace.
"""

from __future__ import annotations

import os
from typing import Literal

__all__ = ["Liveness", "describe", "identity", "liveness", "owner_pid"]

Liveness = Literal["alive", "dead", "unknown"]
_UNKNOWN = "?"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/<pid>/stat``; ``None`` if the process is gone or a zombie."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # exited, only waiting to be reaped
        return None
    return fields[19]


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id") or _UNKNOWN


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return _UNKNOWN


def identity(pid: int | None = None) -> str:
    """The owner string of ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    start = _start_time(pid) if os.path.isdir("/proc") else None
    if start is None:
        return f"{pid}:{_UNKNOWN}:{_UNKNOWN}:{_UNKNOWN}"
    return f"{pid}:{start}:{_boot_id()}:{_pid_namespace()}"


def owner_pid(owner: str) -> int | None:
    try:
        return int(owner.split(":", 1)[0])
    except ValueError:
        return None


def _kill_zero(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def liveness(owner: str) -> Liveness:
    """Whether the process named by ``owner`` is still running.

    ``"unknown"`` when this process cannot see it (another pid namespace of
    the same kernel): such runs must not be marked, as their owner may live.
    """
    # pidns may itself contain ':' ("pid:[4026531836]"), so split at most 3 times.
    parts = owner.split(":", 3)
    pid = owner_pid(owner)
    if pid is None or pid <= 0:
        return "dead"  # not written by this module: no process can own it
    start = parts[1] if len(parts) > 1 else _UNKNOWN
    boot = parts[2] if len(parts) > 2 else None
    pidns = parts[3] if len(parts) > 3 else None
    if start == _UNKNOWN:
        return "alive" if _kill_zero(pid) else "dead"
    if boot is not None and boot != _UNKNOWN:
        here = _boot_id()
        if here != _UNKNOWN and boot != here:
            # Another kernel: the machine rebooted since, or the file was copied
            # from elsewhere (WAL files cannot be shared between machines).
            return "dead"
    if pidns is not None and pidns != _UNKNOWN:
        here = _pid_namespace()
        if here != _UNKNOWN and pidns != here:
            return "unknown"
    return "alive" if _start_time(pid) == start else "dead"


def describe(owner: str) -> str:
    pid = owner_pid(owner)
    return f"pid {pid}" if pid is not None else f"owner {owner!r}"
