// Runs page: every run folder as a sortable, filterable table; live status through the event stream.
"use strict";
document.getElementById("nav-runs").classList.add("here");
let rows = [];
const selected = new Set();
const table = document.getElementById("runs"), filter = document.getElementById("filter");

function render() {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = rows.filter(r => words.every(w => [r.run, r.name, r.pair, r.algo, r.status, r.timeframe].join(" ").toLowerCase().includes(w)));
  table.tBodies[0].innerHTML = shown.map(r => `<tr data-run="${tc.esc(r.run)}">
    <td><input type="checkbox" data-pick="${tc.esc(r.run)}" ${selected.has(r.run) ? "checked" : ""}></td>
    <td><a href="/run?id=${encodeURIComponent(r.run)}">${tc.esc(r.run)}</a></td>
    <td class="status s-${tc.esc(r.status)}">${tc.esc(r.status)}${r.stage ? " · " + tc.esc(r.stage) : ""}</td>
    <td>${tc.esc((r.start || "").slice(0, 19).replace("T", " "))}</td><td>${tc.esc(r.algo || "–")}</td>
    <td>${tc.esc(r.pair || "–")}</td><td>${tc.esc(r.timeframe || "–")}</td>
    <td class="num">${tc.pct(r.test_return)}</td><td class="num">${tc.num(r.test_sharpe)}</td>
    <td class="num">${tc.pct(r.test_max_drawdown)}</td>
    <td class="${r.beat_all_baselines ? "yes" : r.beat_all_baselines === false ? "no" : ""}">${r.beat_all_baselines == null ? "–" : r.beat_all_baselines ? "all" : "not all"}</td></tr>`).join("");
  document.getElementById("count").textContent = `${shown.length} of ${rows.length} runs`;
  table.querySelectorAll("input[data-pick]").forEach(box => box.addEventListener("change", () => {
    box.checked ? selected.add(box.dataset.pick) : selected.delete(box.dataset.pick);
    document.getElementById("compare").disabled = selected.size < 2;
  }));
}

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
filter.addEventListener("input", render);
document.getElementById("compare").addEventListener("click", () => { location.href = "/compare?runs=" + [...selected].map(encodeURIComponent).join(","); });
tc.events({
  run: row => { const i = rows.findIndex(r => r.run === row.run); i >= 0 ? (rows[i] = row) : rows.unshift(row); render(); },
  launch: l => { const i = launches.findIndex(x => x.id === l.id); i >= 0 ? (launches[i] = l) : launches.push(l); renderLaunches(launches); },
});
load();
