// mlnb WhatIf — probe a model: datapoint browser (scatter + table), datapoint editor with history, nearest
// counterfactual, partial dependence, performance & fairness. common.js is prepended (h, esc, fmtNum, fmtPct,
// mlnbColor). The kernel computes everything; this module draws the traits and sends actions:
//   {type: "select", position} {type: "edit", feature, value} {type: "revert", step}
//   {type: "counterfactual", distance} {type: "pdp", feature} {type: "performance", group, cost_ratio, strategy}
// The datapoint sample (`_points`) arrives once; charts are inline SVG, so nothing loads from the network.

const WI_LOW = [76, 120, 168], WI_HIGH = [245, 133, 24];
const WI_PAGE = 12;
const WI_MODEL_DASH = ["", "6 3"];

function wiRamp(t) {
  if (t === null || t === undefined || Number.isNaN(t)) return "#999";
  const u = Math.max(0, Math.min(1, t));
  const c = WI_LOW.map((a, i) => Math.round(a + (WI_HIGH[i] - a) * u));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function wiVal(v) {
  if (v === null || v === undefined) return "–";
  return typeof v === "number" ? fmtNum(v) : String(v);
}

function wiScore(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return Math.abs(v) < 1000 ? v.toFixed(Math.abs(v) < 10 ? 3 : 1) : fmtNum(v);
}

// A scale for one axis: numeric (linear) or categorical (bands); returns {pos(value, i), ticks: [[pos, text]]}
function wiAxis(values, r0, r1, numeric, extra = []) {
  if (numeric) {
    const fin = values.concat(extra).filter((v) => typeof v === "number" && Number.isFinite(v));
    let lo = Math.min(...fin), hi = Math.max(...fin);
    if (!fin.length) { lo = 0; hi = 1; }
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    const f = (v) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0);
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => { const v = lo + t * (hi - lo); return [f(v), fmtNum(parseFloat(v.toPrecision(3)))]; });
    return { pos: (v) => f(v), ticks };
  }
  const cats = [...new Set(values.map(String))].sort();
  const band = (r1 - r0) / Math.max(1, cats.length);
  const idx = new Map(cats.map((c, i) => [c, i]));
  // deterministic jitter within the band, from the point's number
  const pos = (v, i) => r0 + band * (idx.get(String(v)) + 0.5 + 0.7 * (((i * 2654435761) % 1000) / 1000 - 0.5));
  return { pos, ticks: cats.map((c) => [r0 + band * (idx.get(c) + 0.5), c.length > 12 ? c.slice(0, 11) + "…" : c]) };
}

function render({ model, el }) {
  const meta = model.get("_meta");
  const binary = meta.task === "binary", regression = meta.task === "regression";
  const numeric = new Set(meta.numeric);
  const ui = { tab: "datapoint", x: meta.numeric[0] || meta.features[0], y: "score", color: regression ? "score" : "prediction",
               page: 0, distance: "l1", group: "", strategy: "single", cost: 1 };
  const send = (msg) => model.send(msg);
  const root = h("div", { class: "mlnb mlnb-whatif" });
  const error = h("div", { class: "mlnb-message mlnb-error mlnb-wi-error", style: "display:none" });
  const panes = { datapoint: h("div", { class: "mlnb-wi-pane mlnb-wi-datapoint" }), pdp: h("div", { class: "mlnb-wi-pane mlnb-wi-pdp" }),
                  performance: h("div", { class: "mlnb-wi-pane mlnb-wi-performance" }) };
  const tabs = h("div", { class: "mlnb-wi-tabs" });
  const thresholdBox = h("span", { class: "mlnb-wi-threshold" });
  root.append(h("div", { class: "mlnb-toolbar" }, h("b", {}, "What-If"),
    h("span", { class: "mlnb-muted" }, `${meta.models.join(" vs ")} · ${meta.task} · ${fmtNum(meta.rows)} datapoints`), tabs, thresholdBox),
    error, ...Object.values(panes));
  el.append(root);

  // ---- toolbar: tabs and the decision threshold
  function drawTabs() {
    const names = { datapoint: "Datapoints", pdp: "Partial dependence", performance: "Performance & fairness" };
    tabs.replaceChildren(...Object.entries(names).filter(([k]) => k !== "performance" || meta.label)
      .map(([k, text]) => h("button", { class: `mlnb-wi-tab${ui.tab === k ? " mlnb-primary" : ""}`, "data-tab": k,
        onclick: () => { ui.tab = k; drawTabs(); } }, text)));
    for (const [k, p] of Object.entries(panes)) p.style.display = ui.tab === k ? "" : "none";
  }
  function drawThreshold() {
    if (!binary) return;
    const t = model.get("threshold");
    const shown = h("span", { class: "mlnb-wi-tvalue" }, t.toFixed(2));
    const slider = h("input", { type: "range", class: "mlnb-wi-tslider", min: 0, max: 1, step: 0.01, value: String(t),
      title: `predicted ${meta.classes[1]} when P(${meta.classes[1]}) ≥ threshold`,
      oninput: (e) => { shown.textContent = Number(e.target.value).toFixed(2); },
      onchange: (e) => { model.set("threshold", Number(e.target.value)); model.save_changes(); } });
    thresholdBox.replaceChildren(h("label", {}, "threshold", slider, shown));
  }
  function drawError() {
    const msg = model.get("error");
    error.style.display = msg ? "" : "none";
    error.textContent = msg ? "⚠ " + msg : "";
  }

  // ---- datapoint pane: editor (left), scatter and table (right)
  const editor = h("div", { class: "mlnb-wi-editor" });
  const browser = h("div", { class: "mlnb-wi-browser" });
  const scatterBar = h("div", { class: "mlnb-wi-bar" }), scatter = h("div", { class: "mlnb-wi-scatter" }), legendBox = h("div", { class: "mlnb-wi-legend" });
  const table = h("div", { class: "mlnb-wi-table" });
  browser.append(scatterBar, scatter, legendBox, table);
  panes.datapoint.append(editor, browser);

  function control(c, value, cf) {
    const edit = (v) => send({ type: "edit", feature: c.feature, value: v });
    if (c.kind === "slider") {
      const lo = Math.min(c.min, value), hi = Math.max(c.max, value);
      const num = h("input", { type: "number", class: "mlnb-wi-num", step: "any", value: String(value),
        onkeydown: (e) => { if (e.key === "Enter") e.target.blur(); },
        onchange: (e) => e.target.value !== "" && edit(Number(e.target.value)) });
      const range = h("input", { type: "range", class: "mlnb-wi-range", min: lo, max: hi, step: c.step, value: String(value),
        oninput: (e) => { num.value = e.target.value; }, onchange: (e) => edit(Number(e.target.value)) });
      return h("div", { class: "mlnb-wi-control" }, range, num);
    }
    const values = c.values.includes(String(value)) ? c.values : [String(value), ...c.values];
    return h("select", { class: "mlnb-wi-select", onchange: (e) => edit(e.target.value) },
      values.map((v) => h("option", { value: v, selected: v === String(value) }, v)));
  }

  function predictionCards(preds, cls) {
    return h("div", { class: `mlnb-wi-preds ${cls || ""}` }, preds.map((p, i) =>
      h("div", { class: "mlnb-wi-pred", "data-model": i, style: `border-color:${mlnbColor(i)}` },
        h("div", { class: "mlnb-muted" }, meta.models[i] || p.model),
        h("div", { class: "mlnb-wi-score" }, wiScore(p.score)),
        h("div", { class: "mlnb-wi-class" }, regression ? "" : binary ? `P(${meta.classes[1]}) → ${p.class}` : `${p.class}`))));
  }

  function drawEditor() {
    const d = model.get("datapoint");
    if (!d || !d.values) { editor.replaceChildren(h("div", { class: "mlnb-empty" }, "No datapoint.")); return; }
    const cf = d.counterfactual, edited = new Set(d.edited);
    const ms = d.predictions.map((p) => p.ms).filter((x) => x !== undefined);
    const rows = meta.controls.map((c) => {
      const differs = cf && cf.differs.includes(c.feature);
      return h("tr", { "data-feature": c.feature, class: edited.has(c.feature) ? "mlnb-wi-edited" : "" },
        h("td", { class: "mlnb-wi-fname" }, c.feature), h("td", {}, control(c, d.values[c.feature], cf)),
        cf ? h("td", { class: `mlnb-wi-cf${differs ? " mlnb-wi-differs" : ""}` }, wiVal(cf.values[c.feature])) : null);
    });
    const history = d.history.length > 1 ? h("ol", { class: "mlnb-wi-history", start: 0 }, d.history.map((s, i) =>
      h("li", { class: i === d.history.length - 1 ? "mlnb-wi-current" : "" },
        s.feature ? `${s.feature}: ${wiVal(s.from)} → ${wiVal(s.to)}` : "as in the data",
        h("span", { class: "mlnb-muted" }, ` · ${s.scores.map(wiScore).join(" / ")}`),
        i < d.history.length - 1 ? h("button", { class: "mlnb-wi-revert-to", onclick: () => send({ type: "revert", step: i }) }, "revert") : null))) : null;
    const dist = h("select", { class: "mlnb-wi-distance", onchange: (e) => { ui.distance = e.target.value; } },
      ["l1", "l2"].map((k) => h("option", { value: k, selected: ui.distance === k }, k.toUpperCase())));
    editor.replaceChildren(...[
      h("div", { class: "mlnb-wi-head" }, h("b", {}, `Datapoint ${d.position}`),
        meta.label ? h("span", { class: "mlnb-muted" }, ` · ${meta.label}: ${wiVal(d.label)}`) : null,
        edited.size ? h("span", { class: "mlnb-badge mlnb-warning" }, "edited") : null),
      predictionCards(d.predictions),
      ms.length ? h("div", { class: "mlnb-muted mlnb-wi-ms" }, `predicted in ${ms.map((x) => x.toFixed(1)).join(" / ")} ms`) : null,
      h("div", { class: "mlnb-wi-actions" },
        h("button", { class: "mlnb-wi-cf-btn", title: "the nearest datapoint whose predicted class differs",
          onclick: () => send({ type: "counterfactual", distance: ui.distance }) }, "Nearest counterfactual"), dist,
        h("button", { class: "mlnb-wi-revert", disabled: d.history.length < 2, onclick: () => send({ type: "revert", step: 0 }) }, "Revert all")),
      cf ? h("div", { class: "mlnb-wi-cfhead" }, h("span", {}, `Counterfactual: datapoint ${cf.position}`,
        h("span", { class: "mlnb-muted" }, ` · ${cf.distance_kind.toUpperCase()} distance ${fmtNum(cf.distance)} · ${cf.differs.length} feature(s) differ`)),
        predictionCards(cf.predictions, "mlnb-wi-cfpreds")) : null,
      h("table", { class: "mlnb-table mlnb-wi-controls" },
        h("thead", {}, h("tr", {}, h("th", {}, "feature"), h("th", {}, "value"), cf ? h("th", {}, "counterfactual") : null)),
        h("tbody", {}, rows)),
      history ? h("div", {}, h("h4", { class: "mlnb-section" }, "History"), history) : null].filter(Boolean));
  }

  function colorOf(pts, i) {
    const p = pts.predictions[0];
    if (ui.color === "label" && pts.label) {
      const v = pts.label[i];
      if (regression) return wiRamp(ui._lab ? (v - ui._lab[0]) / (ui._lab[1] - ui._lab[0] || 1) : 0.5);
      return mlnbColor(Math.max(0, meta.classes.map(String).indexOf(String(v))));
    }
    if (ui.color === "prediction" && !regression) return mlnbColor(Math.max(0, meta.classes.map(String).indexOf(String(p.class[i]))));
    const s = p.score[i];
    return wiRamp(regression ? (s - ui._pred[0]) / (ui._pred[1] - ui._pred[0] || 1) : s);
  }

  function drawScatter() {
    const pts = model.get("_points"), d = model.get("datapoint") || {};
    const n = pts.position.length;
    const column = (name) => (name === "score" ? pts.predictions[0].score : pts.columns[name]);
    const s0 = pts.predictions[0].score;
    ui._pred = [Math.min(...s0), Math.max(...s0)];
    if (pts.label && regression) ui._lab = [Math.min(...pts.label), Math.max(...pts.label)];
    const options = ["score", ...meta.features];
    const sel = (key, title) => h("label", {}, title, h("select", { class: `mlnb-wi-${key}`, onchange: (e) => { ui[key] = e.target.value; drawScatter(); } },
      (key === "color" ? ["prediction", "score", ...(pts.label ? ["label"] : [])].filter((o) => !(regression && o === "prediction")) : options)
        .map((o) => h("option", { value: o, selected: ui[key] === o }, o))));
    scatterBar.replaceChildren(sel("x", "x"), sel("y", "y"), sel("color", "colour"),
      h("span", { class: "mlnb-muted" }, `${fmtNum(n)} of ${fmtNum(meta.rows)} datapoints · click one to edit it`));
    const W = 460, H = 280, L = 46, B = 34, T = 8, R = 10;
    const xs = column(ui.x), ys = column(ui.y);
    const at = (name) => (!d.values ? [] : name === "score" ? [d.predictions[0].score] : [d.values[name]]);  // keep the edited datapoint in view
    const ax = wiAxis(xs, L, W - R, ui.x === "score" || numeric.has(ui.x), at(ui.x));
    const ay = wiAxis(ys, H - B, T, ui.y === "score" || numeric.has(ui.y), at(ui.y));
    const parts = [`<svg class="mlnb-chart mlnb-wi-plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`];
    parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="mlnb-baseline"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="mlnb-baseline"/>`);
    for (const [p, t] of ax.ticks) parts.push(`<text x="${p}" y="${H - B + 12}" text-anchor="middle">${esc(t)}</text>`);
    for (const [p, t] of ay.ticks) parts.push(`<text x="${L - 4}" y="${p + 3}" text-anchor="end">${esc(t)}</text>`);
    parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle" class="mlnb-label">${esc(ui.x)}</text>`);
    parts.push(`<text x="10" y="${(T + H - B) / 2}" text-anchor="middle" class="mlnb-label" transform="rotate(-90 10 ${(T + H - B) / 2})">${esc(ui.y)}</text>`);
    let selected = -1, cfi = -1;
    const cfPos = d.counterfactual ? d.counterfactual.position : -1;
    for (let i = 0; i < n; i++) {
      const pos = pts.position[i];
      if (pos === d.position) selected = i;
      if (pos === cfPos) cfi = i;
      parts.push(`<circle cx="${ax.pos(xs[i], i).toFixed(1)}" cy="${ay.pos(ys[i], i).toFixed(1)}" r="3" fill="${colorOf(pts, i)}" data-pos="${pos}" class="mlnb-wi-pt"><title>datapoint ${pos}</title></circle>`);
    }
    if (d.values) {  // the datapoint as edited: a ring where its values put it
      const vx = ui.x === "score" ? d.predictions[0].score : d.values[ui.x], vy = ui.y === "score" ? d.predictions[0].score : d.values[ui.y];
      parts.push(`<circle cx="${ax.pos(vx, selected < 0 ? 0 : selected).toFixed(1)}" cy="${ay.pos(vy, selected < 0 ? 0 : selected).toFixed(1)}" r="7" class="mlnb-wi-selected"/>`);
    }
    if (cfi >= 0) parts.push(`<circle cx="${ax.pos(xs[cfi], cfi).toFixed(1)}" cy="${ay.pos(ys[cfi], cfi).toFixed(1)}" r="7" class="mlnb-wi-cfring"/>`);
    parts.push("</svg>");
    scatter.innerHTML = parts.join("");
    const rampLegend = (lo, hi, text) => h("span", { class: "mlnb-legend-item" }, text, " ", fmtNum(lo),
      h("span", { class: "mlnb-wi-ramp" }), fmtNum(hi));
    legendBox.replaceChildren(ui.color === "score" || regression ? rampLegend(regression ? ui._pred[0] : 0, regression ? ui._pred[1] : 1, binary ? `P(${meta.classes[1]})` : ui.color)
      : legend(meta.classes.map(String)));
  }
  scatter.addEventListener("click", (e) => {
    const pos = e.target.dataset && e.target.dataset.pos;
    if (pos !== undefined) send({ type: "select", position: Number(pos) });
  });

  function drawTable() {
    const pts = model.get("_points"), d = model.get("datapoint") || {};
    const n = pts.position.length, pages = Math.max(1, Math.ceil(n / WI_PAGE));
    ui.page = Math.min(ui.page, pages - 1);
    const start = ui.page * WI_PAGE;
    const head = ["#", ...(pts.label ? [meta.label] : []), ...meta.models.map((m) => `score: ${m}`), ...meta.features];
    const body = [];
    for (let i = start; i < Math.min(n, start + WI_PAGE); i++) {
      const pos = pts.position[i];
      body.push(h("tr", { class: `mlnb-wi-row${pos === d.position ? " mlnb-wi-current" : ""}`, "data-pos": pos, onclick: () => send({ type: "select", position: pos }) },
        h("td", { class: "mlnb-num" }, pos), pts.label ? h("td", {}, wiVal(pts.label[i])) : null,
        pts.predictions.map((p) => h("td", { class: "mlnb-num" }, wiScore(p.score[i]))),
        meta.features.map((f) => h("td", { class: numeric.has(f) ? "mlnb-num" : "" }, wiVal(pts.columns[f][i])))));
    }
    table.replaceChildren(h("table", { class: "mlnb-table" }, h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))), h("tbody", {}, body)),
      h("div", { class: "mlnb-wi-pager" },
        h("button", { disabled: ui.page === 0, onclick: () => { ui.page--; drawTable(); } }, "‹"),
        h("span", { class: "mlnb-muted" }, ` page ${ui.page + 1} of ${pages} `),
        h("button", { disabled: ui.page >= pages - 1, onclick: () => { ui.page++; drawTable(); } }, "›")));
  }

  // ---- partial dependence
  function drawPdp() {
    const p = model.get("pdp");
    const pick = h("select", { class: "mlnb-wi-pdp-feature", onchange: (e) => send({ type: "pdp", feature: e.target.value }) },
      meta.features.map((f) => h("option", { value: f, selected: p && p.feature === f }, f)));
    const bar = h("div", { class: "mlnb-wi-bar" }, h("label", {}, "feature", pick),
      h("span", { class: "mlnb-muted" }, "solid: mean over the data (global) · dashed: the datapoint in the editor (ICE)"));
    if (!p || !p.grid) { panes.pdp.replaceChildren(bar); return; }
    const W = 520, H = 260, L = 46, B = 46, T = 10, R = 12;
    const all = p.curves.flatMap((c) => [...c.mean, ...c.ice]).filter(Number.isFinite);
    let lo = Math.min(...all), hi = Math.max(...all);
    if (binary || meta.task === "multiclass") { lo = Math.min(lo, 0); hi = Math.max(hi, 1); }
    if (hi === lo) hi = lo + 1;
    const y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - B - T);
    const n = p.grid.length;
    const x = p.numeric ? ((gl, gh) => (v) => L + ((v - gl) / (gh - gl || 1)) * (W - L - R))(p.grid[0], p.grid[n - 1])
      : (v, i) => L + ((i + 0.5) / n) * (W - L - R);
    const parts = [`<svg class="mlnb-chart mlnb-wi-pdpchart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`];
    parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="mlnb-baseline"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="mlnb-baseline"/>`);
    for (const t of [0, 0.25, 0.5, 0.75, 1]) { const v = lo + t * (hi - lo); parts.push(`<text x="${L - 4}" y="${y(v) + 3}" text-anchor="end">${esc(fmtNum(parseFloat(v.toPrecision(3))))}</text>`); }
    const every = Math.max(1, Math.ceil(n / 8));
    p.grid.forEach((g, i) => { if (i % every === 0 || i === n - 1) parts.push(`<text x="${x(g, i)}" y="${H - B + 12}" text-anchor="${p.numeric ? "middle" : "end"}"${p.numeric ? "" : ` transform="rotate(-30 ${x(g, i)} ${H - B + 12})"`}>${esc(wiVal(g))}</text>`); });
    const yl = binary ? `P(${meta.classes[1]})` : regression ? "prediction" : `P(${meta.classes[meta.classes.length - 1]})`;
    parts.push(`<text x="10" y="${(T + H - B) / 2}" text-anchor="middle" class="mlnb-label" transform="rotate(-90 10 ${(T + H - B) / 2})">${esc(yl)}</text>`);
    if (p.numeric && typeof p.value === "number") parts.push(`<line x1="${x(p.value)}" x2="${x(p.value)}" y1="${T}" y2="${H - B}" class="mlnb-wi-marker"/>`);
    p.curves.forEach((c, k) => {
      const color = mlnbColor(k);
      for (const [vals, cls, dash] of [[c.mean, "mlnb-wi-mean", ""], [c.ice, "mlnb-wi-ice", "5 3"]]) {
        const path = vals.map((v, i) => `${i ? "L" : "M"}${x(p.grid[i], i).toFixed(1)},${y(v).toFixed(1)}`).join("");
        if (p.numeric) parts.push(`<path d="${path}" class="${cls}" stroke="${color}" fill="none" stroke-width="${cls === "mlnb-wi-mean" ? 2.5 : 1.5}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
        vals.forEach((v, i) => parts.push(`<circle cx="${x(p.grid[i], i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${p.numeric ? 2 : 4}" class="${cls}" fill="${dash ? "white" : color}" stroke="${color}"><title>${esc(wiVal(p.grid[i]))}: ${esc(wiScore(v))}</title></circle>`));
      }
    });
    parts.push("</svg>");
    const chart = h("div", { class: "mlnb-wi-pdpbox", html: parts.join("") });
    panes.pdp.replaceChildren(bar, chart, legend(p.curves.map((c) => c.model)));
  }

  // ---- performance & fairness
  function drawPerf() {
    const perf = model.get("performance");
    if (!meta.label) return;
    const req = (patch) => { Object.assign(ui, patch); send({ type: "performance", group: ui.group, cost_ratio: ui.cost, strategy: ui.strategy }); };
    const controls = [h("label", {}, "groups", h("select", { class: "mlnb-wi-group", onchange: (e) => req({ group: e.target.value }) },
      [h("option", { value: "", selected: !ui.group }, "(everyone)"), ...meta.features.map((f) => h("option", { value: f, selected: ui.group === f }, f))]))];
    if (binary) controls.push(
      h("label", {}, "strategy", h("select", { class: "mlnb-wi-strategy", onchange: (e) => req({ strategy: e.target.value }) },
        meta.strategies.map((s) => h("option", { value: s, selected: ui.strategy === s }, s.replace(/_/g, " "))))),
      h("label", { title: "the cost of a false positive relative to a false negative" }, "cost ratio FP/FN",
        h("input", { type: "number", class: "mlnb-wi-cost", min: 0.01, step: 0.1, value: String(ui.cost),
          onkeydown: (e) => { if (e.key === "Enter") e.target.blur(); }, onchange: (e) => Number(e.target.value) > 0 && req({ cost: Number(e.target.value) }) })));
    const bar = h("div", { class: "mlnb-wi-bar" }, ...controls,
      binary ? h("span", { class: "mlnb-muted" }, ui.strategy === "single" ? "the threshold slider above sets the threshold" : "thresholds chosen per group by the strategy") : null);
    if (!perf || !perf.tables) { panes.performance.replaceChildren(bar); return; }
    const cols = binary ? ["group", "threshold", "count", "positive_rate", "tpr", "fpr", "precision", "accuracy", "auc", "cost"]
      : Object.keys(perf.tables[0][0]).filter((c) => !["feature", "value", "weight"].includes(c));
    const pct = new Set(["positive_rate", "tpr", "fpr", "precision", "accuracy", "recall"]);
    const cell = (c, v) => h("td", { class: c === "group" ? "" : "mlnb-num" }, c === "group" ? v : pct.has(c) ? fmtPct(v) : wiVal(typeof v === "number" && !Number.isInteger(v) ? parseFloat(v.toPrecision(4)) : v));
    const tables = perf.tables.map((rows, k) => h("div", { class: "mlnb-wi-perftable", "data-model": k },
      h("h4", { class: "mlnb-section" }, h("span", { class: "mlnb-swatch", style: `background:${mlnbColor(k)}` }), " ", perf.models[k]),
      h("table", { class: "mlnb-table" }, h("thead", {}, h("tr", {}, cols.map((c) => h("th", { class: c === "group" ? "" : "mlnb-num" }, c.replace(/_/g, " "))))),
        h("tbody", {}, rows.map((r) => h("tr", { class: r.group === "Overall" ? "mlnb-wi-overall" : "" }, cols.map((c) => cell(c, r[c]))))))));
    panes.performance.replaceChildren(bar, h("div", { class: "mlnb-wi-perf", "data-strategy": perf.strategy, "data-group": perf.group || "", "data-cost": perf.cost_ratio }, tables));
  }

  model.on("change:datapoint", () => { drawEditor(); drawScatter(); drawTable(); });
  model.on("change:_points", () => { drawScatter(); drawTable(); });
  model.on("change:pdp", drawPdp);
  model.on("change:performance", drawPerf);
  model.on("change:error", drawError);
  model.on("change:threshold", drawThreshold);
  drawTabs(); drawThreshold(); drawError(); drawEditor(); drawScatter(); drawTable(); drawPdp(); drawPerf();
}

export default { render };
