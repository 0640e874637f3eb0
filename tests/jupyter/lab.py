"""A real Jupyter server (JupyterLab 4 or Notebook 7) and headless Chromium
for browser tests, with every process they start stopped and checked gone.

Every process a server starts (kernels included), and Playwright's driver
and Chromium, inherit a token in their environment; at the end none of them
may be left. The server's Jupyter and IPython folders are private to the
test; the dark theme is chosen by a settings file written before it starts.
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
WATCHED = (
    "ipykernel_launcher",
    "jupyter-lab",
    "jupyter lab",
    "jupyter-notebook",
    "chromium",
    "chrome",
)
TOKEN_VAR = "NOTEBOOK_SCHED_E2E_TOKEN"
DARK = {"theme": "JupyterLab Dark"}


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


@dataclass
class Lab:
    url: str
    root: Path
    proc: subprocess.Popen
    log: Path
    token: str
    app: str  # "lab" or "notebook"
    tree: set[int] = field(default_factory=set)

    def page_of(self, notebook: str) -> str:
        if self.app == "lab":
            return f"{self.url}/lab/tree/{notebook}"
        return f"{self.url}/notebooks/{notebook}"


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


@contextlib.contextmanager
def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: str = "lab", dark: bool = False
) -> Iterator[Lab]:
    """A Jupyter server (``app`` "lab" or "notebook") in private folders."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: `apt-get update && apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api")
    before = watched_pids()
    token = uuid.uuid4().hex
    # Everything started from here on (Playwright's driver, Chromium) inherits it.
    monkeypatch.setenv(TOKEN_VAR, token)
    root = tmp_path / "root"
    root.mkdir()
    env = isolated_env(tmp_path, {TOKEN_VAR: token})
    if dark:
        settings = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / "@jupyterlab"
        themes = settings / "apputils-extension" / "themes.jupyterlab-settings"
        themes.parent.mkdir(parents=True, exist_ok=True)
        themes.write_text(json.dumps(DARK))
    port = free_port()
    log = tmp_path / f"{app}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "jupyter"),
                app,
                "--no-browser",
                "--allow-root",
                f"--port={port}",
                "--ip=127.0.0.1",
                "--IdentityProvider.token=",
                f"--ServerApp.root_dir={root}",
            ],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = Lab(f"http://127.0.0.1:{port}", root, proc, log, token, app)
    try:

        def ready() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(ready, 60, "the server answering /api/status", step=0.1)
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


@contextlib.contextmanager
def browse(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium page; on failure a screenshot and the outputs' text."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page
            assert not [e for e in errors if "notebook_sched" in e or "ns-" in e], errors
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "e2e-failure.png"), full_page=True)
                outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
                print("outputs at failure:", json.dumps(outputs, indent=1)[-4000:])
            print("page errors:", errors)
            raise
        finally:
            browser.close()


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)


def run_all_cells(page: Any, timeout: float = 40.0) -> None:
    """Run > Run All Cells until the first cell shows it was sent to the
    kernel (``[*]`` or a number). Seen here: a Run All clicked just after
    the notebook showed its kernel idle is sometimes lost (the prompts stay
    ``[ ]`` for good), so it is asked again; a disabled menu item is not
    clicked. Also seen under load: JupyterLab's "Select Kernel" dialog,
    although the notebook names its kernel; it is answered with the one
    it proposes (the notebook's)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    first_prompt = page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first
    chooser = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-Dialog-button.jp-mod-accept")
    deadline = time.monotonic() + timeout
    attempts = []
    while time.monotonic() < deadline:
        if chooser.count():
            chooser.first.click()
        try:
            page.locator(".jp-Notebook .jp-Cell").first.click(timeout=5000)
        except PlaywrightTimeout:  # covered (by that dialog): look again
            continue
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
                return
            except AssertionError:
                pass
        else:
            page.keyboard.press("Escape")
        time.sleep(0.3)
    raise AssertionError(f"Run All Cells did not run the notebook; menu states {attempts}")


def open_notebook(page: Any, lab: Lab, name: str, cells: list[str]) -> Any:
    """Write and open a notebook, run it; the panel's locator once it shows."""
    write_notebook(lab.root / name, cells)
    page.goto(lab.page_of(name))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    if lab.app == "lab":
        indicator = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        indicator.first.wait_for(state="attached")  # hidden in a narrow window
    else:
        time.sleep(1.0)  # Notebook 7 shows no idle indicator to wait on; Run All is retried
    run_all_cells(page)
    panel = page.locator('[data-testid="ns-panel"]').first
    panel.wait_for(timeout=60_000)
    # JupyterLab's "Jupyter news" question covers the output area's corner.
    no = page.locator(".jp-toast-button:has-text('No')").first
    with contextlib.suppress(Exception):  # cosmetic: it may have gone, or be sliding in
        no.click(timeout=3000, force=True)
    return panel


def run_cell(page: Any, index: int) -> None:
    """Run one cell (0-based) with Shift+Enter."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def by_id(scope: Any, name: str, **data: str) -> Any:
    """The element(s) with ``data-testid=name`` (and ``data-<key>=value``)."""
    selector = f'[data-testid="{name}"]' + "".join(f'[data-{k}="{v}"]' for k, v in data.items())
    return scope.locator(selector)


def shot(page: Any, locator: Any, path: Path) -> None:
    """A picture of what ``locator`` shows inside the window (a live panel
    never holds still long enough for Playwright's element screenshot)."""
    locator.evaluate("n => n.scrollIntoView({block: 'start'})")
    box = locator.bounding_box()
    view = page.viewport_size
    top = max(0.0, box["y"])
    clip = {
        "x": max(0.0, box["x"]),
        "y": top,
        "width": min(box["width"], view["width"] - max(0.0, box["x"])),
        "height": min(box["y"] + box["height"], view["height"]) - top,
    }
    page.screenshot(path=str(path), clip=clip, animations="disabled")
