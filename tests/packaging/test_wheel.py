"""The package as a user gets it: ``python -m build`` makes an sdist and a
wheel that ``twine check`` passes; the wheel, installed (not editable) into a
fresh virtualenv, runs a scheduler in a plain script and shows the panel in
a real kernel — its front-end code included.

The slow part is the install of the dependencies into the fresh venv; pip's
cache makes it a local copy after the first run. One module-scoped build and
venv serve every test here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jupyter.kernel import pid_alive, start_kernel, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "notebook_sched"
# What the build needs of the checkout; copied, so the build writes nothing into it.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "notebook_sched")


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600):
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH pointing at a checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built by ``python -m build`` from a copy of the checkout."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = work / "dist"
    _run(sys.executable, "-m", "build", "--outdir", out, src, cwd=work, env=_clean_env())
    _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(out.iterdir()), cwd=work)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv with the wheel (and its dependencies) installed."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", where, cwd=where.parent)
    python = where / "bin" / "python"
    (wheel,) = dist.glob("*.whl")
    # This venv's pip, pointed at the new one: no pip of its own to install first.
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q",
        "--disable-pip-version-check", wheel, cwd=where.parent, env=_clean_env(),
    )  # fmt: skip
    yield python


def test_the_wheel_carries_the_package_whole(dist: Path):
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert "notebook_sched/py.typed" in shipped
    assert shipped <= names, f"missing from the wheel: {sorted(shipped - names)}"
    (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    metadata = zipfile.ZipFile(wheel).read(metadata_name).decode()
    import notebook_sched

    assert f"Version: {notebook_sched.__version__}" in metadata
    assert "License-Expression: MIT" in metadata
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    for dependency in ("ipywidgets", "anywidget", "ipykernel", "nest-asyncio2"):
        assert any(dependency in r for r in core), (dependency, core)
    assert any("ray" in r and 'extra == "ray"' in r for r in requires)
    assert not any(r.startswith("Requires-Dist: ray") and "extra" not in r for r in requires)


SCRIPT = """
import asyncio, json, sys, time
from pathlib import Path

import notebook_sched
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
from notebook_sched.events import RunFinished

app = Scheduler(timeout=30, terminate_grace=0.5)
finished = []
app.subscribe(finished.append, RunFinished)

@app.task(execution="thread")
def in_a_thread():
    return "thread ok"

@app.task(execution="process")
def in_a_process():
    return "process ok"

@app.task(execution="async")
async def on_the_loop():
    await asyncio.sleep(0)
    return "async ok"

@app.task(execution="thread", timeout=0.2)
def too_long(flag=TerminationFlag()):
    flag.wait(30)

app.start()                      # no loop here: on a thread of its own
for name in ("in_a_thread", "in_a_process", "on_the_loop", "too_long"):
    assert app.tasks[name].run(), name
deadline = time.monotonic() + 60
while time.monotonic() < deadline and len(finished) < 4:
    time.sleep(0.05)
app.shut_down()
assert app.join(60)
jupyter = [m for m in ("IPython", "ipywidgets", "anywidget", "ipykernel") if m in sys.modules]
print(json.dumps({
    "file": notebook_sched.__file__,
    "jupyter": jupyter,
    "runs": {r.task: [r.status, r.reason, r.result] for r in app.runs()},
}))
"""


def test_a_script_runs_a_scheduler_from_the_installed_wheel(venv: Path, tmp_path: Path):
    (tmp_path / "script.py").write_text(SCRIPT)
    done = _run(venv, "script.py", cwd=tmp_path, env=_clean_env(), timeout=120)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["file"]).is_relative_to(venv.parent.parent), found["file"]
    assert found["jupyter"] == []  # a script loads no Jupyter module
    assert found["runs"] == {
        "in_a_thread": ["success", None, "'thread ok'"],
        "in_a_process": ["success", None, "'process ok'"],
        "on_the_loop": ["success", None, "'async ok'"],
        "too_long": ["terminate", "timeout", "None"],  # it obeyed its flag and returned
    }


def test_the_installed_panel_renders_in_a_real_kernel(venv: Path, tmp_path: Path):
    kernel = start_kernel(tmp_path, python=venv, source=None)
    try:
        where = kernel.json("__import__('notebook_sched').__file__")
        assert Path(where).is_relative_to(venv.parent.parent), where
        kernel.run(
            textwrap.dedent(
                """
                from notebook_sched import Scheduler
                app = Scheduler()

                @app.task("every 1 hour", execution="thread")
                def hourly_job():
                    return 42

                app.start()
                """
            )
        )
        outputs, _ = kernel.execute("app")
        views = [
            o["data"]["application/vnd.jupyter.widget-view+json"]
            for o in outputs
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert views, f"no widget view in {outputs}"
        opened = [m.content for m in kernel.messages() if m.type == "comm_open"]
        states = [c.get("data", {}).get("state", {}) for c in opened]
        shown = views[0]["model_id"]
        assert shown in {c["comm_id"] for c in opened}
        # The anywidget front end: its ES module travels in the model's state.
        modules = [s["_esm"] for s in states if isinstance(s.get("_esm"), str)]
        assert modules and all("export" in m and len(m) > 500 for m in modules), [
            len(m) for m in modules
        ]
        wait_for(
            lambda: kernel.json("app.tasks['hourly_job'].last_run is not None"),
            30,
            "the task ran in the kernel",
        )
        kernel.run("app.shut_down(force=True)")
    finally:
        tree = kernel.shutdown()
        wait_for(
            lambda: not any(pid_alive(p) for p in tree), 15, "the kernel and its children gone"
        )
