// mlnb AnomaliesView — anomalies grouped by feature with their suggested fixes. Accept sends
// {type: "accept", key} to the kernel, which applies the fix to the schema (and a linked SchemaEditor),
// validates again and sends the new groups. common.js is prepended.

function avMeter(value, threshold, width = 160, height = 14) {
  const top = Math.max(value, threshold, 1e-9) * 1.15, x = (v) => 1 + ((width - 2) * v) / top;
  const colour = value > threshold ? "var(--mlnb-error)" : "var(--mlnb-ok)";
  return `<svg class="mlnb-chart mlnb-meter" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect x="1" y="3" width="${width - 2}" height="${height - 6}" class="mlnb-meter-bg"/>` +
    `<rect x="1" y="3" width="${(x(value) - 1).toFixed(1)}" height="${height - 6}" style="fill:${colour}"><title>distance ${esc(fmtNum(value))}</title></rect>` +
    `<line x1="${x(threshold).toFixed(1)}" x2="${x(threshold).toFixed(1)}" y1="0" y2="${height}" class="mlnb-meter-tick"><title>threshold ${esc(fmtNum(threshold))}</title></line></svg>`;
}

function render({ model, el }) {
  const root = h("div", { class: "mlnb mlnb-anomalies" });
  const openAlternatives = new Set();
  const count = h("span", { class: "mlnb-muted mlnb-count-label" });
  const status = h("span", { class: "mlnb-status" });
  const toolbar = h("div", { class: "mlnb-toolbar" }, h("b", {}, "Anomalies"), count, status);
  const notes = h("div", { class: "mlnb-notes" });
  const error = h("div", { class: "mlnb-message mlnb-error", style: "display:none" });
  const list = h("div", { class: "mlnb-cards" });
  const accepted = h("div", { class: "mlnb-accepted" });
  root.append(toolbar, notes, error, list, accepted);
  el.append(root);

  function fixRow(f, canFix) {
    const btn = h("button", { class: "mlnb-accept" + (f.preferred ? " mlnb-primary" : ""), disabled: !canFix,
      title: canFix ? "apply this edit to the schema and validate again" : "give AnomaliesView a schema (or a SchemaEditor) to apply fixes",
      onclick: (e) => { e.target.disabled = true; e.target.textContent = "…"; model.send({ type: "accept", key: f.key }); } }, "Accept");
    return h("div", { class: "mlnb-fix" + (f.preferred ? " mlnb-preferred" : "") }, btn,
      h("span", { class: "mlnb-fix-text" }, f.preferred ? h("b", {}, "Suggested fix: ") : null, f.description));
  }

  function card(g, canFix) {
    const sev = (g.severity || "unknown").toLowerCase();
    const head = h("div", { class: "mlnb-card-head" }, h("span", { class: "mlnb-fname" }, g.feature),
      h("span", { class: `mlnb-badge mlnb-${sev}` }, g.severity), h("span", { class: "mlnb-short" }, g.short));
    const measures = (g.measures || []).map((m) => h("div", { class: "mlnb-measure" },
      h("span", { class: "mlnb-measure-label", title: m.metric }, m.text),
      h("span", { html: avMeter(m.value, m.threshold) })));
    const about = g.reasons.length ? null : h("div", { class: "mlnb-muted" }, g.description);
    const reasons = h("ul", { class: "mlnb-reasons" }, g.reasons.map((r) =>
      h("li", {}, g.reasons.length > 1 ? h("b", {}, r.short + ": ") : null, r.description)));
    const preferred = g.fixes.filter((f) => f.preferred), others = g.fixes.filter((f) => !f.preferred);
    const open = openAlternatives.has(g.feature);
    const fixes = h("div", { class: "mlnb-fixes" }, preferred.map((f) => fixRow(f, canFix)),
      others.length ? h("button", { class: "mlnb-alternatives", onclick: () => { open ? openAlternatives.delete(g.feature) : openAlternatives.add(g.feature); draw(); } },
        `${open ? "▾" : "▸"} ${others.length} other fix${others.length > 1 ? "es" : ""}`) : null,
      open ? others.map((f) => fixRow(f, canFix)) : null,
      g.fixes.length ? null : h("div", { class: "mlnb-muted" }, canFix ? "No fix to suggest: change the data or the schema by hand." : "Give a schema to get suggested fixes."));
    return h("div", { class: `mlnb-card mlnb-sev-${sev}`, "data-feature": g.feature }, head, measures, about, reasons, fixes);
  }

  function draw() {
    const groups = model.get("_groups") || [], canFix = model.get("can_fix");
    const n = groups.filter((g) => g.severity !== "INFO").length, env = model.get("environment");
    notes.replaceChildren(...(model.get("notes") || []).map((t) => h("div", { class: "mlnb-message mlnb-note" }, "ⓘ " + t)));
    count.textContent = `${n} feature${n === 1 ? "" : "s"} with anomalies${env ? ` · environment ${env}` : ""}` +
      (model.get("revalidates") ? "" : " · no statistics: fixes are not re-validated");
    status.textContent = model.get("status") || "";
    const err = model.get("error");
    error.style.display = err ? "" : "none";
    error.textContent = err ? "⚠ " + err : "";
    list.replaceChildren(...(groups.length ? groups.map((g) => card(g, canFix))
      : [h("div", { class: "mlnb-message mlnb-ok mlnb-none" }, "✓ No anomalies: the data matches the schema.")]));
    const acc = model.get("accepted") || [];
    accepted.replaceChildren(...(acc.length ? [h("h4", { class: "mlnb-section" }, "Accepted fixes ", h("span", { class: "mlnb-count" }, `(${acc.length})`)),
      h("ul", {}, acc.map((a) => h("li", {}, a)))] : []));
  }

  const events = "change:_groups change:status change:can_fix change:accepted change:error change:environment change:revalidates change:notes";
  model.on(events, draw);
  draw();
  return () => model.off(events, draw);
}

export default { render };
