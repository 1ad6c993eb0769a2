/**
 * The web dashboard's single page: inline CSS and JavaScript, no external resources (the page must work on a
 * closed network). The chart is SVG drawn by the page's own script. Element ids and `data-testid`s are stable:
 * tests and users' scripts rely on them.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --muted: #6a737d; --line: #d8dee4;
  --accent: #0b7285; --ok: #2b8a3e; --warn: #e67700; --bad: #c92a2a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --muted: #8b949e;
  --line: #30363d; --accent: #3bc9db; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: var(--muted); }
#conn-status { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); }
#conn-status.live { color: var(--ok); border-color: var(--ok); }
#conn-status.down { color: var(--bad); border-color: var(--bad); }
main { padding: 16px 24px; display: grid; gap: 16px; }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 12px; }
h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
#loss-chart { width: 100%; height: 240px; display: block; }
#loss-chart .grid { stroke: var(--line); stroke-width: 1; }
#loss-chart .axis { fill: var(--muted); font-size: 11px; }
#loss-chart .line { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
#loss-chart .last { fill: var(--accent); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
td.num, th.num { text-align: right; }
td.id { font-family: ui-monospace, monospace; font-size: 12px; }
tr.state-left td { opacity: .5; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; border: 1px solid currentColor; }
.badge.active { color: var(--ok); } .badge.stale { color: var(--warn); } .badge.left { color: var(--muted); }
#events { list-style: none; margin: 0; padding: 0; font-size: 13px; max-height: 180px; overflow: auto; }
#events li { padding: 2px 0; } #events .t { color: var(--muted); font-family: ui-monospace, monospace; }
.kind-join, .kind-return { color: var(--ok); } .kind-leave { color: var(--bad); } .kind-stale { color: var(--warn); }
.empty { color: var(--muted); }
`;

const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return i === 0 ? n + ' B' : n.toFixed(1) + ' ' + u[i];
}
function fmtCount(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + 'G';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 1 : 2) + 'k';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
function fmtLoss(x) { return x === null || x === undefined ? '—' : Number(x).toPrecision(4); }
function fmtAge(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return s.toFixed(1) + 's';
  if (s < 60) return Math.floor(s) + 's';
  const m = Math.floor(s / 60);
  return m < 60 ? m + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's' : Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
}
function clock(t) { return new Date(t).toISOString().slice(11, 19); }
function setText(id, text) { const el = $(id); if (el.textContent !== text) el.textContent = text; }
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const k in attrs) el.setAttribute(k, String(attrs[k]));
  if (text !== undefined) el.textContent = text;
  return el;
}
function renderPeers(s) {
  const body = $('peers-body');
  const rows = [];
  for (const p of s.peers) {
    const tr = document.createElement('tr');
    tr.className = 'state-' + p.state;
    tr.dataset.testid = 'peer-row';
    tr.dataset.peerId = p.id;
    tr.dataset.state = p.state;
    cell(tr, p.id.length > 12 ? '…' + p.id.slice(-10) : p.id, 'id').title = p.id;
    cell(tr, p.name);
    const st = cell(tr, ''); const b = document.createElement('span'); b.className = 'badge ' + p.state; b.textContent = p.state; st.appendChild(b);
    cell(tr, p.provider + (p.role === 'observer' ? ' (observer)' : '')).title = p.deviceName + ' × ' + p.cores;
    cell(tr, p.deviceName + ' · ' + p.cores + ' cores', 'hw').title = p.deviceName;
    cell(tr, String(p.round), 'num');
    cell(tr, String(p.step), 'num');
    cell(tr, fmtLoss(p.loss), 'num');
    cell(tr, fmtCount(p.samplesPerSec), 'num');
    cell(tr, fmtBytes(p.bytesIn), 'num');
    cell(tr, fmtBytes(p.bytesOut), 'num');
    cell(tr, fmtAge(s.time - p.lastSeen) + ' ago', 'num');
    rows.push(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr'); const td = cell(tr, 'No peers seen yet: waiting for heartbeats…', 'empty'); td.colSpan = 12; rows.push(tr);
  }
  body.replaceChildren(...rows);
}
function renderChart(curve) {
  const svg = $('loss-chart');
  const W = Math.max(300, Math.round(svg.clientWidth || 800)), H = 240, R = 12, T = 12, B = 28;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.dataset.points = String(curve.length);
  const kids = [];
  if (curve.length === 0) {
    kids.push(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis' }, 'no loss reported yet'));
    svg.replaceChildren(...kids); return;
  }
  // Loss on a log scale (it falls by orders of magnitude); the left margin fits the widest label.
  let lo = Infinity, hi = -Infinity;
  for (const p of curve) { if (p.loss > 0) { lo = Math.min(lo, p.loss); hi = Math.max(hi, p.loss); } }
  if (!(lo < Infinity)) { lo = 0.1; hi = 1; }
  if (hi / lo < 1.2) { hi *= 1.1; lo /= 1.1; }
  const llo = Math.log10(lo), lhi = Math.log10(hi);
  const ticks = [];
  for (let i = 0; i <= 4; i++) ticks.push(Math.pow(10, llo + ((lhi - llo) * i) / 4));
  const labels = ticks.map((v) => Number(v.toPrecision(3)).toString());
  const L = 16 + 7 * Math.max(...labels.map((t) => t.length));
  const t0 = curve[0].time, t1 = curve[curve.length - 1].time, span = Math.max(1, t1 - t0);
  const x = (t) => L + ((t - t0) / span) * (W - L - R);
  const y = (v) => T + (1 - (Math.log10(Math.max(v, lo)) - llo) / (lhi - llo)) * (H - T - B);
  ticks.forEach((v, i) => {
    const yy = y(v);
    kids.push(svgEl('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' }));
    kids.push(svgEl('text', { x: L - 6, y: yy + 4, 'text-anchor': 'end', class: 'axis', 'data-testid': 'y-label' }, labels[i]));
  });
  kids.push(svgEl('text', { x: W / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis' }, 'loss, log scale'));
  kids.push(svgEl('text', { x: L, y: H - 8, class: 'axis' }, clock(t0) + ' · round ' + curve[0].round));
  kids.push(svgEl('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, clock(t1) + ' · round ' + curve[curve.length - 1].round));
  const pts = curve.map((p) => x(p.time).toFixed(1) + ',' + y(p.loss).toFixed(1)).join(' ');
  kids.push(svgEl('polyline', { points: pts, class: 'line', 'data-testid': 'loss-line' }));
  const last = curve[curve.length - 1];
  const dot = svgEl('circle', { cx: x(last.time), cy: y(last.loss), r: 3.5, class: 'last' });
  dot.appendChild(svgEl('title', {}, 'loss ' + fmtLoss(last.loss) + ' (' + last.peers + ' peers)'));
  kids.push(dot);
  svg.replaceChildren(...kids);
}
function renderEvents(s) {
  const items = s.events.slice(-50).reverse().map((e) => {
    const li = document.createElement('li');
    li.dataset.testid = 'event';
    const t = document.createElement('span'); t.className = 't'; t.textContent = clock(e.time) + '  ';
    const k = document.createElement('span'); k.className = 'kind-' + e.kind; k.textContent = e.kind;
    li.append(t, k, document.createTextNode(' ' + e.name + (e.reason ? ': ' + e.reason : '')));
    return li;
  });
  if (items.length === 0) { const li = document.createElement('li'); li.className = 'empty'; li.textContent = 'none yet'; items.push(li); }
  $('events').replaceChildren(...items);
}
function render(s) {
  const w = s.swarm;
  setText('run-id', s.runId === null ? '' : 'run ' + s.runId);
  setText('updated', 'updated ' + clock(s.time) + ' UTC');
  setText('total-round', String(w.majorityRound));
  setText('total-round-max', w.maxRound !== w.majorityRound ? 'max ' + w.maxRound : 'all peers agree');
  setText('total-peers', String(w.activePeers));
  setText('total-peers-sub', w.trainers + ' trainers · ' + w.stalePeers + ' stale · ' + w.leftPeers + ' left');
  setText('total-throughput', fmtCount(w.samplesPerSec));
  setText('total-samples', fmtCount(w.samplesDone) + ' samples done');
  setText('total-loss', fmtLoss(w.meanLoss));
  setText('total-bytes-in', fmtBytes(w.bytesIn));
  setText('total-bytes-out', fmtBytes(w.bytesOut));
  document.body.dataset.snapshotTime = String(s.time);
  renderPeers(s);
  renderChart(s.lossCurve);
  renderEvents(s);
}
function status(text, cls) { const el = $('conn-status'); el.textContent = text; el.className = cls; }
fetch('api/status').then((r) => r.json()).then(render).catch(() => {});
const es = new EventSource('api/events');
es.onopen = () => status('live', 'live');
es.onerror = () => status('reconnecting…', 'down');
es.onmessage = (e) => { try { render(JSON.parse(e.data)); status('live', 'live'); } catch (err) { status('bad data', 'down'); } };
`;

const BODY = `
<header>
  <h1>Enjambre swarm</h1>
  <span class="meta" id="run-id"></span>
  <span class="meta" id="updated"></span>
  <span id="conn-status" data-testid="conn-status">connecting…</span>
</header>
<main>
  <section class="totals" id="totals" data-testid="totals">
    <div class="card"><div class="label">Round</div><div class="value" id="total-round" data-testid="total-round">—</div><div class="sub" id="total-round-max"></div></div>
    <div class="card"><div class="label">Active peers</div><div class="value" id="total-peers" data-testid="total-peers">—</div><div class="sub" id="total-peers-sub"></div></div>
    <div class="card"><div class="label">Samples/s</div><div class="value" id="total-throughput" data-testid="total-throughput">—</div><div class="sub" id="total-samples"></div></div>
    <div class="card"><div class="label">Mean loss</div><div class="value" id="total-loss" data-testid="total-loss">—</div><div class="sub">active trainers</div></div>
    <div class="card"><div class="label">Bytes in</div><div class="value" id="total-bytes-in" data-testid="total-bytes-in">—</div><div class="sub">sum over peers</div></div>
    <div class="card"><div class="label">Bytes out</div><div class="value" id="total-bytes-out" data-testid="total-bytes-out">—</div><div class="sub">sum over peers</div></div>
  </section>
  <section class="card">
    <h2>Loss (mean over active trainers)</h2>
    <svg id="loss-chart" data-testid="loss-chart" data-points="0" viewBox="0 0 800 240" role="img" aria-label="loss curve"></svg>
  </section>
  <section class="card">
    <h2>Peers</h2>
    <table id="peers-table" data-testid="peers-table">
      <thead><tr><th>Peer</th><th>Name</th><th>State</th><th>Provider</th><th>Hardware</th><th class="num">Round</th><th class="num">Step</th>
        <th class="num">Loss</th><th class="num">Samples/s</th><th class="num">In</th><th class="num">Out</th><th class="num">Last seen</th></tr></thead>
      <tbody id="peers-body"></tbody>
    </table>
  </section>
  <section class="card">
    <h2>Joins and departures</h2>
    <ul id="events" data-testid="events"></ul>
  </section>
</main>
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** The page's HTML. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Enjambre swarm inspector</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** Content-Security-Policy of the page: only its own inline script and style, and requests to its own origin. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(SCRIPT)}`,
  `style-src ${cspHash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
