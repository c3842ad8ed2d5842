// Run detail: summary, evaluation table with CIs, interactive charts, manifest, provenance, artifacts.
"use strict";
document.getElementById("nav-runs").classList.add("here");
const id = new URLSearchParams(location.search).get("id");
const ci = v => v ? `[${tc.pct(v[0])}, ${tc.pct(v[1])}]` : "–";
const ciNum = v => v ? `[${tc.num(v[0])}, ${tc.num(v[1])}]` : "–";

function summary(s) {
  document.getElementById("summary").innerHTML = `<b class="status s-${tc.esc(s.status)}" id="status">${tc.esc(s.status)}</b>
    · ${tc.esc(s.name)} · ${tc.esc(s.algo || "–")} (${tc.esc(s.trainer || "–")}, ${tc.int(s.timesteps)} steps)
    · ${tc.esc(s.pair || "–")} ${tc.esc(s.timeframe || "")} · seed ${tc.esc(s.seed)} · started ${tc.esc(s.start || "–")}`;
}

async function load() {
  const run = await tc.api(`/api/runs/${encodeURIComponent(id)}`);
  document.getElementById("title").textContent = run.run;
  summary(run.summary);
  document.getElementById("evaluation").tBodies[0].innerHTML = run.evaluation.map(r => `<tr><td>${tc.esc(r.policy)}</td>
    <td class="num">${tc.pct(r.return)}</td><td class="num">${ci(r.return_ci95)}</td><td class="num">${tc.num(r.sharpe)}</td>
    <td class="num">${ciNum(r.sharpe_ci95)}</td><td class="num">${tc.pct(r.max_drawdown)}</td><td class="num">${tc.int(r.trades)}</td>
    <td class="${r.beaten ? "yes" : r.beaten === false ? "no" : ""}">${r.beaten == null ? "" : r.beaten ? "yes" : "NO"}</td></tr>`).join("");
  document.getElementById("verdict").textContent = run.verdict || "";
  document.getElementById("manifest").textContent = JSON.stringify(run.manifest, null, 2);
  document.getElementById("provenance").textContent = JSON.stringify(run.provenance, null, 2);
  document.getElementById("artifacts").innerHTML = run.artifacts.filter(a => !a.path.startsWith("checkpoints/") && !a.path.startsWith("tensorboard/")).map(a =>
    `<li><a href="/api/runs/${encodeURIComponent(id)}/artifacts/${a.path.split("/").map(encodeURIComponent).join("/")}">${tc.esc(a.path)}</a> <span class="muted">${tc.int(a.bytes)} bytes</span></li>`).join("");
  drawFigures(document.getElementById("charts"), await tc.api(`/api/runs/${encodeURIComponent(id)}/figures`));
}
tc.events({ run: row => { if (row.run === id) summary(row); } });
load().catch(e => { document.getElementById("summary").textContent = e.message; });
