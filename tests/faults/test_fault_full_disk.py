"""A ``runs_db`` on a real, small file system that fills while runs are
alive (a 1 MB tmpfs, mounted for the test; skipped, saying why, where mount
is not permitted): no record is lost — each is kept in memory and retried,
with one warning naming the path and the error — no task shows "running"
for good, ``Task.run()`` never raises a raw ``sqlite3`` error, a graceful
``shut_down()`` completes, and once space is freed every record reaches the
file. Real child processes, a real SQLite file."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cloudpickle
import pytest

from notebook_sched import Scheduler
from tests.conftest import force_stop, wait_until
from tests.faults.faults_support import final

pytestmark = pytest.mark.faults

cloudpickle.register_pickle_by_value(sys.modules[__name__])

SIZE = "1m"


@pytest.fixture
def small_fs() -> Iterator[Path]:
    """A fresh 1 MB tmpfs, unmounted (and its folder removed) afterwards;
    a file still open on it then is an error of the test."""
    if shutil.which("mount") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8); not available here")
    where = Path(tempfile.mkdtemp(prefix="notebook_sched-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a {SIZE} tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        unmounted = subprocess.run(["umount", str(where)], check=False).returncode == 0
        if not unmounted:
            subprocess.run(["umount", "-l", str(where)], check=False)  # a file still open
        where.rmdir()
    assert unmounted, f"a file on {where} was still open at the test's end"


@pytest.fixture
def make_on_small_fs(make_scheduler, small_fs) -> Iterator[Callable[..., Scheduler]]:
    """Build schedulers whose ``runs_db`` is ``runs.sqlite`` on the small
    file system; each is stopped and its file closed before the file system
    goes. (Left open, the file was deleted under it by the unmount, and the
    interpreter's exit, which closes what is still open, said so for each.)"""
    made: list[Scheduler] = []

    def make(**config: object) -> Scheduler:
        app = make_scheduler(runs_db=small_fs / "runs.sqlite", **config)
        made.append(app)
        return app

    yield make
    for app in made:
        force_stop(app)
        app._core.history.close()


def fill(where: Path) -> Path:
    """Write a file until the file system is full; the file."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"x" * 4096
        while True:
            os.write(fd, block)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def file_rows(db: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(db)) as raw:
        return raw.execute("SELECT task, status FROM runs ORDER BY run_id").fetchall()


def disk_warnings(caplog: pytest.LogCaptureFixture, db: Path) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "could not record" in r.getMessage()
    ]


def _define(app, release: Path) -> None:
    @app.task(execution="process")
    def slow():
        while not os.path.exists(release):
            time.sleep(0.01)
        return "done"

    @app.task(execution="thread")
    def quick():
        return "q"


def _run_quick(app, times: int) -> int:
    """``quick.run()`` ``times`` times, one run after the other, each call
    answered at once; how many ``run()`` said started (a run with no run id at
    hand is queued, and its task says it waits: then the asking stops)."""
    quick = app.tasks["quick"]
    started = 0
    for _ in range(times):
        began = time.monotonic()
        if quick.run():
            started += 1
        assert time.monotonic() - began < 0.5, "Task.run() waited for the file"
        wait_until(lambda: quick.status in ("idle", "waiting"), 10)
        if quick.status == "waiting":
            assert quick.waits_for == "run id"
            assert quick.queue_position is None
            break
    return started


def test_a_disk_that_fills_while_a_process_run_lives(make_on_small_fs, small_fs, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="notebook_sched")
    db = small_fs / "runs.sqlite"
    release = tmp_path / "release"
    app = make_on_small_fs(terminate_grace=0.5)
    _define(app, release)
    app.start()
    assert app.tasks["slow"].run() is True
    wait_until(lambda: file_rows(db) == [("slow", "run")])  # the writer has its start
    filler = fill(small_fs)
    release.touch()
    record = final(app, "slow")
    assert (record.status, record.result) == ("success", "'done'")
    assert app.tasks["slow"].status == "idle"
    started = _run_quick(app, 300)  # more than a block of run ids: they run out meanwhile
    assert started > 100
    records = app.runs()
    # The run asked for once the ids ran out is queued (run() said True): it
    # has no record until ids come, and a second ask is refused meanwhile.
    assert len(records) == started
    assert (app.tasks["quick"].status, app.tasks["quick"].waits_for) == ("waiting", "run id")
    assert app.tasks["quick"].run() is False
    assert all(r.status == "success" for r in records), {r.status for r in records}
    assert file_rows(db) == [("slow", "run")]  # the disk took none of it
    warned = disk_warnings(caplog, db)
    assert len(warned) == 1, warned
    assert repr(str(db)) in warned[0] and "full" in warned[0], warned[0]
    assert caplog.text.count("no run id set aside is left") <= 1  # said once, not per try
    filler.unlink()
    wait_until(lambda: len(file_rows(db)) == len(records) + 1, 15)  # the queued run too
    assert {status for _, status in file_rows(db)} == {"success"}
    wait_until(lambda: "takes records again; none was lost" in caplog.text, 5)
    assert (app.tasks["quick"].status, app.tasks["quick"].waits_for) == ("idle", None)
    assert _run_quick(app, 3) == 3
    app.shut_down()
    assert app.join(15)
    assert app.state == "stopped"
    wait_until(lambda: len(file_rows(db)) == len(records) + 4, 15)


def test_a_graceful_shutdown_completes_on_a_full_disk(make_on_small_fs, small_fs, tmp_path, caplog):
    db = small_fs / "runs.sqlite"
    release = tmp_path / "release"
    app = make_on_small_fs(terminate_grace=0.5)
    _define(app, release)
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: file_rows(db) == [("slow", "run")])
    filler = fill(small_fs)
    app.shut_down()  # graceful: the run goes on to its end
    assert app.state == "shutting_down"
    release.touch()
    assert app.join(15)  # however full the disk
    assert app.state == "stopped"
    assert app.tasks["slow"].status == "idle"
    assert app.tasks["slow"].last_run.status == "success"
    assert file_rows(db) == [("slow", "run")]
    filler.unlink()  # the records kept in memory land after the stop
    wait_until(lambda: file_rows(db) == [("slow", "success")], 15)
    app.start()  # and it starts again, on the same file
    assert app.tasks["quick"].run() is True
    assert final(app, "quick").status == "success"


def test_runs_that_fill_the_disk_themselves(make_on_small_fs, small_fs, tmp_path, caplog):
    """No filler: the runs' own output fills the file system (its WAL); a
    file left there earlier is then removed, and every record lands."""
    caplog.set_level(logging.WARNING, logger="notebook_sched")
    db = small_fs / "runs.sqlite"
    earlier = small_fs / "earlier"
    earlier.write_bytes(b"e" * (600 << 10))
    app = make_on_small_fs(terminate_grace=0.5)

    @app.task(execution="process")
    def chatty():
        print("y" * 20_000)
        return "printed"

    app.start()
    for _ in range(60):
        began = time.monotonic()
        assert app.tasks["chatty"].run() in (True, False)
        assert time.monotonic() - began < 0.5
        wait_until(lambda: app.tasks["chatty"].status == "idle", 15)
        if disk_warnings(caplog, db) and len(app.runs()) >= 30:
            break
    assert disk_warnings(caplog, db), "the disk never filled"
    records = app.runs()
    assert all(r.status == "success" and len(r.output) > 19_000 for r in records)
    assert len(file_rows(db)) < len(records)
    earlier.unlink()
    wait_until(lambda: len(file_rows(db)) == len(records), 15)
    assert {status for _, status in file_rows(db)} == {"success"}
    app.shut_down()
    assert app.join(15)


def test_a_run_waiting_for_a_run_id_can_be_terminated(make_on_small_fs, small_fs, tmp_path):
    """``Task.run()`` on a full disk once the ids set aside are used: queued
    (``True``); ``terminate()`` drops it, so it never starts when ids come."""
    db = small_fs / "runs.sqlite"
    app = make_on_small_fs(terminate_grace=0.5)
    _define(app, tmp_path / "release")
    app.start()
    assert app.tasks["quick"].run() is True
    wait_until(lambda: len(file_rows(db)) == 1)  # the writer has it: the file is in use
    filler = fill(small_fs)
    started = _run_quick(app, 300)
    assert len(app.runs()) == started  # the last one asked for waits for an id
    assert app.tasks["quick"].status == "waiting"
    assert app.tasks["quick"].terminate() is True
    assert app.tasks["quick"].status == "idle"
    assert app.tasks["quick"].terminate() is False  # nothing is left of it
    filler.unlink()
    wait_until(lambda: len(file_rows(db)) == started, 15)
    assert app.tasks["quick"].run() is True  # a fresh ask starts at once
    wait_until(lambda: len(app.runs()) == started + 1, 10)
    app.shut_down()
    assert app.join(15)
    assert len(app.runs()) == started + 1
