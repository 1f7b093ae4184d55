// mlnb RunCompare — runs table (sort, filter, select), parameters of the selected runs ("differences only"),
// metric curves of the selected runs by step, parallel coordinates (parameters → metric), scatter (parameter vs
// metric), best run marked, links to executed notebooks. The runs arrive once, column by column (_data); the
// kernel answers the filter (_visible) and the selected runs' curves (_curves). common.js is prepended.

const RC_MAX_ROWS = 200;    // table rows drawn at once (the rest are a sort or a filter away)
const RC_MAX_LINES = 1500;  // parallel-coordinate lines and scatter points drawn (best first when there are more)

function rcConfig() {
  try { return JSON.parse(document.getElementById("jupyter-config-data").textContent) || {}; } catch (e) { return {}; }
}

function rcHref(data, i) {
  const cfg = rcConfig(), base = String(cfg.baseUrl || "/").replace(/\/?$/, "/");
  const enc = (p) => p.split("/").map(encodeURIComponent).join("/");
  const abs = rcPath(data, i);
  if (!abs) return null;
  if (typeof cfg.serverRoot === "string" && cfg.serverRoot && !cfg.serverRoot.startsWith("~")) {
    const root = cfg.serverRoot.replace(/\/+$/, "");
    return abs.startsWith(root + "/") ? base + "lab/tree/" + enc(abs.slice(root.length + 1)) : null;
  }
  if (data.base_link === null || data.base_link === undefined) return null;
  return base + "voila/render/" + enc((data.base_link ? data.base_link + "/" : "") + data.paths[i]);
}

function rcPath(data, i) {  // the executed notebook's absolute path
  const p = data.paths[i];
  return p ? (data.base ? data.base + "/" + p : p) : null;
}

function rcIsNum(v) { return typeof v === "number" && Number.isFinite(v); }
function rcFmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : fmtNum(v);  // a logged NaN reads NaN, ±inf ∞
  return typeof v === "string" ? v : JSON.stringify(v);
}

// Metrics arrive as strict JSON: a logged NaN is "NaN", ±inf "Infinity"/"-Infinity" (None: never logged).
const RC_NON_FINITE = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
function rcDecode(data) {
  if (!data || !data.metrics) return data;
  const metrics = {};
  for (const [m, col] of Object.entries(data.metrics))
    metrics[m] = col.map((v) => (typeof v === "string" && v in RC_NON_FINITE ? RC_NON_FINITE[v] : v));
  return { ...data, metrics };
}

// Sorting: values in order (±inf among the numbers), then NaN, then no value — ascending or descending.
function rcRank(v) { return v === null || v === undefined ? 2 : typeof v === "number" && Number.isNaN(v) ? 1 : 0; }
function rcCompare(x, y, desc) {
  const rx = rcRank(x), ry = rcRank(y);
  if (rx || ry) return rx - ry;
  const c = typeof x === "number" && typeof y === "number" ? (x < y ? -1 : x > y ? 1 : 0) : rcFmt(x).localeCompare(rcFmt(y));
  return desc ? -c : c;
}

// One axis for a column: numbers on a linear scale, anything else as evenly spaced categories.
function rcAxis(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every(rcIsNum)) {
    let lo = Math.min(...present), hi = Math.max(...present);
    if (lo > 0 && hi / lo >= 20) {  // learning rates and the like: a log scale spreads them out
      const a = Math.log10(lo), b = Math.log10(hi);
      return { kind: "log", lo, hi, pos: (v) => (rcIsNum(v) && v > 0 ? (Math.log10(v) - a) / (b - a) : null),
        ticks: [[0, fmtNum(lo)], [0.5, fmtNum(Math.sqrt(lo * hi))], [1, fmtNum(hi)]] };
    }
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    return { kind: "num", lo, hi, pos: (v) => (rcIsNum(v) ? (v - lo) / (hi - lo) : null), ticks: [[0, fmtNum(lo)], [1, fmtNum(hi)]] };
  }
  const cats = [...new Set(present.map(rcFmt))].sort();
  const at = (k) => (cats.length === 1 ? 0.5 : k / (cats.length - 1));
  return { kind: "cat", cats, pos: (v) => (v === null || v === undefined ? null : at(cats.indexOf(rcFmt(v)))),
    ticks: cats.slice(0, 12).map((c, k) => [at(k), c]) };
}

function rcSvgOpen(w, hgt, chart) {
  return `<svg class="mlnb-chart" data-chart="${chart}" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}" role="img">`;
}

function rcLines(series, opts) {
  const W = opts.width || 380, H = opts.height || 200, L = 46, B = 24, T = 8, R = 10;
  const pts = series.flatMap((s) => s.points);
  let out = rcSvgOpen(W, H, "curves");
  if (!pts.length) return out + `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="mlnb-axis">${esc(opts.empty || "no points")}</text></svg>`;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const sx = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R), sy = (v) => H - B - ((v - y0) / (y1 - y0)) * (H - B - T);
  out += `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="mlnb-baseline"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="mlnb-baseline"/>`;
  out += _axisText(L - 4, H - B, fmtNum(y0), "end") + _axisText(L - 4, T + 8, fmtNum(y1), "end");
  out += _axisText(L, H - 6, fmtNum(x0), "start") + _axisText(W - R, H - 6, fmtNum(x1), "end") + _axisText((L + W) / 2, H - 6, "step", "middle");
  series.forEach((s) => {
    const p = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = p.map((q, j) => `${j ? "L" : "M"}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join(" ");
    out += `<path class="rc-curve" data-run="${esc(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.best ? 2.6 : 1.8}"><title>${esc(s.name)}</title></path>`;
    out += p.map((q) => `<circle cx="${sx(q[0]).toFixed(1)}" cy="${sy(q[1]).toFixed(1)}" r="2.2" fill="${s.color}"><title>${esc(`${s.name}: ${opts.metric} ${fmtNum(q[1])} at step ${q[0]}`)}</title></circle>`).join("");
  });
  return out + "</svg>";
}

function rcParallel(data, rows, names, metric, sel, best) {
  const cols = names.map((n) => data.params[n]).concat([data.metrics[metric]]);
  const labels = names.concat([metric]);
  const axes = cols.map((c) => rcAxis(rows.map((i) => c[i])));
  const gap = 120, L = 60, T = 22, B = 28, H = 220, W = L * 2 + gap * Math.max(labels.length - 1, 1);
  const x = (k) => L + k * gap, y = (f) => T + (1 - f) * (H - T - B);
  let out = rcSvgOpen(W, H, "parallel"), sel_out = "";
  for (const i of rows) {
    const pts = axes.map((a, k) => a.pos(cols[k][i]));
    if (pts.some((p) => p === null)) continue;
    const d = pts.map((p, k) => `${k ? "L" : "M"}${x(k).toFixed(1)},${y(p).toFixed(1)}`).join(" ");
    const id = data.ids[i], s = sel.indexOf(id);
    const line = `<path data-run="${esc(id)}" class="rc-pline${s >= 0 ? " rc-selected" : ""}${id === best ? " rc-best" : ""}" d="${d}" ` +
      `fill="none" stroke="${s >= 0 ? mlnbColor(s) : "var(--mlnb-border)"}" stroke-width="${s >= 0 ? 2.2 : 1}"><title>${esc(id)}: ${esc(metric)} ${esc(rcFmt(data.metrics[metric][i]))}</title></path>`;
    if (s >= 0 || id === best) sel_out += line; else out += line;
  }
  out += sel_out;
  axes.forEach((a, k) => {
    out += `<line x1="${x(k)}" x2="${x(k)}" y1="${T}" y2="${H - B}" class="rc-axis"/>`;
    out += `<text x="${x(k)}" y="${T - 8}" text-anchor="middle" class="mlnb-label">${esc(labels[k] + (a.kind === "log" ? " (log)" : ""))}</text>`;
    out += a.ticks.map(([f, t]) => `<text x="${x(k) + 4}" y="${y(f) + 3}" class="mlnb-axis">${esc(String(t).slice(0, 14))}</text>`).join("");
  });
  return out + "</svg>";
}

function rcScatter(data, rows, param, metric, sel, best) {
  const W = 380, H = 220, L = 46, B = 28, T = 10, R = 14;
  const xs = data.params[param] || [], ys = data.metrics[metric] || [];
  const ax = rcAxis(rows.map((i) => xs[i])), ay = rcAxis(rows.map((i) => ys[i]));
  const sx = (f) => L + f * (W - L - R), sy = (f) => H - B - f * (H - B - T);
  let out = rcSvgOpen(W, H, "scatter"), top = "";
  out += `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="mlnb-baseline"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="mlnb-baseline"/>`;
  out += ax.ticks.map(([f, t]) => _axisText(sx(f), H - 14, String(t).slice(0, 12), "middle")).join("");
  out += ay.ticks.map(([f, t]) => _axisText(L - 4, sy(f) + 3, t, "end")).join("");
  out += _axisText((L + W) / 2, H - 2, param + (ax.kind === "log" ? " (log scale)" : ""), "middle");
  for (const i of rows) {
    const fx = ax.pos(xs[i]), fy = ay.pos(ys[i]);
    if (fx === null || fy === null) continue;
    const id = data.ids[i], s = sel.indexOf(id);
    const jitter = ax.kind === "cat" ? ((i * 7919) % 11 - 5) * 1.2 : 0;
    const dot = `<circle data-run="${esc(id)}" class="rc-point${s >= 0 ? " rc-selected" : ""}" cx="${(sx(fx) + jitter).toFixed(1)}" cy="${sy(fy).toFixed(1)}" ` +
      `r="${s >= 0 ? 5 : 3}" fill="${s >= 0 ? mlnbColor(s) : "var(--mlnb-fg2)"}" fill-opacity="${s >= 0 ? 1 : 0.45}"><title>${esc(`${id}: ${param} ${rcFmt(xs[i])}, ${metric} ${rcFmt(ys[i])}`)}</title></circle>`;
    if (id === best) top += dot + `<circle class="rc-best-ring" cx="${(sx(fx) + jitter).toFixed(1)}" cy="${sy(fy).toFixed(1)}" r="8" fill="none" stroke="var(--mlnb-warn)" stroke-width="2"><title>best run ${esc(id)}</title></circle>`;
    else if (s >= 0) top += dot; else out += dot;
  }
  return out + top + "</svg>";
}

function render({ model, el }) {
  const root = h("div", { class: "mlnb mlnb-runs" });
  const state = { sort: null, desc: false };
  const filterInput = h("input", { type: "text", class: "rc-filter", placeholder: "filter, e.g. metrics.auc > 0.8 and params.lr < 0.1",
    onkeydown: (e) => { if (e.key === "Enter") setFilter(); } });
  const metricSel = h("select", { class: "rc-metric", onchange: (e) => set("metric", e.target.value) });
  const modeSel = h("select", { class: "rc-mode", onchange: (e) => set("mode", e.target.value) },
    h("option", { value: "max" }, "max"), h("option", { value: "min" }, "min"));
  const counts = h("span", { class: "mlnb-muted rc-counts" });
  const toolbar = h("div", { class: "mlnb-toolbar" }, h("b", {}, "Runs"), filterInput,
    h("button", { onclick: setFilter }, "Filter"), h("button", { onclick: () => { filterInput.value = ""; setFilter(); } }, "Clear"),
    h("label", {}, "metric", metricSel), h("label", {}, "best is", modeSel), counts,
    h("button", { class: "rc-clear-selection", onclick: () => set("selected", []) }, "Clear selection"));
  const error = h("div", { class: "mlnb-message mlnb-error rc-filter-error", style: "display:none" });
  const bestLine = h("div", { class: "rc-best-line" });
  const tableBox = h("div", { class: "rc-table-box" });
  const diffToggle = h("input", { type: "checkbox", onchange: (e) => set("diff_only", e.target.checked) });
  const paramsBox = h("div", { class: "rc-params" });
  const curveSel = h("select", { class: "rc-curve-metric", onchange: (e) => set("curve_metric", e.target.value) });
  const paramSel = h("select", { class: "rc-param", onchange: (e) => set("param", e.target.value) });
  const curvesBox = h("div", { class: "rc-chart rc-curves" }), parBox = h("div", { class: "rc-chart rc-parallel" });
  const scatterBox = h("div", { class: "rc-chart rc-scatter" }), legendBox = h("div", { class: "rc-legend" });
  root.append(toolbar, error, bestLine, tableBox,
    h("h4", { class: "mlnb-section" }, "Parameters of the selected runs ", h("label", { class: "rc-diff-label" }, diffToggle, "differences only")),
    paramsBox, legendBox,
    h("div", { class: "rc-charts" },
      h("div", { class: "rc-panel" }, h("h4", { class: "mlnb-section" }, "Metric by step ", curveSel), curvesBox),
      h("div", { class: "rc-panel" }, h("h4", { class: "mlnb-section" }, "Scatter ", paramSel, " vs metric"), scatterBox)),
    h("div", { class: "rc-panel rc-wide" }, h("h4", { class: "mlnb-section" }, "Parallel coordinates: parameters → metric"), parBox));
  el.append(root);

  let rawData = null, decoded = null;
  function data_() {  // the runs, metrics decoded once per payload
    const raw = model.get("_data");
    if (raw !== rawData) { rawData = raw; decoded = rcDecode(raw); }
    return decoded;
  }
  function set(name, value) { model.set(name, value); model.save_changes(); }
  function setFilter() { set("filter", filterInput.value.trim()); }
  function toggle(id) {
    const sel = [...(model.get("selected") || [])], k = sel.indexOf(id);
    if (k >= 0) sel.splice(k, 1); else sel.push(id);
    set("selected", sel);
  }
  function options(sel, names, value) {
    sel.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
    sel.value = value;
  }

  function visibleRows(data) {
    const vis = model.get("_visible");
    return vis === null || vis === undefined ? data.ids.map((_, i) => i) : vis;
  }

  function sortedRows(data, rows) {
    const metric = model.get("metric");
    const col = state.sort || (metric ? "metrics." + metric : null);
    const desc = state.sort ? state.desc : model.get("mode") === "max";
    if (!col) return [...rows].reverse();
    const [kind, name] = col.includes(".") ? col.split(/\.(.*)/s) : ["cols", col];
    const values = kind === "cols" ? data.cols[name] : (data[kind] || {})[name];
    if (!values) return rows;
    return [...rows].sort((a, b) => rcCompare(values[a], values[b], desc));
  }

  function header(label, col, cls) {
    const on = state.sort === col;
    return h("th", { class: (cls || "") + " rc-sortable", "data-col": col, title: "sort",
      onclick: () => { state.desc = on ? !state.desc : col.startsWith("metrics."); state.sort = col; drawTable(); } },
      label + (on ? (state.desc ? " ▾" : " ▴") : ""));
  }

  function drawTable() {
    const data = data_() || { ids: [] }, sel = model.get("selected") || [], best = model.get("best");
    const params = Object.keys(data.params || {}), metrics = Object.keys(data.metrics || {});
    const rows = sortedRows(data, visibleRows(data));
    counts.textContent = `${data.ids.length.toLocaleString("en-US")} runs · ${rows.length.toLocaleString("en-US")} shown · ${sel.length} selected`;
    if (!data.ids.length) { tableBox.replaceChildren(h("div", { class: "mlnb-empty" }, "No runs yet: start one with mlnb.start_run or mlnb sweep.")); return; }
    const head = h("tr", {}, h("th", {}, ""), header("run", "run_id_"), header("status", "status"),
      params.map((p) => header(p, "params." + p, "mlnb-num rc-param-col")), metrics.map((m) => header(m, "metrics." + m, "mlnb-num rc-metric-col")),
      header("started", "start_time"), h("th", {}, "notebook"));
    const body = rows.slice(0, RC_MAX_ROWS).map((i) => {
      const id = data.ids[i], s = sel.indexOf(id), href = rcHref(data, i);
      const status = data.cols.status[i] || "";
      return h("tr", { class: "rc-row" + (s >= 0 ? " rc-selected" : "") + (id === best ? " rc-best" : ""), "data-run": id, onclick: (e) => { if (e.target.tagName !== "A") toggle(id); } },
        h("td", {}, h("span", { class: "mlnb-swatch", style: s >= 0 ? `background:${mlnbColor(s)}` : "background:transparent;border:1px solid var(--mlnb-border)" })),
        h("td", { class: "rc-id" }, id, id === best ? h("span", { class: "rc-star", title: `best run by ${model.get("metric")} (${model.get("mode")})` }, " ★") : null),
        h("td", {}, h("span", { class: `mlnb-badge rc-status-${status}` }, status)),
        params.map((p) => h("td", { class: "mlnb-num" }, rcFmt(data.params[p][i]))),
        metrics.map((m) => h("td", { class: "mlnb-num" }, rcFmt(data.metrics[m][i]))),
        h("td", { class: "mlnb-muted" }, String(data.cols.start_time[i] || "").slice(0, 19).replace("T", " ")),
        h("td", {}, href ? h("a", { href, target: "_blank", class: "rc-link", title: rcPath(data, i) }, "notebook")
          : h("span", { class: "mlnb-muted", title: rcPath(data, i) || "" }, data.paths[i] ? "(outside root)" : "–")));
    });
    const more = rows.length > RC_MAX_ROWS ? h("div", { class: "mlnb-muted rc-more" }, `showing ${RC_MAX_ROWS} of ${rows.length.toLocaleString("en-US")}: sort or filter to see others`) : null;
    tableBox.replaceChildren(h("table", { class: "mlnb-table rc-table" }, h("thead", {}, head), h("tbody", {}, body)), more || "");
  }

  function drawParams() {
    const data = data_() || { ids: [] }, sel = model.get("selected") || [];
    const index = new Map(data.ids.map((id, i) => [id, i]));
    const rows = sel.filter((id) => index.has(id)).map((id) => index.get(id));
    diffToggle.checked = model.get("diff_only");
    if (!rows.length) { paramsBox.replaceChildren(h("div", { class: "mlnb-muted" }, "Select runs in the table (click a row) to compare them.")); return; }
    const names = Object.keys(data.params || {}).filter((p) => !model.get("diff_only") || rows.length < 2 ||
      new Set(rows.map((i) => rcFmt(data.params[p][i]))).size > 1);
    const head = h("tr", {}, h("th", {}, "parameter"), rows.map((i, k) => h("th", { class: "mlnb-num" },
      h("span", { class: "mlnb-swatch", style: `background:${mlnbColor(k)}` }), " ", data.ids[i])));
    const body = names.map((p) => {
      const differs = new Set(rows.map((i) => rcFmt(data.params[p][i]))).size > 1;
      return h("tr", { class: differs ? "rc-differs" : "", "data-param": p }, h("td", {}, p), rows.map((i) => h("td", { class: "mlnb-num" }, rcFmt(data.params[p][i]))));
    });
    const note = names.length ? null : h("tr", {}, h("td", { colspan: rows.length + 1, class: "mlnb-muted" }, "The selected runs have the same parameters."));
    paramsBox.replaceChildren(h("table", { class: "mlnb-table rc-param-table" }, h("thead", {}, head), h("tbody", {}, body, note || [])));
  }

  function drawCharts() {
    const data = data_() || { ids: [], params: {}, metrics: {} }, sel = model.get("selected") || [];
    const metric = model.get("metric"), best = model.get("best"), curves = model.get("_curves") || {};
    const metrics = Object.keys(data.metrics || {}), params = Object.keys(data.params || {});
    options(metricSel, metrics, metric); modeSel.value = model.get("mode");
    options(curveSel, metrics, model.get("curve_metric") || metric); options(paramSel, params, model.get("param"));
    legendBox.replaceChildren(sel.length ? legend(sel.map((id) => id + (id === best ? " ★" : ""))) : "");
    const cm = model.get("curve_metric") || metric;
    curvesBox.innerHTML = rcLines(sel.filter((id) => curves[id]).map((id) => ({ name: id, points: curves[id], color: mlnbColor(sel.indexOf(id)), best: id === best })),
      { metric: cm, empty: sel.length ? `no ${cm} history for the selected runs` : "select runs to see their curves" });
    if (!metric || !data.metrics[metric]) { parBox.innerHTML = scatterBox.innerHTML = "<div class='mlnb-muted'>No metric recorded yet.</div>"; return; }
    let rows = visibleRows(data).filter((i) => rcIsNum(data.metrics[metric][i]));
    if (rows.length > RC_MAX_LINES) {
      const keep = new Set(sel);
      const ordered = [...rows].sort((a, b) => (model.get("mode") === "max" ? -1 : 1) * (data.metrics[metric][a] - data.metrics[metric][b]));
      rows = ordered.slice(0, RC_MAX_LINES).concat(ordered.slice(RC_MAX_LINES).filter((i) => keep.has(data.ids[i])));
    }
    parBox.innerHTML = rcParallel(data, rows, params, metric, sel, best);
    scatterBox.innerHTML = model.get("param") ? rcScatter(data, rows, model.get("param"), metric, sel, best) : "<div class='mlnb-muted'>No parameters.</div>";
    for (const box of [parBox, scatterBox]) {
      box.querySelectorAll("[data-run]").forEach((n) => n.addEventListener("click", () => toggle(n.dataset.run)));
    }
  }

  function drawAll() {
    const err = model.get("filter_error");
    error.style.display = err ? "" : "none";
    error.textContent = err ? "⚠ " + err : "";
    if (document.activeElement !== filterInput) filterInput.value = model.get("filter") || "";
    const data = data_() || { ids: [] }, best = model.get("best");
    const i = data.ids.indexOf(best);
    bestLine.replaceChildren(i >= 0 ? h("span", {}, "★ Best run by ", h("b", {}, model.get("metric")), ` (${model.get("mode")}): `,
      h("b", { class: "rc-best-id" }, best), ` = ${rcFmt(data.metrics[model.get("metric")][i])}`,
      rcHref(data, i) ? h("a", { href: rcHref(data, i), target: "_blank", class: "rc-link" }, " · open notebook") : "") : "");
    drawTable(); drawParams(); drawCharts();
  }

  const events = "change:_data change:selected change:_visible change:filter_error change:metric change:mode change:best " +
    "change:_curves change:param change:diff_only change:curve_metric change:filter";
  model.on(events, drawAll);
  drawAll();
  return () => model.off(events, drawAll);
}

export default { render };
