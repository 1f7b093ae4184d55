"""The demo: examples/taxi run continuously, as `make demo` runs it. The months arrive as spans and `mlnb trigger`
decides after each: January and February train the first model (nothing is served yet), March's longer trips drift
and retrain it (evaluated, blessed, pushed as version 2), April's broken export is an anomaly that blocks training.
Then: the pushed model serves predictions, the runs publish, a replay is all cache hits and nothing fires again, a
changed parameter re-runs only its step. Slow (models are trained), so the demo runs once per session (see
taxi_workspace.py) and the tests below share it, in this order."""
import json, re, time
from pathlib import Path

import pytest

from mlnb.pipeline.triggers import trigger_log
from taxi_workspace import mlnb, newest_run_id, run_json, taxi_run

STEPS = ["ingest", "statistics", "schema", "validate", "train", "evaluate", "compare", "push", "monitor"]


@pytest.fixture(scope="module")
def taxi(tmp_path_factory):
    info = taxi_run(tmp_path_factory)
    return Path(info["workspace"]), info


def statuses(run: dict) -> dict:
    return {s: v["status"] for s, v in run["steps"].items()}


def test_demo_runs_continuously(taxi):
    "Each arrival is decided by the triggers, each decision recorded with its reason and the run it started."
    ws, info = taxi
    log = trigger_log(ws)
    decided = {(r.trigger, r.span): r for r in log.itertuples()}
    assert len(log) == 3 * 4  # three triggers, four months, each decided once
    fired = sorted((r.trigger, r.span) for r in log[log.fired].itertuples())
    assert fired == [("bad_data", "Apr"), ("data_drift", "Mar"), ("model_quality", "Feb"), ("model_quality", "Jan")]
    assert "no model is served yet" in decided["model_quality", "Jan"].reason
    assert decided["data_drift", "Feb"].reason.startswith("no drift vs 'Jan'")
    assert "distance (wasserstein" in decided["data_drift", "Mar"].reason  # March's trips are longer
    assert "company" in decided["bad_data", "Apr"].reason  # April's export lost companies
    assert decided["model_quality", "Mar"].reason.startswith("auc of taxi/1 on 'Mar'")
    runs = info["runs"]
    assert decided["model_quality", "Jan"].run_id == decided["model_quality", "Feb"].run_id == runs["Feb"]
    assert (decided["data_drift", "Mar"].run_id, decided["bad_data", "Apr"].run_id) == (runs["Mar"], runs["Apr"])
    assert set(log[log.fired].run_status) == {"succeeded"}

    first, march, april = (run_json(ws, runs[m]) for m in ("Feb", "Mar", "Apr"))
    assert statuses(first) == statuses(march) == {s: "ran" for s in STEPS}
    assert first["steps"]["push"]["records"]["version"] == 1 and first["steps"]["ingest"]["records"]["spans"] == ["Jan", "Feb"]
    rec = march["steps"]
    assert rec["ingest"]["records"]["spans"] == ["Jan", "Feb", "Mar"] and rec["ingest"]["parameters"]["span"] == "Mar"
    assert rec["compare"]["records"]["blessed"] is True and rec["compare"]["records"]["baseline_version"] == 1
    assert rec["push"]["records"]["version"] == 2
    blocked = statuses(april)
    assert [blocked[s] for s in STEPS] == ["ran"] * 4 + ["skipped"] * 4 + ["ran"]  # monitor shows why
    assert april["steps"]["validate"]["records"]["anomalies"] > 0
    assert "condition `validate.anomalies == 0` is false" in april["steps"]["train"]["reason"]
    assert sorted(p.name for p in (ws / "serving" / "taxi").iterdir() if p.name.isdigit()) == ["1", "2"]
    print(f"continuous demo, cold: {info['seconds']:.1f} s")


def test_pipeline_monitoring_is_the_history_the_views_show(taxi):
    "The monitoring history of the pipeline's spans (what MonitorView and the monitoring page show), the served model included."
    from mlnb.pipeline.triggers import pipeline_monitoring
    ws, _ = taxi
    m = pipeline_monitoring(ws)
    assert m.verdicts.span.tolist() == ["Jan", "Feb", "Mar", "Apr"]
    assert m.verdicts.anomalies.tolist() == [0, 0, 0, 1] and m.verdicts.ok.tolist()[-1] is False
    served = m.frame[(m.frame.check == "model") & (m.frame.measurement == "auc") & (m.frame.feature == "Overall")]
    assert served.span.tolist() == ["Jan", "Feb", "Mar", "Apr"] and set(served.reference) == {"taxi/2"}


def test_demo_runs_end_to_end(taxi):
    "March's run: every step ran, on the three months, in the formats the ecosystem reads."
    ws, info = taxi
    run = run_json(ws, info["run_id"])
    assert run["status"] == "succeeded" and list(run["steps"]) == STEPS
    rec = {s: v["records"] for s, v in run["steps"].items()}
    rows = rec["ingest"]["rows"]
    assert rows["serving"] == 628 and rows["eval"] == 246 + 305 + 471 and rows["previous"] == 2036
    assert rows["train"] + rows["eval"] + rows["serving"] == 1644 + 2036 + 3142
    assert rec["schema"]["source"] == "curated" and rec["schema"]["features"] == 7
    assert rec["validate"]["anomalies"] == 0
    assert 0.5 < rec["evaluate"]["auc"] <= 1 and 0 < rec["evaluate"]["log_loss"]
    for step in STEPS:
        assert (ws / "runs" / info["run_id"] / f"{step}.ipynb").is_file()


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
    "`mlnb publish RUN_ID` builds the site of March's run: an app and a report per step, an index with metrics."
    ws, info = taxi
    proc = mlnb("publish", info["run_id"], "-o", str(tmp_path / "site"), cwd=ws)
    assert proc.returncode == 0, proc.stderr
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    assert re.findall(r'data-step="(\w+)" data-status="ran"', index) == STEPS
    assert "auc" in index and "blessed" in index
    for step in STEPS:
        assert (site / "apps" / f"{step}.ipynb").is_file() and (site / "reports" / f"{step}.html").is_file()
    stats_report = (site / "reports" / "statistics.html").read_text()
    assert "mlnb-live-note" in stats_report and "mlnb-static" in stats_report  # StatsView's static view, under a note
    assert "save_stats(" not in stats_report


def test_blocked_run_publishes_why(taxi, tmp_path):
    "April's run, published: the index shows training skipped, with the condition and the anomalies that blocked it."
    ws, info = taxi
    proc = mlnb("publish", info["runs"]["Apr"], "-o", str(tmp_path / "site"), cwd=ws)
    assert proc.returncode == 0, proc.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'data-step="train" data-status="skipped"' in index
    assert "validate.anomalies == 0" in index
    assert "company" in (tmp_path / "site" / "reports" / "validate.html").read_text()
    page = (tmp_path / "site" / "reports" / "monitor.monitoring.html").read_text()  # MonitorView, with the trigger log
    assert "bad_data" in page and "data_drift" in page and "company" in page


def test_second_demo_is_all_cache_hits_and_fires_nothing(taxi):
    "What a second `make demo` does: nothing is new to the triggers; the replay of April's run computes nothing."
    ws, _ = taxi
    for _ in range(2):
        proc = mlnb("trigger", "pipeline.yaml", cwd=ws)
        assert proc.returncode == 3 and "nothing new (4 span(s))" in proc.stdout, proc.stdout + proc.stderr
    t0 = time.monotonic()
    proc = mlnb("run", "pipeline.yaml", "-p", "ingest.span=Apr", cwd=ws)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = run_json(ws, newest_run_id(ws))
    assert [statuses(run)[s] for s in STEPS] == ["cached"] * 4 + ["skipped"] * 4 + ["cached"]
    assert run["steps"]["validate"]["records"]["anomalies"] > 0  # recorded values come back with the cache hit
    assert sorted(p.name for p in (ws / "serving" / "taxi").iterdir() if p.name.isdigit()) == ["1", "2"]
    print(f"replay (all cached): {seconds:.2f} s")


def test_changing_one_parameter_reruns_that_step_and_downstream(taxi):
    ws, _ = taxi
    proc = mlnb("run", "pipeline.yaml", "-p", "ingest.span=Apr", "-p", "validate.check_skew=false", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = run_json(ws, newest_run_id(ws))
    status = statuses(run)
    assert status["ingest"] == status["statistics"] == status["schema"] == "cached"
    assert status["validate"] == "ran" and run["steps"]["validate"]["parameters"]["check_skew"] is False
    assert status["train"] == "skipped"  # April's anomalies still block it


def test_lineage_prints_each_ancestor_once(taxi):
    "Issue 13 item 9: `mlnb lineage model` printed 100+ lines repeating shared ancestors; each is shown once, then referred to."
    ws, _ = taxi
    proc = mlnb("lineage", "model", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    full = [re.search(r"step '(\w+)' in run (\S+)", l).groups() for l in lines
            if re.search(r"produced by step '\w+' in run \S+ \((ran|cached|failed)", l)]
    assert len(full) == len(set(full)), proc.stdout  # each execution once
    # March's model, from March's ingest and validate; the curated schema's output is the same file in every run, so its
    # producer is the first run's schema step, from that run's statistics and ingest
    assert sorted(step for step, _ in full) == ["ingest", "ingest", "schema", "statistics", "statistics", "train", "validate"], proc.stdout
    assert proc.stdout.count("(see above)") >= 5 and len(lines) < 80, proc.stdout
