"""``RunStore``: the SQLite run history, on real files."""

from __future__ import annotations

import os
import re
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notebook_sched._history import _owner, transactions
from notebook_sched._history.store import SCHEMA_VERSION, RunStore, RunStoreError

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.sqlite"


@pytest.fixture
def opened(db: Path):
    """Stores opened by a test, closed after it."""
    stores: list[RunStore] = []

    def open_store(path: str | os.PathLike[str] | None = db) -> RunStore:
        store = RunStore(path)
        stores.append(store)
        return store

    yield open_store
    for store in stores:
        store.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class Children:
    """Python child processes that are always killed, reaped and checked gone."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, code: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert not _alive(proc.pid)

    def stop_all(self) -> None:
        for proc in self.procs:
            self.kill(proc)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def children():
    kids = Children()
    yield kids
    kids.stop_all()


def _readline(proc: subprocess.Popen[str]) -> str:
    """The child's next line (blocks until it writes one); fails if it died."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        assert proc.stderr is not None
        proc.wait(timeout=10)
        raise AssertionError(f"child {proc.pid} exited {proc.returncode}: {proc.stderr.read()}")
    return line.strip()


# A child that opens the store, records a finished and a live run, reports
# "<pid> <finished run_id> <live run_id>", then waits until it is killed.
HOLDER = """
    import sys
    from notebook_sched._history.store import RunStore

    store = RunStore(sys.argv[1])
    done = store.start("done", 1.0)
    store.finish(done.run_id, "success", end=2.0, result="'ok'")
    live = store.start("live", 3.0)
    print(__import__("os").getpid(), done.run_id, live.run_id, flush=True)
    sys.stdin.read()
"""


# ------------------------------------------------------------ round trip


def test_round_trip(opened):
    store = opened()
    a = store.start("a", T0)
    assert (a.task, a.status, a.reason, a.end, a.runtime) == ("a", "run", None, None, None)
    assert a.start == datetime.fromtimestamp(T0, tz=UTC)
    assert a.start.tzinfo is not None and a.is_alive
    b = store.start("b", T0 + 1)
    a2 = store.start("a", T0 + 2)
    assert a.run_id < b.run_id < a2.run_id

    done = store.finish(a.run_id, "success", end=T0 + 1.5, result="'ok'")
    assert (done.status, done.reason, done.result, done.error) == ("success", None, "'ok'", None)
    assert done.runtime == pytest.approx(1.5)
    assert done.end is not None and done.end.tzinfo is not None
    killed = store.finish(b.run_id, "terminate", end=T0 + 3, reason="timeout")
    assert (killed.status, killed.reason) == ("terminate", "timeout")

    assert [r.run_id for r in store.runs()] == [a.run_id, b.run_id, a2.run_id]
    assert [r.run_id for r in store.runs(task="a")] == [a.run_id, a2.run_id]
    assert [r.run_id for r in store.runs(status="run")] == [a2.run_id]
    assert [r.run_id for r in store.runs(task="a", status="success")] == [a.run_id]
    assert store.runs(task="nope") == []
    assert store.runs(task="b", status="success") == []
    assert store.runs()[0] == done
    assert store.last("a") == store.runs()[2]
    assert store.last("b") == killed
    assert store.last("nope") is None


def test_limit_keeps_the_newest_still_oldest_first(opened):
    store = opened()
    ids = [store.start("t" if i % 2 else "u", T0 + i).run_id for i in range(10)]
    assert [r.run_id for r in store.runs(limit=3)] == ids[-3:]
    assert [r.run_id for r in store.runs(task="t", limit=2)] == ids[1::2][-2:]
    assert [r.run_id for r in store.runs(task="t", limit=100)] == ids[1::2]
    assert store.runs(limit=0) == []
    store.finish(ids[0], "fail", end=T0 + 20, error="Traceback ...")
    store.finish(ids[2], "fail", end=T0 + 21, error="Traceback ...")
    assert [r.run_id for r in store.runs(status="fail", limit=1)] == [ids[2]]


def test_finishing_a_finished_run_is_a_noop_returning_the_record(opened):
    store = opened()
    run = store.start("a", T0)
    first = store.finish(run.run_id, "fail", end=T0 + 1, error="boom")
    again = store.finish(run.run_id, "success", end=T0 + 9, result="'late'")
    assert again == first
    assert store.runs() == [first]
    with pytest.raises(KeyError, match="12345"):
        store.finish(12345, "success", end=T0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, r: s.finish(r, "run", end=T0), "status"),
        (lambda s, r: s.finish(r, "done", end=T0), "status"),
        (lambda s, r: s.finish(r, "terminate", end=T0, reason="bored"), "reason"),
        (lambda s, r: s.finish(r, "success", end=float("nan")), "end"),
        (lambda s, r: s.finish(r, "success", end=T0, result=42), "result"),
        (lambda s, r: s.runs(status="running"), "status"),
        (lambda s, r: s.runs(limit=-1), "limit"),
        (lambda s, r: s.runs(limit=True), "limit"),
        (lambda s, r: s.start("", T0), "task"),
        (lambda s, r: s.start("a", "now"), "start"),
    ],
)
def test_bad_values_raise_value_error_and_change_nothing(opened, call, message):
    store = opened()
    run = store.start("a", T0)
    with pytest.raises(ValueError, match=message):
        call(store, run.run_id)
    assert [(r.run_id, r.status) for r in store.runs()] == [(run.run_id, "run")]


def test_every_status_and_reason_is_accepted(opened):
    store = opened()
    for status in ("success", "fail", "terminate", "crash"):
        for reason in (None, "timeout", "end_cond", "shutdown", "manual"):
            run = store.start(status, T0)
            assert store.finish(run.run_id, status, end=T0 + 1, reason=reason).reason == reason
    for status in ("run", "success", "fail", "terminate", "crash"):
        assert {r.status for r in store.runs(status=status)} <= {status}


def test_result_and_error_are_stored_as_given(opened, db):
    store = opened()
    text = "x" * 100_000 + " \u00e9\u4e2d\n\0 end"
    run = store.start("a", T0)
    store.finish(run.run_id, "fail", end=T0 + 1, error=text, result=text)
    store.close()
    again = opened()
    assert again.last("a").error == text
    assert again.last("a").result == text


def test_last_times_seed_the_condition_state(opened):
    store = opened()
    a1 = store.start("a", T0)
    store.finish(a1.run_id, "success", end=T0 + 5)
    a2 = store.start("a", T0 + 10)
    store.finish(a2.run_id, "fail", end=T0 + 11)
    a3 = store.start("a", T0 + 20)
    store.finish(a3.run_id, "success", end=T0 + 25)
    store.start("a", T0 + 30)  # alive: counts as a start, not an end
    b = store.start("b", T0 + 1)
    store.finish(b.run_id, "terminate", end=T0 + 2, reason="timeout")
    starts, ends = store.last_times()
    assert starts == {"a": T0 + 30, "b": T0 + 1}
    assert ends == {("a", "success"): T0 + 25, ("a", "fail"): T0 + 11, ("b", "terminate"): T0 + 2}
    assert RunStore().last_times() == ({}, {})


def test_in_memory_store_is_private(opened):
    one, two = opened(None), opened(None)
    assert one.path is None and opened(":memory:").path is None
    one.start("a", T0)
    assert two.runs() == []
    assert len(one.runs()) == 1


def test_closed_store_raises_and_close_is_idempotent(opened, db):
    store = opened()
    store.close()
    store.close()
    with pytest.raises(RunStoreError, match=re.escape(str(db))):
        store.start("a", T0)


def test_threads_share_one_store(opened):
    store = opened()
    ids: list[int] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(100):
                run = store.start(f"t{n}", T0 + i)
                ids.append(run.run_id)
                store.finish(run.run_id, "success", end=T0 + i + 1)
                store.runs(task=f"t{n}", limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    assert errors == []
    assert len(set(ids)) == 800
    assert len(store.runs(status="success")) == 800


# ------------------------------------------------------------ the file


def test_file_is_created_owner_only_and_history_survives_reopen(opened, db):
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        store = opened()
    finally:
        os.umask(old_umask)
    assert store.path == str(db)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    run = store.start("a", T0)
    done = store.finish(run.run_id, "success", end=T0 + 1, result="'ok'")
    alive = store.start("b", T0 + 2)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{db}{suffix}"):
            assert stat.S_IMODE(os.stat(f"{db}{suffix}").st_mode) == 0o600
    store.close()

    again = opened(str(db))
    # Our own (live) process owned the run left at "run": it is not marked.
    assert again.runs() == [done, alive]
    newer = again.start("a", T0 + 3)
    assert newer.run_id > alive.run_id
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_run_ids_stay_unique_after_the_newest_rows_are_deleted(opened, db):
    store = opened()
    ids = [store.start("a", T0).run_id for _ in range(3)]
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM runs WHERE run_id = ?", (ids[-1],))
    assert opened().start("a", T0).run_id > ids[-1]  # AUTOINCREMENT: never reused


def test_a_file_from_a_newer_schema_is_refused(opened, db):
    opened().close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(RunStoreError, match=re.escape(str(db)) + ".*newer"):
        RunStore(db)


def test_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "runs.sqlite"
    with pytest.raises(RunStoreError, match=re.escape(str(path)) + ".*does not exist"):
        RunStore(path)
    assert not path.parent.exists()


def test_directory_as_path(tmp_path):
    with pytest.raises(RunStoreError, match=re.escape(str(tmp_path)) + ".*directory"):
        RunStore(tmp_path)


def test_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.txt"
    content = "these are not the runs you are looking for\n" * 100
    path.write_text(content)
    with pytest.raises(RunStoreError, match=re.escape(str(path)) + ".*not a (SQLite )?database"):
        RunStore(path)
    assert path.read_text() == content  # left untouched


def test_a_file_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("x")
    path = tmp_path / "plain" / "runs.sqlite"
    with pytest.raises(RunStoreError, match=re.escape(str(path))):
        RunStore(path)


def _open_unprivileged(path: Path) -> str:
    """Open ``path`` as a user without root's bypass of file modes; return
    ``"ok"`` or the error's message. As root, a forked child drops to nobody."""
    if os.geteuid() != 0:
        try:
            RunStore(path).close()
        except RunStoreError as exc:
            return str(exc)
        return "ok"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here on, always _exit
        code = 0
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                RunStore(path).close()
                message = "ok"
            except RunStoreError as exc:
                message = str(exc)
            os.write(write_fd, message.encode())
        except BaseException as exc:
            os.write(write_fd, f"child failed: {exc!r}".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    # A fork copies a lock another thread may hold: bound the wait, never hang.
    chunks: list[bytes] = []
    deadline = time.monotonic() + 30
    with os.fdopen(read_fd, "rb", buffering=0) as reader:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([reader], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError("the unprivileged child did not answer within 30 s")
            chunk = reader.read(4096)
            if not chunk:
                break
            chunks.append(chunk)
    message = b"".join(chunks).decode()
    _, status = os.waitpid(pid, 0)
    assert not _alive(pid)
    if message.startswith("child failed: PermissionError"):
        pytest.skip(f"cannot drop root privileges here to test read-only paths: {message}")
    assert os.waitstatus_to_exitcode(status) == 0, message
    return message


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user can reach (pytest's tmp_path is 0700 root's)."""
    folder = Path(tempfile.mkdtemp(prefix="runstore-"))
    folder.chmod(0o755)
    yield folder
    for root, dirs, files in os.walk(folder, topdown=False):
        os.chmod(root, 0o700)
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(folder)


def _chown_to_tester(path: Path) -> None:
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)


def test_read_only_file(shared_dir):
    path = shared_dir / "runs.sqlite"
    store = RunStore(path)
    store.start("a", T0)
    store.close()
    _chown_to_tester(path)
    path.chmod(0o400)
    message = _open_unprivileged(path)
    assert str(path) in message and "read-only" in message, message


def test_read_only_folder(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    path = folder / "runs.sqlite"
    store = RunStore(path)
    store.start("a", T0)
    store.close()
    assert not os.path.exists(f"{path}-wal")  # the last close removes it
    _chown_to_tester(folder)
    _chown_to_tester(path)
    folder.chmod(0o555)
    message = _open_unprivileged(path)
    assert str(path) in message and "read-only" in message, message


def test_new_file_in_read_only_folder(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    _chown_to_tester(folder)
    folder.chmod(0o555)
    path = folder / "runs.sqlite"
    message = _open_unprivileged(path)
    assert str(path) in message and "cannot be created" in message, message


# ------------------------------------------------------------ crashes


def test_runs_of_a_killed_process_are_marked_crash(opened, db, children):
    proc = children.spawn(HOLDER, str(db))
    pid, done_id, live_id = map(int, _readline(proc).split())
    assert pid == proc.pid
    children.kill(proc)
    before = time.time()

    store = opened()
    done, crashed = store.runs()
    # What the killed process recorded is all there.
    assert (done.run_id, done.status, done.result) == (done_id, "success", "'ok'")
    assert (crashed.run_id, crashed.task, crashed.status) == (live_id, "live", "crash")
    assert crashed.reason is None
    assert f"pid {pid}" in crashed.error
    assert crashed.end is not None and crashed.end.timestamp() >= before
    _, ends = store.last_times()
    assert ends[("live", "crash")] == pytest.approx(crashed.end.timestamp(), abs=1e-5)
    # Marked once: another open changes nothing.
    store.close()
    assert opened().runs() == [done, crashed]


def test_runs_of_a_live_process_are_never_marked(opened, db, children):
    proc = children.spawn(HOLDER, str(db))
    pid, _, live_id = map(int, _readline(proc).split())
    assert pid == proc.pid
    mine = opened().start("mine", T0)  # owned by this (live) test process

    other = opened()
    assert {r.run_id: r.status for r in other.runs(status="run")} == {
        live_id: "run",
        mine.run_id: "run",
    }
    children.kill(proc)
    assert {r.run_id: r.status for r in opened().runs() if r.task != "done"} == {
        live_id: "crash",
        mine.run_id: "run",
    }


def _plant(db: Path, owner: str) -> int:
    with sqlite3.connect(db) as raw:
        cursor = raw.execute(
            "INSERT INTO runs (task, status, start, owner) VALUES ('planted', 'run', ?, ?)",
            (T0, owner),
        )
        return int(cursor.lastrowid or 0)


def test_a_reused_pid_is_not_taken_for_the_owner(opened, db):
    opened().close()
    pid, start, boot, pidns = _owner.identity().split(":", 3)
    # Our own live pid, but a process that started at another time.
    reused = _plant(db, f"{pid}:{int(start) - 1}:{boot}:{pidns}")
    # Our own process, before a reboot.
    rebooted = _plant(db, f"{pid}:{start}:not-this-boot:{pidns}")
    # Records written before boot id and namespace were kept.
    legacy_dead = _plant(db, f"{pid}:{int(start) + 1}")
    legacy_alive = _plant(db, f"{pid}:{start}")
    # A process in another pid namespace of this kernel: cannot be checked.
    foreign = _plant(db, f"{pid}:{int(start) + 1}:{boot}:pid:[1]")
    status = {r.run_id: r.status for r in opened().runs()}
    assert status == {
        reused: "crash",
        rebooted: "crash",
        legacy_dead: "crash",
        legacy_alive: "run",
        foreign: "run",
    }


# ------------------------------------------------------------ concurrency


WRITER = """
    import sys
    from notebook_sched._history.store import RunStore

    store = RunStore(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(500):
        run = store.start(sys.argv[2], 1.0 + i)
        store.finish(run.run_id, "success", end=2.0 + i, result=repr(i))
    store.close()
    print("done", flush=True)
"""


def test_two_processes_writing_one_file(opened, db, children):
    opened().close()
    writers = [children.spawn(WRITER, str(db), name) for name in ("left", "right")]
    for proc in writers:
        assert _readline(proc) == "ready"
    began = time.monotonic()
    for proc in writers:  # both are blocked on stdin until now
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in writers:
        assert _readline(proc) == "done"
        assert proc.wait(timeout=60) == 0
    elapsed = time.monotonic() - began

    store = opened()
    records = store.runs()
    assert len(records) == 1000, elapsed
    assert len({r.run_id for r in records}) == 1000
    assert {r.status for r in records} == {"success"}
    for name in ("left", "right"):
        mine = store.runs(task=name)
        assert [r.result for r in mine] == [repr(i) for i in range(500)]
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.fixture
def quick_locks(monkeypatch):
    monkeypatch.setattr(RunStore, "busy_timeout", 0.05)
    monkeypatch.setattr(RunStore, "lock_wait", 0.3)


def test_a_file_locked_too_long_raises_naming_the_path(opened, db, quick_locks):
    store = opened()
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer that never lets go
        began = time.monotonic()
        with pytest.raises(RunStoreError, match=re.escape(str(db)) + ".*locked"):
            store.start("a", T0)
        assert time.monotonic() - began < 5
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert store.runs() == []  # not recorded: the caller was told
    assert store.start("a", T0).run_id >= 1


def test_a_write_waits_out_a_short_lock(opened, db, quick_locks, monkeypatch):
    store = opened()
    holder = sqlite3.connect(db, isolation_level=None)
    pauses: list[int] = []

    def release_on_first_pause() -> None:
        pauses.append(1)
        if holder.in_transaction:
            holder.execute("COMMIT")

    monkeypatch.setattr(transactions, "pause", release_on_first_pause)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO runs (task, status, start, owner) VALUES ('x', 'run', 1, '1')")
        run = store.start("a", T0)
    finally:
        holder.close()
    assert pauses  # it did meet the lock
    assert [r.task for r in store.runs()] == ["x", "a"]
    assert store.last("a") == run


# ------------------------------------------------------------ scale


def test_one_tasks_runs_stay_fast_in_a_long_history(opened, db):
    opened().close()
    rows = [("rare", "fail", T0 - 10 + i, T0 - 9 + i, repr(i), "1:?:?:?") for i in range(5)]
    for i in range(100_000):
        task = "big" if i % 2 else f"t{i % 100}"
        rows.append((task, "success", T0 + i, T0 + i + 0.5, repr(i), "1:?:?:?"))
    with sqlite3.connect(db) as raw:
        raw.executemany(
            'INSERT INTO runs (task, status, start, "end", result, owner) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    del rows
    store = opened()

    def timed(call):
        best = float("inf")
        for _ in range(5):
            began = time.perf_counter()
            out = call()
            best = min(best, time.perf_counter() - began)
        return out, best

    rare, took = timed(lambda: store.runs(task="rare", limit=3))
    assert [r.result for r in rare] == ["2", "3", "4"]
    assert took < 0.05, took
    recent, took = timed(lambda: store.runs(task="t42", limit=20))
    assert [r.result for r in recent] == [repr(i) for i in range(99_942 - 19 * 100, 100_000, 100)]
    assert took < 0.05, took
    last, took = timed(lambda: store.last("big"))
    assert last is not None and last.result == repr(99_999)
    assert took < 0.05, took
    _, took = timed(lambda: store.runs(task="t42", status="success", limit=20))
    assert took < 0.05, took
    everything, took = timed(lambda: store.runs(task="t42"))
    assert len(everything) == 1000
    assert took < 0.05, took
    (starts, ends), took = timed(store.last_times)
    assert starts["big"] == T0 + 99_999 and len(starts) == 52
    assert ends[("big", "success")] == T0 + 99_999.5 and len(ends) == 52
    assert took < 0.05, took

    # Memory does not grow with the history: the newest 10 of 50,000 records
    # are read without reading the rest.
    tracemalloc.start()
    try:
        store.runs(task="big", limit=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000, peak


def test_queries_use_indexes(opened, db):
    """Each query the store makes of a long history is an index seek, not a
    scan of every run (timings alone would not show it on a fast disk)."""
    store = opened()
    for i in range(50):
        store.finish(store.start(f"t{i % 5}", T0 + i).run_id, "success", end=T0 + i + 1)
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("ANALYZE")  # let the planner see a history, not an empty table
    store = opened()
    statements: list[str] = []
    store._reader.set_trace_callback(statements.append)
    store.runs(task="t1", limit=3)
    store.runs(task="t1", status="fail", limit=3)
    store.runs(task="t1", status="fail")
    store.runs(status="run")
    store.last("t2")
    store.last_times()
    store._reader.set_trace_callback(None)
    queries = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 6
    # last_times reads the small per-task summary, not the history.
    assert "FROM task_times" in queries[-1] and " runs" not in queries[-1]
    with sqlite3.connect(db) as raw:
        for query in queries[:-1]:
            plan = " / ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "USING" in plan and "TEMP B-TREE" not in plan, (query, plan)


def test_a_file_from_before_the_schema_version_is_upgraded(opened, db):
    with sqlite3.connect(db) as raw:  # the layout of the first, unversioned files
        raw.execute(
            "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, "
            'status TEXT NOT NULL, reason TEXT, start REAL NOT NULL, "end" REAL, error TEXT, '
            "result TEXT, owner TEXT NOT NULL)"
        )
        raw.executemany(
            'INSERT INTO runs (task, status, start, "end", owner) VALUES (?, ?, ?, ?, ?)',
            [("a", "success", T0, T0 + 1, "1:2"), ("a", "fail", T0 + 5, T0 + 6, "1:2")],
        )
    store = opened()
    assert [r.status for r in store.runs()] == ["success", "fail"]
    assert store.last_times() == (
        {"a": T0 + 5},
        {("a", "success"): T0 + 1, ("a", "fail"): T0 + 6},
    )
    run = store.start("a", T0 + 10)
    store.finish(run.run_id, "success", end=T0 + 11)
    assert store.last_times()[1][("a", "success")] == T0 + 11
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_version_1_file_gains_output_and_attempt(opened, db):
    with sqlite3.connect(db) as raw:  # the layout of schema version 1
        raw.execute(
            "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, "
            'status TEXT NOT NULL, reason TEXT, start REAL NOT NULL, "end" REAL, error TEXT, '
            "result TEXT, owner TEXT NOT NULL)"
        )
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, last_opened REAL)")
        raw.execute("INSERT INTO schema_version VALUES (1, 0)")
        raw.execute(
            'INSERT INTO runs (task, status, start, "end", owner) VALUES (?, ?, ?, ?, ?)',
            ("a", "success", T0, T0 + 1, "1:2"),
        )
    store = opened()
    (old,) = store.runs()
    assert (old.output, old.attempt) == ("", 1)
    run = store.start("a", T0 + 10)
    store.finish(run.run_id, "fail", end=T0 + 11, error="boom", output="line 1\nline 2\n")
    assert store.runs()[-1].output == "line 1\nline 2\n"
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_output_and_attempt_are_written_with_the_run(opened, db):
    from notebook_sched._history.queries import to_datetime
    from notebook_sched._history.records import new_record

    store = opened()
    first = store.reserve_ids(2)
    start, end = to_datetime(T0), to_datetime(T0 + 1)
    assert start is not None and end is not None
    alive = new_record("a", first, "run", None, start, None, attempt=3)
    done = new_record("b", first + 1, "run", None, start, None, attempt=2)
    final = new_record("b", first + 1, "crash", None, start, end, "gone", None, "x" * 10, 2)
    store.write([alive, done], [final])
    again = RunStore(db)
    try:
        by_task = {r.task: r for r in again.runs()}
    finally:
        again.close()
    assert (by_task["a"].status, by_task["a"].attempt, by_task["a"].output) == ("run", 3, "")
    assert (by_task["b"].status, by_task["b"].attempt, by_task["b"].output) == (
        "crash",
        2,
        "x" * 10,
    )


def test_last_times_are_the_latest_ever(opened, db):
    store = opened()
    late = store.start("a", T0 + 100)
    store.finish(late.run_id, "success", end=T0 + 101)
    early = store.start("a", T0)  # another scheduler's clock may lag
    store.finish(early.run_id, "success", end=T0 + 1)
    assert store.last_times() == ({"a": T0 + 100}, {("a", "success"): T0 + 101})


def test_counts_per_task_and_status(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    for task, status in [("a", "success"), ("a", "success"), ("a", "fail"), ("b", "crash")]:
        record = store.start(task, 1.0)
        store.finish(record.run_id, status, end=2.0)
    store.start("b", 3.0)
    assert store.counts() == {"a": {"success": 2, "fail": 1}, "b": {"crash": 1, "run": 1}}


def test_start_many_and_finish_many_in_one_transaction(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    records = store.start_many([("a", 1.0), ("b", 2.0), ("a", 3.0)])
    assert [r.task for r in records] == ["a", "b", "a"]
    assert len({r.run_id for r in records}) == 3
    assert all(r.status == "run" for r in records)
    store.finish(records[2].run_id, "fail", end=4.0, error="boom")
    store.finish_many(
        [
            (records[0].run_id, "success", 5.0, None, None, "'ok'"),
            (records[1].run_id, "terminate", 6.0, "timeout", None, None),
            (records[2].run_id, "success", 7.0, None, None, None),  # already final: kept
        ]
    )
    got = {r.run_id: (r.status, r.reason, r.result) for r in store.runs()}
    assert got == {
        records[0].run_id: ("success", None, "'ok'"),
        records[1].run_id: ("terminate", "timeout", None),
        records[2].run_id: ("fail", None, None),
    }
    with pytest.raises(ValueError, match="'bogus'"):
        store.finish_many([(records[0].run_id, "bogus", 1.0, None, None, None)])
    assert store.start_many([]) == []
