"""Fixtures for tests against a real kernel: ``kernel`` starts one per test
and, at teardown, shuts it down and checks that neither it nor anything it
started is left running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jupyter.kernel import Kernel, cmdline, pid_alive, start_kernel, wait_for

MARKERS = {
    "jupyter": "runs against a real ipykernel driven by jupyter_client",
    "e2e": "runs a real JupyterLab server in headless Chromium (Playwright)",
}


def pytest_configure(config: pytest.Config) -> None:
    declared = " ".join(config.getini("markers"))
    for name, text in MARKERS.items():
        if f"{name}:" not in declared:
            config.addinivalue_line("markers", f"{name}: {text}")


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    k = start_kernel(tmp_path)
    try:
        yield k
    finally:
        tree = k.shutdown()
        try:
            wait_for(
                lambda: not any(pid_alive(p) for p in tree),
                timeout=15,
                what="kernel and its descendants gone",
            )
        except AssertionError:
            left = {p: cmdline(p) for p in tree if pid_alive(p)}
            log = k.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"left running after the kernel shut down: {left}\n{log}"
            ) from None
