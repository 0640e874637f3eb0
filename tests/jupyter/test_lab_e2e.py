"""The panel in a real JupyterLab, in headless Chromium, driven by Playwright.

A notebook that starts a scheduler with one long async run is opened and
run; the test watches the run's countdown tick down in the browser, sees the
end condition's state, clicks "Force shut down" and sees the run end with
reason ``shutdown``. Screenshots go to ``test-artifacts/``.

Every process the test starts (server, kernel, Playwright driver, Chromium)
inherits a token in its environment; at teardown none of them may be left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.jupyter.kernel import ROOT, cmdline, descendants, isolated_env, pid_alive, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
WATCHED = ("ipykernel_launcher", "jupyter-lab", "jupyter lab", "chromium", "chrome")
TOKEN_VAR = "NOTEBOOK_SCHED_E2E_TOKEN"

SETUP_CELL = """\
import asyncio
import datetime as dt
from notebook_sched import Scheduler
from notebook_sched.conds import time_of_day

# An end condition that is false now: a window two hours from now.
now = dt.datetime.now()
window = time_of_day.between(
    (now + dt.timedelta(hours=2)).strftime("%H:%M"),
    (now + dt.timedelta(hours=3)).strftime("%H:%M"),
)
app = Scheduler()

@app.task(execution="async", timeout="1 hour", end_cond=window)
async def long_job():
    await asyncio.sleep(3600)

@app.task(execution="ray", resources={"num_cpus": 2, "memory": "4 GiB"})
def big_job():  # only shown: Ray is not started until a ray task runs
    pass

app.start()
app.tasks["long_job"].run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def watched_pids() -> dict[int, str]:
    """Live processes whose command line names a server, kernel or browser."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and pid_alive(int(entry)):
            line = cmdline(int(entry))
            if any(name in line for name in WATCHED):
                found[int(entry)] = line
    return found


def carries(pid: int, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"{TOKEN_VAR}={token}".encode() in f.read().split(b"\0")
    except OSError:
        return False


def ours(token: str) -> dict[int, str]:
    """Live processes started by this test (they carry its token)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            pid = int(entry)
            if carries(pid, token) and pid_alive(pid):
                found[pid] = cmdline(pid)
    return found


def countdown_seconds(text: str) -> float:
    """``0:59:58`` or ``12.3 s`` -> seconds."""
    text = text.strip()
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", text):
        h, mi, s = map(int, m.groups())
        return h * 3600 + mi * 60 + s
    if m := re.fullmatch(r"(\d+(?:\.\d+)?) s", text):
        return float(m.group(1))
    raise ValueError(f"not a countdown: {text!r}")


@dataclass
class Lab:
    url: str
    root: Path
    proc: subprocess.Popen
    log: Path
    token: str
    tree: set[int] = field(default_factory=set)


def stop_server(lab: Lab) -> None:
    """SIGTERM the server (it shuts its kernels down), SIGKILL what stays."""
    lab.tree |= descendants(lab.proc.pid) | {lab.proc.pid}
    if lab.proc.poll() is None:
        lab.proc.send_signal(signal.SIGTERM)
        try:
            lab.proc.wait(15)
        except subprocess.TimeoutExpired:
            lab.proc.kill()
            lab.proc.wait(5)
    for pid in lab.tree:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: `apt-get update && apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api")
    before = watched_pids()
    token = uuid.uuid4().hex
    # Everything started from here on (Playwright's driver, Chromium) inherits it.
    monkeypatch.setenv(TOKEN_VAR, token)
    root = tmp_path / "root"
    root.mkdir()
    port = free_port()
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "jupyter"),
                "lab",
                "--no-browser",
                "--allow-root",
                f"--port={port}",
                "--ip=127.0.0.1",
                "--IdentityProvider.token=",
                f"--ServerApp.root_dir={root}",
            ],
            env=isolated_env(tmp_path, {TOKEN_VAR: token}),
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = Lab(f"http://127.0.0.1:{port}", root, proc, log, token)
    try:

        def ready() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        t0 = time.monotonic()
        wait_for(ready, 60, "the server answering /api/status", step=0.1)
        print(f"server ready in {time.monotonic() - t0:.1f} s")
        yield lab
    finally:
        stop_server(lab)
        try:
            wait_for(lambda: not ours(token), 15, "every process the test started gone")
        except AssertionError:
            raise AssertionError(f"left running: {ours(token)}") from None
        new = {p: c for p, c in watched_pids().items() if p not in before and carries(p, token)}
        assert not new, f"left running: {new}"
        # And nothing of ours under another name, either (checked without the token).
        stray = {p: c for p, c in watched_pids().items() if p not in before and p in lab.tree}
        assert not stray, f"left running: {stray}"


def write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(SETUP_CELL), nbformat.v4.new_code_cell("app")]
    nbformat.write(nb, path)


def run_all_cells(page: Any, timeout: float = 30.0) -> None:
    """Run > Run All Cells until the first cell shows it was sent to the
    kernel (``[*]`` or a number). Seen here: a Run All clicked just after
    the notebook showed its kernel idle is sometimes lost (the prompts stay
    ``[ ]`` for good), so it is asked again; a disabled menu item is not
    clicked."""
    first_prompt = page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first
    deadline = time.monotonic() + timeout
    attempts = []
    while time.monotonic() < deadline:
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        item = page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells$"))
        enabled = "lm-mod-disabled" not in (item.get_attribute("class") or "")
        attempts.append(enabled)
        if enabled:
            item.click()
            try:
                wait_for(
                    lambda: re.search(r"\[(\*|\d+)\]", first_prompt.inner_text()),
                    2,
                    "the first cell sent",
                    step=0.05,
                )
                if len(attempts) > 1:
                    print(f"Run All Cells: menu states over the attempts {attempts}")
                return
            except AssertionError:
                pass
        else:
            page.keyboard.press("Escape")
        time.sleep(0.2)
    raise AssertionError(f"Run All Cells did not run the notebook; menu states {attempts}")


def test_panel_in_jupyterlab(lab: Lab):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    write_notebook(lab.root / "panel.ipynb")
    t_start = time.monotonic()
    figures: dict[str, float] = {}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{lab.url}/lab/tree/panel.ipynb")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            figures["notebook rendered"] = time.monotonic() - t_start
            # The kernel must be up before "Run All": a run asked for earlier is lost.
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
            figures["kernel idle"] = time.monotonic() - t_start
            run_all_cells(page)
            figures["cells running"] = time.monotonic() - t_start

            panel = page.locator(".jp-OutputArea-output .notebook-sched-panel").first
            force = panel.locator('button.jupyter-button:has-text("Force shut down")')
            force.wait_for()
            figures["panel rendered"] = time.monotonic() - t_start

            # The countdown ticks down in the browser.
            countdown = panel.locator(".notebook-sched-countdown").first
            wait_for(
                lambda: re.fullmatch(r"\d+:\d\d:\d\d|\d+(\.\d+)? s", countdown.inner_text()),
                30,
                "a running countdown",
                step=0.1,
            )
            first_text = countdown.inner_text()
            time.sleep(1.0)  # the interval being measured
            second_text = countdown.inner_text()
            first, second = countdown_seconds(first_text), countdown_seconds(second_text)
            print(f"countdown: {first_text!r} then {second_text!r} a second later")
            assert 3500 < second < first <= 3600, (first_text, second_text)

            # The end condition and its present state.
            assert "time of day between" in panel.inner_text()
            end_state = panel.locator(".notebook-sched-end-state").first
            assert end_state.inner_text() == "false"
            assert "running" in panel.inner_text()
            # A ray task's row shows what Ray reserves for it.
            resources = panel.locator(".notebook-sched-resources").first
            assert resources.inner_text() == "2 CPU · 4.0 GiB"
            panel.screenshot(path=str(ARTIFACTS / "panel.png"))

            # Force shut down: the run ends with reason "shutdown".
            t_click = time.monotonic()
            force.click()
            panel.get_by_text("terminate (shutdown)").first.wait_for()
            figures["click -> terminate (shutdown) shown"] = time.monotonic() - t_click
            wait_for(lambda: "stopped" in panel.inner_text(), 10, "stopped shown", step=0.05)
            assert force.is_disabled()
            panel.screenshot(path=str(ARTIFACTS / "panel-after-force-shutdown.png"))
            # The teardown's leak check can see what it checks: each kind is found now.
            running = " | ".join(ours(lab.token).values())
            for kind in ("ipykernel_launcher", "jupyter-lab", "chrom"):
                assert kind in running, (kind, running)
        except BaseException:
            # What the page showed, for whoever reads the failure.
            page.screenshot(path=str(ARTIFACTS / "e2e-failure.png"), full_page=True)
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            print("outputs at failure:", json.dumps(outputs, indent=1)[-4000:])
            raise
        finally:
            browser.close()

    figures["whole scenario"] = time.monotonic() - t_start
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
