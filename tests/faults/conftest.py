"""The fault and misuse suite: run it alone with ``pytest -m faults``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    declared = " ".join(config.getini("markers"))
    if "faults:" not in declared:
        config.addinivalue_line(
            "markers",
            "faults: fault injection, misuse and soak tests (tests/faults); -m faults runs them",
        )
