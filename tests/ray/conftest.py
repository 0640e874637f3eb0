"""Ray tests run against a real local Ray (the one notebook_sched starts on
first use). Where Ray is not installed or cannot start, they are skipped with
the reason; at the end, the local Ray is stopped and every one of its
processes must be gone."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from tests.conftest import pid_alive, wait_until

START_TIMEOUT = 180  # Ray's first start on a loaded 2-core machine


def ray_processes(root: int) -> set[int]:
    """``root`` and every live process below it."""
    from notebook_sched._execution.ray._head import descendants

    return {root, *descendants(root)} if pid_alive(root) else set()


@pytest.fixture(scope="session")
def local_ray() -> Iterator[object]:
    """This process's connection to its local Ray; skips when Ray cannot run."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed: pip install 'notebook_sched[ray]'")
    from notebook_sched._execution.ray import cluster as ray_cluster

    try:
        connection = ray_cluster.connect(None).result(timeout=START_TIMEOUT)
    except Exception as exc:
        pytest.skip(f"a local Ray cannot start on this machine: {exc}")
    guardian = ray_cluster.guardian_pid()
    yield connection
    # What the kernel's exit does: leave, and let the guardian stop everything.
    started = ray_processes(guardian) if guardian is not None else set()
    ray_cluster._stop_local()
    wait_until(lambda: not any(pid_alive(pid) for pid in started), timeout=30)
