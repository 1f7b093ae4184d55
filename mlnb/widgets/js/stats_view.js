// mlnb StatsView — draws the pre-binned statistics payload (mlnb.widgets.stats_view.get_payload) as tables with
// inline SVG charts. Sorting, filtering, chart kind, log scale and the open detail are synced traits; only a
// slice change asks the kernel for new data. common.js is prepended (h, esc, fmtNum, fmtPct, svg*, legend).

const SV_NUM = [["count", "count", fmtNum], ["missing", "missing", fmtPct], ["mean", "mean", fmtNum],
  ["std", "std dev", fmtNum], ["zeros", "zeros", fmtPct], ["min", "min", fmtNum], ["median", "median", fmtNum],
  ["max", "max", fmtNum]];
const SV_CAT = [["count", "count", fmtNum], ["missing", "missing", fmtPct], ["unique", "unique", fmtNum],
  ["top", "top value", (v) => (v === null || v === undefined ? "–" : String(v))], ["freq", "freq top", fmtNum],
  ["avglen", "avg length", fmtNum]];
const SV_SORTS = [["order", "feature order"], ["name", "name"], ["missing", "missing %"],
  ["nonuniformity", "non-uniformity"], ["distance", "distance"]];

function svSort(features, sort, reverse, filter) {
  const text = (filter || "").toLowerCase().trim();
  let out = features.filter((f) => f.name.toLowerCase().includes(text));
  if (sort === "name") out.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  else if (sort !== "order") {
    const key = (f) => (f[sort] === null || f[sort] === undefined ? -1 : f[sort]);
    out.sort((a, b) => key(b) - key(a));
  }
  return reverse ? out.reverse() : out;
}

function svCell(stats, key, fmt) {
  const vals = stats.map((s) => (s ? s[key] : null));
  if (vals.length === 1) return esc(fmt(vals[0]));
  return vals.map((v, i) => `<div class="mlnb-ds mlnb-ds${i}">${esc(fmt(v))}</div>`).join("");
}

function svChart(f, names, chart, log, width, detail) {
  const percent = names.length > 1;
  if (f.kind === "numeric") {
    if (chart === "quantiles") return svgQuantiles(names.map((n, i) => ({ name: n, q: f.quant[i] })), { width });
    return svgHistogram(names.map((n, i) => ({ name: n, buckets: f.hist[i] })),
      { width, log, percent, height: detail ? 150 : 64 });
  }
  if (f.kind === "categorical") {
    const k = detail ? 20 : 6, t = f.top;
    return svgBars(t.labels.slice(0, k), names.map((n, i) => ({ name: n, values: t.counts[i].slice(0, k), total: t.totals[i] })),
      { width, log, percent, valueLabels: detail, labelWidth: detail ? 150 : 96 });
  }
  return "";
}

function svDetail(f, names, log) {
  let html = `<div class="mlnb-detail-body"><div class="mlnb-detail-charts">`;
  if (f.kind === "numeric") {
    html += `<div><div class="mlnb-caption">histogram${names.length > 1 ? " (share of each dataset)" : ""}</div>${svChart(f, names, "standard", log, 560, true)}</div>`;
    html += `<div><div class="mlnb-caption">quantiles (deciles; the median larger)</div>${svChart(f, names, "quantiles", log, 560, true)}</div>`;
    html += `</div><table class="mlnb-table mlnb-small"><thead><tr><th>dataset</th>` +
      (f.quant.find((q) => q.length) || []).map((_, i, q) => `<th class="mlnb-num">p${Math.round((100 * i) / (q.length - 1))}</th>`).join("") +
      `</tr></thead><tbody>` + names.map((n, i) => `<tr><td><span class="mlnb-swatch" style="background:${mlnbColor(i)}"></span> ${esc(n)}</td>` +
        (f.quant[i] || []).map((v) => `<td class="mlnb-num">${esc(fmtNum(v))}</td>`).join("") + `</tr>`).join("") + `</tbody></table>`;
  } else if (f.kind === "categorical") {
    html += `<div><div class="mlnb-caption">top ${Math.min(20, f.top.labels.length)} values${names.length > 1 ? " (share of each dataset)" : ""}</div>${svChart(f, names, "standard", log, 560, true)}</div></div>`;
    html += `<table class="mlnb-table mlnb-small"><thead><tr><th>value</th>` +
      names.map((n) => `<th class="mlnb-num">${esc(n)} count</th><th class="mlnb-num">${esc(n)} %</th>`).join("") + `</tr></thead><tbody>` +
      f.top.labels.map((lab, j) => `<tr><td>${esc(lab)}</td>` + names.map((_, i) =>
        `<td class="mlnb-num">${esc(fmtNum(f.top.counts[i][j]))}</td><td class="mlnb-num">${esc(fmtPct(f.top.counts[i][j] / (f.top.totals[i] || 1)))}</td>`).join("") + `</tr>`).join("") +
      `</tbody></table>`;
  } else html += `</div>`;
  if (f.distance !== undefined && f.distance !== null)
    html += `<div class="mlnb-muted">${esc(f.metric)} distance between ${esc(names[0])} and ${esc(names[1])}: <b>${esc(fmtNum(f.distance))}</b></div>`;
  return html + `</div>`;
}

function svTable(kind, feats, names, state) {
  const cols = kind === "numeric" ? SV_NUM : SV_CAT, comparing = names.length > 1;
  const ncols = cols.length + 2 + (comparing ? 1 : 0);
  const sortable = { feature: "name", missing: "missing", distance: "distance" };
  const th = (label, cls, key) => {
    const s = sortable[key || label];
    const mark = s && state.sort === s ? (state.reverse ? " ▲" : " ▼") : "";
    return `<th class="${cls || ""}${s ? " mlnb-sortable" : ""}"${s ? ` data-sort="${s}"` : ""}>${esc(label)}${mark}</th>`;
  };
  let out = `<table class="mlnb-table mlnb-stats-table"><thead><tr>${th("feature", "", "feature")}` +
    cols.map(([key, label]) => th(label, "mlnb-num", key)).join("") +
    `<th>${kind === "numeric" ? (state.chart === "quantiles" ? "quantiles" : "histogram") : "top values"}</th>` +
    (comparing ? th("distance", "mlnb-num", "distance") : "") + `</tr></thead><tbody>`;
  for (const f of feats) {
    const open = state.selected === f.name;
    out += `<tr class="mlnb-row${open ? " mlnb-open" : ""}" data-feature="${esc(f.name)}" title="click for details">` +
      `<td class="mlnb-fname"><span class="mlnb-caret">${open ? "▾" : "▸"}</span><span class="mlnb-fname-text" title="${esc(f.name)}">${esc(f.name)}</span><div class="mlnb-ftype">${esc(f.type)}</div></td>` +
      cols.map(([key, , fmt]) => `<td class="mlnb-num">${svCell(f.stats, key, fmt)}</td>`).join("") +
      `<td class="mlnb-chartcell">${svChart(f, names, state.chart, state.log, 230, false)}</td>` +
      (comparing ? `<td class="mlnb-num mlnb-distance" title="${esc(f.metric || "")}">${esc(fmtNum(f.distance))}</td>` : "") + `</tr>`;
    if (open) out += `<tr class="mlnb-detail"><td colspan="${ncols}">${svDetail(f, names, state.log)}</td></tr>`;
  }
  return out + `</tbody></table>`;
}

function render({ model, el }) {
  const root = h("div", { class: "mlnb mlnb-stats" });
  const save = (k, v) => { model.set(k, v); model.save_changes(); };
  let timer = null;
  const filter = h("input", { type: "search", placeholder: "filter features", class: "mlnb-filter", value: model.get("filter"),
    oninput: (e) => { clearTimeout(timer); draw(e.target.value); timer = setTimeout(() => save("filter", e.target.value), 200); } });
  const sort = h("select", { class: "mlnb-sort", onchange: (e) => save("sort", e.target.value) });
  const reverse = h("input", { type: "checkbox", class: "mlnb-reverse", onchange: (e) => save("reverse", e.target.checked) });
  const chart = h("select", { class: "mlnb-chart-kind", onchange: (e) => save("chart", e.target.value) },
    h("option", { value: "standard" }, "standard histogram"), h("option", { value: "quantiles" }, "quantiles"));
  const log = h("input", { type: "checkbox", class: "mlnb-log", onchange: (e) => save("log", e.target.checked) });
  const slice = h("select", { class: "mlnb-slice", onchange: (e) => save("slice", e.target.value) });
  const sliceLabel = h("label", {}, "slice", slice);
  const info = h("span", { class: "mlnb-legend-wrap" });
  const toolbar = h("div", { class: "mlnb-toolbar" }, filter, h("label", {}, "sort by", sort),
    h("label", {}, reverse, "reverse"), h("label", {}, "numeric chart", chart), h("label", {}, log, "log scale"), sliceLabel, info);
  const body = h("div", { class: "mlnb-body" });
  root.append(toolbar, body);
  el.append(root);

  function syncControls() {
    const data = model.get("_data") || {}, names = data.names || [];
    sort.replaceChildren(...SV_SORTS.filter(([k]) => k !== "distance" || names.length > 1)
      .map(([k, label]) => h("option", { value: k }, label)));
    sort.value = model.get("sort");
    reverse.checked = model.get("reverse");
    chart.value = model.get("chart");
    log.checked = model.get("log");
    if (document.activeElement !== filter) filter.value = model.get("filter");
    const slices = model.get("slices") || [];
    slice.replaceChildren(...slices.map((s) => h("option", { value: s }, s)));
    slice.value = model.get("slice");
    sliceLabel.style.display = slices.length > 1 ? "" : "none";
    info.replaceChildren(h("span", { class: "mlnb-legend" }, names.map((n, i) => h("span", { class: "mlnb-legend-item" },
      h("span", { class: "mlnb-swatch", style: `background:${mlnbColor(i)}` }), `${n}: ${fmtNum((data.num_examples || [])[i])} examples`))));
  }

  function draw(filterText) {
    const t0 = performance.now();
    const data = model.get("_data") || { features: [], names: [] };
    const state = { sort: model.get("sort"), reverse: model.get("reverse"), chart: model.get("chart"),
      log: model.get("log"), selected: model.get("selected") };
    const feats = svSort(data.features || [], state.sort, state.reverse, filterText === undefined ? model.get("filter") : filterText);
    const names = data.names || [];
    let html = "";
    for (const [kind, title] of [["numeric", "Numeric features"], ["categorical", "Categorical features"]]) {
      const rows = feats.filter((f) => f.kind === kind);
      const all = (data.features || []).filter((f) => f.kind === kind).length;
      if (!all) continue;
      html += `<h4 class="mlnb-section">${title} <span class="mlnb-count">(${rows.length === all ? all : `${rows.length} of ${all}`})</span></h4>`;
      html += rows.length ? svTable(kind, rows, names, state) : `<div class="mlnb-empty">No ${kind} feature matches.</div>`;
    }
    const other = feats.filter((f) => f.kind === "other");
    if (other.length) html += `<h4 class="mlnb-section">Other features</h4><p>${other.map((f) => esc(f.name)).join(", ")}</p>`;
    if (!(data.features || []).length) html += `<div class="mlnb-empty">This slice holds no feature.</div>`;
    body.innerHTML = html;
    root.dataset.renderMs = (performance.now() - t0).toFixed(1);  // read by the browser tests and bench/
  }

  body.addEventListener("click", (e) => {
    const th = e.target.closest("th[data-sort]");
    if (th) {
      const s = th.dataset.sort;
      if (model.get("sort") === s) save("reverse", !model.get("reverse"));
      else { model.set("reverse", false); save("sort", s); }
      return;
    }
    if (e.target.closest("tr.mlnb-detail")) return;
    const tr = e.target.closest("tr[data-feature]");
    if (tr) save("selected", model.get("selected") === tr.dataset.feature ? "" : tr.dataset.feature);
  });

  const redraw = () => { syncControls(); draw(); };
  const events = "change:_data change:sort change:reverse change:filter change:chart change:log change:selected change:slice change:slices";
  model.on(events, redraw);
  redraw();
  return () => model.off(events, redraw);
}

export default { render };
