// mlnb widgets — shared helpers. mlnb.widgets.base.esm("name") prepends this file to js/name.js, so every
// widget module can use these functions without an import (anywidget loads one ES module per widget, from a
// blob URL, where relative imports do not resolve). Nothing here touches the network.
//
//   h(tag, attrs, ...children)         build a DOM element (attrs: class, style, on*, dataset, other attributes)
//   esc(s)                             HTML-escape text for markup strings
//   fmtNum(x), fmtPct(x)               numbers as the tables show them (same rules as base.fmt_num / fmt_pct)
//   mlnbColor(i)                       the colour of dataset i (train, serving, ...)
//   svgHistogram(series, opts)         bars over [low, high) buckets; series = [{edges, counts, name}] or
//                                      [{buckets: [[lo, hi, count], ...], name}]; opts {width, height, log, percent}
//   svgQuantiles(series, opts)         one row of quantile ticks per dataset; series = [{q: [v0..vn], name}]
//   svgBars(labels, series, opts)      horizontal bars; series = [{values: [...], name}]; opts {width, log, percent}
//   legend(names)                      a legend element with the dataset colours

const MLNB_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"];
const mlnbColor = (i) => MLNB_COLORS[i % MLNB_COLORS.length];

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v;
    else if (k === "html") el.innerHTML = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fmtNum(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e15) return x.toLocaleString("en-US");
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2).replace("e+", "e");
  if (a >= 1000) return x.toFixed(1);
  return String(parseFloat(x.toPrecision(4)));
}

function fmtPct(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const p = 100 * x;
  if (p === 0) return "0%";
  if (p < 0.1) return "<0.1%";
  return (p < 10 ? p.toFixed(1) : p.toFixed(0)) + "%";
}

function _scale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function _yval(v, log, eps) { return log ? Math.log10(1 + v / eps) : v; }

function _minPositive(arrays) {
  let m = Infinity;
  for (const a of arrays) for (const v of a) if (v > 0 && v < m) m = v;
  return Number.isFinite(m) ? m : 1;
}

function _axisText(x, y, text, anchor) {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}" class="mlnb-axis">${esc(text)}</text>`;
}

function svgHistogram(series, opts = {}) {
  const W = opts.width || 240, H = opts.height || 64, padB = 12, padT = 2;
  const rows = series.map((s) => s.buckets || s.edges.slice(0, -1).map((lo, i) => [lo, s.edges[i + 1], s.counts[i]]));
  if (!rows.some((r) => r.length)) return `<svg class="mlnb-chart" width="${W}" height="${H}"></svg>`;
  const vals = rows.map((r) => {
    const tot = r.reduce((a, b) => a + b[2], 0) || 1;
    return r.map((b) => (opts.percent ? b[2] / tot : b[2]));
  });
  let lo = Infinity, hi = -Infinity;
  for (const r of rows) for (const b of r) { lo = Math.min(lo, b[0]); hi = Math.max(hi, b[1]); }
  const eps = _minPositive(vals);
  const ymax = Math.max(1e-12, ...vals.flat().map((v) => _yval(v, opts.log, eps)));
  const x = _scale(lo, hi === lo ? lo + 1 : hi, 1, W - 1), y = _scale(0, ymax, H - padB, padT);
  const n = series.length;
  let out = `<svg class="mlnb-chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`;
  out += `<line x1="0" x2="${W}" y1="${H - padB + 0.5}" y2="${H - padB + 0.5}" class="mlnb-baseline"/>`;
  rows.forEach((r, si) => {
    r.forEach((b, bi) => {
      const x0 = x(b[0]), x1 = Math.max(x(b[1]), x0 + 1.5), w = (x1 - x0) / n;
      const v = vals[si][bi], top = y(_yval(v, opts.log, eps));
      const label = `${series[si].name ? series[si].name + ": " : ""}[${fmtNum(b[0])}, ${fmtNum(b[1])}] ` +
        (opts.percent ? fmtPct(v) : fmtNum(Math.round(v * 100) / 100));
      out += `<rect x="${(x0 + si * w + 0.3).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(w - 0.6, 0.8).toFixed(1)}" ` +
        `height="${Math.max(H - padB - top, v > 0 ? 1 : 0).toFixed(1)}" fill="${mlnbColor(si)}"><title>${esc(label)}</title></rect>`;
    });
  });
  out += _axisText(1, H - 1, fmtNum(lo), "start") + _axisText(W - 1, H - 1, fmtNum(hi), "end");
  return out + "</svg>";
}

function svgQuantiles(series, opts = {}) {
  const W = opts.width || 240, rowH = 16, padB = 12;
  const H = opts.height || Math.max(40, series.length * rowH + padB + 8);
  const all = series.flatMap((s) => s.q || []);
  if (!all.length) return `<svg class="mlnb-chart" width="${W}" height="${H}"></svg>`;
  const lo = Math.min(...all), hi = Math.max(...all);
  const x = _scale(lo, hi === lo ? lo + 1 : hi, 4, W - 4);
  const top = (H - padB - series.length * rowH) / 2;
  let out = `<svg class="mlnb-chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`;
  series.forEach((s, si) => {
    const q = s.q || [];
    if (!q.length) return;
    const cy = top + si * rowH + rowH / 2, c = mlnbColor(si), mid = Math.floor((q.length - 1) / 2);
    out += `<line x1="${x(q[0]).toFixed(1)}" x2="${x(q[q.length - 1]).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="${c}" stroke-width="1"/>`;
    q.forEach((v, i) => {
      const pct = Math.round((100 * i) / (q.length - 1));
      const r = i === mid && q.length % 2 === 1 ? 4 : 2.5;
      out += `<circle cx="${x(v).toFixed(1)}" cy="${cy}" r="${r}" fill="${c}"><title>${esc(`${s.name ? s.name + ": " : ""}p${pct} = ${fmtNum(v)}`)}</title></circle>`;
    });
  });
  out += _axisText(1, H - 1, fmtNum(lo), "start") + _axisText(W - 1, H - 1, fmtNum(hi), "end");
  return out + "</svg>";
}

function svgBars(labels, series, opts = {}) {
  const W = opts.width || 240, barH = opts.barHeight || 11, gap = 3, labelW = opts.labelWidth || 96;
  const n = series.length, rowH = barH * n + gap;
  const H = Math.max(rowH * labels.length + gap, 12);
  const vals = series.map((s) => {
    const tot = s.total || s.values.reduce((a, b) => a + (b || 0), 0) || 1;
    return s.values.map((v) => (opts.percent ? (v || 0) / tot : v || 0));
  });
  const eps = _minPositive(vals);
  const vmax = Math.max(1e-12, ...vals.flat().map((v) => _yval(v, opts.log, eps)));
  const x = _scale(0, vmax, labelW + 2, W - 40);
  let out = `<svg class="mlnb-chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`;
  labels.forEach((lab, li) => {
    const y0 = gap + li * rowH;
    const short = lab.length > 16 ? lab.slice(0, 15) + "…" : lab;
    out += `<text x="${labelW}" y="${y0 + (barH * n) / 2 + 3.5}" text-anchor="end" class="mlnb-label">${esc(short)}<title>${esc(lab)}</title></text>`;
    series.forEach((s, si) => {
      const v = vals[si][li], w = x(_yval(v, opts.log, eps)) - x(0);
      const text = opts.percent ? fmtPct(v) : fmtNum(v);
      out += `<rect x="${labelW + 2}" y="${y0 + si * barH}" width="${Math.max(w, v > 0 ? 1 : 0).toFixed(1)}" height="${barH - 1}" fill="${mlnbColor(si)}">` +
        `<title>${esc(`${s.name ? s.name + ": " : ""}${lab}: ${text}`)}</title></rect>`;
      if (n === 1 || opts.valueLabels) out += `<text x="${(labelW + 4 + Math.max(w, 0)).toFixed(1)}" y="${y0 + si * barH + barH - 2.5}" class="mlnb-axis">${esc(text)}</text>`;
    });
  });
  return out + "</svg>";
}

function legend(names) {
  return h("span", { class: "mlnb-legend" },
    names.map((n, i) => h("span", { class: "mlnb-legend-item" },
      h("span", { class: "mlnb-swatch", style: `background:${mlnbColor(i)}` }), n)));
}
