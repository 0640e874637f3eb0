"""The public names of the contract, and the one-way layering of the code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import notebook_sched
from notebook_sched import RunRecord, Scheduler, Task, conds
from notebook_sched.args import TerminationFlag
from notebook_sched.exc import TaskTerminationException

PACKAGE = Path(notebook_sched.__file__).parent
JUPYTER_MODULES = ("IPython", "ipywidgets", "anywidget", "ipykernel", "traitlets")


def test_contract_names():
    assert {"Scheduler", "Task", "RunRecord"} <= set(notebook_sched.__all__)
    for name in [
        "every", "cron", "time_of_day", "time_of_week", "hourly", "daily", "weekly",
        "monthly", "after_success", "after_fail", "after_finish", "running", "true",
        "false", "condition",
    ]:  # fmt: skip
        assert hasattr(conds, name), name
    app = Scheduler()
    for name in ["start", "serve", "run", "shut_down", "wait", "task", "runs", "panel"]:
        assert callable(getattr(app, name)), name
    assert app.state == "stopped"
    assert callable(app.session.shut_down)
    assert app.session.config["cycle_sleep"] == 0.1
    app.task(name="t")(lambda: None)
    task = app.tasks["t"]
    assert isinstance(task, Task)
    for name in ["name", "status", "deadline", "last_run", "resources"]:
        assert hasattr(task, name), name
    for name in ["is_alive", "run", "terminate", "disable", "enable"]:
        assert callable(getattr(task, name)), name
    assert set(RunRecord.__dataclass_fields__) >= {
        "task", "run_id", "status", "reason", "start", "end", "error", "result"
    }  # fmt: skip
    assert issubclass(TaskTerminationException, Exception)
    flag = TerminationFlag()
    assert flag.is_set() is False and flag.wait(0) is False


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            found.add("." + node.module.split(".")[0])
    return found


def test_engine_never_imports_the_jupyter_layer():
    engine = [
        p for p in PACKAGE.rglob("*.py")
        if "jupyter" not in p.parts and p.name != "_app.py"
    ]  # fmt: skip
    assert len(engine) > 20
    for path in engine:
        imports = _imports(path)
        bad = (imports & set(JUPYTER_MODULES)) | {i for i in imports if i == ".jupyter"}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_importing_the_package_imports_no_jupyter_module():
    code = (
        "import sys, notebook_sched, notebook_sched.conds\n"
        "from notebook_sched import Scheduler\n"
        "app = Scheduler()\n"
        "app.task(execution='thread')(lambda: None)\n"
        f"print([m for m in {JUPYTER_MODULES!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
