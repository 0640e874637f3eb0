"""``@app.cond("is ready")``: a function as a condition that the scheduler's
condition strings can name, as in Rocketry."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._conditions.parse import ConditionSyntaxError, parse_condition
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import Condition, daily
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()


def test_a_phrase_starts_a_task_when_its_function_turns_true():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)
        ready = False
        ran = []

        @app.cond("is ready")
        def is_ready():
            return ready

        @app.task("daily & is ready")
        async def report():
            ran.append("report")

        @app.task(is_ready & daily)  # the decorated name is the condition itself
        async def also():
            ran.append("also")

        app.start()
        clock.advance(0.05)
        await asyncio.sleep(0.05)
        assert ran == []
        ready = True
        clock.advance(0.05)
        await until(lambda: sorted(ran) == ["also", "report"])
        app.shut_down()
        await app.wait(5)
        return is_ready, app.tasks["report"].start_cond

    is_ready, start = asyncio.run(scenario())
    assert isinstance(is_ready, Condition) and str(is_ready) == "is ready"
    assert str(start) == "(daily & is ready)"
    assert start == daily & is_ready


def test_phrases_match_in_any_case_and_spacing_and_combine():
    app = Scheduler()

    @app.cond("is foo")
    def is_foo():
        return True

    app.task("~ IS   Foo | (daily & is foo)", name="t")(lambda: None)
    assert str(app.tasks["t"].start_cond) == "(~is foo | (daily & is foo))"


def test_a_regular_expression_passes_its_named_groups_to_the_function():
    app = Scheduler()
    asked = []

    @app.cond(re.compile(r"file '(?P<path>.+)' exists"))
    def file_exists(path):
        asked.append(path)
        return path == "data.csv"

    app.task("file 'data.csv' exists & ~file 'lock' exists", name="t")(lambda: None)
    cond = app.tasks["t"].start_cond
    assert cond.is_true()
    assert asked == ["data.csv", "lock"]
    assert file_exists(path="data.csv").is_true()  # called: the same with arguments
    assert not file_exists(path="other").is_true()


def test_defining_a_phrase_again_replaces_its_function():
    app = Scheduler()

    @app.cond(["is ready", "is set"])
    def first():
        return False

    @app.cond("is ready")
    def second():
        return True

    app.task("is ready", name="a")(lambda: None)
    app.task("is set", name="b")(lambda: None)
    assert app.tasks["a"].start_cond.is_true()
    assert not app.tasks["b"].start_cond.is_true()


def test_phrases_belong_to_their_scheduler_and_unknown_ones_point_at_the_word():
    one, other = Scheduler(), Scheduler()

    @one.cond("is ready")
    def is_ready():
        return True

    with pytest.raises(ConditionSyntaxError) as info:
        other.task("daily & is ready", name="t")(lambda: None)
    assert "unexpected 'is'" in str(info.value) and "column 9" in str(info.value)
    with pytest.raises(ConditionSyntaxError):
        parse_condition("is ready")


@pytest.mark.parametrize(
    ("syntax", "exc", "fragment"),
    [("", ValueError, "needs a phrase"), ([], ValueError, "needs a phrase"), (5, TypeError, "5")],
)
def test_bad_phrases_are_named(syntax, exc, fragment):
    with pytest.raises(exc, match=fragment):
        Scheduler().cond(syntax)


def test_a_phrase_that_raises_is_a_condition_error(caplog):
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)

        @app.cond("service is up")
        def up():
            raise ConnectionError("refused")

        @app.task("service is up")
        async def call():
            pass

        app.start()
        await until(lambda: app.tasks["call"].condition_error is not None)
        app.shut_down()
        await app.wait(5)
        return app.tasks["call"].condition_error

    error = asyncio.run(scenario())
    assert error.startswith("start_cond raised ConnectionError: refused")


def test_a_condition_without_a_phrase_takes_arguments_as_in_rocketrys_readme(tmp_path):
    app = Scheduler()

    @app.cond()
    def file_exists(file):
        return (tmp_path / file).exists()

    cond = daily.after("00:00") & file_exists("myfile.csv")
    app.task(cond, name="do_work")(lambda: None)
    assert str(file_exists("myfile.csv")) == "file_exists('myfile.csv')"
    assert file_exists("myfile.csv") == file_exists("myfile.csv") != file_exists("other.csv")
    assert not file_exists("myfile.csv").is_true()
    (tmp_path / "myfile.csv").write_text("")
    assert file_exists("myfile.csv").is_true()
