// Shared helpers of the dashboard pages: fetch JSON, one-line errors, number formats, the event stream.
"use strict";
const tc = {
  async api(path, options = {}) {
    const init = { ...options, headers: { "content-type": "application/json", ...(options.headers || {}) } };
    if (init.body && typeof init.body !== "string") init.body = JSON.stringify(init.body);
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!response.ok) {
      const lines = (data && data.errors) ? data.errors.map(e => (e.field ? e.field + ": " : "") + e.message) : [String(data && data.detail || response.status)];
      const error = new Error(lines.join("\n")); error.lines = lines; error.status = response.status; throw error;
    }
    return data;
  },
  pct(v) { return v == null ? "–" : (v >= 0 ? "+" : "") + (100 * v).toFixed(2) + "%"; },
  num(v, d = 2) { return v == null ? "–" : Number(v).toFixed(d); },
  int(v) { return v == null ? "–" : Number(v).toLocaleString("en-US"); },
  esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); },
  el(html) { const t = document.createElement("template"); t.innerHTML = html.trim(); return t.content.firstElementChild; },
  events(handlers) {
    // one EventSource per page; the server pushes job/run/launch changes (it reconnects by itself)
    const source = new EventSource("/api/events");
    for (const [name, fn] of Object.entries(handlers)) source.addEventListener(name, e => fn(JSON.parse(e.data)));
    return source;
  },
  list(ul, lines) { ul.innerHTML = lines.map(l => `<li>${tc.esc(l)}</li>`).join(""); ul.hidden = !lines.length; },
  sortable(table, rows, render) {
    // click a header to sort by it (again: reverse); render(rows) redraws the body
    let key = null, dir = 1;
    table.querySelectorAll("th[data-key]").forEach(th => th.addEventListener("click", () => {
      dir = key === th.dataset.key ? -dir : 1; key = th.dataset.key;
      rows().sort((a, b) => { const x = a[key], y = b[key]; return (x == null) - (y == null) || (x < y ? -dir : x > y ? dir : 0); });
      render();
    }));
  },
};
