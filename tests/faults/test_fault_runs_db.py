"""A ``runs_db`` that cannot serve, or not at once: read-only, in a missing
folder, not SQLite, locked by another writer. Either a clear error at
construction that names the path, or a bounded wait after which the record
lands — never a dropped record.

tests/history/test_store.py checks the store itself; these go through the
``Scheduler``, and add the lock held while runs start and finish.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from notebook_sched import Scheduler
from notebook_sched._history.store import RunStore
from tests.conftest import wait_until
from tests.faults.faults_support import NOBODY, final, run_as_nobody

pytestmark = pytest.mark.faults


# ---------------------------------------------------------- clear errors


def refused(path: Path | str) -> str:
    """Construct a scheduler on ``path``: it must raise ValueError quickly;
    return the message."""
    began = time.monotonic()
    with pytest.raises(ValueError) as info:
        Scheduler(runs_db=path)
    assert time.monotonic() - began < 10
    message = str(info.value)
    assert str(path) in message, message
    return message


def test_missing_folder(tmp_path):
    message = refused(tmp_path / "no" / "such" / "runs.sqlite")
    assert "does not exist" in message
    assert not (tmp_path / "no").exists()  # nothing created on the way


def test_path_is_a_directory(tmp_path):
    assert "directory" in refused(tmp_path)


def test_path_under_a_regular_file(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert "not a folder" in refused(plain / "runs.sqlite")


def test_path_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(fifo)  # and it did not block opening it
    assert "not a regular file" in refused("/dev/null")


def test_empty_path():
    with pytest.raises(ValueError, match="empty"):
        Scheduler(runs_db="")


def _valid_db(path: Path) -> bytes:
    app = Scheduler(runs_db=path)
    app._core.history.close()
    return path.read_bytes()


NOT_SQLITE = {
    "text": lambda good: b"these are not the runs you are looking for\n" * 200,
    "random bytes": lambda good: os.urandom(16384),
    "gzip header": lambda good: b"\x1f\x8b\x08\x00" + b"\x00" * 8188,
    "sqlite header, garbage pages": lambda good: good[:100] + os.urandom(len(good) - 100),
    "truncated sqlite": lambda good: good[: len(good) // 2 + 7],
}


@pytest.mark.parametrize("kind", NOT_SQLITE)
def test_not_a_sqlite_file(tmp_path, kind):
    good = _valid_db(tmp_path / "good.sqlite")
    path = tmp_path / "runs.sqlite"
    content = NOT_SQLITE[kind](good)
    path.write_bytes(content)
    message = refused(path)
    assert "cannot be used" in message, message
    assert path.read_bytes() == content  # the user's file is left as it was


def test_an_empty_file_is_a_new_history(tmp_path):
    path = tmp_path / "runs.sqlite"
    path.touch()
    app = Scheduler(runs_db=path)
    assert app.runs() == []
    app._core.history.close()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is root's, 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="faults-runs-db-"))
    folder.chmod(0o755)
    yield folder
    for root, _, _ in os.walk(folder):
        os.chmod(root, 0o755)
    shutil.rmtree(folder)


def _as_nobody(path: Path) -> str:
    def construct() -> str:
        try:
            Scheduler(runs_db=path)
        except ValueError as exc:
            return f"ValueError: {exc}"
        return "constructed"

    message = run_as_nobody(construct)
    if message.startswith("child failed"):
        pytest.skip(f"cannot drop privileges here: {message}")
    return message


def _chown(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


def test_read_only_file(shared_dir):
    path = shared_dir / "runs.sqlite"
    _valid_db(path)
    _chown(path)
    path.chmod(0o400)
    message = _as_nobody(path)
    assert message.startswith("ValueError"), message
    assert str(path) in message and "read-only" in message, message


def test_read_only_folder(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    path = folder / "runs.sqlite"
    _valid_db(path)
    _chown(folder, path)
    folder.chmod(0o555)
    message = _as_nobody(path)
    assert message.startswith("ValueError"), message
    assert str(path) in message and "read-only" in message, message


def test_new_file_in_read_only_folder(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    _chown(folder)
    folder.chmod(0o555)
    path = folder / "runs.sqlite"
    message = _as_nobody(path)
    assert message.startswith("ValueError"), message
    assert str(path) in message and "cannot be created" in message, message


def test_unprivileged_user_can_use_a_writable_file(shared_dir):
    """The check above is not vacuous: the same child succeeds where it may write."""
    folder = shared_dir / "rw"
    folder.mkdir()
    _chown(folder)
    assert _as_nobody(folder / "runs.sqlite") == "constructed"


# ------------------------------------------------------------------ locks


class Locker:
    """Another connection holding ``BEGIN EXCLUSIVE`` on the file."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")
        self.since = time.monotonic()

    def release(self) -> float:
        self.conn.execute("COMMIT")
        self.conn.close()
        return time.monotonic() - self.since


def _statuses_in_file(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT task, status FROM runs ORDER BY run_id").fetchall()


def test_construction_waits_out_a_short_lock(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    _valid_db(path)
    locker = Locker(path)
    timer = threading.Timer(1.5, locker.release)
    timer.start()
    try:
        began = time.monotonic()
        app = make_scheduler(runs_db=path)
        waited = time.monotonic() - began
    finally:
        timer.join(10)
    assert 1.3 < waited < RunStore.lock_wait + 1, waited
    assert app.runs() == []


def _two_tasks(app, release: threading.Event) -> None:
    @app.task(execution="thread")
    def slow():
        release.wait(10)
        return "landed"

    @app.task(execution="async")
    async def other():
        return "other"


def test_a_run_finishing_under_a_two_second_lock_lands_after_it(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    release = threading.Event()
    _two_tasks(app, release)
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    wait_until(lambda: _statuses_in_file(path) == [("slow", "run")])  # the writer has it
    locker = Locker(path)
    release.set()  # the run ends now, while the file is locked
    wait_until(lambda: time.monotonic() - locker.since >= 2.0, 5)
    # WAL: readers still read under the writer's lock; the end is not in yet.
    assert _statuses_in_file(path) == [("slow", "run")]
    held = locker.release()
    assert held >= 2.0
    record = final(app, "slow", timeout=RunStore.lock_wait + 5)
    assert (record.status, record.result) == ("success", "'landed'")
    wait_until(lambda: _statuses_in_file(path) == [("slow", "success")], 5)
    assert app.tasks["other"].run() is True
    assert final(app, "other").status == "success"
    assert app.state == "running"


def test_a_run_started_under_a_two_second_lock_is_recorded(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    release = threading.Event()
    release.set()
    _two_tasks(app, release)
    app.start()
    locker = Locker(path)
    timer = threading.Timer(2.0, locker.release)
    timer.start()
    try:
        began = time.monotonic()
        assert app.tasks["slow"].run() is True  # at once: the writer waits, not the caller
        waited = time.monotonic() - began
        assert waited < 0.5, waited
        # The run starts and ends while the file is locked; its record is in memory.
        assert final(app, "slow").status == "success"
        assert [r.status for r in app.runs(task="slow")] == ["success"]
        assert _statuses_in_file(path) == []
    finally:
        timer.join(10)
    wait_until(lambda: _statuses_in_file(path) == [("slow", "success")], 5)


def test_a_lock_longer_than_the_retry_bound_drops_no_record(make_scheduler, tmp_path, monkeypatch):
    """The lock outlasts the retry (shortened to 1 s here, 5 s by default):
    whatever the store does then, the run's final record must reach the file
    once the lock goes, and the task must not stay "running" for ever.
    (Found by this suite: the record was dropped and the task stuck.)"""
    monkeypatch.setattr(RunStore, "busy_timeout", 0.1)
    monkeypatch.setattr(RunStore, "lock_wait", 1.0)
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path, terminate_grace=0.2)
    release = threading.Event()
    _two_tasks(app, release)
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    locker = Locker(path)
    release.set()
    try:
        wait_until(lambda: time.monotonic() - locker.since >= RunStore.lock_wait + 1, 30)
    finally:
        locker.release()
    try:
        wait_until(lambda: app.tasks["slow"].last_run.status != "run", 3)
        record = app.tasks["slow"].last_run
        assert (record.status, record.result) == ("success", "'landed'")
        assert app.tasks["slow"].status == "idle"
        wait_until(lambda: _statuses_in_file(path) == [("slow", "success")], 5)
    finally:
        app.shut_down(force=True)
        assert app.join(10)
    assert {status for _, status in _statuses_in_file(path)} != {"run"}
