"""MonitorView's Python side and the published monitoring pages, on real data: the taxi trips by month with a
fifth month that carries a new company, missing hours and distances in kilometres (tests/monitor_workspace.py),
monitored by a real pipeline run twice. The get_* functions agree with the monitoring history and the data, the
drill-down returns rows carrying the flagged values, the payload is compact and checked on both sides, and
`mlnb publish` adds a monitoring page, a live view in the step's app and the history across runs.
The browser side is tests/browser/test_monitor_view.py."""
from __future__ import annotations
import json, math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import traitlets

from monitor_workspace import mlnb, monitoring_runs
from mlnb.errors import InputError, ParameterError
from mlnb.publish.monitoring import MONITORING_MIME, check_payload, example_key, monitoring_views
from mlnb.publish.site import external_refs
from mlnb.widgets import MonitorView
from mlnb.pipeline import monitor_tables as mt
from mlnb.widgets import monitor_view as mv


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    return monitoring_runs(tmp_path_factory)


@pytest.fixture(scope="session")
def setup(runs):
    "The step's spans, model and monitoring, computed here on the pipeline's workspace (its caches are warm)."
    code = {}
    nb = nbformat.read(Path(runs["workspace"]) / "monitor.ipynb", as_version=4)
    scope = {"months": 5}
    for cell in nb.cells[2:6]:  # spans, model, monitor (records print), triggers
        exec(cell.source.replace("record=False", f"record=False, workspace={runs['workspace']!r}"), scope)
    return scope


@pytest.fixture(scope="session")
def m(setup): return setup["m"]


@pytest.fixture(scope="session")
def may(setup): return setup["data"][setup["data"].month == "May"]


# --- the get_* functions -------------------------------------------------------------------------------------

def test_timeline_follows_the_history(m):
    t = mt.get_timeline(m).set_index(["feature", "span"]).status
    assert list(t.index.get_level_values(0).unique()) == ["tip", "distance", "company", "local", "dow", "hour"]
    assert (t.loc[("company", "May")], t.loc[("hour", "May")], t.loc[("distance", "May")]) == ("anomaly", "anomaly", "drift")
    f = m.frame
    decided = f[f.decides & f.check.isin(["drift", "skew"])]
    for (feature, span), status in t.items():
        drifted = set(decided[(decided.feature == feature) & (decided.span == span) & (decided.drifted == True)].check)  # noqa: E712
        anomalous = ((f.check == "schema") & (f.verdict == "anomaly") & (f.feature == feature) & (f.span == span)).any()
        expected = "anomaly" if anomalous else "drift" if "drift" in drifted else "skew" if "skew" in drifted else "ok"
        assert status == expected, (feature, span)


def test_trends_are_the_measurements(m):
    tr = mt.get_drift_trends(m)
    f = m.frame
    for r in tr.itertuples():
        rows = f[(f.check == r.check) & (f.feature == r.feature) & (f.span == r.span)].set_index("measurement")
        assert r.distance == rows.loc[r.distance_name, "value"]
        if r.test: assert r.p_adjusted == rows.loc[r.test, "p_adjusted"] and r.alpha == rows.loc[r.test, "threshold"]
        assert r.decides == rows[rows.decides].index[0]
    skew = tr[(tr.check == "skew") & (tr.feature == "distance")].set_index("span")
    assert skew.loc["May", "drifted"] and skew.loc["May", "distance"] > 0.5  # kilometres against January's miles
    assert set(tr[tr.check == "drift"].span) == {"Feb", "Mar", "Apr", "May"}


def test_span_stats_equal_the_data(m, setup):
    data, stats = setup["data"], mt.get_span_stats(m).set_index(["feature", "span"])
    for span, rows in data.groupby("month"):
        assert stats.loc[("hour", span), "missing"] == pytest.approx(rows.hour.isna().mean())
        assert stats.loc[("distance", span), "mean"] == pytest.approx(rows.distance.mean(), rel=1e-9)
        q = stats.loc[("distance", span), "quantiles"]
        assert len(q) == 11 and q[0] == rows.distance.min() and q[-1] == rows.distance.max()
        assert abs(np.searchsorted(np.sort(rows.distance), q[5]) / len(rows) - 0.5) < 0.05  # the median, approximately
    top = mt.get_top_values(m)
    zeta = top[(top.feature == "company") & (top.value == "Zeta Cabs")].set_index("span").share
    assert zeta["May"] == pytest.approx((data[data.month == "May"].company == "Zeta Cabs").mean()) and zeta["Jan"] == 0


def test_model_metrics_are_the_served_models(m, setup):
    from mlnb.model.metrics import evaluate
    mm = mt.get_model_metrics(m)
    auc = mm[(mm.metric == "auc") & (mm.slice == "Overall")].set_index("span").value
    mar = setup["data"][setup["data"].month == "Mar"]
    assert auc["Mar"] == pytest.approx(evaluate(setup["model"], mar, "tip").overall["auc"], rel=1e-9)
    assert set(mm.slice) == {"Overall", "local=no", "local=yes"}


def test_examples_carry_the_flagged_values(m, may):
    d = mt.get_examples(m, "May", "company", 4)
    assert (d.status, len(d.rows), set(d.rows.company)) == ("anomaly", 4, {"Zeta Cabs"})
    assert d.matched == (may.company == "Zeta Cabs").sum() and d.total == len(may)
    d = mt.get_examples(m, "May", "hour")
    assert d.status == "anomaly" and d.rows.hour.isna().all() and d.matched == may.hour.isna().sum()
    d = mt.get_examples(m, "May", "distance")
    lo, hi = d.range
    assert d.status == "drift" and ((d.rows.distance >= lo) & (d.rows.distance < hi)).all()
    assert d.matched == ((may.distance >= lo) & (may.distance < hi)).sum()
    ok = mt.get_examples(m, "Feb", "dow", 3)
    assert ok.status == "ok" and len(ok.rows) == 3 and "a sample" in ok.why
    as_json = json.loads(json.dumps(mt.get_examples(m, "May", "hour").to_dict()))
    assert as_json["rows"][0][as_json["columns"].index("hour")] is None  # NaN crosses as null
    with pytest.raises(ParameterError, match="no span 'Jun'"): mt.get_examples(m, "Jun", "hour")


def test_trigger_log(setup):
    log = mt.get_trigger_log(setup["triggers"])
    assert list(log.columns) == mt.TRIGGER_COLUMNS and log.time.is_monotonic_decreasing
    assert log.fired.dtype == bool and log.fired.sum() == 2
    assert mt.get_trigger_log([{"trigger": "t", "fired": 1}]).fired.tolist() == [True]
    with pytest.raises(InputError, match="needs the columns 'trigger' and 'fired'"): mt.get_trigger_log(pd.DataFrame({"x": [1]}))


def test_payload_is_compact_and_checked(m, setup):
    p = mv.get_payload(m, setup["triggers"])
    text = json.dumps(p, allow_nan=False)
    assert len(text) < 40_000, len(text)  # 5 spans × 6 features: a few numbers per cell
    assert check_payload(json.loads(text)) == p and p["examples"] == {}
    assert p["timeline"]["status"][p["features"].index("company")] == ["ok", "ok", "ok", "ok", "anomaly"]
    assert p["verdicts"]["anomalies"] == [0, 0, 0, 0, 2] and p["model"]["metrics"][:2] == ["accuracy", "auc"]
    full = mv.get_payload(m, setup["triggers"], examples=3)
    assert set(full["examples"]) == {example_key(s, f) for s, f in [("May", "company"), ("May", "hour"), ("May", "distance"),
                                                                         ("Apr", "distance"), ("Mar", "distance")]}
    with pytest.raises(InputError, match="'spans' is missing"): check_payload({**p, "spans": None})


# --- the widget ----------------------------------------------------------------------------------------------

def test_every_trait_is_synced_and_documented():
    for name, trait in MonitorView.class_traits(sync=True).items():
        if name.startswith("_") and name in traitlets.HasTraits.class_traits(): continue
        if name in {"_model_module", "_model_name", "_model_module_version", "_view_module", "_view_name",
                    "_view_module_version", "_view_count", "_dom_classes", "_esm", "_css", "_anywidget_id", "layout",
                    "tabbable", "tooltip", "comm", "keys", "log"}: continue
        assert trait.help, f"MonitorView.{name} has no help"


def test_a_click_fetches_example_rows(m, setup):
    w = MonitorView(m, triggers=setup["triggers"], rows=3)
    assert (w.feature, w.metric) == ("distance", "auc")  # the most flagged feature; auc by default
    w.selected = ["May", "hour"]
    ex = w._examples
    assert (ex["span"], ex["feature"], ex["status"], len(ex["rows"])) == ("May", "hour", "anomaly", 3)
    w.selected = ["May", "no such feature"]
    assert "no feature 'no such feature'" in w._examples["error"]  # shown in the view, not raised in the kernel
    with pytest.raises(ParameterError, match="no feature 'fare'"): MonitorView(m, feature="fare")


def test_saved_view_answers_from_saved_rows(m, setup, tmp_path):
    w = MonitorView(m, triggers=setup["triggers"])
    path = w.save(tmp_path / "view.json", examples=2)
    v = MonitorView.load(path)
    assert v._data["timeline"] == w._data["timeline"] and v._data["examples"] == {}  # rows stay in the kernel
    v.selected = ["May", "company"]
    assert [r[v._examples["columns"].index("company")] for r in v._examples["rows"]] == ["Zeta Cabs"] * 2
    v.selected = ["Feb", "tip"]
    assert v._examples["rows"] == [] and "no example rows were saved" in v._examples["why"]
    (tmp_path / "other.json").write_text(json.dumps({"format": "mlnb.stats/1"}))
    with pytest.raises(InputError, match="not a saved MonitorView"): MonitorView.load(tmp_path / "other.json")


def test_mime_bundle_carries_view_static_html_and_payload(m, setup):
    data, _ = MonitorView(m, triggers=setup["triggers"])._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    html = data["text/html"]
    assert "mv-grid-table" in html and html.count("<img class=\"mlnb-chart\"") >= 6 * 3 and "Zeta Cabs" in html
    assert "<script" not in html and external_refs(html) == []
    assert check_payload(data[MONITORING_MIME])["examples"]


# --- the published site --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sites(runs, tmp_path_factory):
    "Both runs published, in the workspace's site/ folder (so the second links the first)."
    ws = Path(runs["workspace"])
    for run in runs["runs"]:
        proc = mlnb("publish", run, cwd=ws)
        assert proc.returncode == 0, proc.stderr
    return [ws / "site" / r for r in runs["runs"]]


def test_publish_adds_monitoring_page_and_live_view(runs, sites):
    site = sites[1]
    record = json.loads((site / "run.json").read_text())
    (view,) = record["steps"]["monitor"]["site"]["monitoring"]
    assert (view["page"], view["live"], view["ok"]) == ("reports/monitor.monitoring.html", True, False)
    assert view["summary"].endswith("newest span May: 2 anomalies")
    executed = nbformat.read(site / "notebooks" / "monitor.ipynb", as_version=4)
    (cell, payload, static), = monitoring_views(executed)
    assert json.loads((site / view["view"]).read_text()) == payload
    page = (site / view["page"]).read_text()
    assert static in page and "<script" not in page and external_refs(page) == []
    app = nbformat.read(site / "apps" / "monitor.ipynb", as_version=4)
    live = [c for c in app.cells if "live" in c.metadata.get("tags", [])]
    assert [c.source for c in live] == [f"from mlnb.widgets.monitor_view import MonitorView\nMonitorView.load('../views/monitor-{cell}.monitoring.json')"]
    assert f"_run.show({cell})" not in [c.source for c in app.cells]  # the picture of the view is not replayed beside it


def test_index_shows_monitoring_and_history_across_runs(runs, sites):
    first, second = (json.loads((s / "run.json").read_text()) for s in sites)
    history = second["published"]["history"]
    assert [h["run_id"] for h in history] == runs["runs"]
    assert [h["values"]["monitor.anomalies"] for h in history] == [0, 2]
    assert history[1]["values"]["monitor.auc"] == second["steps"]["monitor"]["records"]["auc"]
    index = (sites[1] / "index.html").read_text()
    assert 'data-monitoring="monitor"' in index and "needs attention" in index and 'href="reports/monitor.monitoring.html"' in index
    assert "History across runs" in index and index.count("<figure>") == 3 and f'href="../{runs["runs"][0]}/index.html"' in index
    assert "History across runs" not in (sites[0] / "index.html").read_text()  # the first run has no history yet
    assert external_refs(index) == []
