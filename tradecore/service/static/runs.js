// Runs page: every run folder as a sortable, filterable table, drawn a page of rows at a time (a thousand runs
// draw as fast as a hundred); live status through the event stream.
"use strict";
document.getElementById("nav-runs").classList.add("here");
const PAGE_ROWS = 100;
let rows = [], page = 0;
const selected = new Set();
const table = document.getElementById("runs"), filter = document.getElementById("filter");

function render() {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  const matching = rows.filter(r => words.every(w => [r.run, r.name, r.pair, r.algo, r.status, r.timeframe].join(" ").toLowerCase().includes(w)));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_ROWS));
  page = Math.min(page, pages - 1);
  const first = page * PAGE_ROWS, shown = matching.slice(first, first + PAGE_ROWS);
  table.tBodies[0].innerHTML = shown.map(r => `<tr data-run="${tc.esc(r.run)}">
    <td><input type="checkbox" data-pick="${tc.esc(r.run)}" ${selected.has(r.run) ? "checked" : ""}></td>
    <td><a href="/run?id=${encodeURIComponent(r.run)}">${tc.esc(r.run)}</a></td>
    <td class="status s-${tc.esc(r.status)}">${tc.esc(r.status)}${r.stage ? " · " + tc.esc(r.stage) : ""}</td>
    <td>${tc.esc((r.start || "").slice(0, 19).replace("T", " "))}</td><td>${tc.esc(r.algo || "–")}</td>
    <td>${tc.esc(r.pair || "–")}</td><td>${tc.esc(r.timeframe || "–")}</td>
    <td class="num">${tc.pct(r.test_return)}</td><td class="num">${tc.num(r.test_sharpe)}</td>
    <td class="num">${tc.pct(r.test_max_drawdown)}</td>
    <td class="${r.beat_all_baselines ? "yes" : r.beat_all_baselines === false ? "no" : ""}">${r.beat_all_baselines == null ? "–" : r.beat_all_baselines ? "all" : "not all"}</td></tr>`).join("");
  const range = pages > 1 ? ` · showing ${first + 1}–${first + shown.length}` : "";
  document.getElementById("count").textContent = `${matching.length} of ${rows.length} runs${range}`;
  document.getElementById("pager").hidden = pages < 2;
  document.getElementById("page").textContent = `page ${page + 1} of ${pages}`;
  document.getElementById("previous").disabled = page === 0;
  document.getElementById("next").disabled = page >= pages - 1;
}

// one listener for every row's checkbox, whichever page is drawn
table.tBodies[0].addEventListener("change", event => {
  const box = event.target.closest("input[data-pick]");
  if (!box) return;
  box.checked ? selected.add(box.dataset.pick) : selected.delete(box.dataset.pick);
  document.getElementById("compare").disabled = selected.size < 2;
});
document.getElementById("previous").addEventListener("click", () => { page -= 1; render(); });
document.getElementById("next").addEventListener("click", () => { page += 1; render(); });

function renderLaunches(launches) {
  document.getElementById("launches").tBodies[0].innerHTML = launches.map(l => `<tr><td>${tc.esc(l.id)}</td>
    <td>${tc.esc(l.name)}</td><td class="status s-${tc.esc(l.status)}">${tc.esc(l.status)}</td>
    <td>${l.run ? `<a href="/run?id=${encodeURIComponent(l.run)}">${tc.esc(l.run)}</a>` : "–"}</td></tr>`).join("") || '<tr><td colspan="4" class="muted">none</td></tr>';
}

let launches = [];
async function load() {
  const answer = await tc.api("/api/runs");
  rows = answer.runs.reverse(); launches = answer.launches;
  render(); renderLaunches(launches);
}
tc.sortable(table, () => rows, render);
filter.addEventListener("input", () => { page = 0; render(); });
document.getElementById("compare").addEventListener("click", () => { location.href = "/compare?runs=" + [...selected].map(encodeURIComponent).join(","); });
tc.events({
  run: row => { const i = rows.findIndex(r => r.run === row.run); i >= 0 ? (rows[i] = row) : rows.unshift(row); render(); },
  launch: l => { const i = launches.findIndex(x => x.id === l.id); i >= 0 ? (launches[i] = l) : launches.push(l); renderLaunches(launches); },
});
load();
