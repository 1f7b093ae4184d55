"""The demo: examples/taxi runs end to end with `mlnb run`, is all cache hits the second time, re-runs only what a
changed parameter affects, pushes in TF Serving's layout, and publishes. Slow (the cold run trains a model), so the
cold run happens once per session (see taxi_workspace.py) and the tests below share it, in this order."""
import json, re, time
from pathlib import Path

import pytest

from taxi_workspace import mlnb, newest_run_id, run_json, taxi_run

STEPS = ["ingest", "statistics", "schema", "validate", "train", "evaluate", "compare", "push"]


@pytest.fixture(scope="module")
def taxi(tmp_path_factory):
    info = taxi_run(tmp_path_factory)
    return Path(info["workspace"]), info


def test_demo_runs_end_to_end(taxi):
    ws, info = taxi
    run = run_json(ws, info["run_id"])
    assert run["status"] == "succeeded"
    assert list(run["steps"]) == STEPS
    assert {s: v["status"] for s, v in run["steps"].items()} == {s: "ran" for s in STEPS}
    rec = {s: v["records"] for s, v in run["steps"].items()}
    assert rec["ingest"]["rows"] == {"train": 4000, "previous": 2500, "eval": 1500, "serving": 2000}
    assert rec["schema"]["source"] == "inferred" and rec["schema"]["features"] == 7
    assert rec["validate"]["anomalies"] == 0
    assert 0.5 < rec["evaluate"]["auc"] <= 1 and 0 < rec["evaluate"]["log_loss"]
    assert rec["compare"]["blessed"] is True and rec["compare"]["baseline_version"] is None
    assert rec["push"]["version"] == 1
    # the artifacts each step declared, in the formats the ecosystem reads
    for path in ["data/train.csv", "data/serving.csv", "stats/train.pb", "stats/serving.pb", "schema/schema.pbtxt",
                 "anomalies/train.pbtxt", "model/saved_model.pb", "evaluation/eval.json", "blessing/blessing.json"]:
        assert (ws / path).is_file(), path
    assert "tip" not in (ws / "data/serving.csv").read_text().splitlines()[0].split(",")
    assert (ws / "serving/taxi/1/saved_model.pb").is_file()
    for step in STEPS:
        assert (ws / "runs" / info["run_id"] / f"{step}.ipynb").is_file()
    print(f"cold run: {info['seconds']:.1f} s")


def test_pushed_model_serves_predictions(taxi):
    "What push wrote loads back as TF Serving would: the newest version, raw feature columns in, a score out."
    import pandas as pd
    from mlnb.model.adapters import load_model
    ws, _ = taxi
    model = load_model(ws / "serving" / "taxi")
    rows = pd.read_csv(ws / "data" / "serving.csv").head(50)
    scores = model.predict(rows)
    assert scores.shape[0] == 50 and ((scores >= 0) & (scores <= 1)).all()


def test_demo_publishes(taxi, tmp_path):
    "`mlnb publish RUN_ID` builds the site of the demo run: an app and a report per step, an index with metrics."
    ws, info = taxi
    proc = mlnb("publish", info["run_id"], "-o", str(tmp_path / "site"), cwd=ws)
    assert proc.returncode == 0, proc.stderr
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    assert re.findall(r'data-step="(\w+)" data-status="ran"', index) == STEPS
    assert "auc" in index and "blessed" in index
    for step in STEPS:
        assert (site / "apps" / f"{step}.ipynb").is_file() and (site / "reports" / f"{step}.html").is_file()
    assert (site / "artifacts" / "stats" / "train.pb").is_file()
    assert (site / "artifacts" / "serving" / "taxi" / "1" / "saved_model.pb").is_file()
    stats_report = (site / "reports" / "statistics.html").read_text()
    assert "mlnb-live-note" in stats_report and "mlnb-static" in stats_report  # StatsView's static view, under a note
    assert "save_stats(" not in stats_report


def test_second_run_is_all_cache_hits(taxi):
    ws, _ = taxi
    t0 = time.monotonic()
    proc = mlnb("run", "pipeline.yaml", cwd=ws)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = run_json(ws, newest_run_id(ws))
    assert {s: v["status"] for s, v in run["steps"].items()} == {s: "cached" for s in STEPS}
    assert run["steps"]["evaluate"]["records"]["auc"] > 0.5  # recorded values come back with the cache hit
    assert sorted(p.name for p in (ws / "serving" / "taxi").iterdir() if p.name.isdigit()) == ["1"]
    print(f"second run (all cached): {seconds:.2f} s")


def test_changing_one_parameter_reruns_that_step_and_downstream(taxi):
    ws, _ = taxi
    proc = mlnb("run", "pipeline.yaml", "-p", "train.epochs=3", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = run_json(ws, newest_run_id(ws))
    status = {s: v["status"] for s, v in run["steps"].items()}
    assert status["ingest"] == status["statistics"] == status["schema"] == status["validate"] == "cached"
    assert status["train"] == status["evaluate"] == status["compare"] == "ran"
    assert run["steps"]["train"]["parameters"]["epochs"] == 3
    compare = run["steps"]["compare"]["records"]
    assert compare["baseline_version"] == 1  # judged against the model the first run pushed
    if compare["blessed"]:
        assert status["push"] == "ran" and (ws / "serving/taxi/2/saved_model.pb").is_file()
    else:
        assert status["push"] == "skipped" and "compare.blessed" in run["steps"]["push"]["reason"]


def test_lineage_prints_each_ancestor_once(taxi):
    "Issue 13 item 9: `mlnb lineage model` printed 100+ lines repeating shared ancestors; each is shown once, then referred to."
    ws, _ = taxi
    proc = mlnb("lineage", "model", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    full = [re.search(r"step '(\w+)'", l).group(1) for l in lines
            if re.search(r"produced by step '\w+' in run \S+ \((ran|cached|failed)", l)]
    assert sorted(full) == ["ingest", "schema", "statistics", "train", "validate"], proc.stdout  # each execution once
    assert proc.stdout.count("(see above)") >= 5 and len(lines) < 50, proc.stdout
