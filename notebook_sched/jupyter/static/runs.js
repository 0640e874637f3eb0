// runs.js: the recent runs, filterable by task and status, paging back
// through the whole history (the kernel reads it with app.runs()), and one
// run's detail: its whole record, its output growing while it runs, its
// traceback from the user's frame. The detail stays open while runs come and go.

const RUN_FILTERS = [["", "all outcomes"], ["run", "running"], ["success", "succeeded"],
  ["fail", "failed"], ["terminate", "terminated"], ["crash", "crashed"]];
const PAGE_SIZE = 25;

function makeRecent(ctx) {
  const task = h("select", { class: "ns-input", testid: "ns-runs-task", title: "Runs of one task" },
    h("option", { value: "", text: "all tasks" }));
  const status = h("select", { class: "ns-input", testid: "ns-runs-status", title: "Runs with one outcome" },
    ...RUN_FILTERS.map(([v, t]) => h("option", { value: v, text: t })));
  const newer = h("button", { class: "ns-button ns-quiet", testid: "ns-runs-newer", text: "‹ Newer" });
  const older = h("button", { class: "ns-button ns-quiet", testid: "ns-runs-older", text: "Older ›" });
  const where = h("span", { class: "ns-small" });
  const list = h("div", { class: "ns-recent" });
  const node = h("div", { class: "ns-runs" },
    h("div", { class: "ns-section-head" }, h("span", { class: "ns-section-title", text: "Recent runs" }),
      task, status, h("span", { class: "ns-spacer" }), where, newer, older),
    list);
  let offset = 0, more = false, req = 0, shown = [], taskNames = "";

  function ask() {
    req += 1;
    ctx.send({ event: "runs", req: ctx.id + ":" + req, task: task.value, status: status.value, offset, limit: PAGE_SIZE });
  }
  task.addEventListener("input", () => { offset = 0; ask(); });
  status.addEventListener("input", () => { offset = 0; ask(); });
  newer.addEventListener("click", () => { offset = Math.max(0, offset - PAGE_SIZE); ask(); });
  older.addEventListener("click", () => { offset += PAGE_SIZE; ask(); });
  list.addEventListener("click", (e) => {
    const item = e.target.closest("[data-run-id]");
    if (item) ctx.openRun(Number(item.dataset.runId), item.dataset.task);
  });

  function item(r) {
    const [id, name, st, start, end, words, attempt] = r;
    return h("div", { class: "ns-recent-run", testid: "ns-recent-run", "data-run-id": id, "data-task": name,
      "data-status": st, title: "Show this run's detail" },
      h("span", { class: "ns-run-id", text: "#" + id }),
      h("span", { class: "ns-run-task ns-ellipsis", text: name }),
      h("span", { class: "ns-run-words ns-ellipsis ns-c-" + (RUN_STATUS[st] || "muted"), text: words + (attempt > 1 ? ` (attempt ${attempt})` : "") }),
      h("span", { class: "ns-run-when ns-small", "data-start": start, "data-end": end ?? "" }));
  }
  function drawList() {
    list.replaceChildren(...shown.map(item));
    if (!shown.length) list.append(h("div", { class: "ns-empty", text: offset ? "No older runs" : "No runs yet" }));
    newer.disabled = offset === 0;
    older.disabled = !more;
    setText(where, shown.length ? `${offset + 1}–${offset + shown.length}` : "");
    tick();
  }
  function tick() {
    const now = ctx.now();
    for (const span of list.querySelectorAll(".ns-run-when")) {
      const start = Number(span.dataset.start), end = span.dataset.end ? Number(span.dataset.end) : null;
      setText(span, end === null ? "running " + clockDur(now - start) : spanDur(end - start) + " · " + relTime(end, now));
    }
  }
  function answer(msg) {
    if (msg.req !== ctx.id + ":" + req) return;
    shown = msg.records || [];
    more = !!msg.more;
    drawList();
  }
  // New and finished runs join the first page as they come (when they match).
  function runsChanged(changed) {
    if (offset !== 0 || !changed.length) return;
    const byId = new Map(shown.map((r) => [r[0], r]));
    for (const r of changed) {
      if (task.value && r[1] !== task.value) continue;
      if (status.value && r[2] !== status.value) { byId.delete(r[0]); continue; }
      byId.set(r[0], r);
    }
    const next = [...byId.values()].sort((a, b) => b[0] - a[0]);
    if (next.length > PAGE_SIZE) more = true;
    shown = next.slice(0, PAGE_SIZE);
    drawList();
  }
  function tasksChanged(names) {
    const key = names.join("\n");
    if (key === taskNames) return;
    taskNames = key;
    const keep = task.value;
    task.replaceChildren(h("option", { value: "", text: "all tasks" }), ...names.map((n) => h("option", { value: n, text: n })));
    task.value = names.includes(keep) ? keep : "";
  }
  function showStatus(value) {
    status.value = value;
    offset = 0;
    ask();
    node.scrollIntoView({ block: "nearest" });
  }
  return { node, ask, answer, runsChanged, tasksChanged, tick, showStatus };
}

function makeDetail(ctx) {
  const title = h("span", { class: "ns-section-title" });
  const close = h("button", { class: "ns-button ns-quiet", testid: "ns-detail-close", text: "Close", title: "Close the run's detail" });
  const fields = h("dl", { class: "ns-fields" });
  const output = h("pre", { class: "ns-pre", testid: "ns-output" });
  const error = h("pre", { class: "ns-pre ns-c-error", testid: "ns-error" });
  const stopped = h("pre", { class: "ns-pre ns-small" });
  const errorBox = h("div", {}, h("div", { class: "ns-label", text: "Traceback (from your code)" }), error);
  const stoppedBox = h("details", {}, h("summary", { class: "ns-small", text: "How it was stopped (technical)" }), stopped);
  const node = h("div", { class: "ns-detail", testid: "ns-run-detail" },
    h("div", { class: "ns-section-head" }, title, h("span", { class: "ns-spacer" }), close),
    fields, h("div", { class: "ns-label", text: "Output" }), output, errorBox, stoppedBox);
  node.hidden = true;
  let open = null; // {run_id, task, record}
  close.addEventListener("click", () => { open = null; node.hidden = true; });

  function field(label, value, cls) {
    return [h("dt", { text: label }), h("dd", { class: cls || "", text: value })];
  }
  function draw() {
    if (!open) return;
    const r = open.record;
    setAttr(node, "data-run-id", open.run_id);
    setText(title, `Run #${open.run_id} of ${open.task}`);
    if (!r) {
      fields.replaceChildren(...field("status", open.missing ? "not in the history" : "loading…"));
      return;
    }
    setAttr(node, "data-status", r.status);
    const now = ctx.now();
    const runtime = r.end === null ? "running for " + clockDur(now - r.start) : spanDur(r.runtime);
    fields.replaceChildren(
      ...field("outcome", r.words, "ns-c-" + (RUN_STATUS[r.status] || "muted")),
      ...field("reason", r.reason || "—"),
      ...field("start", clockTime(r.start)), ...field("end", r.end === null ? "—" : clockTime(r.end)),
      ...field("runtime", runtime), ...field("attempt", String(r.attempt)),
      ...field("result", r.result === null ? "—" : r.result));
    // Keep the reader's place: follow the end only if they were at the end.
    const atEnd = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    setText(output, r.output || (r.status === "run" ? "(nothing written yet)" : "(nothing written)"));
    if (atEnd) output.scrollTop = output.scrollHeight;
    setText(error, r.error);
    errorBox.hidden = !r.error;
    setText(stopped, r.how_stopped);
    stoppedBox.hidden = !r.how_stopped;
  }
  function show(runId, task) {
    if (!open || open.run_id !== runId) open = { run_id: runId, task, record: null };
    node.hidden = false;
    draw();
    ctx.send({ event: "detail", run_id: runId, task });
    node.scrollIntoView({ block: "nearest" });
  }
  function answer(msg) {
    if (!open || msg.run_id !== open.run_id) return;
    open.record = msg.missing ? null : msg;
    open.missing = !!msg.missing;
    draw();
  }
  function tick() { if (open && open.record && open.record.end === null) draw(); }
  return { node, show, answer, tick };
}
