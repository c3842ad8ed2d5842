// Start a run: pick, upload or paste a manifest; the server validates it like `tradecore validate`.
"use strict";
document.getElementById("nav-start").classList.add("here");
const $ = id => document.getElementById(id);
tc.api("/api/manifests").then(files => { $("file").innerHTML += files.map(f => `<option>${tc.esc(f)}</option>`).join(""); });
$("upload").addEventListener("change", async () => { const f = $("upload").files[0]; if (f) { $("text").value = await f.text(); $("file").value = ""; } });
$("start").addEventListener("click", async () => {
  tc.list($("errors"), []); $("started").textContent = "";
  const body = $("file").value ? { file: $("file").value } : { text: $("text").value };
  try {
    const launch = await tc.api("/api/runs", { method: "POST", body });
    $("started").innerHTML = `started ${tc.esc(launch.name)} (${tc.esc(launch.launch)}); follow it on the <a href="/runs">runs page</a>`;
  } catch (e) { tc.list($("errors"), e.lines); }
});
