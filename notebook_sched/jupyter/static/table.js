// table.js: a row per task, updated in place from the kernel's diffs
// (hover and text selection survive), with filter, sort, a bounded height
// and a sticky header. Countdowns and elapsed times tick here.

const SORTS = {
  defined: null,
  name: (a, b) => a.v.name.localeCompare(b.v.name),
  status: (a, b) => statusRank(a.v) - statusRank(b.v) || a.v.name.localeCompare(b.v.name),
  next: (a, b) => (a.v.next ?? Infinity) - (b.v.next ?? Infinity) || a.v.name.localeCompare(b.v.name),
  last: (a, b) => lastRank(a.v) - lastRank(b.v) || (b.v.last?.end ?? 0) - (a.v.last?.end ?? 0),
};
const STATUS_ORDER = ["running", "terminating", "waiting", "idle", "disabled"];
function statusRank(v) { const i = STATUS_ORDER.indexOf(v.status); return i < 0 ? 9 : i; }
function lastRank(v) {
  const s = v.last ? v.last.status : "";
  return { fail: 0, crash: 0, terminate: 1, success: 2 }[s] ?? 3;
}
const FILTERS = {
  all: () => true,
  running: (v) => v.status === "running" || v.status === "terminating",
  waiting: (v) => v.status === "waiting",
  idle: (v) => v.status === "idle",
  paused: (v) => v.disabled,
  failed: (v) => v.last && (v.last.status === "fail" || v.last.status === "crash"),
};

// The table's summary: tasks by the filters that matter at a glance.
const SUMMARY = [["running", "running", "info"], ["waiting", "waiting", "warn"],
  ["failed", "failing", "error"], ["paused", "paused", "muted"]];

function countsText(counts) {
  const ok = counts.success || 0, bad = (counts.fail || 0) + (counts.crash || 0);
  const term = counts.terminate || 0;
  const parts = [];
  if (ok) parts.push(`${ok} ok`);
  if (bad) parts.push(`${bad} failed`);
  if (term) parts.push(`${term} stopped`);
  return parts.join(" · ");
}

function makeRow(ctx, name) {
  const send = (event) => ctx.send({ event, task: name });
  const el = {
    name: h("div", { class: "ns-name" }),
    kindLine: h("div", { class: "ns-small ns-kind" }),
    kind: h("span"),
    resources: h("span", { class: "notebook-sched-resources" }),
    kindRest: h("span"),
    status: badge("muted", "", "ns-status"),
    elapsed: h("span", { class: "ns-elapsed", testid: "ns-elapsed" }),
    countdown: h("span", { class: "notebook-sched-countdown", testid: "ns-countdown" }),
    left: h("span", { class: "ns-small" }),
    extra: h("div", { class: "ns-small ns-c-warn", testid: "ns-retry" }),
    progressBar: h("div", { class: "ns-progress-fill" }),
    progressText: h("div", { class: "ns-small ns-ellipsis" }),
    start: h("div", { class: "ns-small ns-clamp" }),
    next: h("div", { class: "ns-next" }),
    condError: h("div", { class: "ns-small ns-clamp ns-c-error ns-cond-error", testid: "ns-cond-error" }),
    endState: h("span", { class: "notebook-sched-end-state", testid: "ns-end-state" }),
    last: h("div", { class: "ns-last" }),
    strip: h("div", { class: "ns-strip", testid: "ns-strip" }),
    counts: h("div", { class: "ns-small" }),
    run: h("button", { class: "ns-button", testid: "ns-run", text: "Run", onclick: () => send("run") }),
    terminate: h("button", {
      class: "ns-button ns-danger", testid: "ns-terminate", text: "Terminate",
      title: "Terminate its live run now (reason: manual)", onclick: () => send("terminate"),
    }),
    pause: h("button", { class: "ns-button ns-quiet", testid: "ns-pause", text: "Pause" }),
  };
  el.kindLine.append(el.kind, el.resources, el.kindRest);
  el.pause.addEventListener("click", () => send(row.v.disabled ? "resume" : "pause"));
  el.endWrap = h("div", { class: "ns-small ns-clamp" }, "ends when true: ", el.endState);
  const timing = h("div", { class: "ns-small" }, el.elapsed, " ", el.countdown, el.left);
  el.progress = h("div", { class: "ns-progress", testid: "ns-progress" },
    h("div", { class: "ns-progress-track" }, el.progressBar), el.progressText);
  const tr = h("tr", { testid: "ns-row", "data-task": name },
    h("td", { class: "ns-col-task" }, el.name, el.kindLine),
    h("td", { class: "ns-col-status" }, el.status, timing, el.progress, el.extra),
    h("td", { class: "ns-col-sched" }, el.start, el.next, el.endWrap, el.condError),
    h("td", { class: "ns-col-last" }, el.last, el.strip, el.counts),
    h("td", { class: "ns-col-actions" }, h("div", { class: "ns-actions" }, el.run, el.terminate, el.pause)));
  el.strip.addEventListener("click", (e) => {
    const id = e.target.dataset && e.target.dataset.runId;
    if (id) ctx.openRun(Number(id), name);
  });
  el.last.addEventListener("click", () => { if (row.v.last) ctx.openRun(row.v.last.run_id, name); });
  const row = { tr, el, v: { name } };
  return row;
}

function drawRow(row, v, inert) {
  const el = row.el;
  row.v = v;
  if (el.name.textContent !== v.name) el.name.replaceChildren(...breakable(v.name));
  el.name.title = v.name;
  const timeout = v.timeout === null || v.timeout === undefined ? "no timeout" : "timeout " + spanDur(v.timeout);
  const pool = v.pool ? "pool " + v.pool : "";
  setText(el.kind, v.execution + (v.resources ? " · " : ""));
  setText(el.resources, v.resources);
  setText(el.kindRest, " · " + [pool, timeout].filter(Boolean).join(" · "));
  // An inert panel (its kernel gone) does not know the task's status any more.
  setBadge(el.status, inert ? "muted" : TASK_STATUS[v.status] || "muted", inert ? "unknown" : v.status);
  setAttr(el.status, "data-status", v.status);
  setText(el.start, v.start);
  el.start.title = "start condition: " + v.start;
  setText(el.condError, v.cond_error ? "⚠ " + v.cond_error : "");
  el.condError.title = v.cond_trace || "";
  el.condError.hidden = !v.cond_error;
  el.endWrap.hidden = !v.end;
  if (v.end) {
    el.endWrap.title = "end condition: " + v.end;
    el.endWrap.firstChild.textContent = v.end + " · ";
    const state = v.end_state ? "true" : "false";
    setText(el.endState, state);
    el.endState.className = "notebook-sched-end-state ns-c-" + (v.end_state ? "warn" : "muted");
  }
  if (v.last) {
    setText(el.last, v.last.words);
    el.last.className = "ns-last ns-link ns-c-" + (RUN_STATUS[v.last.status] || "muted");
    el.last.title = v.last.words + " — click for the run's detail";
  } else {
    setText(el.last, v.status === "running" || v.status === "terminating" ? "first run in progress" : "no runs yet");
    el.last.className = "ns-last ns-muted";
    el.last.title = "";
  }
  drawStrip(el.strip, v.strip || []);
  el.progress.hidden = !v.progress || inert;
  if (v.progress) {
    const [fraction, message] = v.progress;
    el.progressBar.style.width = (fraction * 100).toFixed(1) + "%";
    setText(el.progressText, Math.round(fraction * 100) + "%" + (message ? " · " + message : ""));
    el.progress.title = el.progressText.textContent;
  }
  const live = v.status === "running" || v.status === "terminating";
  el.run.disabled = inert || !v.can_run;
  el.run.title = v.can_run ? "Start one run now" : "Nothing to do: " + v.why_not_run;
  el.terminate.disabled = inert || !v.can_terminate;
  if (!v.can_terminate) el.terminate.title = live ? "Already terminating" : "No run of it is alive";
  else if (v.status === "waiting") el.terminate.title = "Take its waiting run out of the pool's queue";
  else el.terminate.title = "Terminate its live run now (reason: manual)";
  setText(el.pause, v.disabled ? "Resume" : "Pause");
  el.pause.disabled = inert;
  el.pause.title = v.disabled ? "Let it start runs again" : "No new run starts until Resume (a live run goes on)";
  row.ticks = live || v.next !== null || !!v.last || !!v.retry || v.status === "waiting" || !!v.missed;
}

function drawStrip(node, strip) {
  const key = strip.map((m) => m[0] + m[1]).join(",");
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  node.replaceChildren(...strip.map(([id, status]) => h("span", {
    class: "ns-mark ns-bg-" + (RUN_STATUS[status] || "muted"), "data-run-id": id,
    "data-status": status, title: `run #${id}: ${RUN_WORDS[status] || status}`,
  })));
}

// What changes with time alone, drawn from the row's timestamps.
function tickRow(row, now) {
  const v = row.v, el = row.el;
  const live = v.status === "running" || v.status === "terminating";
  const timed = live && v.deadline;
  setText(el.elapsed, live && v.started ? "for " + clockDur(now - v.started) + (timed ? " ·" : "") : "");
  // Past its deadline a run is being stopped (a busy loop may take a moment): not "0.0 s left".
  const over = timed && v.deadline - now <= 0;
  setText(el.countdown, timed ? (over ? "timing out" : clockDur(v.deadline - now)) : "");
  const cls = "notebook-sched-countdown" + (over ? " ns-c-warn" : "");
  if (el.countdown.className !== cls) el.countdown.className = cls;
  setText(el.left, timed ? (over ? "" : " left") : live ? " · no timeout" : "");
  let extra = "";
  if (v.waits_for === "run id") extra = "waiting for a run id: the run history takes no writes";
  else if (v.status === "waiting") extra = `waiting for a slot of pool ${v.pool}` + (v.queue ? ` · #${v.queue} in line` : "");
  else if (v.retry) extra = `retry (attempt ${v.retry[0]}) ` + (v.retry[1] - now < 1 ? "now" : relTime(v.retry[1], now));
  else if (v.missed) extra = `caught up: ${v.missed} missed run${v.missed === 1 ? "" : "s"}`;
  setText(el.extra, extra);
  el.extra.title = extra;
  el.extra.hidden = !extra;
  let next = "";
  if (v.held) next = v.held;
  else if (v.next !== null && v.next !== undefined) next = v.next - now < 1 ? "due now" : "next " + relTime(v.next, now);
  else if (!live && v.start !== "only when asked" && v.status !== "disabled") next = "waits for an event";
  setText(el.next, next);
  el.next.title = v.next ? clockTime(v.next) : "";
  const ended = v.last && v.last.end ? "ended " + relTime(v.last.end, now) : "";
  const took = v.last && v.last.runtime !== null && v.last.runtime !== undefined ? "took " + spanDur(v.last.runtime) : "";
  setText(el.counts, [countsText(v.counts || {}), took, ended].filter(Boolean).join(" · "));
}

function makeTable(ctx) {
  const rows = new Map();
  let order = [];
  const filter = h("input", { class: "ns-input", testid: "ns-filter", type: "search", placeholder: "Filter tasks by name" });
  const status = h("select", { class: "ns-input", testid: "ns-filter-status", title: "Show tasks by status" },
    ...Object.keys(FILTERS).map((k) => h("option", { value: k, text: k === "all" ? "all statuses" : k === "failed" ? "last run failed" : k })));
  const sort = h("select", { class: "ns-input", testid: "ns-sort", title: "Sort the tasks" },
    ...[["defined", "in definition order"], ["name", "by name"], ["status", "by status"], ["next", "by next start"], ["last", "failed first"]]
      .map(([k, t]) => h("option", { value: k, text: t })));
  const shown = h("span", { class: "ns-small", testid: "ns-shown" });
  const summary = h("span", { class: "ns-summary ns-small", testid: "ns-summary" });
  summary.addEventListener("click", (e) => {
    const which = e.target.dataset && e.target.dataset.filter;
    if (!which) return;
    status.value = status.value === which ? "all" : which;
    scroll.scrollTop = 0;
    arrange();
  });
  const tbody = h("tbody");
  const head = h("tr", {}, ...["Task", "Status", "Schedule", "Last runs", ""].map((t, i) =>
    h("th", { class: ["ns-col-task", "ns-col-status", "ns-col-sched", "ns-col-last", "ns-col-actions"][i], text: t })));
  const empty = h("div", { class: "ns-empty", text: "No tasks yet: define one with @app.task" });
  const scroll = h("div", { class: "ns-table-scroll", testid: "ns-table" },
    h("table", { class: "ns-table" }, h("thead", {}, head), tbody), empty);
  const tools = h("div", { class: "ns-tools" }, filter, status, sort, summary, shown);
  const node = h("div", { class: "ns-tasks" }, tools, scroll);

  function arrange() {
    const text = filter.value.trim().toLowerCase();
    const keep = FILTERS[status.value] || FILTERS.all;
    let list = order.map((n) => rows.get(n)).filter(Boolean);
    const cmp = SORTS[sort.value];
    if (cmp) list = list.slice().sort(cmp);
    let visible = 0;
    const counts = Object.fromEntries(SUMMARY.map(([k]) => [k, 0]));
    for (const row of list) {
      const show = (!text || row.v.name.toLowerCase().includes(text)) && !!keep(row.v);
      if (row.tr.hidden === show) row.tr.hidden = !show;
      if (show) visible++;
      for (const [k] of SUMMARY) if (FILTERS[k](row.v)) counts[k]++;
    }
    drawSummary(counts);
    // Move rows only where the order differs: the others stay put (hover survives).
    let at = tbody.firstChild;
    for (const row of list) {
      if (at === row.tr) at = at.nextSibling;
      else tbody.insertBefore(row.tr, at);
    }
    setText(shown, rows.size ? (visible === rows.size ? `${rows.size} tasks` : `${visible} of ${rows.size} tasks`) : "");
    empty.hidden = rows.size > 0;
    if (ctx.arranged) ctx.arranged();
  }
  function drawSummary(counts) {
    const key = SUMMARY.map(([k]) => counts[k]).join(",") + status.value;
    if (summary.dataset.key === key) return;
    summary.dataset.key = key;
    summary.replaceChildren(...SUMMARY.filter(([k]) => counts[k]).map(([k, word, family]) => h("span", {
      class: "ns-link ns-c-" + family + (status.value === k ? " ns-chosen" : ""), "data-filter": k,
      text: `${counts[k]} ${word}`,
      title: status.value === k ? "Show every task again" : `Show only the ${word} tasks`,
    })));
  }
  for (const input of [filter, status, sort]) input.addEventListener("input", () => { scroll.scrollTop = 0; arrange(); });

  function apply(changes, newOrder, full) {
    if (full) {
      for (const row of rows.values()) row.tr.remove();
      rows.clear();
    }
    for (const [name, change] of Object.entries(changes)) {
      let row = rows.get(name);
      if (change === null) {
        if (row) { row.tr.remove(); rows.delete(name); }
        continue;
      }
      if (!row) {
        if (!change.status) continue; // a change to a row this view never had: the next snapshot brings it
        row = makeRow(ctx, name);
        rows.set(name, row);
      }
      drawRow(row, { ...row.v, ...change }, ctx.inert);
      tickRow(row, ctx.now());
    }
    if (newOrder) order = newOrder;
    arrange();
  }
  function tick() {
    const now = ctx.now();
    for (const row of rows.values()) if (row.ticks && !row.tr.hidden) tickRow(row, now);
  }
  function redrawAll() { for (const row of rows.values()) drawRow(row, row.v, ctx.inert); }
  function shownNames() {
    const names = [];
    for (let tr = tbody.firstChild; tr; tr = tr.nextSibling) if (!tr.hidden) names.push(tr.dataset.task);
    return names;
  }
  const filtered = () => !!filter.value.trim() || status.value !== "all";
  return { node, apply, tick, redrawAll, names: () => order, shownNames, filtered, row: (n) => rows.get(n) };
}
