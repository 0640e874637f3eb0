"""The task table: every task's row in ONE widget.

A row per task as separate widgets costs a kernel message per changed cell;
with a hundred busy tasks that is thousands a second. Here the kernel sends
the table's rows as one JSON value, at most a few times a second, and the
browser draws them — countdowns included, ticking on their own from each
run's deadline. The Run / Terminate buttons drawn in the browser send a
message back, which the panel treats as a click of that row's button widget.
"""

from __future__ import annotations

import time
from typing import Any

import anywidget
import traitlets

__all__ = ["TaskTable"]

_ESM = r"""
const COLUMNS = ["task", "execution", "status", "start condition / next start",
                 "end condition", "timeout", "last outcome", "runs", "", ""];

function fmt(seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return seconds.toFixed(1) + " s";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  if (text !== undefined && text !== null) td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function line(td, text, cls) {
  const div = document.createElement("div");
  div.textContent = text;
  if (cls) div.className = cls;
  td.appendChild(div);
}

function button(td, label, cls, onclick) {
  const b = document.createElement("button");
  b.className = "jupyter-button widget-button " + cls;
  b.textContent = label;
  b.addEventListener("click", onclick);
  td.appendChild(b);
}

function render({ model, el }) {
  el.classList.add("notebook-sched-table");
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const c of COLUMNS) {
    const th = document.createElement("th");
    th.textContent = c;
    head.appendChild(th);
  }
  const thead = document.createElement("thead");
  thead.appendChild(head);
  const tbody = document.createElement("tbody");
  table.append(thead, tbody);
  el.appendChild(table);
  let skew = 0;

  const tick = () => {
    for (const span of tbody.querySelectorAll(".notebook-sched-countdown[data-deadline]")) {
      span.textContent = fmt(Number(span.dataset.deadline) - (Date.now() + skew) / 1000);
    }
  };
  const draw = () => {
    skew = model.get("server_now") * 1000 - Date.now();
    tbody.replaceChildren();
    for (const row of model.get("rows")) {
      const tr = document.createElement("tr");
      tr.dataset.task = row.name;
      cell(tr, row.name, "ns-name");
      const execution = cell(tr);
      line(execution, row.execution);
      if (row.resources) line(execution, row.resources, "notebook-sched-resources ns-small");
      cell(tr, row.status, "ns-status ns-" + row.status);
      const start = cell(tr);
      line(start, row.start);
      if (row.next) line(start, row.next, "ns-small");
      const end = cell(tr);
      if (row.end) {
        line(end, row.end);
        line(end, row.end_state, "notebook-sched-end-state ns-small ns-" + row.end_state);
      }
      const timeout = cell(tr);
      const span = document.createElement("span");
      span.className = "notebook-sched-countdown";
      if (row.deadline !== null) span.dataset.deadline = row.deadline;
      else span.textContent = row.timeout;
      timeout.appendChild(span);
      cell(tr, row.outcome, "ns-outcome");
      cell(tr, row.counts, "ns-small");
      button(cell(tr), "Run", "", () => model.send({ event: "run", task: row.name }));
      button(cell(tr), "Terminate", "mod-warning",
             () => model.send({ event: "terminate", task: row.name }));
      tbody.appendChild(tr);
    }
    tick();
  };
  model.on("change:rows", draw);
  model.on("change:server_now", draw);
  draw();
  const timer = setInterval(tick, 100);
  return () => clearInterval(timer);
}
export default { render };
"""

_CSS = """
.notebook-sched-table table { border-collapse: collapse; font-size: var(--jp-ui-font-size1, 13px); }
.notebook-sched-table th { text-align: left; font-size: smaller; padding: 2px 10px 2px 0; }
.notebook-sched-table td { padding: 3px 10px 3px 0; vertical-align: middle; }
.notebook-sched-table tbody tr { border-top: 1px solid var(--jp-border-color2, #ddd); }
.notebook-sched-table .ns-name { font-weight: bold; }
.notebook-sched-table button { width: auto; padding: 0 14px; }
.notebook-sched-table .ns-small { font-size: smaller; color: var(--jp-ui-font-color2, #666); }
.notebook-sched-table .ns-true { color: #b00; }
.notebook-sched-table .ns-false { color: #070; }
.notebook-sched-table .ns-running, .notebook-sched-table .ns-terminating { font-weight: bold; }
.notebook-sched-table .ns-terminating { color: #b60; }
"""


class TaskTable(anywidget.AnyWidget):
    """The rows of the panel's table (a list of plain dicts, one per task)."""

    _esm = _ESM
    _css = _CSS
    # Plain dicts, not validated item by item (that cost 10 ms per 1,000 rows).
    rows: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    server_now = traitlets.Float(0.0).tag(sync=True)

    def show(self, rows: list[dict[str, Any]]) -> None:
        if rows != self.rows:
            with self.hold_sync():  # one message
                self.server_now = time.time()
                self.rows = rows
