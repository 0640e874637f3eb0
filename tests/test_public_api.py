"""The public names of the contract, and the one-way layering of the code."""

from __future__ import annotations

import ast
import importlib
import pydoc
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


def test_help_shows_one_scheduler_class():
    """``help(Scheduler)``: one class, the engine's, with ``panel()`` and the
    rich display its own (the Jupyter layer is plugged in, not inherited)."""
    assert Scheduler.__mro__ == (Scheduler, object)
    assert Scheduler is importlib.import_module("notebook_sched._engine.scheduler").Scheduler
    text = pydoc.render_doc(Scheduler, renderer=pydoc.plaintext)
    assert text.count("class Scheduler(") == 1 and "inherited from" not in text, text[:500]
    for method in ["panel", "start", "shut_down", "task", "subscribe", "runs"]:
        assert f" {method}(self" in text, method
    assert "panel(self) -> 'Panel'" in text  # typed without naming the Jupyter layer


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


def _import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports, wherever in the module the
    import is (lazy imports inside functions and ``TYPE_CHECKING`` ones too)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [(base, alias.name) for alias in node.names]
            else:
                continue
            for module, item in targets:
                if item is not None and f"{module}.{item}" in modules:
                    found.add(f"{module}.{item}")
                elif module in modules:
                    found.add(module)
        graph[name] = found - {name}
    return graph


def test_no_import_cycle():
    graph = _import_graph()
    assert len(graph) > 40
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_layers_import_one_way():
    """conditions -> engine -> jupyter: the conditions know nothing of the
    engine, the history nothing of the engine, execution nothing of either."""
    graph = _import_graph()
    below = {
        "notebook_sched._conditions": ("notebook_sched._engine", "notebook_sched._history",
                                       "notebook_sched._execution", "notebook_sched.jupyter"),
        "notebook_sched._history": ("notebook_sched._engine", "notebook_sched._execution",
                                    "notebook_sched.jupyter", "notebook_sched._conditions"),
        "notebook_sched._execution": ("notebook_sched._engine", "notebook_sched._history",
                                      "notebook_sched.jupyter", "notebook_sched._conditions"),
        "notebook_sched._engine": ("notebook_sched.jupyter", "notebook_sched._app"),
    }  # fmt: skip
    for module, deps in graph.items():
        for layer, forbidden in below.items():
            if module == layer or module.startswith(layer + "."):
                bad = {d for d in deps if d.startswith(forbidden)}
                assert not bad, f"{module} imports {sorted(bad)}"
