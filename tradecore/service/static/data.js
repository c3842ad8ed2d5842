// Data page: the fetch form (sources, markets and warnings from the API), live job cards, the coverage table.
"use strict";
document.getElementById("nav-data").classList.add("here");
const $ = id => document.getElementById(id);
let sources = {};
const cards = new Map();

function utc(value) { return value ? value + (value.length === 16 ? ":00Z" : "Z") : null; }

async function loadSources() {
  const list = await tc.api("/api/sources");
  sources = Object.fromEntries(list.map(s => [s.name, s]));
  $("exchange").innerHTML = list.map(s => `<option value="${tc.esc(s.name)}">${tc.esc(s.name)}</option>`).join("");
  if (sources.synthetic) $("exchange").value = "synthetic";
  await changeSource();
}

async function changeSource() {
  const source = sources[$("exchange").value];
  $("timeframe").innerHTML = source.timeframes.map(t => `<option>${t}</option>`).join("");
  $("timeframe").value = source.timeframes.includes("1h") ? "1h" : source.timeframes[0];
  const markets = await tc.api(`/api/sources/${encodeURIComponent(source.name)}/markets`);
  $("symbol").innerHTML = markets.markets.map(m => `<option>${tc.esc(m)}</option>`).join("");
  // a source that takes any symbol (synthetic) gets a text box, prefilled with a stored or example pair
  $("symbol").hidden = markets.any_symbol; $("symbol-free").hidden = !markets.any_symbol;
  if (markets.any_symbol && !$("symbol-free").value) $("symbol-free").value = markets.markets[0] || "SYN/USD";
  $("seed_from_zip").disabled = !source.seed_from_zip;
  $("full_history").disabled = !source.history_start;
  await warn();
}

function symbol() { return $("symbol").hidden ? $("symbol-free").value.trim() : $("symbol").value; }

async function warn() {
  const source = sources[$("exchange").value];
  const params = new URLSearchParams({ timeframe: $("timeframe").value, full_history: $("full_history").checked });
  if ($("start").value) params.set("start", utc($("start").value));
  if ($("end").value) params.set("end", utc($("end").value));
  $("start").disabled = $("full_history").checked;
  try {
    const answer = await tc.api(`/api/sources/${encodeURIComponent(source.name)}/warnings?${params}`);
    tc.list($("warnings"), answer.warnings);
  } catch (e) { tc.list($("warnings"), e.lines); }
}

async function submit(event) {
  event.preventDefault();
  const payload = {
    exchange: $("exchange").value, symbol: symbol(), timeframe: $("timeframe").value,
    start_timestamp: $("full_history").checked ? null : utc($("start").value), end_timestamp: utc($("end").value),
    options: { seed_from_zip: $("seed_from_zip").checked && !$("seed_from_zip").disabled, full_history: $("full_history").checked },
  };
  tc.list($("errors"), []);
  try {
    const created = await tc.api("/api/data-jobs", { method: "POST", body: payload });
    showJob(await tc.api(`/api/data-jobs/${created.id}`), true);
  } catch (e) { tc.list($("errors"), e.lines); }
}

function showJob(job, first = false) {
  let card = cards.get(job.id);
  if (!card) {
    card = tc.el(`<div class="job" data-job="${job.id}"></div>`);
    cards.set(job.id, card);
    first ? $("jobs").prepend(card) : $("jobs").append(card);
  }
  const d = job.details, r = job.result;
  const range = `${job.request.start_timestamp || "?"} → ${job.request.end_timestamp || "now"}`;
  const done = r && r.start_timestamp ? `<div>stored ${tc.int(r.rows)} rows, ${r.start_timestamp} → ${r.end_timestamp}, gaps: ${tc.int(r.gaps)}</div>` : "";
  const can = a => job.actions.includes(a) ? "" : "disabled";
  card.innerHTML = `
    <h3><span>#${job.id} ${tc.esc(job.exchange)} ${tc.esc(job.symbol)} ${tc.esc(job.timeframe)}</span>
        <span class="status s-${job.status}" data-role="status">${job.status}</span></h3>
    <div class="meta">${tc.esc(range)} · submitted ${tc.esc(job.submitted_at)}</div>
    <div class="bar"><div style="width:${(100 * job.progress).toFixed(1)}%"></div></div>
    <div class="meta">${(100 * job.progress).toFixed(0)}% · reached ${tc.esc(d.last_timestamp || "–")} · ${tc.int(d.rows)} rows</div>
    ${done}${d.error ? `<div class="no">${tc.esc(d.error)}</div>` : ""}
    <ul>${d.messages.slice(-6).map(m => `<li>${tc.esc(m)}</li>`).join("")}</ul>
    <div class="buttons">
      <a href="/api/data-jobs/${job.id}/download?format=parquet"><button ${can("download")}>Download Parquet</button></a>
      <a href="/api/data-jobs/${job.id}/download?format=csv"><button ${can("download")}>Download CSV</button></a>
      <button data-action="validate" ${can("validate")}>Validate</button>
      <button data-action="resume" ${can("resume")}>Resume</button>
      <button data-action="cancel" ${can("cancel")}>Cancel</button>
    </div><div class="meta" data-role="note"></div>`;
  card.querySelectorAll("button[data-action]").forEach(b => b.addEventListener("click", () => act(job.id, b.dataset.action, card)));
  if (job.status === "completed") loadCoverage();
}

async function act(id, action, card) {
  const note = card.querySelector("[data-role=note]");
  note.textContent = `${action}…`;
  try {
    const answer = await tc.api(`/api/data-jobs/${id}/actions`, { method: "POST", body: { action } });
    if (action === "validate") {
      const qc = answer.report.qc, gaps = answer.report.gaps;
      note.textContent = `validation: ${qc.ok ? "passed" : "problems found"}; ${gaps.gap_count} gaps (${gaps.missing_slots} missing slots)`;
      loadCoverage();
    } else note.textContent = `${action}: done`;
    if (answer.job) showJob(answer.job);
  } catch (e) { note.textContent = e.message; }
}

async function loadJobs() {
  for (const job of (await tc.api("/api/data-jobs?limit=20"))) showJob(job);
}

// "2023-01-01T00:00:00Z" as "2023-01-01 00:00" (UTC, as the header says): the table fits 1280 px
const minute = t => t ? tc.esc(t.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "")) : "–";

async function loadCoverage() {
  const rows = await tc.api("/api/data-coverage");
  $("coverage").tBodies[0].innerHTML = rows.map(c => {
    const q = new URLSearchParams({ exchange: c.exchange, symbol: c.symbol, timeframe: c.timeframe });
    return `<tr data-series="${tc.esc(c.exchange + " " + c.symbol + " " + c.timeframe)}">
      <td>${tc.esc(c.exchange)}</td><td>${tc.esc(c.symbol)}</td><td>${tc.esc(c.timeframe)}</td>
      <td>${minute(c.start_timestamp)}</td><td>${minute(c.end_timestamp)}</td><td class="num">${tc.int(c.rows)}</td>
      <td class="num">${tc.num(c.percent, 1)}%</td><td class="num">${tc.int(c.holes)}</td><td>${minute(c.last_sync)}</td>
      <td>${minute(c.validated_at)}</td>
      <td class="actions"><button data-refresh="${tc.esc(JSON.stringify(c))}">Refresh</button>
          <button data-gaps="${tc.esc(q.toString())}">Gaps</button>
          <a href="/api/data/download?${q}&format=parquet">Parquet</a> · <a href="/api/data/download?${q}&format=csv">CSV</a></td></tr>`;
  }).join("");
  $("coverage").querySelectorAll("button[data-refresh]").forEach(b => b.addEventListener("click", () => refill(JSON.parse(b.dataset.refresh))));
  $("coverage").querySelectorAll("button[data-gaps]").forEach(b => b.addEventListener("click", () => showGaps(b.dataset.gaps)));
}

async function showGaps(query) {
  // the holes of one series, from the same report as `tradecore data gaps`
  const params = new URLSearchParams(query);
  $("gaps").hidden = false;
  $("gaps-title").textContent = `Gaps of ${params.get("exchange")} ${params.get("symbol")} ${params.get("timeframe")}`;
  $("gaps-summary").textContent = "reading…"; $("gaps-table").tBodies[0].innerHTML = ""; $("gaps-more").textContent = "";
  try {
    const report = await tc.api(`/api/data/gaps?${query}`);
    $("gaps-summary").textContent = report.summary;
    $("gaps-table").tBodies[0].innerHTML = report.gaps.map(g => {
      const choice = g.fill && g.fill.recommended;
      const fill = !g.fill ? "–" : choice ? `${choice}: ${g.fill[choice].detail || ""}` : "cannot be filled from this exchange";
      return `<tr><td>${tc.esc(g.start)}</td><td>${tc.esc(g.end)}</td><td class="num">${tc.int(g.slots)}</td>
        <td>${tc.esc(g.kind)}</td><td class="num">${g.p_empty == null ? "–" : Number(g.p_empty).toExponential(1)}</td><td>${tc.esc(fill)}</td></tr>`;
    }).join("") || '<tr><td colspan="6" class="muted">no gaps</td></tr>';
    if (report.gaps_not_listed) $("gaps-more").textContent = `… ${tc.int(report.gaps_not_listed)} more (GET /api/data/gaps?…&limit=N)`;
  } catch (e) { $("gaps-summary").textContent = e.message; }
  $("gaps").scrollIntoView();
}

async function refill(c) {
  // refresh: prefill the form from the stored series, starting at its last candle
  if (!sources[c.exchange]) return;
  $("exchange").value = c.exchange; await changeSource();
  $("symbol").hidden ? ($("symbol-free").value = c.symbol) : ($("symbol").value = c.symbol);
  $("timeframe").value = c.timeframe; $("start").value = c.end_timestamp.slice(0, 16); $("end").value = "";
  await warn(); window.scrollTo(0, 0);
}

$("exchange").addEventListener("change", changeSource);
["timeframe", "start", "end", "full_history"].forEach(id => $(id).addEventListener("change", warn));
$("fetch").addEventListener("submit", submit);
tc.events({ job: job => showJob(job, !cards.has(job.id)) });
loadSources().then(loadJobs).then(loadCoverage).catch(e => tc.list($("errors"), e.lines || [e.message]));
