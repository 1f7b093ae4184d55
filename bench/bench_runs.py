"""Loading and filtering 10,000 experiment runs from a real ML-Metadata SQLite store, as ratios to two peers.

The store holds N runs (4 parameters, 3 metrics, a 10-step history per metric, like a sweep's Keras runs),
written with mlnb's run types. Timed, best of --rounds:
  mlnb get_runs         mlnb.get_runs(): every run as a DataFrame (params.* and metrics.* columns)
  mlnb filter           get_runs(filter="metrics.auc > 0.8 and params.lr < 0.1", order_by=["metrics.auc DESC"])
  RunCompare load       what the widget does on creation: the runs frame and the payload sent to the browser
  RunCompare filter     what it does when a filter is typed (the mask over the loaded frame)
Peers, same store, same result (a DataFrame of the runs, then the same filter with pandas):
  MLMD API + pandas     MetadataStore.get_executions_by_type, properties to dicts, JSON decoded, DataFrame
  sqlite3 + pandas      one SELECT of every execution property (read-only), pivoted in Python, DataFrame
MLflow is not installed here (and would need its own store), so it is not a peer.

    .venv/bin/python bench/bench_runs.py [--runs 10000] [--rounds 5]
"""
import argparse, json, random, sqlite3, tempfile, time
from pathlib import Path


def build_store(ws: Path, n: int) -> float:
    "Write n runs with mlnb's types (in batches through the MLMD API); seconds taken."
    from ml_metadata.proto import metadata_store_pb2 as pb
    from mlnb.metadata.run_records import RUN_TYPE, EXPERIMENT_TYPE, tracking_store
    from mlnb.metadata.store import set_properties
    t0 = time.perf_counter()
    store = tracking_store(ws)
    rng = random.Random(0)
    ctx = store.context(EXPERIMENT_TYPE, "bench", {"workspace": str(store.workspace)})
    for start in range(0, n, 1000):
        execs = []
        for i in range(start, min(n, start + 1000)):
            lr, units = rng.choice([0.3, 0.1, 0.03, 0.01, 0.003]), rng.choice([8, 16, 32, 64, 128])
            hist = {m: [[s, rng.random(), s * 1.5] for s in range(1, 11)] for m in ("auc", "loss", "val_auc")}
            run = {"run_id": f"r{i:06d}", "experiment": "bench", "status": "succeeded" if i % 10 else "failed",
                   "source": "sweep", "sweep_id": f"s{i // 100}", "notebook": str(ws / "train.ipynb"),
                   "executed_notebook": str(ws / "runs" / "sweeps" / f"s{i // 100}" / f"{i:03d}.ipynb"),
                   "started": f"2024-01-01T00:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i % 10}00+00:00",
                   "ended": "2024-01-01T01:00:00.000+00:00", "duration": 12.5, "workspace": str(store.workspace),
                   "params": {"lr": lr, "units": units, "optimizer": rng.choice(["adam", "sgd"]), "epochs": 10},
                   "metrics": {m: v[-1][1] for m, v in hist.items()}, "history": hist}
            state = pb.Execution.COMPLETE if run["status"] == "succeeded" else pb.Execution.FAILED  # as put_run writes it
            ex = pb.Execution(type_id=store.types[RUN_TYPE], name=run["run_id"], last_known_state=state)
            set_properties(ex, run)
            execs.append(ex)
        ids = store.call("put_executions", execs)
        store.call("put_attributions_and_associations", [], [pb.Association(context_id=ctx.id, execution_id=e) for e in ids])
    return time.perf_counter() - t0


FILTER, ORDER = "metrics.auc > 0.8 and params.lr < 0.1", ["metrics.auc DESC"]


def peer_mlmd(ws: Path):
    import pandas as pd
    from ml_metadata.metadata_store import metadata_store
    from mlnb.metadata.store import connection_config
    mlmd = metadata_store.MetadataStore(connection_config(ws))
    rows = []
    for e in mlmd.get_executions_by_type("mlnb.TrackedRun"):
        p = {k: getattr(v, v.WhichOneof("value")) for k, v in e.properties.items() if k != "history"}
        row = {k: v for k, v in p.items() if k not in ("params", "metrics", "packages", "error")}
        row.update({f"params.{k}": v for k, v in json.loads(p.get("params", "{}")).items()})
        row.update({f"metrics.{k}": v for k, v in json.loads(p.get("metrics", "{}")).items()})
        rows.append(row)
    df = pd.DataFrame(rows)
    return df, df[(df["metrics.auc"] > 0.8) & (df["params.lr"] < 0.1)].sort_values("metrics.auc", ascending=False)


def peer_sqlite(ws: Path):
    import pandas as pd
    con = sqlite3.connect(f"file:{ws / '.mlnb' / 'metadata.sqlite'}?mode=ro", uri=True)
    runs = {}
    for eid, name, s, d, i in con.execute("SELECT execution_id, name, string_value, double_value, int_value FROM ExecutionProperty"):
        if name == "history": continue
        runs.setdefault(eid, {})[name] = s if s is not None else d if d is not None else i
    con.close()
    rows = []
    for p in runs.values():
        row = {k: v for k, v in p.items() if k not in ("params", "metrics")}
        row.update({f"params.{k}": v for k, v in json.loads(p.get("params", "{}")).items()})
        row.update({f"metrics.{k}": v for k, v in json.loads(p.get("metrics", "{}")).items()})
        rows.append(row)
    df = pd.DataFrame(rows)
    return df, df[(df["metrics.auc"] > 0.8) & (df["params.lr"] < 0.1)].sort_values("metrics.auc", ascending=False)


def best_of(fn, rounds: int):
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    import mlnb
    from mlnb.runs.query import filter_mask
    from mlnb.widgets.run_compare import get_runs_frame, get_payload
    ws = Path(tempfile.mkdtemp(prefix="mlnb-bench-runs-")) / "ws"
    (ws / ".mlnb").mkdir(parents=True)
    print(f"writing {args.runs:,} runs (4 params, 3 metrics, 10-step histories) to {ws}/.mlnb/metadata.sqlite ...", flush=True)
    print(f"  written in {build_store(ws, args.runs):.1f}s ({(ws / '.mlnb' / 'metadata.sqlite').stat().st_size / 1e6:.0f} MB)")
    mlnb.get_runs(workspace=ws)  # warm imports (pandas, MLMD) out of the timings
    t_all, df = best_of(lambda: mlnb.get_runs(workspace=ws), args.rounds)
    t_filter, sel = best_of(lambda: mlnb.get_runs(workspace=ws, filter=FILTER, order_by=ORDER), args.rounds)
    t_load, frame = best_of(lambda: (lambda f: (f, get_payload(f)))(get_runs_frame(workspace=ws)), args.rounds)
    t_wfilter, mask = best_of(lambda: filter_mask(frame[0], FILTER), args.rounds)
    t_mlmd, (pdf, psel) = best_of(lambda: peer_mlmd(ws), args.rounds)
    t_sql, (sdf, ssel) = best_of(lambda: peer_sqlite(ws), args.rounds)
    assert len(df) == len(pdf) == len(sdf) == args.runs, (len(df), len(pdf), len(sdf))
    assert sel["run_id"].tolist() == psel["run_id"].tolist() == ssel["run_id"].tolist()
    assert int(mask.sum()) == len(sel)
    assert (df["status"] == "failed").sum() == args.runs // 10
    mlnb_total = t_filter
    print(f"\n{args.runs:,} runs, {len(sel):,} match `{FILTER}`; best of {args.rounds} rounds")
    rows = [("mlnb get_runs (all)", t_all), ("mlnb get_runs + filter + order", t_filter),
            ("RunCompare load (frame + payload)", t_load[0] if isinstance(t_load, tuple) else t_load),
            ("RunCompare filter (mask)", t_wfilter),
            ("peer: MLMD API + pandas, load + filter", t_mlmd), ("peer: sqlite3 + pandas, load + filter", t_sql)]
    for name, t in rows: print(f"  {name:<40} {t * 1000:8.0f} ms")
    print(f"\nratio MLMD-API peer / mlnb (load + filter): {t_mlmd / mlnb_total:.1f}x")
    print(f"ratio sqlite3 peer / mlnb (load + filter):  {t_sql / mlnb_total:.1f}x")
    print(f"10,000-run target (load + filter under 1 s): mlnb {mlnb_total:.2f}s, RunCompare load + filter {t_load + t_wfilter:.2f}s")


if __name__ == "__main__":
    main()
