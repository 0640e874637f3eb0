// timeline.js: a lane per task, a bar per run over the last minutes. A live
// run's bar grows here, from its start to now, with no kernel message; it
// takes its outcome's colour when the run ends. Hover for a summary, click
// for the run's detail.

const SPANS = [["1 min", 60], ["5 min", 300], ["15 min", 900], ["1 h", 3600]];
const MAX_LANES_SHOWN = 200;

function makeTimeline(ctx) {
  const span = h("select", { class: "ns-input", testid: "ns-timeline-span", title: "How far back the timeline reaches" },
    ...SPANS.map(([t, s]) => h("option", { value: s, text: "last " + t })));
  span.value = "60";
  let chosen = false; // until the user picks a span, it widens to cover the runs known
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
  const laneOf = new Map(); // task -> {node, track}
  const bars = new Map(); // run id -> bar element

  lanes.addEventListener("click", (e) => {
    const bar = e.target.closest("[data-run-id]");
    if (bar) ctx.openRun(Number(bar.dataset.runId), bar.dataset.task);
  });
  span.addEventListener("input", () => { chosen = true; draw(); });

  function fit(now) {
    // Wide enough for the latest 30 runs and every live one.
    let oldest = now;
    for (const r of Array.from(ctx.runs.values()).slice(-30)) if (r[3] < oldest) oldest = r[3];
    for (const r of ctx.runs.values()) if (r[4] === null && r[3] < oldest) oldest = r[3];
    const need = now - oldest;
    const fitting = SPANS.find(([, s]) => s >= need) || SPANS[SPANS.length - 1];
    if (Number(span.value) < fitting[1]) span.value = String(fitting[1]);
  }

  function lane(task) {
    let l = laneOf.get(task);
    if (!l) {
      const track = h("div", { class: "ns-track" });
      const label = h("span", { class: "ns-lane-label ns-ellipsis", text: task, title: task });
      l = { node: h("div", { class: "ns-lane", "data-task": task }, label, track), track };
      laneOf.set(task, l);
    }
    return l;
  }

  function draw() {
    const now = ctx.now();
    if (!chosen) fit(now);
    const width = Number(span.value);
    const from = now - width;
    setText(axisStart, spanDur(width) + " ago");
    const used = new Set();
    let live = 0;
    for (const r of ctx.runs.values()) {
      const [id, task, status, start, end, words, attempt] = r;
      const stop = end === null ? now : end;
      if (stop < from) continue;
      if (status === "run") live++;
      used.add(task);
      let bar = bars.get(id);
      if (!bar) {
        bar = h("div", { class: "ns-bar", testid: "ns-run-bar", "data-run-id": id, "data-task": task });
        bars.set(id, bar);
      }
      const left = Math.max(0, (start - from) / width) * 100;
      const right = Math.min(1, (stop - from) / width) * 100;
      bar.style.left = left.toFixed(3) + "%";
      bar.style.width = Math.max(0, right - left).toFixed(3) + "%";
      setAttr(bar, "data-status", status);
      const cls = "ns-bar ns-bg-" + (RUN_STATUS[status] || "muted") + (status === "run" ? " ns-live" : "");
      if (bar.className !== cls) bar.className = cls;
      bar.title = `${task} #${id}${attempt > 1 ? ` (attempt ${attempt})` : ""}: ${words}\n`
        + `started ${clockTime(start)}, ${end === null ? "running for " + clockDur(now - start) : "took " + spanDur(end - start)}`;
      const track = lane(task).track;
      if (bar.parentNode !== track) track.append(bar);
    }
    for (const [id, bar] of bars) {
      const r = ctx.runs.get(id);
      if (!r || (r[4] !== null && r[4] < from)) { bar.remove(); bars.delete(id); }
    }
    // Lanes in the table's order, only for tasks with runs in the span.
    const names = ctx.taskNames().filter((n) => used.has(n));
    for (const n of used) if (!names.includes(n)) names.push(n);
    const wanted = names.slice(0, MAX_LANES_SHOWN).map((n) => lane(n).node);
    let at = lanes.firstChild;
    for (const l of wanted) {
      if (at === l) at = at.nextSibling;
      else lanes.insertBefore(l, at);
    }
    while (at) { const next = at.nextSibling; at.remove(); at = next; }
    empty.hidden = wanted.length > 0;
    return live;
  }
  return { node, draw };
}
