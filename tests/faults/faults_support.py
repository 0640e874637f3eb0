"""Helpers shared by the fault suite: waiting for records, reading /proc,
and running a function as an unprivileged user."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import pid_alive, wait_until


def script_env() -> dict[str, str]:
    """The environment of a script that runs a scheduler of its own: it
    imports this tree's notebook_sched."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def final(app: Any, name: str, timeout: float = 15.0) -> Any:
    """Wait until the latest run of ``name`` has a final record; return it."""
    wait_until(lambda: (r := app.tasks[name].last_run) is not None and r.status != "run", timeout)
    return app.tasks[name].last_run


def read_pid(path: Path, timeout: float = 15.0) -> int:
    """The pid a task wrote to ``path`` (written whole, then renamed)."""
    wait_until(path.exists, timeout)
    return int(path.read_text())


def write_pid(path: Path | str, pid: int | None = None) -> None:
    """For tasks: write a pid so that a reader never sees half of it."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(str(os.getpid() if pid is None else pid))
    os.replace(tmp, path)


def kill_and_reap(pids: set[int] | list[int], timeout: float = 10.0) -> None:
    """SIGKILL every pid still alive, then wait until all are gone."""
    for pid in pids:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout)


def stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, state letter)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None:
                found[int(entry)] = (int(fields[1]), fields[0])
    return found


def descendants(root: int) -> set[int]:
    """Every process below ``root`` (zombies included)."""
    table = processes()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {p for p, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def zombies_below(root: int) -> set[int]:
    table = processes()
    return {p for p in descendants(root) if table.get(p, (0, ""))[1] == "Z"}


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# ------------------------------------------------------------------ sockets

_TCP_LISTEN = "0A"
_UDP_UNCONNECTED = "07"  # a bound UDP socket that receives from anyone


def listening_inodes() -> dict[int, str]:
    """Socket inodes listening on a network port (TCP in LISTEN, unconnected
    bound UDP), from /proc/net: inode -> "proto local-address"."""
    found: dict[int, str] = {}
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{proto}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], int(fields[9])
            wanted = _TCP_LISTEN if proto.startswith("tcp") else _UDP_UNCONNECTED
            if state == wanted and inode:
                found[inode] = f"{proto} {local}"
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets among ``pid``'s open file descriptors."""
    found = set()
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in entries:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def listeners_of(pids: set[int]) -> dict[int, str]:
    """Network listeners held by any of ``pids``: pid -> description."""
    listening = listening_inodes()
    found = {}
    for pid in pids:
        for inode in socket_inodes(pid) & listening.keys():
            found[pid] = listening[inode]
    return found


# ------------------------------------------------------------ unprivileged

NOBODY = 65534


def run_as_nobody(body: Callable[[], str], timeout: float = 30.0) -> str:
    """Run ``body`` in a forked child that dropped root to uid/gid 65534;
    return the string it returned (or ``"raised: ..."``). A fork copies locks
    other threads may hold: the wait is bounded and the child killed."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest, always _exit
        code = 0
        try:
            os.close(read_fd)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                message = body()
            except BaseException as exc:
                message = f"raised: {type(exc).__name__}: {exc}"
            os.write(write_fd, message.encode())
        except BaseException as exc:
            os.write(write_fd, f"child failed: {exc!r}".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                raise AssertionError(f"the unprivileged child did not answer within {timeout} s")
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        reap_by = time.monotonic() + 10
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > reap_by:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.005)
    assert not pid_alive(pid)
    return b"".join(chunks).decode()
