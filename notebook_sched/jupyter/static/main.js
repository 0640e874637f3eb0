// main.js: one view of the panel. It asks the kernel for a snapshot, then
// applies the kernel's diffs in order (a gap asks for a new snapshot), ticks
// what changes with time, and turns inert when its kernel connection is gone
// (a restarted kernel: anywidget would otherwise keep this JS running).

const TICK_MS = 250;
const MAX_RUNS_KEPT = 3000;

function render({ model, el }) {
  el.classList.add("notebook-sched-root");
  const root = h("div", { class: "ns-panel", testid: "ns-panel" });
  el.append(root);
  let skew = 0, seq = null, early = [], timer = null;
  const ctx = {
    model, inert: false,
    id: Math.random().toString(36).slice(2),
    runs: new Map(),
    now: () => (Date.now() + skew) / 1000,
    send: (msg) => { if (!ctx.inert) model.send(msg); },
    openRun: (runId, task) => detail.show(runId, task),
    showRuns: (status) => recent.showStatus(status),
    taskNames: () => table.names(),
    shownTasks: () => table.shownNames(),
    tasksFiltered: () => table.filtered(),
  };
  const header = makeHeader(ctx);
  const table = makeTable(ctx);
  const timeline = makeTimeline(ctx);
  ctx.arranged = () => timeline.arrange(); // the table's filter or order changed
  const recent = makeRecent(ctx);
  const detail = makeDetail(ctx);
  const gone = h("div", { class: "ns-gone", testid: "ns-disconnected", hidden: true,
    text: "Disconnected from the kernel: this panel is no longer live." });
  root.append(gone, header.node, table.node, detail.node, timeline.node, recent.node);

  function keepRuns(list) {
    for (const r of list) ctx.runs.set(r[0], r);
    for (const id of ctx.runs.keys()) { // the earliest kept go first
      if (ctx.runs.size <= MAX_RUNS_KEPT) break;
      ctx.runs.delete(id);
    }
  }
  function applyDiff(msg) {
    table.apply(msg.rows || {}, msg.order || null, false);
    keepRuns(msg.runs || []);
    recent.runsChanged(msg.runs || []);
    if (msg.order) recent.tasksChanged(msg.order);
    timeline.update(msg.runs || []);
  }
  function onMessage(msg) {
    if (!msg || typeof msg !== "object" || ctx.inert) return;
    if (msg.now) skew = msg.now * 1000 - Date.now();
    if (msg.kind === "snapshot") {
      seq = msg.seq;
      const rows = {};
      for (const row of msg.rows || []) rows[row.name] = row;
      table.apply(rows, msg.order || [], true);
      keepRuns(msg.runs || []);
      recent.tasksChanged(msg.order || []);
      for (const d of early) if (d.seq > seq) { seq = d.seq; applyDiff(d); }
      early = [];
      timeline.rebuild();
    } else if (msg.kind === "diff") {
      if (seq === null) { early.push(msg); return; }
      if (msg.seq <= seq) return;
      if (msg.seq !== seq + 1) { seq = null; early = [msg]; model.send({ event: "hello" }); return; }
      seq = msg.seq;
      applyDiff(msg);
    } else if (msg.kind === "runs") {
      recent.answer(msg);
    } else if (msg.kind === "detail") {
      detail.answer(msg);
    }
  }
  model.on("msg:custom", onMessage);

  function tick() {
    ctx.checkLive();
    if (ctx.inert) return;
    table.tick();
    timeline.draw();
    recent.tick();
    detail.tick();
  }

  // The colours: the theme's, checked for contrast on the real background,
  // again whenever the theme changes.
  const themed = () => pickColours(root);
  const themeWatch = new MutationObserver(themed);
  themeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class"] });
  requestAnimationFrame(themed);

  // The connection: ipywidgets marks a view whose comm died (kernel restart
  // or shutdown) with `jupyter-widgets-disconnected` and fires comm_live_update.
  function goInert() {
    if (ctx.inert) return;
    ctx.inert = true;
    root.classList.add("ns-inert");
    gone.hidden = false;
    clearInterval(timer);
    header.update();
    table.redrawAll();
    for (const b of root.querySelectorAll("button, select, input")) b.disabled = true;
  }
  const disconnected = () => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      if (n.classList.contains("jupyter-widgets-disconnected")) return true;
    }
    return false;
  };
  // And the kernel itself: a restart keeps the same page and the same model,
  // but the widget this view belongs to died with the old kernel process.
  const manager = model.widget_manager;
  const kernelOf = () => {
    try { return manager && (manager.kernel || (manager._context && manager._context.sessionContext.session?.kernel)); }
    catch (e) { return undefined; }
  };
  const kernel = kernelOf();
  const onStatus = (_, status) => {
    if (status === "restarting" || status === "autorestarting" || status === "dead") goInert();
  };
  if (kernel && kernel.statusChanged) kernel.statusChanged.connect(onStatus);
  const checkLive = () => {
    const now = kernelOf();
    if (disconnected() || (kernel && now !== undefined && now !== kernel)) goInert();
  };
  model.on("comm_live_update", checkLive);
  const liveWatch = new MutationObserver(checkLive);
  liveWatch.observe(el, { attributes: true, attributeFilter: ["class"] });
  ctx.checkLive = checkLive;

  timer = setInterval(tick, TICK_MS);
  model.send({ event: "hello" });
  recent.ask();
  return () => {
    clearInterval(timer);
    themeWatch.disconnect();
    liveWatch.disconnect();
    if (kernel && kernel.statusChanged) kernel.statusChanged.disconnect(onStatus);
    model.off("msg:custom", onMessage);
    model.off("comm_live_update", checkLive);
  };
}
export default { render };
