"""This process's connection to Ray, made on first use and shared by every
scheduler in the process (Ray allows one connection per process).

With no ``ray_address``, a local Ray is started by the guardian process
(``_head``): it lives as long as this process — across scheduler
restarts — and no Ray process outlives it. With an address, the process joins
that cluster. Connecting takes seconds (``import ray`` alone takes one), so it
happens on a thread of its own; runs wait for it, the loop never does.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import logging
import os
import secrets
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["RayConnection", "connect", "guardian_pid"]

log = logging.getLogger("notebook_sched")

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
START_TIMEOUT = 120.0  # seconds for 'ray start' on a loaded machine
EXIT_WAIT = 0.3  # seconds the exiting process waits for the guardian (it needs no one)
LOCAL = "<local>"  # the key of the embedded Ray among requested addresses


class RayConnection:
    """What runs need from Ray: submit, flag, cancel. Thread-safe."""

    def __init__(self, ray: Any, address: str) -> None:
        from . import _worker

        self.ray = ray
        self.address = address
        self._remote = ray.remote(_worker.run_remote)
        self._board: Any = None
        self._lock = threading.Lock()

    def board(self) -> Any:
        """The actor that carries termination flags (created on first need:
        it costs a worker process)."""
        with self._lock:
            if self._board is None:
                from .board import FlagBoard

                actor = self.ray.remote(num_cpus=0, max_concurrency=100_000)(FlagBoard)
                self._board = actor.remote()
            return self._board

    def submit(
        self,
        payload: bytes,
        args: bytes,
        key: str,
        board: Any,
        name: str,
        options: dict[str, Any],
        capture: dict[str, Any] | None = None,
    ) -> Any:
        """Start the run on the cluster (``args``: its arguments, pickled); its
        ``ObjectRef``. ``capture``: the run sends back what it writes (see
        ``_worker.run_remote``)."""
        # No retries: a run that Ray re-ran behind our back would run twice,
        # and a worker lost mid-run must be recorded as a crash.
        remote = self._remote.options(name=name, max_retries=0, retry_exceptions=False, **options)
        return remote.remote(payload, args, key, board, capture)

    def set_flag(self, board: Any, key: str) -> None:
        board.set.remote(key)

    def release_flag(self, board: Any, key: str) -> None:
        board.release.remote(key)

    def cancel(self, ref: Any) -> None:
        """The forced step: Ray kills the worker that runs ``ref``."""
        self.ray.cancel(ref, force=True)


_lock = threading.Lock()
_future: concurrent.futures.Future[RayConnection] | None = None
_requested: str | None = None  # LOCAL or the ray_address the connection was made for
_guardian: subprocess.Popen[bytes] | None = None
_own_token = False  # whether RAY_AUTH_MODE/RAY_AUTH_TOKEN_PATH are ours to set
_flags_wanted = False  # a ray task takes a TerminationFlag: its board is made early


def want_flags() -> None:
    """A ray task that takes a ``TerminationFlag`` was defined: make the flag
    board as soon as Ray is connected (now, if it is). Its actor takes a
    worker process, which starts in about a second, several on a busy
    machine: made at the first run's termination instead, the flag came after
    the grace period and the forced step killed a run that would have obeyed."""
    global _flags_wanted
    _flags_wanted = True
    future = _future
    if future is not None and future.done() and future.exception() is None:
        future.result().board()


def connect(address: str | None) -> concurrent.futures.Future[RayConnection]:
    """The connection for ``address`` (``None``: the local Ray), made once."""
    global _future, _requested
    wanted = address or LOCAL
    with _lock:
        if _future is not None and not _failed(_future):
            if wanted != _requested:
                failed: concurrent.futures.Future[RayConnection] = concurrent.futures.Future()
                failed.set_exception(_mismatch(_requested, wanted))
                return failed
            return _future
        _future, _requested = concurrent.futures.Future(), wanted
        future = _future
    threading.Thread(
        target=_connect, args=(address, future), name="notebook_sched-ray-connect", daemon=True
    ).start()
    return future


def _failed(future: concurrent.futures.Future[RayConnection]) -> bool:
    # A failed connection is tried again by the next run, not remembered for ever.
    return future.done() and future.exception() is not None


def _mismatch(current: str | None, wanted: str) -> RuntimeError:
    def name(key: str | None) -> str:
        return "the local Ray" if key == LOCAL else f"ray_address={key!r}"

    return RuntimeError(
        f"this process is connected to {name(current)}; a process joins one Ray "
        f"cluster, so {name(wanted)} cannot be used too"
    )


def _connect(address: str | None, future: concurrent.futures.Future[RayConnection]) -> None:
    try:
        imported = sys.modules.get("ray")
        if imported is not None and imported.is_initialized():
            if address is not None:
                raise RuntimeError(
                    "Ray is already initialized in this process (ray.init was called): "
                    "leave ray_address unset to use that connection, or call "
                    "ray.shutdown() first"
                )
            connection = RayConnection(imported, "the running Ray connection")
            if _flags_wanted:
                connection.board()
            future.set_result(connection)
            return
        # Ray reads its authentication settings when it is imported: the local
        # Ray's token must be in the environment first.
        joined = address if address is not None else _start_local()
        import ray

        if imported is not None and address is None:
            _reload_auth_settings()
        ray.init(address=joined, logging_level=logging.ERROR, log_to_driver=False)
        connection = RayConnection(ray, joined)
        if _flags_wanted:
            connection.board()
        future.set_result(connection)
    except BaseException as exc:
        future.set_exception(exc)


def _reload_auth_settings() -> None:
    # Ray was imported before the local Ray's token was set (the user imported
    # it): make it read the environment again. Private API, hence the guard.
    try:
        from ray._raylet import (  # type: ignore[attr-defined]
            AuthenticationTokenLoader,  # pyright: ignore[reportAttributeAccessIssue]
            Config,  # pyright: ignore[reportAttributeAccessIssue]
        )

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    except (ImportError, AttributeError):
        log.warning("notebook_sched: could not reload Ray's authentication settings")


def _start_local() -> str:
    """Start the guardian (which starts Ray); the cluster's address."""
    global _guardian, _own_token
    temp_dir = tempfile.mkdtemp(prefix="nbsched-ray-")  # short: Ray's socket paths live here
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    if "RAY_AUTH_MODE" not in os.environ or _own_token:
        # The local Ray listens on every interface: protect it with a token of its
        # own, known only to this process and its cluster (a new one per start:
        # a failed start's folder, token included, is gone).
        _own_token = True
        token = os.path.join(temp_dir, "auth_token")
        fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        for target in (env, os.environ):
            target["RAY_AUTH_MODE"] = "token"
            target["RAY_AUTH_TOKEN_PATH"] = token
    guardian = subprocess.Popen(
        [sys.executable, "-m", "notebook_sched._execution.ray._head", temp_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _guardian = guardian
    atexit.register(_stop_local)
    line = _read_line(guardian, START_TIMEOUT)
    kind, _, rest = line.partition(" ")
    if kind != "ready":
        _stop_local()
        raise RuntimeError(f"could not start a local Ray: {rest or 'the guardian exited'}")
    return rest


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return f"error no answer from 'ray start' within {timeout:.0f} s"
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def _stop_local() -> None:
    """At exit: leave the cluster, then let the guardian stop every Ray process.

    Waits for the guardian only briefly: a kernel has 2.5 s to exit before
    jupyter_client terminates it, and the atexit handlers after this one (the
    user's among them) must still run. The guardian needs no one: its stdin
    is closed, so it stops the cluster and exits on its own. It is never
    killed — that would leave Ray's processes without their subreaper.
    """
    global _guardian
    guardian, _guardian = _guardian, None
    if guardian is None:
        return
    try:
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()
    except Exception:
        log.exception("notebook_sched: ray.shutdown() failed")
    if guardian.stdin is not None:
        guardian.stdin.close()  # end of file: the guardian stops the cluster
    with contextlib.suppress(subprocess.TimeoutExpired):
        guardian.wait(timeout=EXIT_WAIT)


def guardian_pid() -> int | None:
    """The pid of this process's Ray guardian, if one was started."""
    guardian = _guardian
    return guardian.pid if guardian is not None else None
