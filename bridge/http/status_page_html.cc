#include "bridge/http/status_page_html.h"

namespace ssebridge {
namespace {

// Text is inserted with textContent only: channel names and event types come
// from publishers and must not become markup. The charts are SVG drawn from
// the snapshots the page has seen (5 minutes), one y scale per chart because
// each chart holds one unit: events/s, connection trouble/s, open counts.
constexpr char kHtml[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssebridge status</title>
<style>
  :root { --bg:#0f1720; --panel:#16212d; --line:#243447; --grid:#1d2b3a; --text:#dbe4ee;
          --dim:#8aa0b6; --accent:#4fb3ff; --good:#3ecf8e; --bad:#ff6b6b; --warn:#f5b942; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; flex-wrap:wrap; align-items:center; gap:8px 16px; padding:14px 24px;
           border-bottom:1px solid var(--line); }
  h1 { font-size:18px; margin:0; font-weight:600; }
  .pill { padding:2px 10px; border-radius:999px; font-size:12px; border:1px solid var(--line); }
  .ok { color:var(--good); border-color:var(--good); }
  .down { color:var(--bad); border-color:var(--bad); }
  #clock { margin-left:auto; color:var(--dim); font-variant-numeric:tabular-nums; }
  main { padding:18px 24px; display:grid; gap:18px; grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .wide { grid-column: 1 / -1; }
  .cards { display:grid; gap:12px; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); }
  .card, section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
  .card .v { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
  .card .k { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  .card .s { color:var(--dim); font-size:12px; font-variant-numeric:tabular-nums; }
  .card.alert .v { color:var(--warn); }
  h2 { font-size:13px; margin:0 0 10px; color:var(--dim); text-transform:uppercase; letter-spacing:.04em; }
  .scroll { overflow-x:auto; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  td, th { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; }
  .bar { height:6px; background:var(--accent); border-radius:3px; min-width:2px; }
  .mono { font-family: ui-monospace, monospace; font-size:12px; }
  .chart svg { width:100%; height:180px; display:block; }
  .chart text { fill:var(--dim); font:11px system-ui, sans-serif; font-variant-numeric:tabular-nums; }
  .legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--dim); margin-top:6px; }
  .legend b { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
  .legend .val { color:var(--text); font-variant-numeric:tabular-nums; margin-left:4px; }
  .empty { color:var(--dim); font-style:italic; }
  @media (max-width: 820px) {
    main { grid-template-columns: minmax(0, 1fr); padding:12px; gap:12px; }
    header { padding:10px 12px; }
    #clock { margin-left:0; width:100%; }
  }
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
  <div class="cards wide">
    <div class="card"><div class="k">streams</div><div class="v" id="streams">–</div><div class="s" id="streams_s"></div></div>
    <div class="card"><div class="k">connected users</div><div class="v" id="connected_users">–</div><div class="s">authenticated</div></div>
    <div class="card"><div class="k">channels</div><div class="v" id="channel_count">–</div><div class="s" id="subscriptions"></div></div>
    <div class="card"><div class="k">published / s</div><div class="v" id="r_published">–</div><div class="s" id="t_published"></div></div>
    <div class="card"><div class="k">delivered / s</div><div class="v" id="r_delivered">–</div><div class="s" id="t_delivered"></div></div>
    <div class="card"><div class="k">dropped / s</div><div class="v" id="r_dropped">–</div><div class="s" id="t_dropped"></div></div>
    <div class="card" id="c_refused"><div class="k">refused streams</div><div class="v" id="refused">–</div><div class="s" id="refused_s"></div></div>
    <div class="card" id="c_slow"><div class="k">slow-consumer cuts</div><div class="v" id="slow">–</div><div class="s">total since start</div></div>
    <div class="card" id="c_resets"><div class="k">resets</div><div class="v" id="resets">–</div><div class="s">cursor older than history</div></div>
    <div class="card" id="c_reconnects"><div class="k">broker reconnects</div><div class="v" id="reconnects">–</div><div class="s" id="broker_s"></div></div>
  </div>
  <section class="chart wide">
    <h2>Events per second (last 5 minutes)</h2>
    <svg id="chart_events" role="img" aria-label="events per second"></svg>
    <div class="legend" id="legend_events"></div>
  </section>
  <section class="chart">
    <h2>Connection trouble per second</h2>
    <svg id="chart_trouble" role="img" aria-label="refused, reset and cut streams per second"></svg>
    <div class="legend" id="legend_trouble"></div>
  </section>
  <section class="chart">
    <h2>Open streams and users</h2>
    <svg id="chart_open" role="img" aria-label="open streams and connected users"></svg>
    <div class="legend" id="legend_open"></div>
  </section>
  <section>
    <h2>Channels by subscribers</h2>
    <div class="scroll"><table><thead><tr><th>channel</th><th class="num">subscribers</th><th style="width:40%"></th></tr></thead>
    <tbody id="channels"></tbody></table></div>
  </section>
  <section>
    <h2>Recent events</h2>
    <div class="scroll"><table><thead><tr><th>time (UTC)</th><th>channel</th><th>id</th><th>type</th>
      <th class="num">bytes</th><th class="num">users</th></tr></thead>
    <tbody id="recent"></tbody></table></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
// The SVG namespace, read from the page's own <svg> (no URL in the page).
const SVG = document.querySelector("svg").namespaceURI;
const WINDOW_MS = 5 * 60 * 1000;
const fmt = (n) => n == null ? "–" : n >= 100 ? Math.round(n).toLocaleString()
    : (Math.round(n * 10) / 10).toString();
// Each chart has one unit, so its series share one y scale.
const CHARTS = {
  events: { unit: "/s", series: [
    { key: "published", label: "published", color: "#4fb3ff" },
    { key: "delivered", label: "delivered", color: "#3ecf8e" },
    { key: "dropped", label: "dropped", color: "#f5b942" }] },
  trouble: { unit: "/s", series: [
    { key: "refused_401", label: "401 unauthenticated", color: "#ff6b6b" },
    { key: "refused_403", label: "403 forbidden", color: "#ff9f43" },
    { key: "refused_429", label: "429 limited", color: "#f5b942" },
    { key: "refused_503", label: "503 full / draining", color: "#c56cf0" },
    { key: "resets", label: "resets", color: "#4fb3ff" },
    { key: "slow_consumer_disconnects", label: "slow-consumer cuts", color: "#e056fd" },
    { key: "broker_reconnects", label: "broker reconnects", color: "#dbe4ee" }] },
  open: { unit: "", series: [
    { key: "streams", label: "streams", color: "#4fb3ff" },
    { key: "connected_users", label: "connected users", color: "#3ecf8e" }] },
};
const history = [];  // {t, values: {key: number|null}}
let previous = null;
function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
// 1, 2 or 5 times a power of ten: the step for about `count` ticks up to max.
function niceStep(max, count) {
  const raw = max / count, p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}
function tickLabel(v) {
  if (v >= 1e6) return (v / 1e6) + "M";
  if (v >= 1e3) return (v / 1e3) + "k";
  return String(Math.round(v * 100) / 100);
}
function draw(name) {
  const chart = CHARTS[name], svg = $("chart_" + name);
  const w = Math.max(200, svg.clientWidth), h = 180;
  const left = 46, right = 8, top = 8, bottom = 22;
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.replaceChildren();
  const now = history.length ? history[history.length - 1].t : Date.now();
  const x = (t) => left + (w - left - right) * (1 - (now - t) / WINDOW_MS);
  let max = 0;
  for (const p of history) for (const s of chart.series) max = Math.max(max, p.values[s.key] || 0);
  const step = niceStep(Math.max(max, 1), 4);
  const top_value = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => top + (h - top - bottom) * (1 - v / top_value);
  for (let v = 0; v <= top_value + step / 2; v += step) {
    el("line", { x1: left, x2: w - right, y1: y(v), y2: y(v), stroke: v ? "#1d2b3a" : "#243447" }, svg);
    el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, svg).textContent =
        tickLabel(v) + chart.unit;
  }
  for (let m = 0; m <= 5; m++) {
    const t = now - m * 60000;
    el("line", { x1: x(t), x2: x(t), y1: top, y2: h - bottom, stroke: "#1d2b3a" }, svg);
    el("text", { x: x(t), y: h - 6, "text-anchor": m === 0 ? "end" : m === 5 ? "start" : "middle" },
       svg).textContent = m === 0 ? "now" : "−" + m + (w < 500 ? "m" : " min");
  }
  for (const s of chart.series) {
    let d = "", pen = "M";
    for (const p of history) {
      const v = p.values[s.key];
      if (v == null) { pen = "M"; continue; }  // not counted, or a gap
      d += pen + x(p.t).toFixed(1) + " " + y(v).toFixed(1) + " ";
      pen = "L";
    }
    if (d) el("path", { d, fill: "none", stroke: s.color, "stroke-width": 1.6,
                        "stroke-linejoin": "round" }, svg);
  }
  const legend = $("legend_" + name);
  legend.replaceChildren();
  const last = history.length ? history[history.length - 1].values : {};
  for (const s of chart.series) {
    const item = document.createElement("span");
    const swatch = document.createElement("b");
    swatch.style.background = s.color;
    item.append(swatch, s.label);
    const val = document.createElement("span");
    val.className = "val";
    val.textContent = last[s.key] == null ? "not counted" : fmt(last[s.key]) + chart.unit;
    item.appendChild(val);
    legend.appendChild(item);
  }
}
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
    const td = cell(tbody.insertRow(), emptyText, "empty");
    td.colSpan = span;
    return;
  }
  for (const r of rows) render(tbody.insertRow(), r);
}
// Per-second rates of the totals since the previous snapshot; null when the
// bridge does not count it, or when the counter went back (a restart).
function ratesOf(s) {
  const out = {};
  const dt = previous ? (s.unix_ms - previous.unix_ms) / 1000 : 0;
  for (const k of CHARTS.trouble.series.map((x) => x.key)) {
    const cur = s.totals[k], prev = previous && previous.totals[k];
    out[k] = cur == null || prev == null || dt <= 0 || cur < prev ? null : (cur - prev) / dt;
  }
  return out;
}
function setCard(id, value, cardId) {
  $(id).textContent = value == null ? "n/a" : Math.round(value).toLocaleString();
  if (cardId) $(cardId).classList.toggle("alert", !!value);
}
function render(s) {
  const totals = s.totals || {};
  s.totals = totals;
  $("clock").textContent = s.time;
  const broker = $("broker");
  broker.textContent = s.broker + (s.broker_ready ? " ready" : " unavailable");
  broker.className = "pill " + (s.broker_ready ? "ok" : "down");
  $("streams").textContent = s.streams.toLocaleString();
  $("streams_s").textContent = totals.queued_bytes == null ? "" :
      fmt(totals.queued_bytes) + " bytes queued";
  setCard("connected_users", totals.connected_users);
  $("channel_count").textContent = s.channel_count.toLocaleString();
  $("subscriptions").textContent = s.subscriptions.toLocaleString() + " subscriptions";
  for (const k of ["published", "delivered", "dropped"]) {
    $("r_" + k).textContent = fmt(s.rates[k]);
    $("t_" + k).textContent = s[k].toLocaleString() + " total";
  }
  const codes = ["401", "403", "429", "503"].filter((c) => totals["refused_" + c] != null);
  const refused = codes.reduce((sum, c) => sum + totals["refused_" + c], 0);
  setCard("refused", codes.length ? refused : null, "c_refused");
  $("refused_s").textContent = codes.map((c) => c + ": " + totals["refused_" + c].toLocaleString()).join(" · ");
  setCard("slow", totals.slow_consumer_disconnects, "c_slow");
  setCard("resets", totals.resets, "c_resets");
  setCard("reconnects", totals.broker_reconnects, "c_reconnects");
  $("broker_s").textContent = totals.broker_reconnects == null ? s.broker + ": none to count" :
      (s.broker_ready ? "connected" : "disconnected");
  const values = Object.assign({ published: s.rates.published, delivered: s.rates.delivered,
      dropped: s.rates.dropped, streams: s.streams,
      connected_users: totals.connected_users == null ? null : totals.connected_users }, ratesOf(s));
  // A gap of more than 5 s (a reconnect) breaks the lines instead of joining them.
  if (history.length && s.unix_ms - history[history.length - 1].t > 5000) {
    history.push({ t: s.unix_ms - 1, values: {} });
  }
  history.push({ t: s.unix_ms, values });
  while (history.length && history[0].t < s.unix_ms - WINDOW_MS) history.shift();
  previous = s;
  for (const name of Object.keys(CHARTS)) draw(name);
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
}
window.addEventListener("resize", () => { for (const name of Object.keys(CHARTS)) draw(name); });
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
