"""What runs write: captured into their own records, for every execution
method, bounded, live, kept through failures and kills — and nothing of it
in the output of the code around (a notebook's cells)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from notebook_sched import RunRecord, Scheduler
from notebook_sched._execution.output import OutputBuffer, dropped_line
from notebook_sched.args import Progress, TerminationFlag
from tests.conftest import wait_until

LIMIT = 65536


def final(app: Scheduler, name: str, count: int = 1, timeout: float = 30) -> RunRecord:
    """The latest record of ``name`` once ``count`` of its runs are final."""
    wait_until(
        lambda: len([r for r in app.runs(name) if r.status != "run"]) >= count, timeout=timeout
    )
    return app.runs(name)[-1]


# ------------------------------------------------------------ the buffer


def test_the_buffer_keeps_the_newest_characters_and_says_how_many_it_dropped():
    buffer = OutputBuffer(limit=10)
    for i in range(100):
        buffer.write(f"{i:03d}\n")
    assert buffer.text() == dropped_line(390) + "7\n098\n099\n"
    assert buffer.close() == dropped_line(390) + "7\n098\n099\n"
    assert buffer.write("late") is False  # closed: the record is final


def test_the_buffer_joins_a_character_split_between_two_reads():
    buffer = OutputBuffer()
    data = "é€ok\n".encode()
    buffer.write_bytes(data[:1])
    buffer.write_bytes(data[1:4])
    buffer.write_bytes(data[4:] + b"\xff")
    assert buffer.close() == "é€ok\n\ufffd"


def test_closing_the_buffer_ends_a_split_character_and_empty_writes_change_nothing():
    buffer = OutputBuffer()
    assert buffer.write("") is True and buffer.changes == 0 and buffer.text() == ""
    buffer.write("a")
    buffer.write_bytes("é".encode()[:1])  # the child died mid-character
    assert buffer.text() == "a" and buffer.changes == 1  # nothing whole to add yet
    assert buffer.close() == "a\ufffd"
    assert buffer.write("") is False and buffer.write("b") is False
    assert buffer.text() == "a\ufffd" and buffer.parts() == (0, "a\ufffd")


# ------------------------------------------------------------ in the kernel's process


def test_the_wrapped_stream_refuses_what_is_not_text_in_and_out_of_a_run():
    import io

    from notebook_sched._execution.capture import CURRENT, RunAwareStream

    kept = io.StringIO()
    stream = RunAwareStream(kept)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        stream.write(b"not text")  # type: ignore[arg-type]
    buffer = OutputBuffer(LIMIT)
    token = CURRENT.set(buffer)
    try:
        with pytest.raises(TypeError, match="bytes"):
            stream.write(b"not text")  # type: ignore[arg-type]
        assert stream.write("in the run\n") == len("in the run\n")
    finally:
        CURRENT.reset(token)
    assert stream.write("a cell's\n") == len("a cell's\n")
    assert buffer.close() == "in the run\n"
    assert kept.getvalue() == "a cell's\n"


def test_a_thread_run_captures_prints_stderr_logs_and_its_own_threads(make_scheduler, capfd):
    app = make_scheduler()
    log = logging.getLogger("test_output.thread")
    log.setLevel(logging.INFO)

    @app.task(execution="thread")
    def chatty():
        print("one")
        print("two", file=sys.stderr)
        log.info("three %d", 3)
        # (Warnings are written to sys.stderr: pytest records them instead;
        # the kernel test and the process test see them captured.)
        helper = threading.Thread(target=lambda: print("five"))
        helper.start()
        helper.join()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(print, "six").result()
        try:
            raise KeyError("seven")
        except KeyError:
            log.exception("eight")
        return "done"

    app.start()
    print("the cell's own line")
    assert app.tasks["chatty"].run() is True
    record = final(app, "chatty")
    assert record.status == "success", record.error
    lines = record.output.splitlines()
    assert lines[:5] == ["one", "two", "INFO test_output.thread: three 3", "five", "six"]
    assert lines[5] == "ERROR test_output.thread: eight"
    assert lines[-1] == "KeyError: 'seven'"
    out, err = capfd.readouterr()
    assert "the cell's own line" in out
    for word in ("one", "two", "three", "five", "six", "eight"):
        assert word not in out + err.replace("test_output", "")


def test_the_users_logging_handlers_are_kept_and_nothing_is_logged_twice(
    make_scheduler, tmp_path, capfd
):
    app = make_scheduler()
    log = logging.getLogger("test_output.handlers")
    log.setLevel(logging.INFO)
    to_file = logging.FileHandler(tmp_path / "user.log")
    to_screen = logging.StreamHandler(sys.stderr)
    log.addHandler(to_file)
    log.addHandler(to_screen)
    try:

        @app.task(execution="thread")
        def logs():
            log.warning("from the run")

        app.start()
        app.tasks["logs"].run()
        record = final(app, "logs")
        log.warning("from the cell")
    finally:
        log.removeHandler(to_file)
        log.removeHandler(to_screen)
        to_file.close()
    assert record.output == "WARNING test_output.handlers: from the run\n"
    # The user's file handler got both; the screen only the cell's.
    assert (tmp_path / "user.log").read_text() == "from the run\nfrom the cell\n"
    err = capfd.readouterr().err
    assert "from the cell" in err
    assert "from the run" not in err


def test_async_runs_printing_at_once_each_keep_their_own_lines(make_scheduler):
    app = make_scheduler()

    def make(name: str):
        async def body():
            async def child():
                print(f"{name} child")

            for i in range(20):
                print(f"{name} {i}")
                await asyncio.sleep(0)
            await asyncio.create_task(child())

        return body

    for name in ("a", "b", "c"):
        app.task(name=name, execution="async")(make(name))
    app.start()
    for name in ("a", "b", "c"):
        app.tasks[name].run()
    for name in ("a", "b", "c"):
        expected = "".join(f"{name} {i}\n" for i in range(20)) + f"{name} child\n"
        assert final(app, name).output == expected


def test_a_main_run_is_captured_and_the_loop_writes_normally_after(make_scheduler, capfd):
    app = make_scheduler()

    @app.task(execution="main")
    def on_loop():
        print("in the run")

    app.start()
    app.tasks["on_loop"].run()
    assert final(app, "on_loop").output == "in the run\n"
    print("after")
    assert capfd.readouterr().out == "after\n"


def test_a_failed_thread_run_keeps_what_it_wrote(make_scheduler):
    app = make_scheduler()

    @app.task(execution="thread")
    def breaks():
        print("before the error")
        raise ValueError("bad")

    app.start()
    app.tasks["breaks"].run()
    record = final(app, "breaks")
    assert (record.status, record.output) == ("fail", "before the error\n")


def test_output_is_visible_while_the_run_is_alive(make_scheduler):
    app = make_scheduler()
    go_on = threading.Event()

    @app.task(execution="thread")
    def slow():
        print("first")
        go_on.wait(10)
        print("second")

    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.runs("slow")[-1].output == "first\n", timeout=5)
    assert app.runs("slow")[-1].status == "run"
    assert app.tasks["slow"].last_run.output == "first\n"
    go_on.set()
    assert final(app, "slow").output == "first\nsecond\n"


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("execution", ["thread", "process"])
def test_a_run_printing_100_megabytes_costs_the_kernel_little(make_scheduler, execution):
    app = make_scheduler()

    @app.task(execution=execution)
    def flood():
        line = "y" * 999 + "\n"
        for _ in range(100_000):
            sys.stdout.write(line)
        print("the end")

    app.start()
    before = _rss_mb()
    app.tasks["flood"].run()
    record = final(app, "flood", timeout=60)
    grown = _rss_mb() - before
    assert record.status == "success", record.error
    assert grown < 50, f"the kernel grew by {grown:.0f} MB"
    assert record.output.endswith("y\nthe end\n")
    first, body = record.output.split("\n", 1)
    assert first + "\n" == dropped_line(100_000 * 1000 + 8 - LIMIT)
    assert len(body) == LIMIT


# ------------------------------------------------------------ process runs


def test_a_process_run_captures_its_file_descriptors_logging_and_warnings(make_scheduler, capfd):
    app = make_scheduler()
    logging.getLogger("test_output.child").setLevel(logging.INFO)

    @app.task(execution="process")
    def child():
        print("print")
        os.write(1, b"fd 1\n")
        os.write(2, b"fd 2\n")
        subprocess.run(["echo", "from echo"], check=True)
        logging.getLogger("test_output.child").info("a log line")
        logging.getLogger("test_output.child").debug("below the level")
        warnings.warn("a warning", UserWarning, stacklevel=1)
        print("ünïcode")

    app.start()
    app.tasks["child"].run()
    record = final(app, "child")
    assert record.status == "success", record.error
    lines = record.output.splitlines()
    assert lines[:5] == ["print", "fd 1", "fd 2", "from echo", "INFO test_output.child: a log line"]
    assert lines[5].endswith("UserWarning: a warning")
    assert lines[-1] == "ünïcode"
    out, err = capfd.readouterr()
    assert "from echo" not in out and "fd 2" not in err


def test_a_process_print_reaches_the_live_record_when_it_is_made(make_scheduler):
    app = make_scheduler()

    @app.task(execution="process")
    def slow(flag=TerminationFlag()):
        print("epoch 1")
        flag.wait(20)

    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.runs("slow")[-1].output == "epoch 1\n", timeout=5)
    assert app.tasks["slow"].is_alive()
    app.tasks["slow"].terminate()
    record = final(app, "slow")
    assert (record.status, record.output) == ("terminate", "epoch 1\n")


def test_a_timed_out_and_killed_process_run_keeps_what_it_wrote(make_scheduler):
    app = make_scheduler(config={"terminate_grace": 0.2})

    @app.task(execution="process", timeout=3)  # the child starts (prints) well before it
    def stubborn():
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("started", flush=True)
        os.write(2, b"raw\n")
        time.sleep(30)

    app.start()
    app.tasks["stubborn"].run()
    record = final(app, "stubborn")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert record.output == "started\nraw\n"


def test_output_is_kept_in_the_runs_db_file(tmp_path: Path, make_scheduler):
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(config={"runs_db": str(path)})

    @app.task(execution="process")
    def writes():
        print("kept in the file")

    app.start()
    app.tasks["writes"].run()
    run_id = final(app, "writes").run_id
    app.shut_down()
    assert app.join(10)
    app._core.history.close()
    again = make_scheduler(config={"runs_db": str(path)})
    (record,) = [r for r in again.runs() if r.run_id == run_id]
    assert record.output == "kept in the file\n"


@pytest.mark.parametrize("execution", ["thread", "async"])
def test_capture_output_false_leaves_output_where_it_went(make_scheduler, capfd, execution):
    app = make_scheduler(config={"capture_output": False})

    if execution == "async":

        async def plain():
            print("to the terminal", flush=True)

    else:

        def plain():
            print("to the terminal", flush=True)

    app.task(name="plain", execution=execution)(plain)
    app.start()
    app.tasks["plain"].run()
    assert final(app, "plain").output == ""
    assert "to the terminal" in capfd.readouterr().out


def test_the_output_limit_is_configurable(make_scheduler):
    app = make_scheduler(config={"output_limit": 5})

    @app.task(execution="process")
    def writes():
        print("0123456789")

    app.start()
    app.tasks["writes"].run()
    assert final(app, "writes").output == dropped_line(6) + "6789\n"


@pytest.mark.parametrize(
    ("key", "value"),
    [("output_limit", -1), ("output_limit", 1.5), ("output_limit", True), ("capture_output", 1)],
)
def test_bad_capture_config_names_the_value(key, value):
    with pytest.raises(ValueError, match=f"'{key}'.*{value!r}"):
        Scheduler(config={key: value})


# ------------------------------------------------------------ progress


@pytest.mark.parametrize("execution", ["thread", "async", "process"])
def test_progress_is_the_latest_report_of_the_live_run(make_scheduler, execution):
    app = make_scheduler()
    if execution == "async":

        async def work(progress=Progress(), flag=TerminationFlag()):
            for i in range(1001):
                progress(i / 1000, f"step {i}")
            while not flag.is_set():
                await asyncio.sleep(0.01)

    else:

        def work(progress=Progress(), flag=TerminationFlag()):
            for i in range(1001):
                progress(i / 1000, f"step {i}")
            flag.wait(20)

    app.task(name="work", execution=execution)(work)
    app.start()
    assert app.tasks["work"].progress is None
    app.tasks["work"].run()
    wait_until(lambda: app.tasks["work"].progress == (1.0, "step 1000"), timeout=5)
    app.tasks["work"].terminate()
    final(app, "work")
    assert app.tasks["work"].progress is None  # no live run


@pytest.mark.parametrize("value", [-0.1, 1.01, float("nan"), "half", True, None])
def test_a_bad_progress_value_is_an_error_naming_it(value):
    with pytest.raises(ValueError, match=repr(value).replace("(", r"\(")):
        Progress()(value)


def test_progress_outside_a_run_does_nothing():
    def work(progress=Progress()):
        progress(0.5, "half")
        return "ran"

    assert work() == "ran"


def test_a_live_runs_output_outlives_a_kernel_killed_outright(tmp_path: Path, make_scheduler):
    """The output of live runs is saved to the file as they go: SIGKILL the
    process, and the crashed run's record still has what it wrote."""
    import signal
    import sqlite3
    import textwrap

    path = tmp_path / "runs.sqlite"
    script = tmp_path / "kernel.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import time
            from notebook_sched import Scheduler
            app = Scheduler(runs_db={str(path)!r})

            @app.task(execution="thread")
            def long_one():
                print("written before the kill", flush=True)
                time.sleep(600)

            app.start()
            app.tasks["long_one"].run()
            time.sleep(600)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = subprocess.Popen([sys.executable, str(script)], env=env)
    try:

        def saved() -> bool:
            if not path.exists():
                return False
            with sqlite3.connect(path) as db:
                try:
                    rows = db.execute("SELECT output FROM runs WHERE status = 'run'").fetchall()
                except sqlite3.OperationalError:  # not made yet
                    return False
            return rows == [("written before the kill\n",)]

        wait_until(saved, timeout=30)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    app = make_scheduler(config={"runs_db": str(path)})
    (record,) = app.runs()
    assert (record.status, record.output) == ("crash", "written before the kill\n")
