// Compare: two or more runs side by side -- summary, evaluation, manifest differences, charts.
"use strict";
document.getElementById("nav-runs").classList.add("here");
const names = (new URLSearchParams(location.search).get("runs") || "").split(",").filter(Boolean);

async function load() {
  const q = names.map(n => "runs=" + encodeURIComponent(n)).join("&");
  const answer = await tc.api(`/api/compare?${q}`);
  const runs = answer.runs;
  const agent = r => r.evaluation.find(e => e.policy === "agent") || {};
  const lines = [
    ["status", r => tc.esc(r.summary.status)], ["algo", r => tc.esc(r.summary.algo || "–")],
    ["pair", r => tc.esc(r.summary.pair || "–")], ["timeframe", r => tc.esc(r.summary.timeframe || "–")],
    ["test return", r => tc.pct(agent(r).return)], ["return 95% CI", r => agent(r).return_ci95 ? `[${tc.pct(agent(r).return_ci95[0])}, ${tc.pct(agent(r).return_ci95[1])}]` : "–"],
    ["Sharpe", r => tc.num(agent(r).sharpe)], ["max drawdown", r => tc.pct(agent(r).max_drawdown)],
    ["trades", r => tc.int(agent(r).trades)], ["beat all baselines", r => r.summary.beat_all_baselines == null ? "–" : r.summary.beat_all_baselines ? "yes" : "no"],
  ];
  const summary = document.getElementById("summary");
  summary.tHead.innerHTML = `<tr><th></th>${runs.map(r => `<th><a href="/run?id=${encodeURIComponent(r.run)}">${tc.esc(r.run)}</a></th>`).join("")}</tr>`;
  summary.tBodies[0].innerHTML = lines.map(([label, f]) => `<tr><td>${label}</td>${runs.map(r => `<td class="num">${f(r)}</td>`).join("")}</tr>`).join("");
  const diff = document.getElementById("differences");
  diff.tHead.innerHTML = `<tr><th>manifest path</th>${runs.map(r => `<th>${tc.esc(r.run)}</th>`).join("")}</tr>`;
  diff.tBodies[0].innerHTML = answer.differences.map(d => `<tr><td>${tc.esc(d.path)}</td>${d.values.map(v => `<td>${tc.esc(JSON.stringify(v))}</td>`).join("")}</tr>`).join("")
    || `<tr><td colspan="${runs.length + 1}" class="muted">the manifests are the same</td></tr>`;
  drawFigures(document.getElementById("charts"), await tc.api(`/api/compare/figures?${q}`));
}
load().catch(e => { document.getElementById("charts").textContent = e.message; });
