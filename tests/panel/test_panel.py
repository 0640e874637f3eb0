"""The panel without a browser: ``Button.click()`` fires the handlers, and
widget traits are read back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from notebook_sched import Scheduler
from notebook_sched.conds import condition
from tests.conftest import until

pytest.importorskip("ipywidgets")


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
        assert "stopped" in panel.state_label.value
        assert panel.rows["slow"].view["end_state"] == "false"

        panel.start_button.click()
        assert app.state == "running"
        await until(lambda: "running" in other.state_label.value)
        await until(lambda: app.runs("hourly"))

        panel.rows["slow"].run_button.click()
        row = panel.rows["slow"]
        await until(lambda: row.view["status"] == "running")
        assert row.view["deadline"] == pytest.approx(app.tasks["slow"].deadline.timestamp())
        await until(lambda: other.rows["slow"].view["status"] == "running")
        assert row.view in panel.table.rows  # what the browser draws
        row.terminate_button.click()
        await until(lambda: row.view["outcome"] == "terminate (manual)")
        assert row.view["deadline"] is None
        assert "terminate (manual)" in panel.runs_view.value

        ending["now"] = True
        panel._refresh()
        assert row.view["end_state"] == "true"

        @app.task(name="late")
        async def late(): ...

        await until(lambda: "late" in panel.rows and "late" in other.rows)

        panel.shutdown_button.click()
        await app.wait(5)
        await until(lambda: "stopped" in panel.state_label.value)
        assert panel.start_button.disabled is False
        return panel

    panel = asyncio.run(scenario())
    assert repr(panel).startswith("<Scheduler stopped")


def test_failed_runs_show_their_traceback():
    async def scenario():
        app = Scheduler()

        @app.task()
        async def broken():
            raise ZeroDivisionError("boom")

        panel = app.panel()
        app.start()
        app.tasks["broken"].run()
        await until(lambda: "fail" in panel.rows["broken"].view["outcome"])
        app.shut_down()
        await app.wait(5)
        return panel.runs_view.value

    view = asyncio.run(scenario())
    assert "<details>" in view and "ZeroDivisionError: boom" in view


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


def test_updates_are_coalesced():
    """A burst of events costs one update of the table, not one per event."""

    async def scenario():
        app = Scheduler()
        for i in range(50):
            app.task(name=f"t{i}")(_noop)
        panel = app.panel()
        sent = []
        panel.table.observe(lambda change: sent.append(change), names="rows")
        app.start()
        for i in range(50):
            app.tasks[f"t{i}"].run()
        await until(lambda: all(not t.is_alive() for t in app.tasks.values()))
        await until(lambda: all(r.view["outcome"] == "success" for r in panel.rows.values()))
        app.shut_down()
        await app.wait(5)
        return len(sent)

    updates = asyncio.run(scenario())
    assert 1 <= updates <= 5  # 100 run events, a flush every 0.25 s at most


async def _noop():
    return None


def test_table_buttons_drawn_in_the_browser_click_the_row_buttons():
    async def scenario():
        app = Scheduler()

        @app.task()
        async def forever():
            await asyncio.sleep(3600)

        panel = app.panel()
        app.start()
        panel._on_table_msg(panel.table, {"event": "run", "task": "forever"}, [])
        await until(lambda: app.tasks["forever"].status == "running")
        panel._on_table_msg(panel.table, {"event": "terminate", "task": "forever"}, [])
        await until(lambda: not app.tasks["forever"].is_alive())
        app.shut_down()
        await app.wait(5)
        return app.tasks["forever"].last_run.reason

    assert asyncio.run(scenario()) == "manual"


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
    assert panel.rows["heavy"].view in panel.table.rows  # what the browser draws
