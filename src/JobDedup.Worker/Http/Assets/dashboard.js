// The JobDedup worker's dashboard: reads api/stats every second and healthz/ready every five, and draws each
// pipeline's numbers and charts. No library and nothing from elsewhere: the charts are drawn on a canvas here.
"use strict";

const colors = { blue: "#2e6be6", green: "#12915b", orange: "#e07a00", red: "#d13b3b", violet: "#7a4ddb", grid: "#e4e7ec", ink: "#667085" };
const cards = new Map();
let activities = new Map();

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function formatPercent(share) {
  return share === null || share === undefined ? "–" : `${(share * 100).toFixed(1)} %`;
}

function formatMs(ms) {
  if (!ms) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

function formatAge(seconds) {
  if (!seconds) return "0 s";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function formatSpan(seconds) {
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds / 60)} min`;
}

// Draws one or more series over time on a canvas: y from 0 to the largest value (or a fixed top), gridlines, labels.
function drawChart(canvas, samples, series, options) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const left = 46, right = 8, top = 8, bottom = 18;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const now = samples.length ? samples[samples.length - 1].time : Date.now();
  const span = options.spanSeconds * 1000;
  let max = options.top || 0;
  if (!options.top) {
    for (const s of series) for (const sample of samples) max = Math.max(max, s.value(sample) || 0);
    max = max <= 0 ? 1 : niceTop(max);
  }
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = colors.ink;
  g.strokeStyle = colors.grid;
  g.lineWidth = 1;
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const y = top + plotHeight - (plotHeight * i) / 4;
    g.beginPath();
    g.moveTo(left, y + 0.5);
    g.lineTo(left + plotWidth, y + 0.5);
    g.stroke();
    g.fillText(options.tick((max * i) / 4), left - 5, y);
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  const step = [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find(t => options.spanSeconds / t <= 6) || 7200;
  for (let t = 0; t <= options.spanSeconds; t += step) {
    const x = left + plotWidth - (plotWidth * t) / options.spanSeconds;
    g.fillText(t === 0 ? "now" : t % 60 === 0 ? `-${t / 60}m` : `-${t}s`, x, top + plotHeight + 4);
  }
  for (const s of series) {
    g.strokeStyle = s.color;
    g.lineWidth = 1.8;
    g.beginPath();
    let drawing = false;
    for (const sample of samples) {
      const value = s.value(sample);
      const age = now - sample.time;
      if (value === null || value === undefined || age > span) { drawing = false; continue; }
      const x = left + plotWidth - (plotWidth * age) / span;
      const y = top + plotHeight - (plotHeight * Math.min(value, max)) / max;
      if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
      drawing = true;
    }
    g.stroke();
  }
}

function niceTop(value) {
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const factor of [1, 2, 2.5, 5, 10]) if (value <= factor * power) return factor * power;
  return 10 * power;
}

function numberBox(parent, stat, label) {
  const box = element("div", "number");
  box.append(element("div", "label", label));
  const value = element("div", "value", "–");
  value.dataset.stat = stat;
  box.append(value);
  parent.append(box);
  return value;
}

function chartBox(parent, title, legend) {
  const box = element("div", "chart");
  box.append(element("h3", null, title));
  const canvas = element("canvas");
  box.append(canvas);
  const legendRow = element("div", "legend");
  for (const [label, color] of legend) {
    const item = element("span");
    const swatch = element("span", "swatch");
    swatch.style.background = color;
    item.append(swatch, document.createTextNode(label));
    legendRow.append(item);
  }
  box.append(legendRow);
  parent.append(box);
  return canvas;
}

function createCard(pipeline) {
  const card = element("section", "pipeline");
  card.dataset.pipeline = pipeline.name;
  const head = element("div", "pipeline-head");
  head.append(element("h2", null, pipeline.name), element("span", "muted", `queue ${pipeline.queue}`));
  const activity = element("span", "pill", "…");
  activity.dataset.role = "activity";
  head.append(activity);
  card.append(head);

  const numbers = element("div", "numbers");
  const values = {
    inFlight: numberBox(numbers, "in-flight", "Keys in flight"),
    throughput: numberBox(numbers, "throughput", "Jobs/s (last 5 s)"),
    hitRate: numberBox(numbers, "hit-rate", "Hit rate (since start)"),
    handled: numberBox(numbers, "handled", "Jobs answered"),
    runs: numberBox(numbers, "runs", "Handler runs"),
    latency: numberBox(numbers, "latency-p95", "Handler p95 (last)"),
    retries: numberBox(numbers, "retries", "Retries"),
    errors: numberBox(numbers, "errors", "Failed flights"),
    deadLetters: numberBox(numbers, "dead-letters", "Dead letters"),
    oldest: numberBox(numbers, "oldest-in-flight", "Oldest in flight"),
  };
  card.append(numbers);

  const charts = element("div", "charts");
  const canvases = {
    throughput: chartBox(charts, "Throughput", [["jobs/s", colors.blue], ["handler runs/s", colors.violet]]),
    hitRate: chartBox(charts, "Hit rate", [["share answered without a run", colors.green]]),
    latency: chartBox(charts, "Handler latency", [["p50", colors.blue], ["p95", colors.orange]]),
    inFlight: chartBox(charts, "Keys in flight", [["keys", colors.violet], ["oldest (s)", colors.red]]),
  };
  card.append(charts);

  const tables = element("div", "tables");
  const deadBox = element("div");
  deadBox.append(element("h3", null, "Dead letters by reason"));
  const deadTable = element("table");
  deadTable.dataset.role = "dead-letters";
  deadBox.append(deadTable);
  const hotBox = element("div");
  hotBox.append(element("h3", null, "Hottest keys in flight"));
  const hotTable = element("table");
  hotTable.dataset.role = "hottest";
  hotBox.append(hotTable);
  tables.append(deadBox, hotBox);
  card.append(tables);

  document.getElementById("pipelines").append(card);
  return { card, activity, values, canvases, deadTable, hotTable };
}

function fillTable(table, headings, rows, empty) {
  table.replaceChildren();
  const head = element("tr");
  for (const h of headings) head.append(element("th", null, h));
  table.append(head);
  if (rows.length === 0) {
    const row = element("tr");
    const cell = element("td", "muted", empty);
    cell.colSpan = headings.length;
    row.append(cell);
    table.append(row);
    return;
  }
  for (const cells of rows) {
    const row = element("tr");
    cells.forEach((text, i) => row.append(element("td", i === 0 && table.dataset.role === "hottest" ? "key" : null, text)));
    table.append(row);
  }
}

function render(stats) {
  document.getElementById("loading")?.remove();
  document.getElementById("history").textContent = formatSpan(stats.historySeconds);
  for (const pipeline of stats.pipelines) {
    let view = cards.get(pipeline.name);
    if (!view) {
      view = createCard(pipeline);
      cards.set(pipeline.name, view);
    }
    const samples = pipeline.samples;
    const recent = samples.slice(-5);
    const totals = pipeline.totals;
    const lastWithAttempts = [...samples].reverse().find(s => s.attempts > 0);
    const deadLetters = Object.values(pipeline.deadLetters).reduce((a, b) => a + b, 0);
    view.values.inFlight.textContent = formatNumber(pipeline.inFlight);
    view.values.throughput.textContent = formatNumber(recent.reduce((a, s) => a + s.throughput, 0) / Math.max(recent.length, 1), 1);
    view.values.hitRate.textContent = totals.hits + totals.misses === 0 ? "–" : formatPercent(totals.hitRate);
    view.values.handled.textContent = formatNumber(totals.hits + totals.misses);
    view.values.runs.textContent = formatNumber(totals.misses);
    view.values.latency.textContent = lastWithAttempts ? formatMs(lastWithAttempts.latencyP95) : "–";
    view.values.retries.textContent = formatNumber(totals.retries);
    view.values.errors.textContent = formatNumber(totals.errors);
    view.values.deadLetters.textContent = formatNumber(deadLetters);
    view.values.oldest.textContent = formatAge(pipeline.oldestInFlight);

    // The charts span the history held so far (at least a minute), up to the whole history the worker keeps.
    const held = samples.length > 1 ? (samples[samples.length - 1].time - samples[0].time) / 1000 : 0;
    const span = Math.min(stats.historySeconds, Math.max(60, Math.ceil(held / 60) * 60));
    drawChart(view.canvases.throughput, samples, [
      { color: colors.blue, value: s => s.throughput },
      { color: colors.violet, value: s => (s.hitRate === null ? (s.throughput ? s.throughput : 0) : s.throughput * (1 - s.hitRate)) },
    ], { spanSeconds: span, tick: v => formatNumber(v, v < 10 ? 1 : 0) });
    drawChart(view.canvases.hitRate, samples, [{ color: colors.green, value: s => s.hitRate }],
      { spanSeconds: span, top: 1, tick: v => `${Math.round(v * 100)}%` });
    drawChart(view.canvases.latency, samples, [
      { color: colors.blue, value: s => (s.attempts ? s.latencyP50 : null) },
      { color: colors.orange, value: s => (s.attempts ? s.latencyP95 : null) },
    ], { spanSeconds: span, tick: v => (v === 0 ? "0" : formatMs(v)) });
    drawChart(view.canvases.inFlight, samples, [
      { color: colors.violet, value: s => s.inFlight },
      { color: colors.red, value: s => s.oldestInFlight },
    ], { spanSeconds: span, tick: v => formatNumber(v, v < 10 ? 1 : 0) });

    fillTable(view.deadTable, ["reason", "messages"],
      Object.entries(pipeline.deadLetters).map(([reason, count]) => [reason, formatNumber(count)]), "none");
    if (stats.showKeys) {
      fillTable(view.hotTable, ["key", "callers", "in flight"],
        (pipeline.hottest || []).map(k => [k.key, formatNumber(k.callers), formatAge(k.age)]), "no key in flight");
    } else {
      fillTable(view.hotTable, ["key"], [], "hidden: keys can be personal data (JobDedup:Http:ShowKeys turns this on)");
    }

    const activity = activities.get(pipeline.name) || "unknown";
    view.activity.textContent = activity;
    view.activity.dataset.status = activity;
  }
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString("en-GB")}`;
}

async function refreshStats() {
  try {
    const response = await fetch("api/stats", { cache: "no-store" });
    if (response.ok) render(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = "the worker does not answer";
  }
}

async function refreshReadiness() {
  const pill = document.getElementById("readiness");
  try {
    const response = await fetch("healthz/ready", { cache: "no-store" });
    const report = await response.json();
    pill.textContent = report.status === "Healthy" ? "ready" : report.status.toLowerCase();
    pill.dataset.status = report.status;
    const next = new Map();
    for (const check of report.checks) {
      if (check.name.startsWith("rabbitmq-") && check.data && check.data.activity) next.set(check.name.slice("rabbitmq-".length), check.data.activity);
    }
    activities = next;
  } catch (error) {
    pill.textContent = "unreachable";
    pill.dataset.status = "unreachable";
  }
}

refreshReadiness();
refreshStats();
setInterval(refreshStats, 1000);
setInterval(refreshReadiness, 5000);
window.addEventListener("resize", refreshStats);
