// header.js: the scheduler's state and buttons, what a shutdown waits for,
// the failure count, and the failure notice (until dismissed).

const STATE_WORDS = { running: "running", shutting_down: "shutting down", stopped: "stopped" };

function makeHeader(ctx) {
  const state = badge("muted", "", "ns-state");
  const failures = h("span", { class: "ns-failures ns-link", testid: "ns-failures",
    title: "Show the failed runs", onclick: () => ctx.showRuns("fail") });
  const start = h("button", {
    class: "ns-button ns-primary", testid: "ns-start", text: "Start",
    title: "Start the scheduler: tasks run when their start conditions say",
    onclick: () => ctx.send({ event: "start" }),
  });
  const shutdown = h("button", {
    class: "ns-button", testid: "ns-shutdown", text: "Shut down",
    onclick: () => ctx.send({ event: "shutdown" }),
  });
  const force = h("button", {
    class: "ns-button ns-danger", testid: "ns-force", text: "Force shut down",
    title: "Terminate every live run now (reason: shutdown) and stop",
    onclick: () => ctx.send({ event: "force" }),
  });
  const explain = h("div", { class: "ns-explain", testid: "ns-explain" });
  const bar = h("div", { class: "ns-header" },
    h("span", { class: "ns-title", text: "notebook_sched" }), state, failures,
    h("span", { class: "ns-header-buttons" }, start, shutdown, force));

  const noticeText = h("span", { class: "ns-notice-text" });
  const noticeShow = h("button", {
    class: "ns-button", text: "Show run",
    onclick: () => { const n = ctx.model.get("notice"); if (n.run_id) ctx.openRun(n.run_id, n.task); },
  });
  const noticeDismiss = h("button", {
    class: "ns-button", testid: "ns-dismiss", text: "Dismiss",
    onclick: () => ctx.send({ event: "dismiss" }),
  });
  const notice = h("div", { class: "ns-notice ns-c-error", testid: "ns-notice", role: "alert" },
    h("span", { class: "ns-notice-icon", text: "⚠" }), noticeText, noticeShow, noticeDismiss);
  notice.hidden = true;
  const node = h("div", {}, bar, explain, notice);

  function update() {
    const head = ctx.model.get("header") || {};
    const st = ctx.inert ? "disconnected" : head.state || "stopped";
    setBadge(state, ctx.inert ? "muted" : STATE_FAMILY[st] || "muted", STATE_WORDS[st] || st);
    const nf = head.failures || 0;
    setText(failures, nf ? `${nf} failed run${nf === 1 ? "" : "s"}` : "");
    failures.className = "ns-failures ns-link" + (nf ? " ns-c-error" : "");
    const live = !ctx.inert;
    start.disabled = !live || st !== "stopped";
    shutdown.disabled = !live || st === "stopped" || st === "disconnected";
    force.disabled = !live || st === "stopped" || st === "disconnected";
    if (st === "shutting_down") {
      setText(shutdown, "Force now");
      shutdown.title = "Terminate the runs still alive now (the second click forces)";
      const n = head.alive_count || 0;
      const names = (head.alive || []).join(", ") + (n > (head.alive || []).length ? ", …" : "");
      setText(explain, head.forced
        ? `Forced shutdown: terminating ${n} run${n === 1 ? "" : "s"} (${names}); they are stopped after the grace period.`
        : n
          ? `Shutting down gracefully: no new run starts; waiting for ${n} run${n === 1 ? "" : "s"} to end (${names}). Click "Force now" or "Force shut down" to terminate them now.`
          : "Shutting down: finishing the last runs.");
    } else {
      setText(shutdown, "Shut down");
      shutdown.title = "Graceful: no new run starts, live runs go on to their end; a second click forces";
      setText(explain, st === "disconnected"
        ? "The kernel this panel belonged to is gone (restarted or shut down): nothing here is live. Run the cell again for a new panel."
        : st === "stopped" ? "Stopped: no task runs. Start runs tasks by their start conditions; Run in a row needs a started scheduler." : "");
    }
    explain.hidden = !explain.textContent;
    const n = ctx.model.get("notice") || {};
    notice.hidden = !n.count || ctx.inert;
    if (n.count) {
      const since = n.since === "dismissed" ? "since the last notice was dismissed" : "since this panel opened";
      const more = n.count > 1 ? ` (${n.count} failures ${since})` : "";
      setText(noticeText, `${n.task} ${n.status === "crash" ? "crashed" : "failed"}${n.line ? ": " + n.line : ""}${more}`);
      noticeText.title = n.at ? "at " + clockTime(n.at) : "";
    }
  }
  ctx.model.on("change:header", update);
  ctx.model.on("change:notice", update);
  update();
  return { node, update };
}
