"""dir() and help() of the public modules: exactly the public names, each
documented."""

from __future__ import annotations

import importlib
import pydoc

import pytest

import notebook_sched

PUBLIC = ["notebook_sched.args", "notebook_sched.conds", "notebook_sched.events",
          "notebook_sched.exc", "notebook_sched.testing"]  # fmt: skip


def test_the_package_lists_its_public_names_and_modules():
    names = dir(notebook_sched)
    assert names == sorted([*notebook_sched.__all__, "args", "conds", "events", "exc", "testing"])
    assert "Any" not in names and "TYPE_CHECKING" not in names and "annotations" not in names
    for name in ("events", "testing", "conds"):  # the modules load on first use
        assert getattr(notebook_sched, name).__name__ == f"notebook_sched.{name}"
    with pytest.raises(AttributeError, match="'nope'"):
        notebook_sched.nope  # noqa: B018


@pytest.mark.parametrize("module_name", PUBLIC)
def test_each_public_module_lists_exactly_its_public_names_each_documented(module_name: str):
    module = importlib.import_module(module_name)
    assert module.__doc__
    assert dir(module) == sorted(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        assert (getattr(value, "__doc__", None) or "").strip(), f"{module_name}.{name}"
    text = pydoc.render_doc(module, renderer=pydoc.plaintext)
    for name in module.__all__:
        assert name in text


def test_help_of_scheduler_shows_its_keywords_and_docs():
    from notebook_sched import Scheduler

    text = pydoc.render_doc(Scheduler, renderer=pydoc.plaintext)
    for key in ("timeout", "instant_shutdown", "shut_cond", "execution", "cycle_sleep",
                "terminate_grace", "runs_db", "ray_address", "capture_output",
                "output_limit", "pools", "catch_up"):  # fmt: skip
        assert f"{key}:" in text, key
    for method in ("start", "serve", "run", "shut_down", "wait", "task", "runs", "subscribe"):
        assert (getattr(Scheduler, method).__doc__ or "").strip(), method
