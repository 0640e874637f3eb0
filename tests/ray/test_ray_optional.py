"""Ray is an optional extra: importing and using notebook_sched never imports
it, a ray task without Ray fails at once with how to install it, and bad
resources or addresses fail when given, naming the value. None of this needs
Ray to run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from notebook_sched import Scheduler

ROOT = Path(__file__).resolve().parents[2]

# Makes ``import ray`` fail, as where the extra is not installed.
NO_RAY = """
import importlib.abc, sys
class NoRay(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoRay())
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_using_notebook_sched_never_imports_ray():
    done = run(
        """
        import sys, time
        import notebook_sched, notebook_sched.conds, notebook_sched.jupyter
        from notebook_sched import Scheduler
        app = Scheduler(ray_address="auto")
        app.task(execution="thread", name="t")(lambda: 1)
        app.task(execution="process", name="p")(lambda: 2)
        app.start()
        app.tasks["t"].run(); app.tasks["p"].run()
        while any(app.tasks[n].is_alive() for n in "tp"):
            time.sleep(0.01)
        app.shut_down()
        app.join(10)
        print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "define",
    [
        "app = Scheduler()\n@app.task(execution='ray')\ndef remote(): pass",
        "app = Scheduler(execution='ray')",
    ],
)
def test_without_ray_the_error_says_how_to_install_it(define):
    done = run(
        NO_RAY
        + "from notebook_sched import Scheduler\n"
        + "try:\n"
        + textwrap.indent(define, "    ")
        + "\nexcept ImportError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "ImportError" in done.stdout
    assert "execution 'ray' needs Ray, which is not installed" in done.stdout
    assert "pip install 'notebook_sched[ray]'" in done.stdout


@pytest.mark.parametrize(
    ("resources", "error", "words"),
    [
        ({"cpus": 2}, ValueError, "unknown resource 'cpus'"),
        ({"num_cpus": -1}, ValueError, "'num_cpus' must be a number >= 0, got -1"),
        ({"num_gpus": float("nan")}, ValueError, "got nan"),
        ({"num_cpus": True}, ValueError, "got True"),
        ({"memory": "lots"}, ValueError, "got 'lots'"),
        ({"memory": 0}, ValueError, "got 0"),
        ([("num_cpus", 1)], TypeError, "resources must be a dict"),
    ],
)
def test_bad_resources_fail_when_the_decorator_runs(resources, error, words):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'notebook_sched[ray]'")
    app = Scheduler()
    with pytest.raises(error, match="task 'heavy'") as caught:
        app.task(name="heavy", execution="ray", resources=resources)(lambda: None)
    assert words in str(caught.value)


def test_resources_need_execution_ray():
    app = Scheduler()
    with pytest.raises(ValueError, match=r"task 'local'.*execution='ray', not 'thread'"):
        app.task(name="local", execution="thread", resources={"num_cpus": 1})(lambda: None)


def test_memory_sizes():
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'notebook_sched[ray]'")
    app = Scheduler()
    for given, size in [("512 MB", 512 * 10**6), ("2GiB", 2 * 2**30), (1024, 1024)]:
        app.task(name="t", execution="ray", resources={"memory": given})(lambda: None)
        assert app.tasks["t"].resources == {"memory": size}


@pytest.mark.parametrize("address", ["", "   ", 6379, b"host:6379"])
def test_bad_ray_address_fails_at_construction(address):
    with pytest.raises(ValueError, match="config 'ray_address'") as caught:
        Scheduler(ray_address=address)
    assert repr(address) in str(caught.value)
