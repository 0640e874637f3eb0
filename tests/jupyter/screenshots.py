"""The README's pictures of the panel, taken in a real JupyterLab, and
pictures to look at after a change to the panel:

    .venv/bin/python -m tests.jupyter.screenshots [light|dark|many]   # docs/panel-*.png
    .venv/bin/python -m tests.jupyter.screenshots --out DIR hundred narrow nb7 dark-narrow

A session with tasks of every kind — one that fails now and then, one that
times out, a long run that prints, a pool with a waiting run, a retry, a
paused task — in the light theme at 1400 px (the panel, a failed run's
detail, the timeline), the same in the dark theme, and 60 tasks. The other
modes write to ``DIR`` only: ``hundred`` (100 tasks failing, timing out and
printing, at 1400 px: sorted, filtered, scrolled, a live run's detail),
``narrow`` and ``dark-narrow`` (the session at 700 px), ``nb7`` (the session
in Notebook 7 at 1400 and 700 px).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.jupyter.kernel import ROOT, wait_for
from tests.jupyter.lab import Lab, browse, by_id, open_notebook, serve, shot

DOCS = ROOT / "docs"

SESSION = """\
import asyncio, random, time
from notebook_sched import Scheduler

app = Scheduler(timeout="10 minutes", pools={"gpu": 1})

@app.task("every 5 seconds")
async def refresh_prices():
    return {"rows": 1200}

@app.task("every 4 seconds", execution="thread", retries=1, retry_delay="30 s")
def fetch_orders():
    print("GET /orders?since=12:00")
    if random.random() < 0.5:
        raise ConnectionError("orders API answered 503 Service Unavailable")
    return 311

@app.task("every 6 seconds", timeout="2 s")
async def slow_report():
    await asyncio.sleep(10)

@app.task(execution="async", timeout="1 hour", pool="gpu")
async def train_model():
    for epoch in range(1000):
        print(f"epoch {epoch}: loss {1 / (epoch + 1):.3f}")
        await asyncio.sleep(1)

@app.task(pool="gpu")
async def evaluate():
    return "ok"

@app.task("daily between 02:00 and 04:00", execution="process")
def nightly_backup():
    pass

@app.task(disabled=True)
def send_digest():
    pass

app.start()
app.tasks["train_model"].run()
app.tasks["evaluate"].run()
"""

MANY = """\
import asyncio, random
from notebook_sched import Scheduler

app = Scheduler(timeout="5 minutes")
for i in range(60):
    kind = i % 6
    if kind in (0, 1):
        async def f():
            return "ok"
        app.task(f"every {2 + i % 5} seconds", name=f"load_{i:02d}")(f)
    elif kind == 2:
        async def f():
            if random.random() < 0.4:
                raise ValueError("bad row 17")
        app.task("every 3 seconds", name=f"clean_{i:02d}")(f)
    elif kind == 3:
        async def f():
            await asyncio.sleep(3600)
        app.task(name=f"stream_{i:02d}")(f)
    elif kind == 4:
        async def f():
            await asyncio.sleep(9)
        app.task("every 4 seconds", name=f"export_{i:02d}", timeout=1)(f)
    else:
        app.task(name=f"report_{i:02d}", disabled=True)(lambda: None)
app.start()
for i in range(3, 60, 6):
    app.tasks[f"stream_{i:02d}"].run()
"""


HUNDRED = """\
import asyncio, random, time
from notebook_sched import Scheduler
from notebook_sched.args import Progress

app = Scheduler(timeout="10 minutes", pools={"db": 2})
ERRORS = [ConnectionError("orders API answered 503 Service Unavailable"),
          KeyError("customer_id"), ValueError("bad row 17: expected 12 columns, got 11")]
for i in range(100):
    kind = i % 10
    if kind in (0, 1, 2):
        async def f():
            return "ok"
        app.task(f"every {2 + i % 5} seconds", name=f"load_{i:02d}")(f)
    elif kind == 3:
        def f(error=ERRORS[i % 3]):
            print("reading batch")
            if random.random() < 0.6:
                raise error
        app.task("every 3 seconds", name=f"clean_{i:02d}", execution="thread", retries=1,
                 retry_delay="20 s")(f)
    elif kind == 4:
        async def f(progress=Progress()):
            for step in range(10**6):
                print(f"batch {step}: 128 rows written to warehouse.events")
                progress(step % 100 / 100, f"batch {step}")
                await asyncio.sleep(0.5)
        app.task(name=f"stream_{i:02d}", timeout="1 hour")(f)
    elif kind == 5:
        async def f():
            await asyncio.sleep(9)
        app.task("every 4 seconds", name=f"export_{i:02d}", timeout=1.5)(f)
    elif kind == 6:
        async def f():
            await asyncio.sleep(4)
        app.task("every 2 seconds", name=f"sync_{i:02d}", pool="db")(f)
    elif kind == 7:
        app.task("daily between 02:00 and 04:00",
                 name=f"refresh_customer_segments_for_dashboard_{i:02d}")(lambda: None)
    elif kind == 8:
        app.task(name=f"report_{i:02d}", disabled=True)(lambda: None)
    else:
        def f():
            time.sleep(0.3)
        app.task("every 5 seconds", name=f"thread_{i:02d}", execution="thread")(f)
app.start()
for i in range(4, 100, 10):
    app.tasks[f"stream_{i:02d}"].run()
"""


def opened(page: Any, lab: Lab, cells: list[str], runs: str = "fail") -> Any:
    """The panel, once a run of status ``runs`` is listed and a few more have run."""
    panel = open_notebook(page, lab, "look.ipynb", cells)
    listed = by_id(panel, "ns-recent-run", status=runs).first
    wait_for(lambda: listed.count() == 1, 120, f"a {runs} run listed", step=0.2)
    time.sleep(8)  # a few more runs for the strips and the timeline
    return panel


def session_shots(page: Any, panel: Any, out: Path, names: dict[str, str]) -> None:
    """The panel, the timeline and a failed run's detail, as ``names`` says
    (``panel``, ``timeline``, ``detail``: file names; a kind left out is not taken)."""
    if "panel" in names:
        shot(page, panel, out / names["panel"])
    if "timeline" in names:
        shot(page, by_id(panel, "ns-timeline"), out / names["timeline"])
    if "detail" in names:
        by_id(panel, "ns-recent-run", status="fail").first.click()
        detail = by_id(panel, "ns-run-detail")
        wait_for(lambda: "Error" in by_id(detail, "ns-error").inner_text(), 20, "the detail")
        shot(page, detail, out / names["detail"])
        by_id(detail, "ns-detail-close").click()


def look(
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    out: Path,
    prefix: str,
    widths: tuple[int, ...],
    app: str = "lab",
    dark: bool = False,
) -> None:
    """The session at each width (one page, resized), pictures named ``prefix-width-kind``."""
    with serve(tmp, monkeypatch, app=app, dark=dark) as lab, browse(widths[0], 1500) as page:
        panel = opened(page, lab, [SESSION, "app"])
        for width in widths:
            page.set_viewport_size({"width": width, "height": 1500})
            kinds = ("panel", "timeline", "detail")
            session_shots(page, panel, out, {k: f"{prefix}-{width}-{k}.png" for k in kinds})
        if app == "lab":  # the file browser closed: all the room JupyterLab gives a notebook
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
            shot(page, panel, out / f"{prefix}-{widths[-1]}-nosidebar-panel.png")


def light_and_detail(tmp: Path, monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    with serve(tmp, monkeypatch) as lab, browse(1400, 1500) as page:
        panel = opened(page, lab, [SESSION, "app"])
        names = {"panel": "panel-light.png", "timeline": "panel-timeline.png"}
        session_shots(page, panel, out, {**names, "detail": "panel-detail.png"})


def dark(tmp: Path, monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    with serve(tmp, monkeypatch, dark=True) as lab, browse(1400, 1500) as page:
        session_shots(page, opened(page, lab, [SESSION, "app"]), out, {"panel": "panel-dark.png"})


def many(tmp: Path, monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    with serve(tmp, monkeypatch) as lab, browse(1400, 1300) as page:
        panel = open_notebook(page, lab, "many.ipynb", [MANY, "app"])
        wait_for(lambda: by_id(panel, "ns-row").count() == 60, 60, "60 rows", step=0.2)
        time.sleep(10)
        by_id(panel, "ns-sort").select_option("last")
        time.sleep(1)
        shot(page, panel, out / "panel-60-tasks.png")


def hundred(tmp: Path, monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    """100 tasks at 1400 px: as defined, failed first, by status, the failed
    ones only, scrolled, filtered by name, a live run's growing output."""
    with serve(tmp, monkeypatch) as lab, browse(1400, 1600) as page:
        panel = opened(page, lab, [HUNDRED, "app"], runs="terminate")
        wait_for(lambda: by_id(panel, "ns-row").count() == 100, 60, "100 rows", step=0.2)
        session_shots(
            page, panel, out, {"panel": "hundred-panel.png", "timeline": "hundred-timeline.png"}
        )
        table = by_id(panel, "ns-table")
        for sort in ("last", "status"):
            by_id(panel, "ns-sort").select_option(sort)
            shot(page, panel, out / f"hundred-sort-{sort}.png")
        by_id(panel, "ns-sort").select_option("defined")
        table.evaluate("t => { t.scrollTop = t.scrollHeight / 2; }")
        shot(page, table, out / "hundred-scrolled.png")
        by_id(panel, "ns-filter-status").select_option("failed")
        shot(page, panel, out / "hundred-filter-failed.png")
        by_id(panel, "ns-filter-status").select_option("all")
        by_id(panel, "ns-filter").fill("stream")
        shot(page, panel, out / "hundred-filter-stream.png")
        by_id(panel, "ns-runs-task").select_option("stream_04")
        by_id(panel, "ns-recent-run", task="stream_04").first.click()
        detail = by_id(panel, "ns-run-detail")
        wait_for(lambda: "batch 3" in by_id(detail, "ns-output").inner_text(), 30, "output")
        shot(page, detail, out / "hundred-detail.png")


MODES: dict[str, Callable[[Path, pytest.MonkeyPatch, Path], None]] = {
    "light": light_and_detail,
    "dark": dark,
    "many": many,
    "hundred": hundred,
    "narrow": partial(look, prefix="narrow", widths=(700,)),
    "dark-narrow": partial(look, prefix="dark-narrow", widths=(700,), dark=True),
    "nb7": partial(look, prefix="nb7", widths=(1400, 700), app="notebook"),
}
README_MODES = ("light", "dark", "many")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modes", nargs="*", metavar="MODE", help=", ".join(MODES))
    parser.add_argument("--out", type=Path, help="where the pictures go (default: docs/)")
    args = parser.parse_args()
    which = args.modes or list(README_MODES)
    if unknown := set(which) - set(MODES):
        parser.error(f"no such mode: {', '.join(sorted(unknown))} (modes: {', '.join(MODES)})")
    if args.out is None and set(which) - set(README_MODES):
        parser.error("only the README's pictures (light, dark, many) go to docs/: pass --out")
    out = args.out or DOCS
    out.mkdir(parents=True, exist_ok=True)
    monkeypatch = pytest.MonkeyPatch()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in which:
                (Path(tmp) / name).mkdir()
                MODES[name](Path(tmp) / name, monkeypatch, out)
                print(f"{name}: done")
    finally:
        monkeypatch.undo()


if __name__ == "__main__":
    main()
