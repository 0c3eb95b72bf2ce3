#include "bridge/sse/status_page_html.h"

namespace ssebridge {
namespace {

// Text is inserted with textContent only: channel names and event types come
// from publishers and must not become markup.
constexpr char kHtml[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssebridge status</title>
<style>
  :root { --bg:#0f1720; --panel:#16212d; --line:#243447; --text:#dbe4ee;
          --dim:#8aa0b6; --accent:#4fb3ff; --good:#3ecf8e; --bad:#ff6b6b; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:14px 24px;
           border-bottom:1px solid var(--line); }
  h1 { font-size:18px; margin:0; font-weight:600; }
  .pill { padding:2px 10px; border-radius:999px; font-size:12px; border:1px solid var(--line); }
  .ok { color:var(--good); border-color:var(--good); }
  .down { color:var(--bad); border-color:var(--bad); }
  #clock { margin-left:auto; color:var(--dim); font-variant-numeric:tabular-nums; }
  main { padding:18px 24px; display:grid; gap:18px; grid-template-columns: 1fr 1fr; }
  .cards { grid-column: 1 / -1; display:grid; gap:12px; grid-template-columns: repeat(6, 1fr); }
  .card, section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  .card .v { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
  .card .k { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  h2 { font-size:13px; margin:0 0 10px; color:var(--dim); text-transform:uppercase; letter-spacing:.04em; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  td, th { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; }
  .bar { height:6px; background:var(--accent); border-radius:3px; min-width:2px; }
  .mono { font-family: ui-monospace, monospace; font-size:12px; }
  #spark { width:100%; height:90px; display:block; }
  .empty { color:var(--dim); font-style:italic; }
</style>
</head>
<body>
<header>
  <h1>ssebridge</h1>
  <span id="broker" class="pill">broker …</span>
  <span id="conn" class="pill">connecting…</span>
  <span id="clock"></span>
</header>
<main>
  <div class="cards">
    <div class="card"><div class="k">streams</div><div class="v" id="streams">–</div></div>
    <div class="card"><div class="k">subscriptions</div><div class="v" id="subscriptions">–</div></div>
    <div class="card"><div class="k">channels</div><div class="v" id="channel_count">–</div></div>
    <div class="card"><div class="k">published / s</div><div class="v" id="r_published">–</div></div>
    <div class="card"><div class="k">delivered / s</div><div class="v" id="r_delivered">–</div></div>
    <div class="card"><div class="k">dropped / s</div><div class="v" id="r_dropped">–</div></div>
  </div>
  <section>
    <h2>Channels by subscribers</h2>
    <table><thead><tr><th>channel</th><th class="num">subscribers</th><th style="width:40%"></th></tr></thead>
    <tbody id="channels"></tbody></table>
  </section>
  <section>
    <h2>Event rate (last 2 minutes)</h2>
    <svg id="spark" viewBox="0 0 120 40" preserveAspectRatio="none">
      <polyline id="line_delivered" fill="none" stroke="#3ecf8e" stroke-width="6" vector-effect="non-scaling-stroke" points=""/>
      <polyline id="line_published" fill="none" stroke="#4fb3ff" stroke-width="2" vector-effect="non-scaling-stroke" points=""/>
    </svg>
    <div class="mono"><span style="color:#4fb3ff">■</span> published
      <span style="color:#3ecf8e">■</span> delivered (each scaled to its own peak)
      <span id="totals" style="float:right"></span></div>
  </section>
  <section style="grid-column: 1 / -1">
    <h2>Recent events</h2>
    <table><thead><tr><th>time (UTC)</th><th>channel</th><th>id</th><th>type</th>
      <th class="num">size (bytes)</th><th class="num">users</th></tr></thead>
    <tbody id="recent"></tbody></table>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => n >= 100 ? Math.round(n).toLocaleString() : (Math.round(n * 10) / 10).toString();
const series = { published: [], delivered: [] };
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function fill(tbody, rows, render, emptyText, span) {
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = tbody.insertRow();
    const td = cell(tr, emptyText, "empty");
    td.colSpan = span;
    return;
  }
  for (const r of rows) render(tbody.insertRow(), r);
}
function spark(id, values) {
  const peak = Math.max(1, ...values);
  const pts = values.map((v, i) => (120 - (values.length - 1 - i)) + "," + (39 - 37 * v / peak).toFixed(2));
  $(id).setAttribute("points", pts.join(" "));
}
function render(s) {
  $("clock").textContent = s.time;
  const broker = $("broker");
  broker.textContent = s.broker + (s.broker_ready ? " ready" : " unavailable");
  broker.className = "pill " + (s.broker_ready ? "ok" : "down");
  for (const k of ["streams", "subscriptions", "channel_count"]) $(k).textContent = s[k].toLocaleString();
  for (const k of ["published", "delivered", "dropped"]) $("r_" + k).textContent = fmt(s.rates[k]);
  $("totals").textContent = "total: " + s.published.toLocaleString() + " published, " +
      s.delivered.toLocaleString() + " delivered, " + s.dropped.toLocaleString() + " dropped";
  const peak = Math.max(1, ...s.channels.map((c) => c.subscribers));
  fill($("channels"), s.channels, (tr, c) => {
    cell(tr, c.channel, "mono");
    cell(tr, c.subscribers.toLocaleString(), "num");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = (100 * c.subscribers / peak) + "%";
    cell(tr, "").appendChild(bar);
  }, "no subscribers", 3);
  fill($("recent"), s.recent, (tr, e) => {
    cell(tr, e.time, "mono");
    cell(tr, e.channel, "mono");
    cell(tr, e.id, "mono");
    cell(tr, e.type);
    cell(tr, e.size.toLocaleString(), "num");
    cell(tr, e.users === 0 ? "all" : e.users, "num");
  }, "no events yet", 6);
  for (const k of ["published", "delivered"]) {
    series[k].push(s.rates[k]);
    if (series[k].length > 120) series[k].shift();
    spark("line_" + k, series[k]);
  }
}
// Opened after the load event, so the page does not count as still loading
// for as long as the feed is open. Relative, so it works behind a path prefix.
window.addEventListener("load", () => setTimeout(() => {
  const source = new EventSource("ui/events");
  source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  source.onopen = () => { $("conn").textContent = "live"; $("conn").className = "pill ok"; };
  source.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "pill down"; };
}, 0));
</script>
</body>
</html>
)html";

}  // namespace

absl::string_view StatusPageHtml() { return absl::string_view(kHtml, sizeof(kHtml) - 1); }

}  // namespace ssebridge
