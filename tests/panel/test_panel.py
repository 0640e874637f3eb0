"""The panel without a browser: ``Button.click()`` fires the handlers, the
messages a view would send are handed to the panel, and what the panel
sends to the browser is caught and read back."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from notebook_sched import Scheduler
from notebook_sched.conds import condition
from tests.conftest import until

pytest.importorskip("ipywidgets")


def catch(panel: Any) -> list[dict[str, Any]]:
    """What the panel sends to its views, from now on."""
    sent: list[dict[str, Any]] = []
    panel.send = sent.append
    return sent


def kinds(sent: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in sent if m.get("kind") == kind]


def test_panel_shows_tasks_and_steers_them():
    async def scenario():
        app = Scheduler(timeout=30)
        release = asyncio.Event()
        ending = {"now": False}

        @app.task(end_cond=condition(lambda: ending["now"]))
        async def slow():
            await release.wait()
            return "done"

        @app.task("every 1 hour", execution="thread")
        def hourly(): ...

        panel = app.panel()
        other = app.panel()  # several panels stay in step
        assert set(panel.rows) == {"slow", "hourly"}
        assert panel.header["state"] == "stopped"
        row = panel.rows["slow"]
        assert row.view["end_state"] is False
        # Stopped: nothing but Start would act, and no next start is shown.
        assert panel.start_button.disabled is False
        assert panel.shutdown_button.disabled and panel.force_button.disabled
        assert row.run_button.disabled and row.terminate_button.disabled
        assert panel.rows["hourly"].view["next"] is None
        assert panel.rows["hourly"].view["held"] == "not while stopped"

        panel.start_button.click()
        assert app.state == "running"
        await until(lambda: other.header["state"] == "running")
        assert panel.start_button.disabled and not panel.shutdown_button.disabled
        await until(lambda: app.runs("hourly"))
        await until(lambda: panel.rows["hourly"].view["next"] is not None)
        assert row.run_button.disabled is False

        row.run_button.click()
        await until(lambda: row.view["status"] == "running")
        assert row.view["deadline"] == pytest.approx(app.tasks["slow"].deadline.timestamp())
        assert row.view["started"] is not None
        assert row.run_button.disabled and not row.terminate_button.disabled
        assert "alive" in row.run_button.tooltip
        await until(lambda: other.rows["slow"].view["status"] == "running")
        row.terminate_button.click()
        await until(lambda: row.view["last"] and row.view["last"]["words"] == "terminated by you")
        assert row.view["deadline"] is None and row.terminate_button.disabled

        ending["now"] = True
        panel._feed.stale.add("slow")
        panel.flush()
        assert row.view["end_state"] is True
        assert row.run_button.disabled and "end condition" in row.run_button.tooltip

        row.pause_button.click()
        await until(lambda: app.tasks["slow"].disabled)
        await until(lambda: row.pause_button.description == "Resume")
        assert row.view["held"] == "" and row.view["status"] == "disabled"
        row.pause_button.click()
        await until(lambda: not app.tasks["slow"].disabled)

        @app.task(name="late")
        async def late(): ...

        await until(lambda: "late" in panel.rows and "late" in other.rows)

        panel.shutdown_button.click()
        await app.wait(5)
        await until(lambda: panel.header["state"] == "stopped")
        assert panel.start_button.disabled is False
        return panel

    panel = asyncio.run(scenario())
    assert repr(panel).startswith("<Scheduler stopped")


def test_run_stays_enabled_for_a_live_multilaunch_task():
    """Contract: Run is disabled while a run is alive unless the task is
    multilaunch — then another click starts another run."""

    async def scenario():
        app = Scheduler()
        release = asyncio.Event()

        @app.task(multilaunch=True)
        async def overlapping():
            await release.wait()

        panel = app.panel()
        row = panel.rows["overlapping"]
        app.start()
        await until(lambda: row.run_button.disabled is False)
        row.run_button.click()
        await until(lambda: row.view["status"] == "running")
        assert row.run_button.disabled is False
        row.run_button.click()
        await until(lambda: len(app.runs("overlapping", status="run")) == 2)
        release.set()
        await until(lambda: not app.tasks["overlapping"].is_alive())
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_a_failure_raises_the_notice_and_its_detail_starts_at_the_users_frame():
    async def scenario():
        app = Scheduler()

        def helper():
            raise ZeroDivisionError("boom")

        @app.task(execution="thread")
        def broken():
            print("about to divide")
            helper()

        panel = app.panel()
        sent = catch(panel)
        app.start()
        app.tasks["broken"].run()
        await until(lambda: panel.notice.get("count") == 1)
        assert panel.notice["task"] == "broken"
        assert panel.notice["line"] == "ZeroDivisionError: boom"
        assert panel.header["failures"] == 1
        assert panel.rows["broken"].view["last"]["words"] == "failed: ZeroDivisionError: boom"
        run_id = panel.notice["run_id"]
        panel._handle({"event": "detail", "task": "broken", "run_id": run_id})
        await until(lambda: kinds(sent, "detail"))
        detail = kinds(sent, "detail")[-1]
        assert panel.notice["since"] == "opened"
        panel._handle({"event": "dismiss"})
        assert panel.notice == {}
        app.tasks["broken"].run()  # a failure after the dismissal raises it again
        await until(lambda: panel.notice.get("count") == 1)
        assert panel.notice["since"] == "dismissed" and panel.header["failures"] == 2
        app.shut_down()
        await app.wait(5)
        return detail

    detail = asyncio.run(scenario())
    assert detail["status"] == "fail" and detail["attempt"] == 1
    assert "about to divide" in detail["output"]
    trace = detail["error"].splitlines()
    assert trace[0] == "Traceback (most recent call last):"
    assert "in broken" in trace[1]  # the user's own frame comes first
    assert "notebook_sched" not in detail["error"]
    assert trace[-1] == "ZeroDivisionError: boom"


def test_a_timeout_reads_as_timed_out_not_as_a_traceback():
    async def scenario():
        app = Scheduler()

        @app.task(execution="thread", timeout=0.2)
        def sleepy(flag=None):
            import time

            time.sleep(0.6)

        panel = app.panel()
        sent = catch(panel)
        app.start()
        app.tasks["sleepy"].run()
        await until(lambda: panel.rows["sleepy"].view["last"] is not None, timeout=10)
        record = app.tasks["sleepy"].last_run
        panel._handle({"event": "detail", "task": "sleepy", "run_id": record.run_id})
        await until(lambda: kinds(sent, "detail"))
        app.shut_down()
        await app.wait(5)
        return panel.rows["sleepy"].view["last"], kinds(sent, "detail")[-1]

    last, detail = asyncio.run(scenario())
    assert last["words"] == "timed out"
    assert detail["words"] == "timed out" and detail["reason"] == "timeout"
    assert detail["error"] == ""  # how it was stopped is kept apart, not shown as a failure


def test_second_shutdown_click_forces_and_clicks_from_another_thread_are_safe():
    async def scenario():
        app = Scheduler()

        @app.task()
        async def forever():
            await asyncio.sleep(3600)

        panel = app.panel()
        app.start()
        app.tasks["forever"].run()
        await until(lambda: app.tasks["forever"].status == "running")
        clicker = threading.Thread(target=panel.shutdown_button.click)
        clicker.start()
        clicker.join()
        await until(lambda: app.state == "shutting_down")
        await until(lambda: panel.header.get("alive") == ["forever"])
        # Shutting down: Start would not act; shutting down again forces.
        assert panel.start_button.disabled
        assert panel.shutdown_button.description == "Force now"
        assert not panel.shutdown_button.disabled and not panel.force_button.disabled
        assert panel.rows["forever"].run_button.disabled
        clicker = threading.Thread(target=panel.shutdown_button.click)
        clicker.start()
        clicker.join()
        await app.wait(5)
        return app.tasks["forever"].last_run

    record = asyncio.run(scenario())
    assert (record.status, record.reason) == ("terminate", "shutdown")


def test_display_bundle_has_widget_view_and_readable_text():
    app = Scheduler()
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "<Scheduler stopped: 0 tasks>"


async def _noop():
    return None


def test_only_changed_rows_and_fields_travel_and_updates_are_coalesced():
    async def scenario():
        app = Scheduler()
        for i in range(50):
            app.task(name=f"t{i}")(_noop)
        panel = app.panel()
        sent = catch(panel)
        await until(lambda: len(panel._feed.sent) == 50)  # 25 rows a turn of the loop
        assert len(kinds(sent, "diff")) == 1  # the second turn's (the first was before catch)
        panel._handle({"event": "hello"})
        await until(lambda: kinds(sent, "snapshot"))
        snapshot = kinds(sent, "snapshot")[0]
        app.start()
        await until(lambda: kinds(sent, "diff"))  # the state: every row's buttons change
        await until(lambda: not panel._feed.pending and panel._flush_handle is None)
        sent.clear()
        app.tasks["t7"].run()
        await until(lambda: panel.rows["t7"].view.get("last"))
        one = kinds(sent, "diff")
        sent.clear()
        for i in range(50):
            app.tasks[f"t{i}"].run()
        await until(
            lambda: all(r.view.get("counts", {}).get("success") for r in panel.rows.values())
        )
        burst = kinds(sent, "diff")
        app.shut_down()
        await app.wait(5)
        return snapshot, one, burst, app.runs("t7")[0].run_id

    snapshot, one, burst, t7_run = asyncio.run(scenario())
    assert len(snapshot["rows"]) == 50 and snapshot["order"][0] == "t0"
    assert {name for diff in one for name in diff["rows"]} == {"t7"}
    fields = set().union(*(diff["rows"]["t7"].keys() for diff in one if "t7" in diff["rows"]))
    assert "name" not in fields and "execution" not in fields  # only what changed
    assert {r[0] for diff in one for r in diff["runs"]} == {t7_run}
    # 100 run events, a diff every 0.25 s at most; sequence numbers follow on.
    assert 1 <= len(burst) <= 6
    seqs = [diff["seq"] for diff in burst]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_messages_from_the_browser_act_like_the_buttons():
    async def scenario():
        app = Scheduler()

        @app.task()
        async def forever():
            await asyncio.sleep(3600)

        panel = app.panel()
        panel._on_msg(panel, {"event": "start"}, [])
        assert app.state == "running"
        panel._on_msg(panel, {"event": "run", "task": "forever"}, [])
        await until(lambda: app.tasks["forever"].status == "running")
        panel._on_msg(panel, {"event": "terminate", "task": "forever"}, [])
        await until(lambda: not app.tasks["forever"].is_alive())
        panel._on_msg(panel, {"event": "pause", "task": "forever"}, [])
        assert app.tasks["forever"].disabled
        panel._on_msg(panel, {"event": "resume", "task": "forever"}, [])
        assert not app.tasks["forever"].disabled
        panel._on_msg(panel, {"event": "run", "task": "no such task"}, [])  # ignored
        panel._on_msg(panel, {"event": "force"}, [])
        await app.wait(5)
        return app.tasks["forever"].last_run.reason

    assert asyncio.run(scenario()) == "manual"


def test_recent_runs_page_through_the_whole_history_by_task_and_status():
    async def scenario():
        app = Scheduler()
        outcome = {"fail": False}

        @app.task()
        async def job():
            if outcome["fail"]:
                raise ValueError("bad")

        @app.task()
        async def other():
            return 1

        panel = app.panel()
        sent = catch(panel)
        app.start()
        for i in range(60):
            outcome["fail"] = i % 3 == 0
            assert app.tasks["job"].run()
            await until(lambda: not app.tasks["job"].is_alive())
        app.tasks["other"].run()
        await until(lambda: app.runs("other"))

        async def page(**request: Any) -> dict[str, Any]:
            before = len(kinds(sent, "runs"))
            panel._handle({"event": "runs", "req": "r", **request})
            await until(lambda: len(kinds(sent, "runs")) > before)
            return kinds(sent, "runs")[-1]

        pages = [
            await page(task="job", offset=0, limit=25),
            await page(task="job", offset=25, limit=25),
            await page(task="job", offset=50, limit=25),
            await page(task="job", status="fail", offset=0, limit=25),
            await page(offset=0, limit=5),
            await page(status="nonsense"),
        ]
        app.shut_down()
        await app.wait(5)
        return pages

    first, second, third, failed, newest, bad = asyncio.run(scenario())
    ids = [r[0] for p in (first, second, third) for r in p["records"]]
    assert len(ids) == 60 and ids == sorted(ids, reverse=True)  # newest first, all of them
    assert first["more"] and second["more"] and not third["more"]
    assert len(failed["records"]) == 20 and {r[2] for r in failed["records"]} == {"fail"}
    assert failed["records"][0][5] == "failed: ValueError: bad"
    assert newest["records"][0][1] == "other"
    assert bad["error"] == "bad filter"


def test_a_live_runs_detail_follows_its_output_and_its_row_its_progress():
    from notebook_sched.args import Progress

    async def scenario():
        app = Scheduler()
        step = asyncio.Event()

        @app.task()
        async def talker(progress=Progress()):
            print("first")
            progress(0.25, "warming up")
            await step.wait()
            print("second")
            progress(0.75, "nearly there")
            await asyncio.sleep(3600)

        panel = app.panel()
        sent = catch(panel)
        app.start()
        app.tasks["talker"].run()
        row = panel.rows["talker"]
        await until(lambda: row.view["progress"] == [0.25, "warming up"])
        run_id = app.tasks["talker"].last_run.run_id
        panel._handle({"event": "detail", "task": "talker", "run_id": run_id})
        await until(lambda: any("first" in d.get("output", "") for d in kinds(sent, "detail")))
        first = kinds(sent, "detail")[-1]
        assert (first["status"], first["end"], first["words"]) == ("run", None, "running")
        step.set()
        await until(
            lambda: any("second" in d.get("output", "") for d in kinds(sent, "detail")),
            timeout=10,
        )
        await until(lambda: row.view["progress"] == [0.75, "nearly there"], timeout=10)
        app.tasks["talker"].terminate()
        await until(lambda: any(d.get("status") == "terminate" for d in kinds(sent, "detail")), 10)
        await until(lambda: row.view["progress"] is None)
        app.shut_down()
        await app.wait(5)
        return panel._watched, kinds(sent, "detail")[-1]

    watched, last = asyncio.run(scenario())
    assert watched == {}  # a run that ended is no longer watched
    assert last["words"] == "terminated by you" and last["runtime"] > 0
    assert "first" in last["output"] and "second" in last["output"]


def test_ray_rows_show_their_resources():
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'notebook_sched[ray]'")
    app = Scheduler()
    app.task(
        name="heavy", execution="ray", resources={"num_cpus": 2, "num_gpus": 0.5, "memory": "4 GiB"}
    )(lambda: None)
    app.task(name="plain", execution="ray")(lambda: None)
    app.task(name="local", execution="thread")(lambda: None)
    panel = app.panel()
    assert panel.rows["heavy"].view["execution"] == "ray"
    assert panel.rows["heavy"].view["resources"] == "2 CPU · 0.5 GPU · 4.0 GiB"
    assert panel.rows["plain"].view["resources"] == ""
    assert panel.rows["local"].view["resources"] == ""


def test_a_pending_retry_and_a_waiting_run_show_in_their_rows():
    async def scenario():
        app = Scheduler(pools={"gpu": 1})

        @app.task(retries=2, retry_delay="1 hour")
        async def flaky():
            raise OSError("disk")

        @app.task(pool="gpu")
        async def holder():
            await asyncio.sleep(3600)

        @app.task("every 1 hour", pool="gpu")
        async def queued():
            return None

        panel = app.panel()
        app.start()
        app.tasks["flaky"].run()
        holding, queued_row = panel.rows["holder"], panel.rows["queued"]
        retrying = panel.rows["flaky"]
        await until(lambda: retrying.view["retry"] is not None)
        attempt, at = retrying.view["retry"]
        assert attempt == 2 and at == pytest.approx(app.tasks["flaky"].next_retry.at.timestamp())
        assert retrying.view["can_run"]  # Run starts attempt 1 now (the retry is dropped)
        app.tasks["holder"].run()
        await until(lambda: holding.view["status"] == "running")
        assert app.tasks["queued"].run()  # queued behind the pool's one slot
        await until(lambda: queued_row.view["status"] == "waiting")
        view = dict(queued_row.view)
        assert queued_row.run_button.disabled  # Run would do nothing: it waits
        assert not queued_row.terminate_button.disabled  # Terminate takes it out of the queue
        queued_row.terminate_button.click()
        await until(lambda: queued_row.view["status"] == "idle")
        app.shut_down(force=True)
        await app.wait(5)
        return view

    view = asyncio.run(scenario())
    assert (view["pool"], view["queue"], view["waits_for"]) == ("gpu", 1, "slot")
    # Its schedule says why no next start is shown (not "waits for an event").
    assert (view["next"], view["held"]) == (None, "after its queued run")
    assert "pool" in view["why_not_run"]


def test_a_caught_up_task_says_how_many_times_it_missed(tmp_path):
    from datetime import datetime

    from notebook_sched.testing import ManualClock

    db = str(tmp_path / "runs.sqlite")
    start = datetime(2026, 11, 30, 7, 59, 0).timestamp()

    async def session(at: float, catch_up: bool) -> int:
        app = Scheduler(clock=ManualClock(at), runs_db=db, catch_up=catch_up)
        app.task("hourly", name="job")(_noop)
        panel = app.panel()
        app.start()
        if not catch_up:
            app.tasks["job"].run()
        await until(lambda: len(app.runs("job")) == (1 if not catch_up else 2))
        await until(lambda: app.tasks["job"].status == "idle")
        if catch_up:
            await until(lambda: panel.rows["job"].view["missed"] > 0)
        missed = panel.rows["job"].view["missed"]
        app.shut_down()
        await app.wait(5)
        app._core.history.close()
        return missed

    assert asyncio.run(session(start, catch_up=False)) == 0
    assert asyncio.run(session(start + 5.5 * 3600, catch_up=True)) == 6


def test_the_timeline_hears_of_a_run_at_start_and_end_and_rows_follow_a_redefinition():
    async def scenario():
        app = Scheduler()

        @app.task("every 1 hour")
        async def job():
            await asyncio.sleep(3600)

        panel = app.panel()
        sent = catch(panel)
        app.start()
        app.tasks["job"].run()
        await until(lambda: any(r[2] == "run" for d in kinds(sent, "diff") for r in d["runs"]))
        app.tasks["job"].terminate()
        await until(
            lambda: any(r[2] == "terminate" for d in kinds(sent, "diff") for r in d["runs"])
        )

        @app.task("every 2 hours", name="job", timeout=5)
        async def job_again():
            return None

        await until(lambda: panel.rows["job"].view["start"] == "every 2 hours")
        timeout = panel.rows["job"].view["timeout"]
        app.shut_down()
        await app.wait(5)
        return [r for d in kinds(sent, "diff") for r in d["runs"]], timeout

    runs, timeout = asyncio.run(scenario())
    assert [(r[1], r[2], r[4] is None) for r in runs] == [
        ("job", "run", True),
        ("job", "terminate", False),
    ]
    assert runs[1][5] == "terminated by you" and timeout == 5


def test_a_raising_condition_shows_its_error_in_the_row():
    async def scenario():
        app = Scheduler()
        paths: dict[str, str] = {}

        @app.task(condition(lambda: paths["input"] == "ready"))
        async def waits():
            return None

        panel = app.panel()
        app.start()
        row = panel.rows["waits"]
        await until(lambda: row.view["cond_error"] != "")
        view = dict(row.view)
        app.shut_down()
        await app.wait(5)
        return view

    view = asyncio.run(scenario())
    assert "KeyError" in view["cond_error"] and "'input'" in view["cond_error"]
    assert "Traceback" in view["cond_trace"]
