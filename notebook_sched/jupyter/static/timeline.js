// timeline.js: a lane per task, a bar per run over the last minutes. A live
// run's bar grows here, from its start to now, with no kernel message; it
// takes its outcome's colour when the run ends. Hover for a summary, click
// for the run's detail.
//
// Cheap with thousands of bars: a bar is placed once, in percent of the span
// from a fixed origin, inside a "film" that one transform per lane slides as
// time passes; a tick touches only the films and the live bars.

const SPANS = [["1 min", 60], ["5 min", 300], ["15 min", 900], ["1 h", 3600]];
const MAX_LANES_SHOWN = 200;
const BARS_PER_LANE = 150; // the newest; older ones are dropped from the picture

function makeTimeline(ctx) {
  const span = h("select", { class: "ns-input", testid: "ns-timeline-span", title: "How far back the timeline reaches" },
    ...SPANS.map(([t, s]) => h("option", { value: s, text: "last " + t })));
  span.value = "60";
  let chosen = false; // until the user picks a span, it widens to cover the latest runs
  const axisStart = h("span", { class: "ns-small" });
  const axisEnd = h("span", { class: "ns-small", text: "now" });
  const lanes = h("div", { class: "ns-lanes" });
  const empty = h("div", { class: "ns-empty", text: "No runs in this span yet" });
  const legend = h("span", { class: "ns-legend ns-small" },
    ...["run", "success", "fail", "terminate"].map((s) => h("span", {},
      h("span", { class: "ns-mark ns-bg-" + RUN_STATUS[s] }), " " + RUN_WORDS[s])));
  const node = h("div", { class: "ns-timeline", testid: "ns-timeline" },
    h("div", { class: "ns-section-head" }, h("span", { class: "ns-section-title", text: "Timeline" }), span, legend),
    h("div", { class: "ns-axis" }, h("span", { class: "ns-lane-label" }), axisStart, h("span", { class: "ns-spacer" }), axisEnd),
    lanes, empty);
  const laneOf = new Map(); // task -> {node, film, bars: Map(run id -> bar)}
  const live = new Map(); // run id -> bar of a live run
  let origin = null, width = 60, lastPrune = 0;

  lanes.addEventListener("click", (e) => {
    const bar = e.target.closest("[data-run-id]");
    if (bar) ctx.openRun(Number(bar.dataset.runId), bar.dataset.task);
  });
  // The summary is made when the pointer comes, not for every bar on every change.
  lanes.addEventListener("mouseover", (e) => {
    const bar = e.target.closest("[data-run-id]");
    const r = bar && ctx.runs.get(Number(bar.dataset.runId));
    if (!r) return;
    const [id, task, , start, end, words, attempt] = r;
    bar.title = `${task} #${id}${attempt > 1 ? ` (attempt ${attempt})` : ""}: ${words}\n`
      + `started ${clockTime(start)}, ${end === null ? "running for " + clockDur(ctx.now() - start) : "took " + spanDur(end - start)}`;
  });
  span.addEventListener("input", () => { chosen = true; rebuild(); });

  function lane(task) {
    let l = laneOf.get(task);
    if (!l) {
      const film = h("div", { class: "ns-film" });
      const track = h("div", { class: "ns-track" }, film);
      const label = h("span", { class: "ns-lane-label ns-ellipsis", text: task, title: task });
      l = { node: h("div", { class: "ns-lane", "data-task": task }, label, track), film, bars: new Map() };
      laneOf.set(task, l);
    }
    return l;
  }
  const pct = (t) => ((t - origin) / width * 100).toFixed(4) + "%";

  function place(r, now) {
    const [id, task, status, start, end] = r;
    const l = lane(task);
    let bar = l.bars.get(id);
    if (!bar) {
      bar = h("div", { class: "ns-bar", testid: "ns-run-bar", "data-run-id": id, "data-task": task });
      l.bars.set(id, bar);
      l.film.append(bar);
      if (l.bars.size > BARS_PER_LANE) {
        const oldest = l.bars.keys().next().value;
        l.bars.get(oldest).remove();
        l.bars.delete(oldest);
        live.delete(oldest);
      }
    }
    setAttr(bar, "data-status", status);
    const cls = "ns-bar ns-bg-" + (RUN_STATUS[status] || "muted") + (status === "run" ? " ns-live" : "");
    if (bar.className !== cls) bar.className = cls;
    bar.style.left = pct(start);
    bar.style.width = (((end === null ? now : end) - start) / width * 100).toFixed(4) + "%";
    if (status === "run") live.set(id, bar); else live.delete(id);
  }

  function fit(now) {
    // Wide enough for the latest 30 runs and every live one.
    let oldest = now;
    for (const r of Array.from(ctx.runs.values()).slice(-30)) if (r[3] < oldest) oldest = r[3];
    for (const id of live.keys()) { const r = ctx.runs.get(id); if (r && r[3] < oldest) oldest = r[3]; }
    const fitting = SPANS.find(([, s]) => s >= now - oldest) || SPANS[SPANS.length - 1];
    if (Number(span.value) < fitting[1]) { span.value = String(fitting[1]); return true; }
    return false;
  }

  // Everything again: a new span, a new origin, or a snapshot.
  function rebuild() {
    const now = ctx.now();
    width = Number(span.value);
    origin = now - width;
    for (const l of laneOf.values()) { l.film.replaceChildren(); l.bars.clear(); }
    live.clear();
    for (const r of ctx.runs.values()) {
      if (r[4] === null || r[4] >= origin) place(r, now);
    }
    arrange();
    slide(now);
  }

  // New or ended runs only.
  function update(changed) {
    const now = ctx.now();
    if (origin === null) return rebuild();
    if (!chosen && fit(now)) return rebuild();
    for (const r of changed) place(r, now);
    arrange();
  }

  function arrange() {
    // Lanes for the tasks with bars that the table shows, in its order (filtered
    // and sorted as it is); a task no longer defined keeps its lane, last, while
    // the table shows every task.
    const names = ctx.shownTasks().filter((n) => laneOf.has(n) && laneOf.get(n).bars.size);
    const filtered = ctx.tasksFiltered();
    if (!filtered) {
      const defined = new Set(ctx.taskNames());
      for (const [n, l] of laneOf) if (l.bars.size && !defined.has(n)) names.push(n);
    }
    setText(empty, filtered ? "No runs of the tasks the table shows in this span" : "No runs in this span yet");
    const wanted = names.slice(0, MAX_LANES_SHOWN).map((n) => laneOf.get(n).node);
    let at = lanes.firstChild;
    for (const l of wanted) {
      if (at === l) at = at.nextSibling;
      else lanes.insertBefore(l, at);
    }
    while (at) { const next = at.nextSibling; at.remove(); at = next; }
    empty.hidden = wanted.length > 0;
  }

  // Time passes: slide the films, grow the live bars, now and then drop what left the span.
  function slide(now) {
    const shift = ((now - width - origin) / width * 100).toFixed(4);
    for (const l of laneOf.values()) l.film.style.transform = `translateX(-${shift}%)`;
    for (const [id, bar] of live) {
      const r = ctx.runs.get(id);
      if (r) bar.style.width = ((now - r[3]) / width * 100).toFixed(4) + "%";
    }
    setText(axisStart, spanDur(width) + " ago");
  }
  function draw() {
    const now = ctx.now();
    if (origin === null) return rebuild();
    if (now - origin > 10 * width) return rebuild(); // keep the numbers small
    if (!chosen && fit(now)) return rebuild();
    slide(now);
    if (now - lastPrune > 5) {
      lastPrune = now;
      const from = now - width;
      for (const l of laneOf.values()) {
        for (const [id, bar] of l.bars) {
          const r = ctx.runs.get(id);
          if (!r || (r[4] !== null && r[4] < from)) { bar.remove(); l.bars.delete(id); }
        }
      }
      arrange();
    }
  }
  return { node, draw, update, rebuild, arrange };
}
