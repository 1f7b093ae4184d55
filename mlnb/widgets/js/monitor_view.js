// mlnb MonitorView — monitoring over spans: the anomaly timeline (features × spans, coloured by status), the
// trends of the selected feature (distance, p-value, missing share, mean and quantiles or top values), the served
// model's metric over spans, the trigger log, and example rows of a clicked cell. The payload arrives once
// (_data, see mlnb.widgets.monitor_view.get_payload); a click sets `selected` and the kernel answers in
// `_examples` with a few rows read from that span's data. common.js is prepended (h, esc, fmtNum, fmtPct, ...).

const MV_STATUS = {
  anomaly: { color: "#d6404e", text: "#fff", glyph: "A", label: "anomaly (schema)" },
  drift: { color: "#f58518", text: "#fff", glyph: "D", label: "drift vs previous span" },
  skew: { color: "#9c5fa0", text: "#fff", glyph: "S", label: "skew vs baseline" },
  "too few": { color: "#c9ced6", text: "#57606a", glyph: "·", label: "too few examples" },
  ok: { color: "#d3ead0", text: "#57606a", glyph: "", label: "ok" },
};
const MV_CHECK = { drift: { color: "#f58518", label: "vs previous span" }, skew: { color: "#9c5fa0", label: "vs baseline" } };
const MV_DISTANCE = { wasserstein: "Wasserstein distance (σ)", jensenshannon: "Jensen-Shannon distance",
  tfdv_linf: "L∞ distance (TFDV)", tfdv_jsd: "JS divergence (TFDV)" };
const MV_PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d", "#bab0ac"];

const mvIsNum = (v) => typeof v === "number" && Number.isFinite(v);

function mvFmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return fmtNum(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

// Round tick values for a linear axis.
function mvTicks(lo, hi, n = 4) {
  if (lo === hi) { lo -= 1; hi += 1; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) || raw;
  const out = [], first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) out.push(Math.abs(k * step) < step * 1e-9 ? 0 : parseFloat((k * step).toPrecision(12)));
  return out;
}

// A chart over the spans: lines (with marked points), bands and threshold lines, labelled axes.
// series: [{name, values, color, width, dash, marks}], bands: [{low, high, color, opacity, name}], thresholds: [{value, label}]
function mvChart(labels, o) {
  const W = o.width || 420, H = o.height || 210, L = 62, R = 14, T = 14, B = 46;
  const n = labels.length, pw = W - L - R, ph = H - T - B;
  const x = (i) => L + ((i + 0.5) * pw) / Math.max(n, 1);
  const series = o.series || [], bands = o.bands || [], thresholds = (o.thresholds || []).filter((t) => mvIsNum(t.value));
  const scale = o.percent ? 100 : 1;
  let vals = [];
  series.forEach((s) => vals.push(...s.values.filter(mvIsNum)));
  bands.forEach((b) => { vals.push(...b.low.filter(mvIsNum)); vals.push(...b.high.filter(mvIsNum)); });
  thresholds.forEach((t) => vals.push(t.value));
  let out = `<svg class="mlnb-chart mv-chart" data-chart="${esc(o.name || "")}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`;
  const axisTitle = `<text class="mv-axis-title" transform="translate(13 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel || "")}</text>` +
    `<text class="mv-axis-title" x="${L + pw / 2}" y="${H - 4}" text-anchor="middle">${esc(o.xlabel || "span")}</text>`;
  if (!vals.length) {
    return out + axisTitle + `<text x="${L + pw / 2}" y="${T + ph / 2}" text-anchor="middle" class="mlnb-axis">${esc(o.empty || "not measured")}</text></svg>`;
  }
  let y, ticks, tickText;
  if (o.log) {
    const floor = o.floor || 1e-16;
    const pos = vals.map((v) => Math.max(v, floor));
    const a = Math.floor(Math.log10(Math.min(...pos))), b = Math.max(0, Math.ceil(Math.log10(Math.max(...pos))));
    const lo = a === b ? a - 1 : a;
    y = (v) => T + ph - ((Math.log10(Math.max(v, floor)) - lo) / (b - lo)) * ph;
    const every = Math.max(1, Math.ceil((b - lo) / 5));
    ticks = []; for (let e = b; e >= lo; e -= every) ticks.push(Math.pow(10, e));
    tickText = (t) => (t >= 0.001 ? fmtNum(t) : `1e${Math.round(Math.log10(t))}`);
  } else {
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (o.zero !== false) lo = Math.min(lo, 0);
    if (o.max !== undefined) hi = Math.max(hi, o.max);
    if (lo === hi) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.1);
    ticks = mvTicks(lo, hi);
    lo = Math.min(lo, ticks[0]); hi = Math.max(hi, ticks[ticks.length - 1]);
    y = (v) => T + ph - ((v - lo) / (hi - lo)) * ph;
    tickText = (t) => (o.percent ? fmtNum(Math.round(t * scale * 100) / 100) + "%" : fmtNum(Math.abs(t) < 1e-12 ? 0 : parseFloat(t.toPrecision(6))));
  }
  for (const t of ticks) {
    out += `<line x1="${L}" x2="${L + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="mv-grid"/>`;
    out += `<text x="${L - 5}" y="${(y(t) + 3).toFixed(1)}" text-anchor="end" class="mlnb-axis">${esc(tickText(t))}</text>`;
  }
  out += `<line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" class="mv-axis"/><line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" class="mv-axis"/>`;
  const every = Math.max(1, Math.ceil((n * 34) / pw));
  labels.forEach((lab, i) => {
    if (i % every && i !== n - 1) return;
    out += `<text x="${x(i).toFixed(1)}" y="${T + ph + 14}" text-anchor="middle" class="mlnb-axis mv-xlabel">${esc(String(lab).slice(0, 10))}</text>`;
  });
  out += axisTitle;
  for (const b of bands) {
    const idx = labels.map((_, i) => i).filter((i) => mvIsNum(b.low[i]) && mvIsNum(b.high[i]));
    if (!idx.length) continue;
    const up = idx.map((i, k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(b.high[i]).toFixed(1)}`).join("");
    const down = [...idx].reverse().map((i) => `L${x(i).toFixed(1)},${y(b.low[i]).toFixed(1)}`).join("");
    const w = idx.length === 1 ? 6 : 0;
    out += idx.length === 1
      ? `<rect x="${x(idx[0]) - w}" y="${y(b.high[idx[0]])}" width="${2 * w}" height="${Math.max(1, y(b.low[idx[0]]) - y(b.high[idx[0]]))}" fill="${b.color}" fill-opacity="${b.opacity}"><title>${esc(b.name)}</title></rect>`
      : `<path d="${up}${down}Z" fill="${b.color}" fill-opacity="${b.opacity}" stroke="none"><title>${esc(b.name)}</title></path>`;
  }
  for (const t of thresholds) {
    const ty = y(t.value).toFixed(1);
    out += `<line x1="${L}" x2="${L + pw}" y1="${ty}" y2="${ty}" class="mv-threshold"/>`;
    out += `<text x="${L + pw - 2}" y="${(y(t.value) - 4).toFixed(1)}" text-anchor="end" class="mv-threshold-label">${esc(t.label)}</text>`;
  }
  for (const s of series) {
    let d = "", pen = false;
    s.values.forEach((v, i) => {
      if (!mvIsNum(v)) { pen = false; return; }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`; pen = true;
    });
    out += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}><title>${esc(s.name)}</title></path>`;
    s.values.forEach((v, i) => {
      if (!mvIsNum(v)) return;
      const mark = s.marks && s.marks[i];
      const shown = o.log && v < (o.floor || 1e-16) ? `< ${tickText(o.floor || 1e-16)}` : (o.percent ? fmtPct(v) : fmtNum(v));
      const tip = `${s.name} · ${labels[i]}: ${shown}${mark ? " — " + (s.markLabel || "flagged") : ""}`;
      out += `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${mark ? 4.5 : 2.8}" fill="${mark ? "#d6404e" : s.color}"` +
        `${mark ? ' stroke="#fff" stroke-width="1.2" class="mv-flagged"' : ""}><title>${esc(tip)}</title></circle>`;
    });
  }
  return out + "</svg>";
}

function mvLegend(items) {
  return h("div", { class: "mv-legend" }, items.map((it) => h("span", { class: "mv-legend-item" },
    h("span", { class: "mv-swatch" + (it.line ? " mv-line" : ""), style: `background:${it.color}${it.dash ? ";opacity:.7" : ""}` }), it.label)));
}

function mvSpanStatus(data, j) {  // the span's verdict: anomalies, else drift vs the previous span, else skew vs the baseline
  const v = data.verdicts;
  if (v.anomalies[j] > 0) return "anomaly";
  if (v.drift[j]) return "drift";
  if (v.skew[j]) return "skew";
  return "ok";
}

function mvFired(data) {  // {span: [rows of the trigger log that fired for it]}
  const t = data.triggers || { columns: [], rows: [] }, c = (name) => t.columns.indexOf(name), out = {};
  for (const r of t.rows) if (r[c("fired")] && r[c("span")] !== null && r[c("span")] !== undefined) (out[r[c("span")]] = out[r[c("span")]] || []).push(r);
  return out;
}

// The timeline: one row per feature, one column per span; a verdict row and a trigger row on top.
function mvTimeline(data, sel, feature) {
  const spans = data.spans, feats = data.features, n = spans.length;
  const labelW = Math.min(170, Math.max(90, 7 * Math.max(...feats.map((f) => f.length), 13) + 12));
  const cw = Math.max(20, Math.min(64, Math.floor(820 / Math.max(n, 1)))), ch = 22, gap = 2;
  const rotate = cw < 44;
  const headH = rotate ? 58 : 30, top = headH + 2 * (ch + gap) + 8;
  const W = labelW + n * (cw + gap) + 8, H = top + feats.length * (ch + gap) + 4;
  const fired = mvFired(data), cx = (j) => labelW + j * (cw + gap);
  let out = `<svg class="mlnb-chart mv-timeline-svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`;
  spans.forEach((s, j) => {
    const base = s === data.baseline, xm = cx(j) + cw / 2;
    const label = esc(String(s).slice(0, 12)) + (base ? " ◆" : "");
    out += rotate
      ? `<text class="mv-span-label${base ? " mv-baseline" : ""}" transform="translate(${xm + 3} ${headH - 4}) rotate(-45)">${label}<title>${esc(s)}${base ? " (baseline)" : ""}</title></text>`
      : `<text class="mv-span-label${base ? " mv-baseline" : ""}" x="${xm}" y="${headH - 8}" text-anchor="middle">${label}<title>${esc(s)}${base ? " (baseline)" : ""}</title></text>`;
  });
  const rowLabel = (yy, text, cls, f) => `<text x="${labelW - 8}" y="${yy + ch / 2 + 4}" text-anchor="end" class="${cls}"${f ? ` data-feature="${esc(f)}"` : ""}>${esc(text)}</text>`;
  let yy = headH;
  out += rowLabel(yy, "span verdict", "mv-row-label mv-strong");
  spans.forEach((s, j) => {
    const st = mvSpanStatus(data, j), c = MV_STATUS[st];
    const tip = `${s}: ${data.verdicts.verdict[j]} · ${fmtNum(data.examples_per_span[j])} examples`;
    out += `<rect class="mv-verdict" data-span="${esc(s)}" x="${cx(j)}" y="${yy}" width="${cw}" height="${ch}" rx="3" fill="${c.color}"><title>${esc(tip)}</title></rect>`;
    out += `<text x="${cx(j) + cw / 2}" y="${yy + ch / 2 + 4}" text-anchor="middle" class="mv-glyph" fill="${c.text}">${st === "ok" ? "✓" : c.glyph}</text>`;
  });
  yy += ch + gap;
  out += rowLabel(yy, "triggers fired", "mv-row-label");
  spans.forEach((s, j) => {
    const rows = fired[s];
    if (!rows) return;
    const tip = rows.map((r) => `${r[1]} fired${r[4] ? ": " + r[4] : ""}${r[6] ? " → run " + r[6] : ""}`).join("\n");
    out += `<text class="mv-fired" data-span="${esc(s)}" x="${cx(j) + cw / 2}" y="${yy + ch / 2 + 5}" text-anchor="middle">▲<title>${esc(tip)}</title></text>`;
  });
  yy = top;
  out += `<line x1="${labelW - 4}" x2="${W - 4}" y1="${top - 5}" y2="${top - 5}" class="mv-grid"/>`;
  feats.forEach((f, i) => {
    const yf = yy + i * (ch + gap);
    out += rowLabel(yf, f.length > 22 ? f.slice(0, 21) + "…" : f, "mv-row-label mv-feature-label" + (f === feature ? " mv-current" : ""), f);
    spans.forEach((s, j) => {
      const st = data.timeline.status[i][j] || "ok", c = MV_STATUS[st] || MV_STATUS.ok;
      const reason = data.timeline.reason[i][j];
      const on = sel && sel[0] === s && sel[1] === f;
      const tip = `${f} · ${s}: ${c.label}${reason ? " — " + reason : ""}${st === "ok" ? "" : " (click for example rows)"}`;
      out += `<rect class="mv-cell mv-s-${st.replace(" ", "-")}${on ? " mv-on" : ""}" data-span="${esc(s)}" data-feature="${esc(f)}" data-status="${esc(st)}" ` +
        `x="${cx(j)}" y="${yf}" width="${cw}" height="${ch}" rx="3" fill="${c.color}"><title>${esc(tip)}</title></rect>`;
      if (c.glyph) out += `<text x="${cx(j) + cw / 2}" y="${yf + ch / 2 + 4}" text-anchor="middle" class="mv-glyph" fill="${c.text}" pointer-events="none">${c.glyph}</text>`;
    });
  });
  return out + "</svg>";
}

function mvTrendCharts(data, feature) {
  const spans = data.spans, st = data.stats[feature] || {}, charts = [];
  const checks = ["drift", "skew"].filter((c) => data.trends[c] && data.trends[c][feature]);
  const tr = (c) => data.trends[c][feature];
  const dname = checks.map((c) => tr(c).distance_name).find((x) => x) || "";
  const thr = checks.map((c) => tr(c).threshold.find(mvIsNum)).find(mvIsNum);
  charts.push({ title: "Distance to the previous span and the baseline", legend: checks.map((c) => ({ color: MV_CHECK[c].color, label: MV_CHECK[c].label, line: true })),
    svg: mvChart(spans, { name: "distance", ylabel: MV_DISTANCE[dname] || dname || "distance", empty: "no comparison yet",
      series: checks.map((c) => ({ name: `${dname} ${MV_CHECK[c].label}`, values: tr(c).distance, color: MV_CHECK[c].color,
        marks: tr(c).drifted, markLabel: c === "drift" ? "drift" : "skew" })),
      thresholds: mvIsNum(thr) ? [{ value: thr, label: `threshold ${fmtNum(thr)}` }] : [] }) });
  const test = checks.map((c) => tr(c).test).find((x) => x);
  const alpha = checks.map((c) => (tr(c).alpha || []).find(mvIsNum)).find(mvIsNum) || 0.05;
  charts.push({ title: `p-value of the ${test === "ks" ? "Kolmogorov-Smirnov" : test === "chi2" ? "chi-squared" : ""} test (BH-adjusted)`,
    legend: checks.map((c) => ({ color: MV_CHECK[c].color, label: MV_CHECK[c].label, line: true })),
    svg: mvChart(spans, { name: "p-value", ylabel: "p-value (log scale)", log: true, floor: 1e-16, empty: "no test",
      series: checks.map((c) => ({ name: `p ${MV_CHECK[c].label}`, values: tr(c).p_adjusted, color: MV_CHECK[c].color })),
      thresholds: test ? [{ value: alpha, label: `α = ${alpha}` }] : [] }) });
  charts.push({ title: "Missing values", legend: [],
    svg: mvChart(spans, { name: "missing", ylabel: "missing (% of examples)", percent: true, max: 0.01,
      series: [{ name: "missing", values: st.missing || [], color: "#4c78a8" }] }) });
  if (st.kind === "numeric") {
    const q = st.quantiles || [], nq = Math.max(0, ...q.map((x) => x.length)) - 1;
    const at = (k) => q.map((x) => (x.length ? x[k] : null));
    const pct = (k) => Math.round((100 * k) / nq);
    const outer = nq >= 4 ? 1 : 0, inner = nq >= 4 ? Math.floor(nq / 4) : 0, mid = Math.floor(nq / 2);
    const bands = nq > 0 ? [{ low: at(outer), high: at(nq - outer), color: "#4c78a8", opacity: 0.15, name: `p${pct(outer)}–p${pct(nq - outer)}` }] : [];
    if (nq >= 4) bands.push({ low: at(inner), high: at(nq - inner), color: "#4c78a8", opacity: 0.28, name: `p${pct(inner)}–p${pct(nq - inner)}` });
    charts.push({ title: "Mean and quantiles",
      legend: [{ color: "#4c78a8", label: "median", line: true }, { color: "#e45756", label: "mean", line: true }]
        .concat(bands.map((b) => ({ color: `rgba(76,120,168,${b.opacity + 0.1})`, label: b.name }))),
      svg: mvChart(spans, { name: "quantiles", ylabel: feature, zero: false, bands,
        series: [{ name: "median", values: nq > 0 ? at(mid) : [], color: "#4c78a8" }, { name: "mean", values: st.mean || [], color: "#e45756", dash: "5 3" }] }) });
  } else if (st.top) {
    const values = Object.keys(st.top);
    charts.push({ title: "Share of the most frequent values",
      legend: values.map((v, i) => ({ color: MV_PALETTE[i % MV_PALETTE.length], label: v.length > 18 ? v.slice(0, 17) + "…" : v, line: true })),
      svg: mvChart(spans, { name: "top values", ylabel: "share of examples (%)", percent: true,
        series: values.map((v, i) => ({ name: v, values: st.top[v], color: MV_PALETTE[i % MV_PALETTE.length] })) }) });
  }
  return charts;
}

function mvModelChart(data, metric) {
  const m = data.model, slices = m.slices.slice(0, 8), vals = m.values[metric] || {};
  return {
    legend: slices.map((s, i) => ({ color: MV_PALETTE[i % MV_PALETTE.length], label: s, line: true })),
    svg: mvChart(data.spans, { name: "model", width: 520, height: 230, ylabel: metric, zero: false,
      series: slices.map((s, i) => ({ name: s, values: vals[s] || [], color: MV_PALETTE[i % MV_PALETTE.length], width: i ? 1.6 : 2.8 })) }),
  };
}

function render({ model, el }) {
  const root = h("div", { class: "mlnb mlnb-monitor" });
  const summary = h("div", { class: "mv-summary" });
  const featSel = h("select", { class: "mv-feature", onchange: (e) => set("feature", e.target.value) });
  const metricSel = h("select", { class: "mv-metric", onchange: (e) => set("metric", e.target.value) });
  const timelineBox = h("div", { class: "mv-timeline" });
  const statusLegend = mvLegend(Object.entries(MV_STATUS).map(([k, v]) => ({ color: v.color, label: (v.glyph ? v.glyph + " " : "") + v.label })));
  const examplesBox = h("div", { class: "mv-examples" });
  const trendsBox = h("div", { class: "mv-trends" });
  const modelBox = h("div", { class: "mv-model" });
  const triggersBox = h("div", { class: "mv-triggers" });
  root.append(summary,
    h("h4", { class: "mlnb-section" }, "Anomaly timeline ", h("span", { class: "mlnb-count" }, "— features × spans; click a cell for example rows")),
    h("div", { class: "mv-timeline-wrap" }, timelineBox, statusLegend),
    examplesBox,
    h("h4", { class: "mlnb-section" }, "Trends of ", featSel), trendsBox,
    h("div", { class: "mv-bottom" },
      h("div", { class: "mv-panel" }, h("h4", { class: "mlnb-section mv-model-title" }, "Served model"), modelBox),
      h("div", { class: "mv-panel mv-wide" }, h("h4", { class: "mlnb-section" }, "Trigger log"), triggersBox)));
  el.append(root);

  function set(name, value) { model.set(name, value); model.save_changes(); }

  function drawSummary(data) {
    const n = data.spans.length, j = n - 1;
    const st = n ? mvSpanStatus(data, j) : "ok";
    summary.replaceChildren(h("b", {}, "Monitoring"), ` · ${n} span${n === 1 ? "" : "s"}`,
      n ? ` (${data.spans[0]} → ${data.spans[j]})` : "", ` · baseline ${data.baseline} ◆`,
      n ? h("span", { class: "mv-newest" }, " · newest span ", h("b", {}, data.spans[j]), ": ",
        h("span", { class: `mv-badge mv-b-${st.replace(" ", "-")}` }, data.verdicts.verdict[j])) : "");
  }

  function drawTimeline(data) {
    timelineBox.innerHTML = mvTimeline(data, model.get("selected"), model.get("feature"));
    timelineBox.querySelectorAll("rect.mv-cell").forEach((r) => r.addEventListener("click", () => {
      model.set("feature", r.dataset.feature);
      model.set("selected", [r.dataset.span, r.dataset.feature]);
      model.save_changes();
    }));
    timelineBox.querySelectorAll("text.mv-feature-label").forEach((t) => t.addEventListener("click", () => set("feature", t.dataset.feature)));
  }

  function drawExamples() {
    const sel = model.get("selected") || [], ex = model.get("_examples") || {};
    if (sel.length !== 2) {
      examplesBox.replaceChildren(h("div", { class: "mlnb-muted mv-hint" },
        "Click a coloured cell of the timeline to see example rows of that span: for an anomaly, the rows with the unexpected values; for drift or skew, the rows carrying the values whose share grew most."));
      return;
    }
    const head = h("div", { class: "mv-examples-head" }, h("b", {}, `Example rows · ${sel[0]} · ${sel[1]}`));
    if (ex.span !== sel[0] || ex.feature !== sel[1]) {
      examplesBox.replaceChildren(head, h("div", { class: "mlnb-muted mv-loading" }, "fetching example rows from the span's data…"));
      return;
    }
    if (ex.error) { examplesBox.replaceChildren(head, h("div", { class: "mlnb-message mlnb-error" }, ex.error)); return; }
    if (ex.status) head.append(" ", h("span", { class: `mv-badge mv-b-${ex.status.replace(" ", "-")}` }, MV_STATUS[ex.status] ? MV_STATUS[ex.status].label : ex.status));
    const col = ex.columns.indexOf(ex.feature);
    const count = ex.total ? h("div", { class: "mlnb-muted" }, `${fmtNum(ex.matched)} of ${fmtNum(ex.total)} rows of ${ex.span} carry them; ${ex.rows.length} shown`) : "";
    const table = ex.rows.length ? h("div", { class: "mv-table-box" }, h("table", { class: "mlnb-table mv-rows" },
      h("thead", {}, h("tr", {}, ex.columns.map((c, k) => h("th", { class: k === col ? "mv-hot" : "" }, c)))),
      h("tbody", {}, ex.rows.map((r) => h("tr", {}, r.map((v, k) => h("td", { class: (typeof v === "number" ? "mlnb-num" : "") + (k === col ? " mv-hot" : "") }, mvFmt(v)))))))) : "";
    examplesBox.replaceChildren(head, h("div", { class: "mv-why" }, ex.why || ""), count, table);
  }

  function drawTrends(data) {
    const feature = model.get("feature") || data.features[0];
    featSel.replaceChildren(...data.features.map((f) => h("option", { value: f }, f)));
    featSel.value = feature;
    if (!feature) { trendsBox.replaceChildren(h("div", { class: "mlnb-empty" }, "No features were compared.")); return; }
    const kind = (data.stats[feature] || {}).kind;
    trendsBox.replaceChildren(h("div", { class: "mlnb-muted mv-kind" }, `${feature}: ${kind || "feature"} · ● red points: the check flagged the span`),
      h("div", { class: "mv-grid-charts" }, mvTrendCharts(data, feature).map((c) => {
        const box = h("div", { class: "mv-chart-box" }, h("div", { class: "mv-chart-title" }, c.title));
        const holder = h("div", {}); holder.innerHTML = c.svg; box.append(holder);
        if (c.legend.length) box.append(mvLegend(c.legend));
        return box;
      })));
  }

  function drawModel(data) {
    if (!data.model) {
      modelBox.replaceChildren(h("div", { class: "mlnb-muted" }, "No model evaluated: mlnb.monitor(..., model=, label=) evaluates the served model on every span with labels."));
      return;
    }
    const metric = model.get("metric") || data.model.metrics[0];
    metricSel.replaceChildren(...data.model.metrics.map((m) => h("option", { value: m }, m)));
    metricSel.value = metric;
    const c = mvModelChart(data, metric), holder = h("div", {});
    holder.innerHTML = c.svg;
    modelBox.replaceChildren(h("div", { class: "mv-model-head" }, h("span", { class: "mlnb-muted" }, data.model.name + " · "), h("label", {}, "metric ", metricSel)), holder, mvLegend(c.legend));
  }

  function drawTriggers(data) {
    const t = data.triggers || { columns: [], rows: [] };
    if (!t.rows.length) {
      triggersBox.replaceChildren(h("div", { class: "mlnb-muted" }, "No trigger log: pass MonitorView(m, triggers=...) the log mlnb.pipeline.triggers keeps."));
      return;
    }
    const c = (name) => t.columns.indexOf(name);
    triggersBox.replaceChildren(h("div", { class: "mv-table-box mv-log" }, h("table", { class: "mlnb-table" },
      h("thead", {}, h("tr", {}, ["time", "trigger", "kind", "fired", "reason", "span", "run"].map((x) => h("th", {}, x)))),
      h("tbody", {}, t.rows.slice(0, 200).map((r) => h("tr", { class: r[c("fired")] ? "mv-fired-row" : "" },
        h("td", { class: "mlnb-muted mv-time", title: String(r[c("time")] || "") }, String(r[c("time")] || "").replace("T", " ").slice(0, 16)),
        h("td", {}, mvFmt(r[c("trigger")])), h("td", {}, mvFmt(r[c("kind")])),
        h("td", {}, r[c("fired")] ? h("span", { class: "mv-badge mv-b-drift" }, "fired") : h("span", { class: "mlnb-muted" }, "no")),
        h("td", {}, r[c("reason")] || ""), h("td", {}, r[c("span")] || ""), h("td", { class: "mv-run" }, r[c("run_id")] || "")))))));
  }

  function drawAll() {
    const data = model.get("_data");
    if (!data || !data.spans) { root.replaceChildren(h("div", { class: "mlnb-empty" }, "No monitoring data.")); return; }
    drawSummary(data); drawTimeline(data); drawExamples(); drawTrends(data); drawModel(data); drawTriggers(data);
  }
  const onSelect = () => { drawTimeline(model.get("_data")); drawExamples(); };
  const onFeature = () => { drawTimeline(model.get("_data")); drawTrends(model.get("_data")); };
  model.on("change:_data", drawAll);
  model.on("change:selected", onSelect);
  model.on("change:_examples", drawExamples);
  model.on("change:feature", onFeature);
  const onMetric = () => drawModel(model.get("_data"));
  model.on("change:metric", onMetric);
  drawAll();
  return () => { model.off("change:_data", drawAll); model.off("change:selected", onSelect); model.off("change:_examples", drawExamples);
    model.off("change:feature", onFeature); model.off("change:metric", onMetric); };
}

export default { render };
