// mlnb SchemaEditor — the schema as an editable table. Every edit is sent to the kernel as
// {type: "edit", op, feature, args}; the kernel applies mlnb.schema's operation and answers with new `_rows`
// and `diff`, or with `error` (shown on the feature's row, the inputs reset). common.js is prepended.

const SE_TYPES = ["INT", "FLOAT", "BYTES"];
const SE_SHOWN_VALUES = 8;

function seNum(v) {
  if (v === "" || v === null || v === undefined) return null;
  const x = Number(v);
  return Number.isFinite(x) ? x : NaN;
}

function seEnvs(text) { return text.split(",").map((s) => s.trim()).filter(Boolean); }

function render({ model, el }) {
  const root = h("div", { class: "mlnb mlnb-schema" });
  const expanded = new Set();
  const send = (msg) => model.send(msg);
  const edit = (op, feature, args) => send({ type: "edit", op, feature, args });
  let timer = null;
  const filter = h("input", { type: "search", placeholder: "filter features", class: "mlnb-filter", value: model.get("filter"),
    oninput: (e) => { clearTimeout(timer); draw(); timer = setTimeout(() => { model.set("filter", e.target.value); model.save_changes(); }, 200); } });
  const undo = h("button", { class: "mlnb-undo", title: "undo the last change", onclick: () => send({ type: "undo" }) }, "↶ Undo");
  const save = h("button", { class: "mlnb-save mlnb-primary", onclick: () => send({ type: "save" }) }, "Save");
  const where = h("span", { class: "mlnb-muted mlnb-path" });
  const status = h("span", { class: "mlnb-status" });
  const envs = h("input", { type: "text", class: "mlnb-envs", placeholder: "none",
    title: "the environments the data comes in, e.g. TRAINING, SERVING (comma-separated)",
    onchange: (e) => send({ type: "environments", values: seEnvs(e.target.value) }),
    onkeydown: (e) => { if (e.key === "Enter") e.target.blur(); } });
  const toolbar = h("div", { class: "mlnb-toolbar" }, h("b", {}, "Schema"), filter,
    h("label", {}, "environments", envs), undo, save, where, status);
  const error = h("div", { class: "mlnb-message mlnb-error mlnb-error-banner", style: "display:none" });
  const table = h("div", { class: "mlnb-table-wrap" });
  const diff = h("div", { class: "mlnb-diff-panel" });
  root.append(toolbar, error, table, diff);
  el.append(root);
  // Enter commits a number or text field (its change event then sends the edit)
  table.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches("input") && !e.target.matches(".mlnb-add-value, .mlnb-filter")) e.target.blur();
  });

  function typeCell(r) {
    if (r.kind === "other") return h("span", {}, r.type);
    return h("select", { "data-field": "type", onchange: (e) => edit("set_type", r.name, { type: e.target.value }) },
      // the proto's BYTES reads STRING, as in `mlnb schema show` and StatsView (BYTES only for an image feature)
      SE_TYPES.map((t) => h("option", { value: t, selected: t === r.type }, t === "BYTES" && r.shown_type !== "BYTES" ? "STRING" : t)));
  }

  function presenceCell(r) {
    const sel = h("select", { "data-field": "presence", onchange: (e) => edit("set_presence", r.name, { required: e.target.value === "required" }) },
      h("option", { value: "required", selected: r.required }, "required"),
      h("option", { value: "optional", selected: !r.required }, "optional"));
    const frac = h("input", { type: "number", class: "mlnb-frac", "data-field": "min_fraction", min: 0, max: 1, step: 0.01,
      placeholder: "min %", title: "the least fraction of examples that must have the feature (0–1)",
      value: r.min_fraction === null || r.required ? "" : String(r.min_fraction),
      onchange: (e) => { const x = seNum(e.target.value); edit("set_presence", r.name, x === null ? { required: false } : { min_fraction: x }); } });
    return h("div", { class: "mlnb-stack" }, sel, r.required ? null : frac);
  }

  function rangeCell(r) {
    if (r.kind !== "numeric") return h("span", { class: "mlnb-muted" }, "–");
    const lo = h("input", { type: "number", class: "mlnb-range-min", "data-field": "min", placeholder: "min", value: r.min === null ? "" : String(r.min), step: "any" });
    const hi = h("input", { type: "number", class: "mlnb-range-max", "data-field": "max", placeholder: "max", value: r.max === null ? "" : String(r.max), step: "any" });
    const commit = () => edit("set_range", r.name, { min: seNum(lo.value), max: seNum(hi.value) });
    lo.addEventListener("change", commit); hi.addEventListener("change", commit);
    return h("div", { class: "mlnb-range" }, lo, h("span", { class: "mlnb-muted" }, "–"), hi);
  }

  function valuesCell(r) {
    if (r.kind !== "string") return h("span", { class: "mlnb-muted" }, "–");
    const values = r.values || [];
    const all = expanded.has(r.name);
    const shown = all ? values : values.slice(0, SE_SHOWN_VALUES);
    const chips = shown.map((v) => h("span", { class: "mlnb-chip", title: v }, v.length > 24 ? v.slice(0, 23) + "…" : v,
      h("button", { class: "mlnb-chip-x", title: `remove '${v}' from the domain`, onclick: () => edit("remove_values", r.name, { values: [v] }) }, "×")));
    const more = values.length > SE_SHOWN_VALUES ? h("button", { class: "mlnb-more",
      onclick: () => { all ? expanded.delete(r.name) : expanded.add(r.name); draw(); } },
      all ? "show fewer" : `+${values.length - SE_SHOWN_VALUES} more`) : null;
    const listId = `mlnb-seen-${Math.random().toString(36).slice(2)}`;
    const input = h("input", { type: "text", class: "mlnb-add-value", "data-field": "add", list: listId,
      placeholder: r.seen.length ? `add (${r.seen.length} seen)` : "add value" });
    const add = () => { const v = input.value.trim(); if (v) edit("add_values", r.name, { values: [v] }); };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") add(); });
    return h("div", { class: "mlnb-values" },
      values.length ? null : h("span", { class: "mlnb-muted" }, r.values ? "no value allowed " : "any value "),
      chips, more,
      h("span", { class: "mlnb-add" }, input, h("datalist", { id: listId }, r.seen.map((v) => h("option", { value: v }))),
        h("button", { class: "mlnb-add-btn", title: "allow this value", onclick: add }, "+")));
  }

  function envCell(r) {
    const only = h("input", { type: "text", class: "mlnb-env-in", "data-field": "in_env", placeholder: "all", value: r.in_env.join(", "),
      title: "the feature is expected only in these environments (comma-separated)" });
    const not = h("input", { type: "text", class: "mlnb-env-not", "data-field": "not_in_env", placeholder: "none", value: r.not_in_env.join(", "),
      title: "the feature is not expected in these environments (comma-separated)" });
    const commit = () => edit("set_environments", r.name, { environments: seEnvs(only.value), absent_in: seEnvs(not.value) });
    only.addEventListener("change", commit); not.addEventListener("change", commit);
    return h("div", { class: "mlnb-env" }, h("label", {}, "only", only), h("label", {}, "not", not));
  }

  function thresholdInput(r, op, field) {
    return h("input", { type: "number", class: `mlnb-${field}`, "data-field": field, min: 0, max: 0.99, step: 0.01, placeholder: "off",
      title: `${field} check: the largest ${r.comparator} distance that passes (empty: no check)`,
      value: r[field] === null ? "" : String(r[field]),
      onchange: (e) => edit(op, r.name, { threshold: seNum(e.target.value) }) });
  }

  function checksCell(r) {
    return h("div", { class: "mlnb-env mlnb-checks" }, h("label", {}, "drift", thresholdInput(r, "set_drift", "drift")),
      h("label", {}, "skew", thresholdInput(r, "set_skew", "skew")));
  }

  function draw() {
    const rows = model.get("_rows") || [], err = model.get("error") || {};
    const text = filter.value.toLowerCase().trim();
    const focused = document.activeElement && root.contains(document.activeElement) && document.activeElement.closest("tr[data-feature]")
      ? [document.activeElement.closest("tr[data-feature]").dataset.feature, document.activeElement.dataset.field] : null;
    const body = h("tbody");
    for (const r of rows) {
      if (text && !r.name.toLowerCase().includes(text)) continue;
      const refused = err.message && err.feature === r.name;
      body.append(h("tr", { "data-feature": r.name, class: `${r.deprecated ? "mlnb-deprecated" : ""}${refused ? " mlnb-refused" : ""}` },
        h("td", { class: "mlnb-fname" }, r.name, r.valency ? h("span", { class: "mlnb-badge" }, r.valency) : null),
        h("td", {}, typeCell(r)), h("td", {}, presenceCell(r)), h("td", {}, rangeCell(r)), h("td", { class: "mlnb-values-cell" }, valuesCell(r)),
        h("td", { class: "mlnb-center" }, h("input", { type: "checkbox", class: "mlnb-deprecate", "data-field": "deprecated", checked: r.deprecated,
          title: "deprecated features are not validated", onchange: (e) => edit("deprecate", r.name, { deprecated: e.target.checked }) })),
        h("td", {}, envCell(r)), h("td", {}, checksCell(r))));
      if (refused) body.append(h("tr", { class: "mlnb-error-row" }, h("td", { colspan: 8 },
        h("div", { class: "mlnb-message mlnb-error" }, "⚠ ", err.message))));
    }
    const head = h("thead", {}, h("tr", {}, ["feature", "type", "presence", "range", "domain values", "deprecated", "environments", "drift / skew"]
      .map((c) => h("th", { class: c === "deprecated" ? "mlnb-center" : "" }, c))));
    table.replaceChildren(rows.length ? h("table", { class: "mlnb-table mlnb-schema-table" }, head, body)
      : h("div", { class: "mlnb-empty" }, "The schema has no feature."));
    if (focused) {
      const again = table.querySelector(`tr[data-feature="${CSS.escape(focused[0])}"] [data-field="${CSS.escape(focused[1] || "")}"]`);
      if (again) again.focus();
    }
    const shownErr = err.message && !rows.some((r) => r.name === err.feature && (!text || r.name.toLowerCase().includes(text)));
    error.style.display = shownErr ? "" : "none";
    error.textContent = shownErr ? "⚠ " + err.message : "";
    undo.disabled = !model.get("can_undo");
    save.disabled = !model.get("path");
    save.title = model.get("path") ? `save to ${model.get("path")} (the previous file is kept in .schema_history/)` : "no path: give SchemaEditor(path=...)";
    where.textContent = model.get("path") || "";
    if (document.activeElement !== envs) envs.value = (model.get("environments") || []).join(", ");
    status.textContent = model.get("status") || "";
    const changes = model.get("diff") || [];
    diff.replaceChildren(h("h4", { class: "mlnb-section" }, "Changes since loaded ", h("span", { class: "mlnb-count" }, `(${changes.length})`)),
      changes.length ? h("ul", { class: "mlnb-diff" }, changes.map((d) => h("li", {}, d)))
        : h("div", { class: "mlnb-muted mlnb-nodiff" }, "No changes: the schema is as loaded (or last saved)."));
  }

  const events = "change:_rows change:diff change:error change:status change:path change:can_undo change:filter change:environments";
  model.on(events, draw);
  draw();
  return () => model.off(events, draw);
}

export default { render };
