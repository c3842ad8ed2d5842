// Draws the run's figures (built on the server by tradecore.runs.charts, the report's own) with Plotly.
"use strict";
function drawFigures(container, figures) {
  container.innerHTML = "";
  if (!figures.length) { container.innerHTML = '<p class="muted">no charts recorded for this run</p>'; return; }
  for (const entry of figures) {
    container.append(tc.el(`<h3>${tc.esc(entry.title)}</h3>`));
    const div = document.createElement("div");
    div.className = "chart";
    div.dataset.chart = entry.id;
    container.append(div);
    Plotly.newPlot(div, entry.figure.data, entry.figure.layout, { responsive: true, displaylogo: false });
  }
}
