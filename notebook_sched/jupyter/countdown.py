"""A countdown that ticks in the browser.

The kernel sends a deadline once (and again only when it changes); the
browser redraws the remaining time ten times a second on its own. So 100 live
countdowns cost no kernel messages at steady state, and the countdown is still
right after the kernel was busy: it is computed from the deadline, not from
ticks. ``server_now`` lets the browser correct for a clock that differs from
the kernel's.
"""

from __future__ import annotations

import time

import anywidget
import traitlets

__all__ = ["Countdown", "format_remaining"]

_ESM = r"""
function fmt(seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return seconds.toFixed(1) + " s";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
}
function render({ model, el }) {
  el.classList.add("notebook-sched-countdown");
  let skew = 0;
  const sync = () => { skew = model.get("server_now") * 1000 - Date.now(); draw(); };
  const draw = () => {
    const deadline = model.get("deadline");
    if (deadline === null || deadline === undefined) {
      el.textContent = model.get("idle_text");
      return;
    }
    el.textContent = fmt(deadline - (Date.now() + skew) / 1000);
  };
  model.on("change:deadline", sync);
  model.on("change:server_now", sync);
  model.on("change:idle_text", draw);
  sync();
  const timer = setInterval(draw, 100);
  return () => clearInterval(timer);
}
export default { render };
"""


def format_remaining(seconds: float) -> str:
    """The text the browser shows, for the text/plain view and tests."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Countdown(anywidget.AnyWidget):
    """Remaining time until ``deadline`` (epoch seconds), or ``idle_text``."""

    _esm = _ESM
    deadline = traitlets.Float(None, allow_none=True).tag(sync=True)
    server_now = traitlets.Float(0.0).tag(sync=True)
    idle_text = traitlets.Unicode("").tag(sync=True)

    def show(self, deadline: float | None, idle_text: str) -> None:
        with self.hold_sync():  # one message, not three
            if deadline != self.deadline:
                self.server_now = time.time()
                self.deadline = deadline
            self.idle_text = idle_text

    def __repr__(self) -> str:
        if self.deadline is None:
            return self.idle_text
        return format_remaining(self.deadline - time.time())
