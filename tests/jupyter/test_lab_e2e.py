"""The panel in a real JupyterLab 4 and Notebook 7, in headless Chromium,
driven by Playwright through the panel's ``data-testid`` names (SPEC §8).

- JupyterLab, light theme: every header and row button's enabled state while
  stopped, running, shutting down and stopped again; a countdown ticking in
  the browser; timeline bars that appear, grow while alive and take their
  outcome's colour; a failure's notice (and its dismissal) and the failed
  run's detail, with its traceback from the user's frame, staying open (the
  same element) across 20 later runs, in its outcome's colour and its own
  layout (not the output area's dl and pre styles); status texts >= 4.5:1.
- JupyterLab, dark theme, a 700 px wide window, 200 tasks: every status text
  >= 4.5:1 measured from computed styles; every row's buttons inside the
  window with no horizontal scrolling; names, schedules and outcomes that
  fit; filter by name and status (the summary's "failing" too), which the
  timeline follows; sort; the table's header sticky within its bounded height.
- Notebook 7: at 700 px the rows still fit; a reloaded page brings the panel
  back live (a click acts); a kernel restart turns it visibly inert (buttons
  disabled, countdown stopped).

Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.jupyter.kernel import wait_for
from tests.jupyter.lab import ARTIFACTS, browse, by_id, open_notebook, serve, shot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SETUP_CELL = """\
import asyncio
import datetime as dt
from notebook_sched import Scheduler
from notebook_sched.args import Progress
from notebook_sched.conds import time_of_day

# An end condition that is false now: a window two hours from now.
now = dt.datetime.now()
window = time_of_day.between(
    (now + dt.timedelta(hours=2)).strftime("%H:%M"),
    (now + dt.timedelta(hours=3)).strftime("%H:%M"),
)
app = Scheduler()

@app.task(execution="async", timeout="1 hour", end_cond=window)
async def long_job(progress=Progress()):
    progress(0.5, "halfway")
    await asyncio.sleep(3600)

@app.task("every 0.4 seconds")
async def ticker():
    return "tick"

@app.task(execution="thread")
def breaker():
    print("reading the input file")
    raise ValueError("bad input 42")

@app.task(disabled=True)
def paused_job():
    pass

@app.task(execution="ray", resources={"num_cpus": 2, "memory": "4 GiB"})
def big_job():  # only shown: Ray is not started until a ray task runs
    pass
"""

MANY_TASKS_CELL = """\
import asyncio, itertools
from notebook_sched import Scheduler

app = Scheduler()
for i in range(200):
    kind = i % 5
    name = f"t{i:03d}" if i < 199 else "t199_refresh_customer_segments_for_the_dashboard"
    if kind == 0:
        async def f():
            return "ok"
        app.task("every 2 seconds", name=name)(f)
    elif kind == 1:
        async def f():
            raise RuntimeError("upstream 503")
        app.task("every 3 seconds", name=name)(f)
    elif kind == 2:
        async def f():
            await asyncio.sleep(3600)
        app.task(name=name, timeout="1 hour")(f)
    elif kind == 3:
        async def f():
            await asyncio.sleep(5)
        app.task("every 3 seconds", name=name, timeout=0.3)(f)
    else:
        app.task(name=name, disabled=True)(lambda: None)
app.start()
for i in range(2, 200, 5):
    app.tasks[f"t{i:03d}"].run()
"""

# Contrast of every visible status text against what is behind it (WCAG 2).
CONTRAST_JS = """
(panel) => {
  const parse = (t) => { const m = /rgba?\\(([^)]+)\\)/.exec(t); if (!m) return null;
    const p = m[1].split(/[,\\s/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = (n) => { for (; n && n.nodeType === 1; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  const texts = panel.querySelectorAll(
    '.ns-badge, .ns-last, .ns-run-words, .ns-notice-text, .ns-failures, '
    + '.notebook-sched-end-state, .ns-fields dd, .ns-cond-error, [data-testid="ns-retry"]');
  for (const n of texts) {
    if (!n.offsetParent || !n.textContent.trim()) continue;
    const c = parse(getComputedStyle(n).color), b = bg(n);
    const mix = (k) => c[k] * c.a + b[k] * (1 - c.a);
    const s = {r: mix("r"), g: mix("g"), b: mix("b")};
    const l1 = lum(s), l2 = lum(b);
    out.push({text: n.textContent.trim().slice(0, 40), color: getComputedStyle(n).color,
              ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)});
  }
  return out;
}
"""


# How a narrow panel shows its first rows: what does not fit (a cut name, a
# hidden schedule, an outcome over more than two lines, a notice squeezed
# beside its buttons) and the buttons not wholly inside the window.
LAYOUT_JS = """
(panel) => {
  const lines = (n) => {
    const cs = getComputedStyle(n);
    const line = parseFloat(cs.lineHeight) || 1.25 * parseFloat(cs.fontSize);
    return Math.round(n.getBoundingClientRect().height / line);
  };
  const out = [];
  const rows = [...panel.querySelectorAll('[data-testid="ns-row"]')];
  for (const row of [...rows.slice(0, 8), rows[rows.length - 1]]) {
    const name = row.querySelector(".ns-name"), sched = row.querySelector(".ns-col-sched");
    const last = row.querySelector(".ns-last");
    if (name.scrollWidth > name.clientWidth + 1 || name.scrollHeight > name.clientHeight + 1) {
      out.push([row.dataset.task, "name cut"]);
    }
    if (!sched.offsetParent || !sched.textContent.trim()) out.push([row.dataset.task, "no plan"]);
    if (lines(last) > 2) out.push([row.dataset.task, "outcome lines", lines(last)]);
  }
  const notice = panel.querySelector(".ns-notice-text");
  if (notice.offsetParent && lines(notice) > 3) out.push(["notice lines", lines(notice)]);
  return out;
}
"""

# The buttons of the table's first rows that are not wholly inside the window.
BUTTONS_OUTSIDE_JS = """
(panel) => {
  const out = [];
  const rows = [...panel.querySelectorAll('[data-testid="ns-row"]')].slice(0, 8);
  for (const row of rows) {
    for (const id of ["ns-run", "ns-terminate", "ns-pause"]) {
      const r = row.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
      if (r.width === 0 || r.left < 0 || r.right > window.innerWidth) {
        out.push([row.dataset.task, id, r.left, r.right]);
      }
    }
  }
  return out;
}
"""


def countdown_seconds(text: str) -> float:
    """``0:59:58`` or ``12.3 s`` -> seconds."""
    text = text.strip()
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", text):
        h, mi, s = map(int, m.groups())
        return h * 3600 + mi * 60 + s
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s+s", text):  # a no-break space
        return float(m.group(1))
    raise ValueError(f"not a countdown: {text!r}")


def colour(locator: Any) -> str:
    return locator.evaluate("n => getComputedStyle(n).color")


def enabled(locator: Any) -> bool:
    return not locator.is_disabled()


def header_buttons(panel: Any) -> tuple[bool, bool, bool]:
    return (
        enabled(by_id(panel, "ns-start")),
        enabled(by_id(panel, "ns-shutdown")),
        enabled(by_id(panel, "ns-force")),
    )


def row_buttons(panel: Any, task: str) -> tuple[bool, bool]:
    row = by_id(panel, "ns-row", task=task)
    return enabled(by_id(row, "ns-run")), enabled(by_id(row, "ns-terminate"))


def until_true(check: Any, what: str, timeout: float = 20) -> None:
    wait_for(check, timeout, what, step=0.1)


def low_contrast(panel: Any, minimum: float = 4.5) -> list[dict[str, Any]]:
    measured = panel.evaluate(CONTRAST_JS)
    assert measured, "no status text measured"
    return [m for m in measured if m["ratio"] < minimum]


def test_buttons_timeline_failure_and_detail_in_jupyterlab(tmp_path: Path, monkeypatch):
    with serve(tmp_path, monkeypatch) as lab, browse(1400, 1100) as page:
        panel = open_notebook(page, lab, "panel.ipynb", [SETUP_CELL, "app"])
        state = by_id(panel, "ns-state")

        # Stopped: only Start acts; no row's Run or Terminate would.
        until_true(lambda: state.inner_text() == "stopped", "stopped shown")
        assert header_buttons(panel) == (True, False, False)
        assert row_buttons(panel, "breaker") == (False, False)
        assert "Start" in by_id(panel, "ns-explain").inner_text()

        by_id(panel, "ns-start").click()
        until_true(lambda: state.inner_text() == "running", "running shown")
        assert header_buttons(panel) == (False, True, True)
        until_true(lambda: row_buttons(panel, "breaker") == (True, False), "breaker runnable")
        paused = by_id(panel, "ns-row", task="paused_job")
        assert row_buttons(panel, "paused_job") == (False, False)
        assert by_id(paused, "ns-pause").inner_text() == "Resume"
        # Its three buttons on one line (once the page's fonts are in: measured, not assumed).
        tops = lambda: [by_id(paused, b).bounding_box()["y"] for b in ("ns-run", "ns-pause")]  # noqa: E731
        until_true(lambda: abs(tops()[0] - tops()[1]) < 2, "Run and Resume on one line")
        big = by_id(panel, "ns-row", task="big_job")
        assert big.locator(".notebook-sched-resources").inner_text() == "2 CPU · 4.0 GiB"

        # A live run: its Run is disabled, Terminate enabled; the countdown ticks.
        by_id(by_id(panel, "ns-row", task="long_job"), "ns-run").click()
        until_true(lambda: row_buttons(panel, "long_job") == (False, True), "long_job alive")
        long_row = by_id(panel, "ns-row", task="long_job")
        countdown = by_id(long_row, "ns-countdown")
        until_true(lambda: re.fullmatch(r"\d+:\d\d:\d\d", countdown.inner_text()), "countdown")
        first = countdown_seconds(countdown.inner_text())
        time.sleep(1.2)  # the interval being measured
        second = countdown_seconds(countdown.inner_text())
        assert 3500 < second < first <= 3600, (first, second)
        assert by_id(long_row, "ns-end-state").inner_text() == "false"
        assert by_id(long_row, "ns-status").inner_text() == "running"
        progress = by_id(long_row, "ns-progress")
        until_true(lambda: progress.is_visible(), "the run's progress")
        assert progress.inner_text() == "50% · halfway"

        # The timeline: the live run's bar grows in the browser.
        bar = by_id(panel, "ns-run-bar", task="long_job").last
        until_true(lambda: bar.get_attribute("data-status") == "run", "a live bar")
        width = bar.bounding_box()["width"]
        time.sleep(1.5)  # the growth being measured
        assert bar.bounding_box()["width"] > width
        until_true(
            lambda: by_id(panel, "ns-run-bar", task="ticker", status="success").count() >= 3,
            "ticker bars, coloured as successes",
        )
        live_colour = bar.evaluate("b => getComputedStyle(b).backgroundColor")
        by_id(long_row, "ns-terminate").click()
        until_true(lambda: bar.get_attribute("data-status") == "terminate", "the bar's end")
        assert bar.evaluate("b => getComputedStyle(b).backgroundColor") != live_colour
        until_true(lambda: row_buttons(panel, "long_job") == (True, False), "long_job idle")
        shot(page, panel, ARTIFACTS / "panel-light.png")
        shot(page, by_id(panel, "ns-timeline"), ARTIFACTS / "panel-timeline.png")

        # A failure: the notice and the count, then the run's whole record.
        notice = by_id(panel, "ns-notice")
        assert notice.is_hidden()
        by_id(by_id(panel, "ns-row", task="breaker"), "ns-run").click()
        until_true(lambda: notice.is_visible(), "the notice")
        assert "breaker failed: ValueError: bad input 42" in notice.inner_text()
        assert by_id(panel, "ns-failures").inner_text() == "1 failed run"
        by_id(panel, "ns-failures").click()  # the recent runs, failed ones only
        listed = by_id(panel, "ns-recent-run")
        until_true(
            lambda: listed.count() == 1 and listed.first.get_attribute("data-status") == "fail",
            "only the failed run listed",
        )
        failed = by_id(panel, "ns-recent-run", status="fail").first
        until_true(lambda: failed.count() == 1, "the failed run listed")
        failed.click()
        detail = by_id(panel, "ns-run-detail")
        error = by_id(detail, "ns-error")
        until_true(lambda: "ValueError: bad input 42" in error.inner_text(), "the traceback")
        trace = error.inner_text()
        assert trace.splitlines()[1].strip().startswith("File") and "in breaker" in trace
        assert "notebook_sched" not in trace  # it starts at the user's frame
        assert "reading the input file" in by_id(detail, "ns-output").inner_text()
        outcome, row_outcome = (
            detail.locator(".ns-fields dd").first,
            by_id(panel, "ns-row", task="breaker").locator(".ns-last"),  # drawn in place
        )
        assert colour(outcome) == colour(row_outcome), "the outcome in its status colour"
        # JupyterLab's own styles for an output's dl, dt, dd and pre do not reach the
        # detail: two fields a line, a traceback broken at words only.
        labels = detail.locator(".ns-fields dt")
        assert abs(labels.nth(0).bounding_box()["y"] - labels.nth(1).bounding_box()["y"]) < 2
        assert error.evaluate("e => getComputedStyle(e).wordBreak") == "normal"
        run_id = detail.get_attribute("data-run-id")
        assert run_id == failed.get_attribute("data-run-id")
        detail.evaluate("d => { d.__probe = 1; }")
        shot(page, detail, ARTIFACTS / "panel-detail.png")

        # Twenty later runs: the detail stays open, the same element.
        count = by_id(panel, "ns-run-bar", task="ticker").count()
        until_true(
            lambda: by_id(panel, "ns-run-bar", task="ticker").count() >= count + 20,
            "20 later runs",
            timeout=30,
        )
        assert detail.is_visible() and detail.get_attribute("data-run-id") == run_id
        assert detail.evaluate("d => d.__probe") == 1
        assert "ValueError: bad input 42" in error.inner_text()
        assert not low_contrast(panel), low_contrast(panel)

        by_id(panel, "ns-dismiss").click()
        until_true(lambda: notice.is_hidden(), "the notice dismissed")

        # Shutting down gracefully waits for the live run and says so; a second click forces.
        by_id(long_row, "ns-run").click()
        until_true(lambda: row_buttons(panel, "long_job") == (False, True), "long_job alive")
        by_id(panel, "ns-shutdown").click()
        until_true(lambda: state.inner_text() == "shutting down", "shutting down shown")
        assert header_buttons(panel) == (False, True, True)
        assert by_id(panel, "ns-shutdown").inner_text() == "Force now"
        explain = by_id(panel, "ns-explain").inner_text()
        # long_job is waited for; a ticker run (every 0.4 s) may be alive too at that moment.
        assert re.search(r"waiting for (1 run|2 runs) to end", explain), explain
        assert "long_job" in explain and "Force" in explain
        until_true(lambda: row_buttons(panel, "breaker") == (False, False), "no new runs")
        shot(page, panel, ARTIFACTS / "panel-shutting-down.png")
        by_id(panel, "ns-shutdown").click()
        until_true(lambda: state.inner_text() == "stopped", "stopped shown", timeout=15)
        assert header_buttons(panel) == (True, False, False)
        assert row_buttons(panel, "long_job") == (False, False)


def test_200_tasks_dark_theme_and_a_700_px_window(tmp_path: Path, monkeypatch):
    with serve(tmp_path, monkeypatch, dark=True) as lab, browse(700, 1000) as page:
        panel = open_notebook(page, lab, "many.ipynb", [MANY_TASKS_CELL, "app"])
        rows = by_id(panel, "ns-row")
        until_true(lambda: rows.count() == 200, "200 rows", timeout=30)
        until_true(
            lambda: by_id(panel, "ns-status").filter(has_text="running").count() >= 40,
            "the live runs shown",
        )
        until_true(
            lambda: (
                panel.locator(".ns-last", has_text="timed out").count() >= 1
                and panel.locator(".ns-last", has_text="failed").count() >= 1
            ),
            "failures and timeouts shown",
            timeout=30,
        )
        assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
        assert not low_contrast(panel), low_contrast(panel)

        # No horizontal scrolling; every visible row's buttons inside the window.
        output = page.locator(".jp-OutputArea-output").filter(has=panel).first
        assert output.evaluate("o => o.scrollWidth <= o.clientWidth + 1")
        assert panel.evaluate("p => p.scrollWidth <= p.clientWidth + 1")
        outside = panel.evaluate(BUTTONS_OUTSIDE_JS)
        assert outside == [], outside
        misfits = panel.evaluate(LAYOUT_JS)
        assert misfits == [], misfits
        shot(page, panel, ARTIFACTS / "panel-dark-700.png")

        # Bounded height, sticky header.
        scroll = by_id(panel, "ns-table")
        assert scroll.evaluate("s => s.clientHeight < s.scrollHeight && s.clientHeight <= 440")
        scroll.evaluate("s => { s.scrollTop = 2000; }")
        head_top = scroll.locator("th").first.bounding_box()["y"]
        assert abs(head_top - scroll.bounding_box()["y"]) < 3

        # Rows are updated in place: the same element, however often it changed.
        first_row = by_id(panel, "ns-row", task="t001")
        first_row.evaluate("r => { r.__probe = 1; }")
        text = first_row.inner_text()
        until_true(lambda: first_row.inner_text() != text, "the row updated", timeout=15)
        assert first_row.evaluate("r => r.__probe") == 1

        # Filter by name, by status; sort.
        by_id(panel, "ns-filter").fill("t01")
        visible = panel.locator('[data-testid="ns-row"]:visible')
        until_true(lambda: visible.count() == 10, "10 rows named t01*")
        names = [r.get_attribute("data-task") for r in visible.all()]
        assert names == [f"t{i:03d}" for i in range(10, 20)]
        lanes = panel.locator(".ns-lane").evaluate_all("ls => ls.map(l => l.dataset.task)")
        assert lanes and set(lanes) <= set(names), lanes  # the timeline follows the table
        by_id(panel, "ns-filter").fill("")
        # The summary's "failing" shows the tasks whose last run failed, and only them.
        by_id(panel, "ns-summary").locator("[data-filter=failed]").click()
        assert by_id(panel, "ns-filter-status").input_value() == "failed"
        until_true(lambda: visible.count() == 40, "the 40 failing rows")
        outcomes = visible.locator(".ns-last").all_inner_texts()
        assert all(o.startswith("failed") for o in outcomes), outcomes
        assert by_id(panel, "ns-shown").inner_text() == f"{len(outcomes)} of 200 tasks"
        by_id(panel, "ns-filter-status").select_option("paused")
        until_true(lambda: visible.count() == 40, "40 paused rows")
        by_id(panel, "ns-filter-status").select_option("all")
        by_id(panel, "ns-sort").select_option("last")
        until_true(lambda: visible.count() == 200, "all rows again")
        first = visible.first.locator(".ns-last").inner_text()
        assert first.startswith("failed"), first
        by_id(panel, "ns-sort").select_option("status")
        until_true(
            lambda: by_id(visible.first, "ns-status").inner_text() == "running", "running first"
        )
        scroll.evaluate("s => { s.scrollTop = 0; }")
        shot(page, panel, ARTIFACTS / "panel-200-dark.png")


def test_reload_and_kernel_restart_in_notebook_7(tmp_path: Path, monkeypatch):
    with serve(tmp_path, monkeypatch, app="notebook") as lab, browse(1200, 1000) as page:
        cells = [SETUP_CELL + "app.start()\napp.tasks['long_job'].run()\n", "app"]
        panel = open_notebook(page, lab, "nb7.ipynb", cells)
        long_row = by_id(panel, "ns-row", task="long_job")
        until_true(lambda: by_id(long_row, "ns-status").inner_text() == "running", "running")
        until_true(lambda: by_id(panel, "ns-state").inner_text() == "running", "state")
        shot(page, panel, ARTIFACTS / "panel-notebook7.png")
        # 700 px wide: the rows' schedules still shown, every button inside the window.
        page.set_viewport_size({"width": 700, "height": 1000})
        until_true(lambda: panel.evaluate(BUTTONS_OUTSIDE_JS) == [], "the buttons inside")
        assert panel.evaluate("p => p.scrollWidth <= p.clientWidth + 1")
        misfits = panel.evaluate(LAYOUT_JS)
        assert misfits == [], misfits
        shot(page, panel, ARTIFACTS / "panel-notebook7-700.png")
        page.set_viewport_size({"width": 1200, "height": 1000})
        # Saved: the file keeps the panel's output (its model id), which a
        # reloaded page draws again from the live kernel's widget.
        page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first.click()
        page.keyboard.press("Control+s")
        saved = lab.root / "nb7.ipynb"
        until_true(
            lambda: "application/vnd.jupyter.widget-view+json" in saved.read_text(),
            "the notebook saved with the panel's output",
        )

        # A reload brings the panel back live: rows drawn, a click acts.
        page.reload()
        panel = by_id(page, "ns-panel").first
        panel.wait_for(timeout=60_000)
        long_row = by_id(panel, "ns-row", task="long_job")
        until_true(lambda: by_id(long_row, "ns-status").inner_text() == "running", "live again")
        breaker = by_id(panel, "ns-row", task="breaker")
        by_id(breaker, "ns-run").click()
        until_true(
            lambda: "failed" in breaker.locator(".ns-last").inner_text(),
            "a click acted after reload",
        )

        # A kernel restart: the panel says so, its buttons are disabled, nothing ticks.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        page.locator(".lm-Menu-item", has_text=re.compile(r"^Restart Kernel")).first.click()
        page.locator(".jp-Dialog-button.jp-mod-accept, .jp-Dialog-button.jp-mod-warn").first.click()
        until_true(lambda: by_id(panel, "ns-disconnected").is_visible(), "inert", timeout=30)
        assert by_id(panel, "ns-state").inner_text() == "disconnected"
        for name in ("ns-start", "ns-shutdown", "ns-force"):
            assert by_id(panel, name).is_disabled(), name
        assert by_id(long_row, "ns-terminate").is_disabled()
        elapsed = by_id(long_row, "ns-elapsed").inner_text()
        time.sleep(1.0)  # a live panel would tick in this second
        assert by_id(long_row, "ns-elapsed").inner_text() == elapsed
        shot(page, panel, ARTIFACTS / "panel-after-restart.png")
