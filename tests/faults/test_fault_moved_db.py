"""A ``runs_db`` deleted, or renamed over by another file, while a scheduler
has it open (issue 18): noticed within seconds, with a warning naming the
path; not one recorded run lost; ``app.runs()`` never fails (it used to
raise "database disk image is malformed", or runs went on into the deleted
file). A deleted file is made again at its path with the whole history; a
replacement that is the same history (a backup put back) takes the runs it
lacks; anything else is left as it is and the history goes on beside it.
Real SQLite files, a real scheduler on a thread of its own."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.faults.faults_support import final

pytestmark = pytest.mark.faults

NOTICED = 8.0  # seconds: the writer looks every second; generous under load


def file_rows(path: Path | str) -> list[tuple[int, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return raw.execute("SELECT run_id, task, status FROM runs ORDER BY run_id").fetchall()


def app_rows(app) -> list[tuple[int, str, str]]:
    return [(r.run_id, r.task, r.status) for r in app.runs()]


def moved_warning(caplog: pytest.LogCaptureFixture, path: Path) -> str | None:
    for record in caplog.records:
        text = record.getMessage()
        if (
            record.levelno == logging.WARNING
            and repr(str(path)) in text
            and ("recording goes on" in text or "goes on in" in text)
        ):
            return text
    return None


def noticed(app, caplog: pytest.LogCaptureFixture, path: Path) -> tuple[str, float]:
    """Wait for the warning, reading ``app.runs()`` all along (it must never
    fail); the warning and how long it took."""
    began = time.monotonic()

    def seen() -> str | None:
        app.runs()  # never "malformed", before, during or after the move
        return moved_warning(caplog, path)

    wait_until(seen, NOTICED)
    return str(seen()), time.monotonic() - began


def run_times(app, name: str, n: int) -> None:
    for _ in range(n):
        before = len(app.runs(task=name))
        assert app.tasks[name].run() is True
        wait_until(lambda before=before: len(app.runs(task=name)) > before)
        assert final(app, name).status == "success"


@pytest.fixture
def app_on_file(make_scheduler, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="notebook_sched")
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    release = threading.Event()

    @app.task(execution="thread")
    def quick():
        return "ok"

    @app.task(execution="thread")
    def held():
        release.wait(30)
        return "held to the end"

    app.start()
    run_times(app, "quick", 3)
    wait_until(lambda: len(file_rows(path)) == 3)
    yield app, path, release
    release.set()


@pytest.mark.parametrize("sidecars", ["main file only", "with its -wal and -shm"])
def test_a_deleted_runs_db_is_made_again_with_the_whole_history(app_on_file, caplog, sidecars):
    app, path, release = app_on_file
    app.tasks["held"].run()
    wait_until(lambda: app.tasks["held"].status == "running")
    before = app_rows(app)
    path.unlink()
    if sidecars != "main file only":
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    warning, took = noticed(app, caplog, path)
    assert took < NOTICED
    assert "was deleted while open" in warning and "new file at the same path" in warning, warning
    assert path.exists()
    assert file_rows(path) == before  # the three runs and the live one, as they were
    release.set()  # the live run ends into the new file
    assert final(app, "held").result == "'held to the end'"
    run_times(app, "quick", 2)
    wait_until(lambda: file_rows(path) == app_rows(app), 5)
    assert [status for _, _, status in file_rows(path)] == ["success"] * 6
    assert len({run_id for run_id, _, _ in file_rows(path)}) == 6
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_a_backup_put_back_over_it_takes_the_runs_it_lacks(app_on_file, caplog, tmp_path):
    app, path, _ = app_on_file
    backup = tmp_path / "backup.sqlite"
    with (
        contextlib.closing(sqlite3.connect(path)) as src,
        contextlib.closing(sqlite3.connect(backup)) as dst,
    ):
        src.backup(dst)  # the three runs
    run_times(app, "quick", 2)
    wait_until(lambda: len(file_rows(path)) == 5)
    before = app_rows(app)
    put_back = backup.stat().st_ino
    os.replace(backup, path)
    warning, _ = noticed(app, caplog, path)
    assert "was replaced while open" in warning and "the 2 of its 5 runs it lacked" in warning
    assert path.stat().st_ino == put_back  # the file put there is the one used
    assert file_rows(path) == before
    run_times(app, "quick", 1)
    wait_until(lambda: file_rows(path) == app_rows(app), 5)
    assert len(file_rows(path)) == 6


def _another_program(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
        raw.execute("INSERT INTO notes VALUES ('mine')")
        raw.commit()


def _another_history(path: Path) -> None:
    from notebook_sched import Scheduler

    with pytest.warns(UserWarning, match="another Scheduler of this process is running"):
        other = Scheduler(runs_db=path)

    @other.task(execution="thread")
    def elsewhere():
        return 1

    other.start()
    run_times(other, "elsewhere", 4)
    other.shut_down()
    assert other.join(10)
    other._core.history.close()


FOREIGN = {
    "a text file": (lambda p: p.write_text("not runs\n" * 100), "not a SQLite database"),
    "another program's database": (_another_program, "not a run history"),
    "another run history": (_another_history, "another run history"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_foreign_file_renamed_over_it_is_left_alone(app_on_file, caplog, tmp_path, kind):
    app, path, _ = app_on_file
    make, why = FOREIGN[kind]
    foreign = tmp_path / "foreign" / "runs.sqlite"
    foreign.parent.mkdir()
    make(foreign)
    content = foreign.read_bytes()
    before = app_rows(app)
    os.replace(foreign, path)
    warning, _ = noticed(app, caplog, path)
    assert "was replaced by another file while open" in warning and why in warning, warning
    kept = re.search(r"goes on in '([^']+)'", warning)
    assert kept is not None, warning
    kept_path = Path(kept.group(1))
    assert kept_path.parent == path.parent and kept_path.name.startswith("runs.kept-")
    assert file_rows(kept_path) == before
    run_times(app, "quick", 2)
    wait_until(lambda: file_rows(kept_path) == app_rows(app), 5)
    assert len(app.runs()) == 5
    app.shut_down()
    assert app.join(10)
    app._core.history.close()
    # The old file's WAL left beside the path was emptied: nothing of it went
    # into the file put there, which reads as it was written.
    assert path.read_bytes() == content
    if kind == "another program's database":
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("SELECT body FROM notes").fetchall() == [("mine",)]
    if kind == "another run history":
        assert [task for _, task, _ in file_rows(path)] == ["elsewhere"] * 4


def test_a_deleted_folder_keeps_the_records_until_it_is_back(app_on_file, caplog):
    app, path, _ = app_on_file
    before = app_rows(app)
    shutil.rmtree(path.parent)
    wait_until(lambda: "cannot be put back" in caplog.text, NOTICED)
    assert str(path) in caplog.text
    run_times(app, "quick", 2)  # they run; their records wait in memory
    assert app_rows(app)[:3] == before and len(app.runs()) == 5
    path.parent.mkdir()
    wait_until(lambda: path.exists() and moved_warning(caplog, path) is not None, NOTICED)
    wait_until(lambda: file_rows(path) == app_rows(app), 5)
    assert len(file_rows(path)) == 5
    assert "takes records again; none was lost" in caplog.text


SHARER = """
import json, sys, time
from notebook_sched import Scheduler

app = Scheduler(runs_db=sys.argv[1])
ran = []

@app.task("every 0.05 seconds", execution="async")
async def beside():
    ran.append(1)

app.start()
print("started", flush=True)
sys.stdin.readline()  # the file is deleted meanwhile
time.sleep(3)  # runs on into the new file
app.shut_down()
assert app.join(10)
print(json.dumps(len(app.runs(task="beside"))), flush=True)
"""


@pytest.mark.timeout(90)
def test_two_processes_sharing_a_deleted_file_both_put_their_runs_back(app_on_file, caplog):
    """Another process (kernel) writes the same file: after the delete each
    finds it gone or remade by the other, and the file ends with every run
    of both."""
    import subprocess
    import sys

    app, path, _ = app_on_file
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen(
        [sys.executable, "-c", SHARER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "started"
        wait_until(lambda: any(t == "beside" for _, t, _ in file_rows(path)), 20)
        path.unlink()
        noticed(app, caplog, path)
        run_times(app, "quick", 2)
        child.stdin.write("go\n")
        child.stdin.flush()
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert child.returncode == 0, err[-3000:]
    assert "was deleted while open" in err or "run history that agrees" in err, err[-3000:]
    theirs = int(out.strip().splitlines()[-1])
    app.shut_down()
    assert app.join(10)
    rows = file_rows(path)
    assert sum(1 for _, t, _ in rows if t == "beside") == theirs > 20
    assert [r for r in rows if r[1] != "beside"] == [r for r in app_rows(app) if r[1] != "beside"]
    assert len({run_id for run_id, _, _ in rows}) == len(rows)
    assert {status for _, _, status in rows} == {"success"}


def test_the_path_is_looked_at_on_the_writers_thread_only(app_on_file, monkeypatch):
    """The look (an ``os.stat``) is made every second while the scheduler
    runs — on the writer's thread, never on the loop's or the caller's."""
    from notebook_sched._history import moved_file

    app = app_on_file[0]
    looks: list[str] = []
    real = moved_file.change

    def change(at: str, opened: moved_file.Identity) -> moved_file.Change | None:
        looks.append(threading.current_thread().name)
        return real(at, opened)

    monkeypatch.setattr(moved_file, "change", change)
    began = time.monotonic()
    wait_until(lambda: len(looks) >= 3, 10)
    assert time.monotonic() - began > 1.5  # about one a second, not a busy loop
    assert set(looks) == {"notebook_sched-writer"}, looks
    app.shut_down()
    assert app.join(10)
    assert app.state == "stopped"
