"""The zygote: a small server process that forks process runs' children.

Started once per kernel (``python -m notebook_sched._execution.process._zygote FD``),
it imports what children need up front, so a child is running a few
milliseconds after it is asked for — where starting a new interpreter costs
tens. It is single-threaded, so forking it is safe (forking a kernel that
runs threads is not), and it never imports the user's ``__main__``.

Protocol on the SOCK_SEQPACKET socket FD, one message per packet:
  parent → zygote: ``spawn <id>`` with three or four file descriptors attached
                    (payload to read, result to write, termination flag to read,
                    and the output to write, when it is captured)
  zygote → parent: ``started <id> <pid>``, later ``exited <pid> <exit code>``
Each child leads a process group of its own; when it exits (and when the
kernel goes) the whole group is killed. End of file on the socket means the
kernel is gone: every child is killed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys

# Preloaded so that children start fast.
import cloudpickle  # noqa: F401

from notebook_sched._execution.process import _child


def _end_group(pid: int) -> None:
    """Kill what is left of a run's process group: whatever its child forked
    or started. A run is over when its child is, and so is all of that —
    children that ignore SIGTERM, and those left behind by a child that
    returned. (A pid stays reserved while it names a live group, so the
    group is still the run's.)"""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _serve(sock: socket.socket) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # SIGCHLD wakes select()
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    while True:
        watched: list[socket.socket | int] = [sock, wake_r]
        readable, _, _ = select.select(watched, [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
            while children:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                children.discard(pid)
                _end_group(pid)
                sock.send(f"exited {pid} {os.waitstatus_to_exitcode(status)}".encode())
        if sock in readable:
            message, fds, _, _ = socket.recv_fds(sock, 256, 4)
            if not message:  # the kernel is gone
                for pid in children:
                    _end_group(pid)
                return
            _, request = message.decode().split()
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                sock.close()
                os.close(wake_r)
                os.close(wake_w)
                payload_fd, result_fd, flag_fd, *output = fds
                output_fd = output[0] if output else -1
                _child.run_child(payload_fd, result_fd, flag_fd, os.getppid(), output_fd)
                os._exit(0)  # not reached: run_child exits
            for fd in fds:
                os.close(fd)
            children.add(pid)
            sock.send(f"started {request} {pid}".encode())


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
