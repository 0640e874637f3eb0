// util.js: small helpers every part of the panel uses — making elements,
// words for durations and times, and status colours that stay readable.
// (The panel's JS files are joined in order into one ES module.)

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Set a text only when it changes: no needless layout, selection survives.
function setText(node, text) {
  text = text === null || text === undefined ? "" : String(text);
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, value);
  }
}

// A name that may break after its "_", "." and "-" where the room is narrow
// (a <wbr> after each: its text is unchanged).
function breakable(text) {
  const parts = [];
  for (const piece of String(text).split(/(?<=[_.-])/)) {
    if (parts.length) parts.push(h("wbr"));
    parts.push(piece);
  }
  return parts;
}

// A number and its unit never part at a line's end ("7.6" then "s" below).
const U = "\u00a0";

// A countdown or elapsed time: "12.3 s", then "0:04:59".
function clockDur(seconds) {
  if (!(seconds > 0)) seconds = 0;
  if (seconds < 60) return seconds.toFixed(1) + U + "s";
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh + ":" + String(mm).padStart(2, "0") + ":" + String(ss).padStart(2, "0");
}

// A length of time in words: "850 ms", "4.2 s", "5 min", "1 h 30 min".
function spanDur(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return Math.round(seconds * 1000) + U + "ms";
  if (seconds < 60) return (seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)) + U + "s";
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const parts = [];
  if (d) parts.push(d + U + "d");
  if (hh) parts.push(hh + U + "h");
  if (mm && !d) parts.push(mm + U + "min");
  if (ss && !hh && !d) parts.push(ss + U + "s");
  return parts.slice(0, 2).join(" ");
}

// A moment relative to now: "in 4 s", "3 min ago", "now".
function relTime(epoch, now) {
  const delta = epoch - now;
  if (Math.abs(delta) < 1) return delta > 0 ? "now" : "just now";
  return delta > 0 ? "in " + spanDur(delta) : spanDur(-delta) + " ago";
}

// A moment on the clock: "14:03:07", or "Tue 14:03" when not today.
function clockTime(epoch) {
  if (epoch === null || epoch === undefined) return "";
  const d = new Date(epoch * 1000);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  if (today) return time;
  return d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }) + " " + time;
}

// What each status is called and which colour family says it.
const TASK_STATUS = {
  idle: "muted", waiting: "warn", running: "info", terminating: "warn", disabled: "muted",
};
const RUN_STATUS = {
  run: "info", success: "success", fail: "error", crash: "error", terminate: "warn",
};
const STATE_FAMILY = { running: "success", shutting_down: "warn", stopped: "muted" };
const RUN_WORDS = {
  run: "running", success: "succeeded", fail: "failed", crash: "crashed", terminate: "terminated",
};

// ---- colours that stay readable: measured against the real background ----

function parseColor(text) {
  const m = /rgba?\(([^)]+)\)/.exec(text || "");
  if (!m) return null;
  const parts = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
  return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
}

function luminance(c) {
  const f = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}

function contrast(a, b) {
  const la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function blend(top, bottom) {
  const a = top.a;
  return {
    r: top.r * a + bottom.r * (1 - a), g: top.g * a + bottom.g * (1 - a),
    b: top.b * a + bottom.b * (1 - a), a: 1,
  };
}

// The colour behind `node`: the first ancestor with a background that is not transparent.
function backgroundOf(node) {
  for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
    const c = parseColor(getComputedStyle(n).backgroundColor);
    if (c && c.a > 0.5) return { r: c.r, g: c.g, b: c.b, a: 1 };
  }
  return { r: 255, g: 255, b: 255, a: 1 };
}

// A CSS colour resolved by the browser (a `var(--jp-...)` included).
function resolve(probe, css) {
  probe.style.color = "";
  probe.style.color = css;
  return parseColor(getComputedStyle(probe).color);
}

const FAMILIES = {
  info: ["--jp-brand-color1", "--jp-brand-color0", "--jp-brand-color2", "--jp-info-color0"],
  success: ["--jp-success-color1", "--jp-success-color0", "--jp-success-color2", "--jp-success-color3"],
  warn: ["--jp-warn-color1", "--jp-warn-color0", "--jp-warn-color2", "--jp-warn-color3"],
  error: ["--jp-error-color1", "--jp-error-color0", "--jp-error-color2", "--jp-error-color3"],
  muted: ["--jp-ui-font-color1", "--jp-ui-font-color0"],
};
const MIN_CONTRAST = 4.6; // WCAG asks 4.5:1 for text; a little to spare for rounding

// For each colour family, the theme's own colour (JupyterLab's --jp-* variables)
// that reads at >= 4.5:1 on the panel's background, or, where the theme has none,
// that colour moved towards the theme's text colour until it does.
function pickColours(root) {
  const probe = h("span", { style: "display:none" });
  root.append(probe);
  const bg = backgroundOf(root.parentElement || root);
  const text = resolve(probe, "var(--jp-ui-font-color0, #000)") || { r: 0, g: 0, b: 0, a: 1 };
  const chosen = {};
  for (const [family, names] of Object.entries(FAMILIES)) {
    let best = null;
    for (const name of names) {
      const c = resolve(probe, `var(${name})`);
      if (!c) continue;
      const solid = blend(c, bg);
      const ratio = contrast(solid, bg);
      if (ratio >= MIN_CONTRAST) { best = solid; break; }
      if (!best || ratio > contrast(best, bg)) best = solid;
    }
    best = best || text;
    for (let step = 0; step < 10 && contrast(best, bg) < MIN_CONTRAST; step++) {
      best = blend({ ...text, a: 0.2 }, best);
    }
    chosen[family] = `rgb(${Math.round(best.r)}, ${Math.round(best.g)}, ${Math.round(best.b)})`;
  }
  probe.remove();
  for (const [family, css] of Object.entries(chosen)) root.style.setProperty("--ns-" + family, css);
  root.style.setProperty("--ns-bg", `rgb(${bg.r}, ${bg.g}, ${bg.b})`);
}

function badge(family, text, testid) {
  return h("span", { class: "ns-badge ns-c-" + family, testid, text });
}

function setBadge(node, family, text) {
  const cls = "ns-badge ns-c-" + family;
  if (node.className !== cls) node.className = cls;
  setText(node, text);
}
