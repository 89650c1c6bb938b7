// Monitoring panels of the portal (no build step, no third-party code).
// [data-live-url]: polls an inverter's live.json and updates its values and a power chart.
// [data-alerts-url]: lists a plant's open alerts.
// [data-forecast-url]: draws forecast vs measured power of one day, with day stepping.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function polyline(svg, points, cls, width, height, maxW, t0, t1) {
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("class", cls);
  line.setAttribute("fill", "none");
  line.setAttribute("points", points.map(([t, w]) => {
    const x = ((t - t0) / Math.max(1, t1 - t0)) * width;
    const y = height - (w / Math.max(1, maxW)) * (height - 4);
    return x.toFixed(1) + "," + y.toFixed(1);
  }).join(" "));
  svg.appendChild(line);
}

function draw(svg, series) {
  const width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height"));
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  const maxW = Math.max(...all.map((p) => p[1]));
  for (const s of series) polyline(svg, s.points, s.cls, width, height, maxW, t0, t1);
}

// numbers and instants as the page's language writes them, times in Europe/Berlin
const LANG = document.documentElement.lang || "de";

function fmt(value, divisor, digits) {
  if (value === null || value === undefined) return "–";
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(LANG, options).format(value / divisor);
}

function fmtInstant(value) {
  if (!value) return "–";
  const options = { timeZone: "Europe/Berlin", dateStyle: "short", timeStyle: "medium" };
  return new Date(value).toLocaleString(LANG, options);
}

// the live panel's DC inputs (one row per MPPT) and SunSpec events (newest first)
function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

function showDetails(panel, data) {
  const mppt = panel.querySelector("#live-mppt");
  if (mppt && Array.isArray(data.mppt) && data.mppt.length) {
    mppt.replaceChildren();
    data.mppt.forEach((input, index) => {
      const row = document.createElement("tr");
      cell(row, String(input.id ?? index + 1));
      cell(row, fmt(input.dc_power_w, 1, 0));
      cell(row, fmt(input.dc_voltage_v, 1, 1));
      cell(row, fmt(input.dc_current_a, 1, 2));
      mppt.appendChild(row);
    });
  }
  const events = panel.querySelector("#live-events");
  if (events && Array.isArray(data.events)) {
    const labels = JSON.parse(events.dataset.labels || "{}");
    events.replaceChildren();
    if (data.events.length === 0) {
      const li = document.createElement("li");
      li.textContent = labels.none || "–";
      events.appendChild(li);
    }
    for (const e of data.events) {
      const li = document.createElement("li");
      li.dataset.code = String(e.code);
      li.dataset.active = String(e.active);
      const name = labels["evt" + e.code] || "Evt1 bit " + e.code;
      li.textContent = fmtInstant(e.at) + ": " + name + " – " + (e.active ? labels.on : labels.off);
      events.appendChild(li);
    }
  }
}

function startLive(panel) {
  const url = panel.dataset.liveUrl;
  const interval = Number(panel.dataset.interval || 5000);
  const chart = panel.querySelector("svg");
  const points = [];
  async function tick() {
    try {
      const resp = await fetch(url, { credentials: "same-origin" });
      if (resp.ok) {
        const data = await resp.json();
        for (const el of panel.querySelectorAll("[data-field]")) {
          const [field, divisor, digits] = el.dataset.field.split(":");
          const value = data[field];
          if (field === "at") el.textContent = fmtInstant(value);
          else el.textContent = divisor ? fmt(value, Number(divisor), Number(digits || 1)) : (value ?? "–");
        }
        showDetails(panel, data);
        if (data.at && (points.length === 0 || points[points.length - 1][0] !== Date.parse(data.at))) {
          points.push([Date.parse(data.at), data.power_w || 0]);
          if (points.length > 240) points.shift();
          panel.dataset.points = String(points.length);
          if (chart) draw(chart, [{ points, cls: "measured" }]);
        }
      }
    } finally {
      setTimeout(tick, interval);
    }
  }
  tick();
}

function startAlerts(list) {
  const labels = JSON.parse(list.dataset.labels || "{}");
  fetch(list.dataset.alertsUrl, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    for (const alert of data.open || []) {
      const item = document.createElement("li");
      const since = new Date(alert.opened_at).toLocaleString(document.documentElement.lang);
      item.textContent = (labels[alert.rule] || alert.rule) + " · " + (labels["inv" + alert.inverter_id] || alert.inverter_id) + " · " + (labels.since || "") + " " + since;
      list.appendChild(item);
    }
    list.dataset.loaded = String((data.open || []).length);
  });
}

function startForecast(box) {
  // data-day: the day to show first; empty: the gateway's today (its answer says which)
  const svg = box.querySelector("svg");
  const label = box.querySelector("[data-day]");
  let day = box.dataset.day || "";
  let today = day;
  async function load() {
    const query = day ? "?date=" + day : "";
    const resp = await fetch(box.dataset.forecastUrl + query, { credentials: "same-origin" });
    if (!resp.ok) return;
    const data = await resp.json();
    day = data.date;
    if (!today) today = day;
    label.textContent = day;
    const conv = (rows) => rows.map(([at, w]) => [Date.parse(at), w]);
    draw(svg, [
      { points: conv(data.forecast), cls: "forecast" },
      { points: conv(data.measured), cls: "measured" },
    ]);
    box.dataset.loaded = day;
  }
  function step(days) {
    const d = new Date(day + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    day = d.toISOString().slice(0, 10);
    load();
  }
  box.querySelector("[data-step='-1']").addEventListener("click", () => step(-1));
  box.querySelector("[data-step='1']").addEventListener("click", () => step(1));
  load();
  setInterval(() => { if (day === today) load(); }, 60000);
}

document.querySelectorAll("[data-live-url]").forEach(startLive);
document.querySelectorAll("[data-alerts-url]").forEach(startAlerts);
document.querySelectorAll("[data-forecast-url]").forEach(startForecast);
