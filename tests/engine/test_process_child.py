"""What a process run's child starts with. The zygote takes the kernel's
directory, environment, import path and log levels when they change (not
each child), so a child must still see them as they are when its run starts;
payloads and contexts too big for one packet travel through a pipe."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import pytest

from notebook_sched._execution.process.zygote import INLINE
from tests.conftest import wait_until

# The tasks below travel by value (as a notebook cell's do).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _where() -> tuple[str, str | None, list[str], int]:
    import logging
    import os
    import sys

    return (
        os.getcwd(),
        os.environ.get("NOTEBOOK_SCHED_TEST_VALUE"),
        list(sys.path),
        logging.getLogger("notebook_sched_test").getEffectiveLevel(),
    )


def _run_once(app, name: str) -> object:
    before = app.tasks[name].last_run
    assert app.tasks[name].run()
    wait_until(
        lambda: (
            (last := app.tasks[name].last_run) is not None
            and last is not before
            and last.status != "run"
        ),
        timeout=20,
    )
    last = app.tasks[name].last_run
    assert last.status == "success", last
    return app.tasks[name].result


@pytest.fixture
def kernel_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTEBOOK_SCHED_TEST_VALUE", "first")
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path / "first")])
    logger = logging.getLogger("notebook_sched_test")
    logger.setLevel(logging.ERROR)  # as a user sets it (setLevel)
    yield tmp_path
    logger.setLevel(logging.NOTSET)


def test_each_run_starts_where_the_kernel_is_then(make_scheduler, kernel_state, monkeypatch):
    app = make_scheduler()
    app.task(execution="process", name="where")(_where)
    app.start()
    cwd, value, path, level = _run_once(app, "where")
    assert (cwd, value, level) == (str(kernel_state), "first", logging.ERROR)
    assert path[-1] == str(kernel_state / "first")
    # The kernel moves on: the next child follows.
    (kernel_state / "second").mkdir()
    monkeypatch.chdir(kernel_state / "second")
    monkeypatch.setenv("NOTEBOOK_SCHED_TEST_VALUE", "second")
    sys.path[-1] = str(kernel_state / "second")
    logging.getLogger("notebook_sched_test").setLevel(logging.DEBUG)
    cwd, value, path, level = _run_once(app, "where")
    assert (cwd, value, level) == (str(kernel_state / "second"), "second", logging.DEBUG)
    assert path[-1] == str(kernel_state / "second")
    monkeypatch.delenv("NOTEBOOK_SCHED_TEST_VALUE")
    assert _run_once(app, "where")[1] is None  # unset is unset there too


def test_an_environment_bigger_than_a_packet_travels_whole(
    make_scheduler, kernel_state, monkeypatch
):
    big = "x" * (3 * INLINE)
    monkeypatch.setenv("NOTEBOOK_SCHED_TEST_VALUE", big)
    app = make_scheduler()
    app.task(execution="process", name="where")(_where)
    app.start()
    assert _run_once(app, "where")[1] == big


def test_a_closure_bigger_than_a_packet_travels_whole(make_scheduler):
    data = bytes(range(256)) * (INLINE // 64)  # 4 packets' worth

    def measure() -> tuple[int, int]:
        return len(data), sum(data[:1000])

    app = make_scheduler()
    app.task(execution="process", name="big")(measure)
    app.start()
    assert _run_once(app, "big") == (len(data), sum(data[:1000]))


def test_a_kernel_directory_deleted_ends_the_run_saying_so_and_the_next_one_runs(
    make_scheduler, kernel_state, monkeypatch
):
    gone = kernel_state / "gone"
    gone.mkdir()
    app = make_scheduler()
    app.task(execution="process", name="where")(_where)
    app.start()
    _run_once(app, "where")
    monkeypatch.chdir(gone)
    gone.rmdir()  # the kernel's directory is no more: there is nowhere to start the child
    assert app.tasks["where"].run()
    wait_until(lambda: app.tasks["where"].last_run.status == "crash", timeout=20)
    error = app.tasks["where"].last_run.error
    assert error.startswith("could not start the child") and "FileNotFoundError" in error, error
    monkeypatch.chdir(kernel_state)
    assert _run_once(app, "where")[0] == str(kernel_state)


def _loaded() -> bool:
    import sys

    return "asyncio" in sys.modules


def test_a_child_starts_without_asyncio(make_scheduler):
    """The zygote loads only what a child needs: asyncio (and the ssl it
    brings) would make it 7 MB bigger, and every fork copies what it maps."""
    app = make_scheduler()
    app.task(execution="process", name="loaded")(_loaded)
    app.start()
    assert _run_once(app, "loaded") is False


def test_the_log_levels_are_read_again_only_when_one_changed():
    from notebook_sched._execution.capture import log_levels

    logger = logging.getLogger("notebook_sched_test.levels")
    try:
        first = log_levels()
        assert log_levels() is first  # nothing changed: not read again
        logger.setLevel(logging.WARNING)
        second = log_levels()
        assert second is not first and second["notebook_sched_test.levels"] == logging.WARNING
        logging.disable(logging.INFO)  # empties the caches too
        assert log_levels() is not second
    finally:
        logging.disable(logging.NOTSET)
        logger.setLevel(logging.NOTSET)
    assert "notebook_sched_test.levels" not in log_levels()
