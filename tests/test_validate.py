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
    assert {f.kind for f in fixes} == {"raise_drift_threshold"}
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
    assert {f.kind for f in fixes} == {"raise_skew_threshold"}


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
    assert "sets no drift thresholds, so" in capsys.readouterr().err
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
