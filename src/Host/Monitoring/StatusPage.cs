namespace ActorFace.Host.Monitoring;

/// <summary>
/// The self-contained dashboard served at `/`: no CDN, inline CSS and JS, canvas charts; it polls /status.
/// `body[data-updated]` is set after each successful poll (the screenshot test waits on it).
/// </summary>
internal static class StatusPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ActorFace monitor</title>
<style>
  :root { --bg:#0f1720; --panel:#16212d; --line:#263545; --text:#d8e1ea; --dim:#8798a8; --ok:#4cc38a; --warn:#e5b450; --bad:#ef6b6b; }
  * { box-sizing: border-box; }
  body { margin:0; padding:16px 20px; background:var(--bg); color:var(--text); font:13px/1.4 system-ui, sans-serif; }
  h1 { font-size:18px; margin:0 0 4px; } h2 { font-size:13px; margin:0 0 8px; color:var(--dim); text-transform:uppercase; letter-spacing:.05em; }
  .summary { color:var(--dim); margin-bottom:12px; } .summary b { color:var(--text); font-weight:600; margin-right:14px; }
  .grid { display:grid; grid-template-columns: repeat(4, 1fr); gap:12px; margin-bottom:12px; }
  .panel { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
  .wide { grid-column: span 2; } .full { grid-column: 1 / -1; }
  canvas { width:100%; height:120px; display:block; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:right; padding:3px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th:first-child, td:first-child, td.l, th.l { text-align:left; }
  th { color:var(--dim); font-weight:500; }
  .stale { color:var(--dim); } .state-Training { color:var(--ok); } .state-Recovering { color:var(--bad); }
  .state-Checkpointing, .state-Joining { color:var(--warn); }
  .bar { display:flex; height:12px; min-width:240px; border-radius:2px; overflow:hidden; background:#0b1118; }
  .bar span { display:block; height:100%; }
  .legend span { display:inline-block; margin-right:10px; color:var(--dim); } .legend i { display:inline-block; width:9px; height:9px; margin-right:4px; }
  ul.events { list-style:none; margin:0; padding:0; max-height:220px; overflow:auto; }
  ul.events li { padding:2px 0; border-bottom:1px solid var(--line); } .kind { display:inline-block; width:240px; white-space:nowrap; color:var(--dim); }
  .k-Failed, .k-RecoveryStarted { color:var(--bad); } .k-Recovered, .k-Joined { color:var(--ok); } .k-CheckpointManifested { color:#6aa9ff; }
  #error { color:var(--bad); }
</style>
</head>
<body>
<h1>ActorFace monitor</h1>
<div class="summary" id="summary">waiting for /status&hellip; <span id="error"></span></div>
<div class="grid">
  <div class="panel"><h2>Loss</h2><canvas id="chart-loss"></canvas></div>
  <div class="panel"><h2>Learning rate</h2><canvas id="chart-lr"></canvas></div>
  <div class="panel"><h2>Verification accuracy</h2><canvas id="chart-acc"></canvas><div class="legend" id="acc-legend"></div></div>
  <div class="panel"><h2>Throughput (samples/s)</h2><canvas id="chart-tp"></canvas></div>
  <div class="panel full"><h2>Ranks</h2>
    <table id="ranks"><thead><tr><th>rank</th><th class="l">node</th><th class="l">state</th><th>gen</th><th>step</th><th>samples/s</th>
      <th>loss</th><th>lr</th><th>grad norm</th><th>RSS</th><th>GPU mem</th><th>age</th><th class="l">step time</th></tr></thead><tbody></tbody></table>
    <div class="legend" id="phase-legend"></div>
  </div>
  <div class="panel wide"><h2>Data loaders</h2><table id="loaders"><thead><tr><th>rank</th><th>queue / credits</th><th>decode img/s</th><th>corrupt skipped</th></tr></thead><tbody></tbody></table></div>
  <div class="panel wide"><h2>Class shards</h2><table id="shards"><thead><tr><th>rank</th><th>classes</th><th>sampled/step</th><th>shard</th></tr></thead><tbody></tbody></table></div>
  <div class="panel wide"><h2>Members</h2><table id="members"><thead><tr><th class="l">address</th><th class="l">status</th><th class="l">roles</th><th>rank</th></tr></thead><tbody></tbody></table>
    <div id="coordinator" class="summary" style="margin:8px 0 0"></div></div>
  <div class="panel wide"><h2>Recent events</h2><ul class="events" id="events"></ul></div>
</div>
<script>
"use strict";
const PHASES = [["dataWaitMs","data wait","#8b6cef"],["forwardMs","forward","#4c9be8"],["partialFcMs","partial FC","#3fc1b0"],
                ["backwardMs","backward","#e5b450"],["allReduceMs","all-reduce","#ef6b6b"],["optimizerMs","optimizer","#9aa5b1"]];
const PALETTE = ["#4c9be8","#4cc38a","#e5b450","#ef6b6b","#b48cf2","#3fc1b0"];
const $ = id => document.getElementById(id);
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));
const num = (v, d) => (typeof v === "number" && isFinite(v)) ? v.toFixed(d) : "–";
const sci = v => (typeof v === "number" && isFinite(v)) ? (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3)) : "–";
const bytes = v => { if (!(v > 0)) return "–"; const u = ["B","KiB","MiB","GiB","TiB"]; let i = 0; while (v >= 1024 && i < 4) { v /= 1024; i++; } return v.toFixed(i ? 1 : 0) + " " + u[i]; };
const secs = v => !(isFinite(v)) ? "unknown" : v < 90 ? v.toFixed(0) + " s" : v < 5400 ? (v / 60).toFixed(0) + " min" : (v / 3600).toFixed(1) + " h";

function chart(canvas, seriesList) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d"); g.scale(dpr, dpr); g.clearRect(0, 0, w, h);
  const pts = seriesList.flatMap(s => s.points).filter(p => isFinite(p.value));
  g.font = "11px system-ui, sans-serif"; g.fillStyle = "#8798a8";
  if (pts.length === 0) { g.fillText("no data yet", 8, h / 2); return; }
  let x0 = Math.min(...pts.map(p => p.step)), x1 = Math.max(...pts.map(p => p.step));
  let y0 = Math.min(...pts.map(p => p.value)), y1 = Math.max(...pts.map(p => p.value));
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += Math.abs(y1) * 0.05 + 1e-9; y0 -= Math.abs(y0) * 0.05 + 1e-9; }
  const L = 46, R = 6, T = 6, B = 16;
  const X = s => L + (s - x0) / (x1 - x0) * (w - L - R), Y = v => T + (1 - (v - y0) / (y1 - y0)) * (h - T - B);
  g.strokeStyle = "#263545"; g.lineWidth = 1;
  for (let i = 0; i <= 2; i++) { const y = T + i * (h - T - B) / 2; g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke();
    g.fillText(sci(y1 - i * (y1 - y0) / 2), 2, y + 4); }
  g.fillText("step " + x0, L, h - 3); const lab = "step " + x1; g.fillText(lab, w - R - g.measureText(lab).width, h - 3);
  for (const s of seriesList) {
    const p = s.points.filter(q => isFinite(q.value)); if (!p.length) continue;
    g.strokeStyle = s.color; g.lineWidth = 1.6; g.beginPath();
    p.forEach((q, i) => i ? g.lineTo(X(q.step), Y(q.value)) : g.moveTo(X(q.step), Y(q.value))); g.stroke();
    if (p.length === 1) { g.fillStyle = s.color; g.fillRect(X(p[0].step) - 2, Y(p[0].value) - 2, 4, 4); g.fillStyle = "#8798a8"; }
  }
}

function rows(tbody, html) { $(tbody).querySelector("tbody").innerHTML = html.join("") || "<tr><td class=\"l stale\" colspan=\"13\">none reported</td></tr>"; }

function render(s) {
  const c = s.coordinator;
  $("summary").innerHTML = `<b>generation ${s.generation}</b><b>step ${s.globalStep}${c && c.totalSteps ? " / " + c.totalSteps : ""}</b>` +
    `<b>${num(s.clusterSamplesPerSecond, 1)} samples/s</b><b>ETA ${c ? secs(c.etaSeconds) : "unknown"}</b>` +
    `<span id="updated">updated ${esc(new Date(s.takenAtUtc).toLocaleTimeString())}</span> · ${s.metricsReceived} records`;
  chart($("chart-loss"), [{ points: s.series.loss, color: PALETTE[0] }]);
  chart($("chart-lr"), [{ points: s.series.learningRate, color: PALETTE[1] }]);
  chart($("chart-tp"), [{ points: s.series.throughput, color: PALETTE[2] }]);
  const acc = Object.entries(s.series.accuracy).map(([t, p], i) => ({ target: t, points: p, color: PALETTE[i % PALETTE.length] }));
  chart($("chart-acc"), acc);
  $("acc-legend").innerHTML = acc.map(a => `<span><i style="background:${a.color}"></i>${esc(a.target)}</span>`).join("");

  const maxMs = Math.max(1, ...s.workers.map(w => PHASES.reduce((t, [k]) => t + w.latest.stepTime[k], 0)));
  rows("ranks", s.workers.map(o => { const w = o.latest, t = w.stepTime, total = PHASES.reduce((a, [k]) => a + t[k], 0);
    const bar = PHASES.map(([k, n, col]) => `<span title="${n}: ${num(t[k], 1)} ms" style="width:${100 * t[k] / maxMs}%;background:${col}"></span>`).join("");
    return `<tr class="${o.stale ? "stale" : ""}" data-rank="${w.rank}"><td>${w.rank}</td><td class="l">${esc(w.node.replace(/^akka[^@]*@/, ""))}</td>` +
      `<td class="l state-${w.state}">${w.state}${o.stale ? " (stale)" : ""}</td><td>${w.generation}</td><td>${w.globalStep}</td>` +
      `<td>${num(w.samplesPerSecond, 1)}</td><td>${num(w.loss, 4)}</td><td>${sci(w.learningRate)}</td><td>${num(w.gradNorm, 2)}</td>` +
      `<td>${bytes(w.rssBytes)}</td><td>${bytes(w.gpuMemoryBytes)}</td><td>${num(o.ageSeconds, 1)} s</td>` +
      `<td class="l"><div class="bar" title="${num(total, 1)} ms">${bar}</div></td></tr>`; }));
  $("phase-legend").innerHTML = PHASES.map(([, n, col]) => `<span><i style="background:${col}"></i>${n}</span>`).join("");
  rows("loaders", s.loaders.map(o => { const l = o.latest; return `<tr class="${o.stale ? "stale" : ""}"><td>${l.rank}</td>` +
    `<td>${l.queueDepth} / ${l.credits}</td><td>${num(l.decodedImagesPerSecond, 0)}</td><td>${l.corruptSkipped}</td></tr>`; }));
  rows("shards", s.shards.map(o => { const x = o.latest; return `<tr class="${o.stale ? "stale" : ""}"><td>${x.rank}</td>` +
    `<td>[${x.classStart}, ${x.classStart + x.numLocal})</td><td>${x.sampledClassesPerStep}</td><td>${bytes(x.shardBytes)}</td></tr>`; }));
  rows("members", s.members.map(m => `<tr><td class="l">${esc(m.address)}</td><td class="l">${esc(m.status)}</td>` +
    `<td class="l">${esc(m.roles.join(", "))}</td><td>${m.rank >= 0 ? m.rank : "–"}</td></tr>`));
  $("coordinator").innerHTML = c ? `recoveries: ${c.recoveries.length}` +
    (c.recoveries.length ? ` (last: ${esc(c.recoveries[c.recoveries.length - 1].cause)}, ${num(c.recoveries[c.recoveries.length - 1].durationSeconds, 1)} s)` : "") +
    ` · last checkpoint: ${c.lastCheckpoint ? "step " + c.lastCheckpoint.step : "none"}` : "no coordinator report yet";
  $("events").innerHTML = s.recentEvents.map(e => `<li><span class="kind k-${e.kind}">${new Date(e.timestampMs).toLocaleTimeString()} ${e.kind}</span>` +
    `${esc(e.message)}${e.step >= 0 ? " · step " + e.step : ""}</li>`).join("") || "<li class=\"stale\">no events yet</li>";
}

async function poll() {
  try {
    const r = await fetch("/status", { cache: "no-store" });
    if (!r.ok) throw new Error("/status answered " + r.status);
    const s = await r.json();
    render(s);
    document.body.dataset.updated = s.takenAtUtc;
  } catch (e) {
    const el = $("error") || $("summary"); el.textContent = " " + e.message;
  }
  setTimeout(poll, 2000);
}
poll();
</script>
</body>
</html>
""";
}
