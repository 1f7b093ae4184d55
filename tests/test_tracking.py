"""Experiment runs: tracking in-process and inside papermill-executed notebooks (ingested by the runner), get_runs
filters, and sweeps of a small Keras notebook on the taxi data — real kernels, a real ML-Metadata SQLite store."""
from __future__ import annotations
import json, re, shutil, subprocess, sys
from pathlib import Path

import nbformat
import pytest

import mlnb
from mlnb.errors import ParameterError
from mlnb.runs.query import get_run, get_runs, read_runs
from mlnb.exec.ingest import read_run_bundles
from mlnb.runs.tracking import start_run

REPO = Path(__file__).resolve().parents[1]
MLNB = str(Path(sys.executable).parent / "mlnb")


def mlnb_cli(*args, cwd=None, timeout=900):
    "Run the `mlnb` command; returns the CompletedProcess (stdout and stderr as text)."
    return subprocess.run([MLNB, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def notebook(path: Path, params: str, *cells: str) -> Path:
    "Write a notebook with a `parameters` cell and code cells."
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "ws" / ".mlnb").mkdir(parents=True)
    return tmp_path / "ws"


# --- in-process tracking -------------------------------------------------------------------------------------

def test_start_run_in_process_writes_the_workspace_store(ws, monkeypatch, taxi_df):
    "The store is the nearest workspace upward (here from a subfolder); a git commit and package versions are captured."
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "data.csv").write_text(taxi_df.head(100).to_csv(index=False))
    subprocess.run(["git", "-C", str(ws), "add", "data.csv"], check=True)
    subprocess.run(["git", "-C", str(ws), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "data"], check=True)
    head = subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (ws / "notebooks").mkdir()
    script = ws / "notebooks" / "train.py"  # as if `python train.py` ran in the repository
    script.write_text("# trains\n")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(script))
    monkeypatch.chdir(ws / "notebooks")
    tips = (taxi_df["tip"] == "yes").mean()
    with start_run("taxi", {"model": "baseline", "rows": len(taxi_df)}) as run:
        for epoch in range(1, 4):
            run.log_metric("accuracy", float(tips) - 0.01 * (3 - epoch), step=epoch)
        run.log_metric("tip_rate", tips)
        run.log_artifact(ws / "data.csv")
    stored = get_run(run.run_id, ws)
    assert (stored["status"], stored["experiment"], stored["git_commit"]) == ("succeeded", "taxi", head)
    assert (stored["notebook"], stored["source"]) == (str(script), "script")
    assert stored["params"] == {"model": "baseline", "rows": 10000}
    assert [p[:2] for p in stored["history"]["accuracy"]] == [[1, pytest.approx(tips - 0.02)], [2, pytest.approx(tips - 0.01)], [3, pytest.approx(tips)]]
    assert stored["metrics"]["accuracy"] == pytest.approx(tips)
    assert {"python", "pandas", "ml-metadata"} <= set(stored["packages"]) or {"python", "pandas", "ml_metadata"} <= set(stored["packages"])
    assert [a["path"] for a in stored["artifacts"] if a["role"] == "artifact"] == ["data.csv"]
    assert not (ws / "notebooks" / ".mlnb").exists()
    assert get_runs(workspace=ws / "notebooks")["run_id"].tolist() == [run.run_id]


def test_failed_body_marks_the_run_failed(ws):
    with pytest.raises(ZeroDivisionError):
        with start_run("taxi", {"lr": 1.0}, workspace=ws) as run:
            run.log_metric("loss", 0.7)
            1 / 0
    stored = get_run(run.run_id, ws)
    assert stored["status"] == "failed" and stored["error"]["ename"] == "ZeroDivisionError"
    assert stored["metrics"] == {"loss": 0.7}


def test_get_runs_filter_order_and_clear_errors(ws):
    for lr, units, auc in [(0.1, 16, 0.71), (0.01, 32, 0.86), (0.001, 64, 0.83), (0.05, 64, None)]:
        with start_run("grid", {"lr": lr, "units": units, "optimizer": "adam"}, workspace=ws) as r:
            if auc: r.log_metric("auc", auc)
    df = get_runs("grid", filter="metrics.auc > 0.8 and params.lr < 0.1", order_by=["metrics.auc DESC"], workspace=ws)
    assert df["params.lr"].tolist() == [0.01, 0.001]
    df = get_runs(filter="params.units IN (64) AND metrics.auc IS NULL OR params.optimizer = 'sgd'", workspace=ws)
    assert df["params.lr"].tolist() == [0.05]
    # `finished` (MLflow's word, and mlnb 0.1's) selects the succeeded runs
    assert get_runs(filter="status = 'finished'", order_by="params.units", workspace=ws)["params.units"].tolist() == [16, 32, 64, 64]
    for bad, part in [("metric.auc > 0.8", "metric.auc"), ("metrics.auc >> 1", ">"), ("metrics.auc > 0.8 and lr < 1", "lr"),
                      ("params.lr.__class__ == 1", "params.lr.__class__"), ("metrics.acc > 0.5", "metrics.acc"),
                      ("__import__('os').system('true')", "__import__")]:
        with pytest.raises(ParameterError) as e:
            get_runs(filter=bad, workspace=ws)
        assert part in str(e.value) and part in e.value.part, (bad, str(e.value))
    with pytest.raises(ParameterError, match="no metric 'acc'"):
        get_runs(order_by="metrics.acc DESC", workspace=ws)


# --- papermill-executed notebooks ----------------------------------------------------------------------------

def test_runs_in_a_pipeline_step_are_recorded_in_the_notebook_and_ingested_by_the_runner(ws):
    notebook(ws / "train.ipynb", "lr = 0.1\nfail = False", """
import mlnb
with mlnb.start_run(params={"units": 8}) as run:
    for epoch in range(1, 4): run.log_metric("loss", lr / epoch, step=epoch)
    if fail: raise RuntimeError("diverged")
mlnb.record("rows", 100)""")
    (ws / "pipeline.yaml").write_text("name: demo\nsteps:\n  good: {notebook: train.ipynb, parameters: {lr: 0.5}}\n"
                                      "  bad: {notebook: train.ipynb, parameters: {fail: true}}\n")
    result = mlnb.Pipeline.load(ws).run(parallel=2, log=lambda line: None)
    assert (result.steps["good"].status, result.steps["bad"].status) == ("ran", "failed")
    assert mlnb.record is not None and callable(mlnb.record)
    runs = {r["pipeline_run"]: r for r in read_runs(ws, columns=("run_id", "pipeline_run"))}
    assert len(runs) == 1 and result.run_id in runs
    df = get_runs("demo", workspace=ws, order_by="params.lr")
    assert df["status"].tolist() == ["failed", "succeeded"] and df["source"].tolist() == ["pipeline", "pipeline"]
    good = get_run(df["run_id"][1], ws)
    assert good["params"] == {"lr": 0.5, "fail": False, "units": 8}
    assert [p[:2] for p in good["history"]["loss"]] == [[1, 0.5], [2, 0.25], [3, pytest.approx(0.5 / 3)]]
    assert good["pipeline_run"] == result.run_id
    assert Path(good["executed_notebook"]) == ws / "runs" / result.run_id / "good.ipynb"
    bundles = read_run_bundles(ws / "runs" / result.run_id / "good.ipynb")  # the kernel recorded, the runner wrote
    assert [b["run_id"] for b in bundles] == [good["run_id"]] and bundles[0]["status"] == "succeeded"
    assert get_run(df["run_id"][0], ws)["error"]["ename"] == "RuntimeError"


# --- sweeps of a Keras notebook on the taxi data ---------------------------------------------------------------

@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    "One 2×2 sweep of examples/sweep_train.ipynb (units=0 fails at once), two at a time, from the CLI."
    ws = tmp_path_factory.mktemp("sweep") / "ws"
    (ws / ".mlnb").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "sweep_train.ipynb", ws / "train.ipynb")
    proc = mlnb_cli("sweep", "train.ipynb", "--grid", "learning_rate=0.05,0.005", "units=0,8", "-p", "epochs=2",
                    "-p", "sample=1500", "--parallel", "2", "--experiment", "taxi", "--metric", "val_auc", cwd=ws)
    sweep_id = re.search(r"mlnb sweep (s[0-9-]+[0-9a-f]+):", proc.stdout).group(1)
    return ws, proc, sweep_id


def test_sweep_runs_each_combination_as_a_run_and_isolates_failures(swept):
    ws, proc, sweep_id = swept
    assert proc.returncode == 1, proc.stdout + proc.stderr
    state = json.loads((ws / "runs" / "sweeps" / sweep_id / "sweep.json").read_text())
    by = {(c["params"]["learning_rate"], c["params"]["units"]): c for c in state["combinations"]}
    assert [by[(lr, 0)]["status"] for lr in (0.05, 0.005)] == ["failed", "failed"]
    assert [by[(lr, 8)]["status"] for lr in (0.05, 0.005)] == ["succeeded", "succeeded"]
    assert "ValueError: units must be at least 1" in by[(0.05, 0)]["reason"]
    df = get_runs("taxi", workspace=ws)
    assert sorted(df["status"]) == ["failed", "failed", "succeeded", "succeeded"]
    assert set(df["sweep_id"]) == {sweep_id} and set(df["source"]) == {"sweep"}
    ok = df[df["status"] == "succeeded"]
    assert ok["params.epochs"].tolist() == [2, 2] and (ok["params.rows"] == 1500).all()
    assert ok["metrics.val_auc"].between(0.3, 1).all()
    for rid in ok["run_id"]:  # the Keras callback logged each epoch, the notebook ran under runs/sweeps/<id>/
        run = get_run(rid, ws)
        assert [p[0] for p in run["history"]["val_auc"]] == [1, 2] and {"loss", "auc", "val_loss"} <= set(run["history"])
        assert Path(run["executed_notebook"]).parent == ws / "runs" / "sweeps" / sweep_id and Path(run["executed_notebook"]).exists()
        assert run["packages"]["keras"].startswith("3.")
    best = ok.sort_values("metrics.val_auc").iloc[-1]
    assert f"best run: {best['run_id']}" in proc.stdout
    assert "2 succeeded, 2 failed" in proc.stdout


def test_sweep_resume_runs_only_what_did_not_succeed(swept):
    ws, _, sweep_id = swept
    before = get_runs("taxi", workspace=ws)
    proc = mlnb_cli("sweep", "--resume", sweep_id, "-w", ws, cwd=ws)
    assert proc.returncode == 1 and "2 done before" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.count(" failed ") >= 2 and " succeeded " not in proc.stdout.split("\n", 1)[1].split("mlnb sweep")[0]
    after = get_runs("taxi", workspace=ws)
    assert set(after[after["status"] == "succeeded"]["run_id"]) == set(before[before["status"] == "succeeded"]["run_id"])
    assert (after["status"] == "failed").sum() == 4  # the two failing combinations ran again, and failed again


def test_a_second_sweep_is_served_from_the_cache(swept):
    ws, _, _ = swept
    before = set(get_runs("taxi", workspace=ws)["run_id"])
    proc = mlnb_cli("sweep", "train.ipynb", "--grid", "learning_rate=0.005,0.05", "units=8", "-p", "epochs=2", "-p", "sample=1500",
                    "--experiment", "taxi", "--metric", "val_auc", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(" cached ") == 2 and "(2 cached)" in proc.stdout
    assert set(get_runs("taxi", workspace=ws)["run_id"]) == before
    sweep_id = re.search(r"mlnb sweep (s[0-9-]+[0-9a-f]+):", proc.stdout).group(1)
    state = json.loads((ws / "runs" / "sweeps" / sweep_id / "sweep.json").read_text())
    assert {c["run_id"] for c in state["combinations"]} <= before


def test_runs_compare_prints_the_differences(swept):
    ws, _, _ = swept
    ok = get_runs("taxi", filter="status = 'finished'", order_by="params.learning_rate", workspace=ws)
    a, b = ok["run_id"]
    proc = mlnb_cli("runs", "compare", a, b, cwd=ws)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert a in lines[0] and b in lines[0]
    assert any(l.split()[:3] == ["learning_rate", "0.005", "0.05"] for l in lines)
    assert not any(l.split()[:1] == ["units"] for l in lines)  # equal: left out by default
    assert any(l.split()[:1] == ["val_auc"] for l in lines)


def test_sweep_errors_are_clear(ws):
    notebook(ws / "nb.ipynb", "lr = 0.1", "x = lr")
    proc = mlnb_cli("sweep", "nb.ipynb", "--grid", "units=1,2", cwd=ws)
    assert proc.returncode == 2 and "parameter 'units' is not declared" in proc.stderr
    proc = mlnb_cli("sweep", "nb.ipynb", "--optuna", "5", "--range", "lr=0.001:0.1:log", "--metric", "x", cwd=ws)
    assert proc.returncode == 2 and "pip install optuna" in proc.stderr
    proc = mlnb_cli("sweep", "nb.ipynb", "--random", "3", "--range", "lr=0.1:0.01", cwd=ws)
    assert proc.returncode == 2 and "LOW < HIGH" in proc.stderr


# --- issue 13: NaN metrics, quoted names, which sweep run is best ---------------------------------------------

def test_nan_and_inf_metrics_are_stored_shown_filtered_and_ordered(ws):
    "A diverged loss is a result: NaN and ±inf are kept (MLflow's filter semantics; NaN sorts after every number)."
    import numpy as np
    from mlnb.widgets.run_compare import RunCompare
    ids = {}
    for name, loss in [("ok", 0.4), ("nan", float("nan")), ("np_inf", np.float32("inf")), ("minus_inf", -np.inf), ("none", None)]:
        with start_run("diverge", {"name": name}, workspace=ws) as run:
            ids[name] = run.run_id
            if loss is None: run.log_metric("acc", 0.5); continue  # never logged a loss
            run.log_metric("loss", 0.9, step=0)
            run.log_metric("loss", loss, step=1)  # the input: log_metric('loss', float('nan'))
    name = {v: k for k, v in ids.items()}
    got = lambda **kw: [name[r] for r in get_runs("diverge", workspace=ws, **kw)["run_id"]]
    for op in ("<", "<=", "=", "==", ">", ">="):  # NaN satisfies none of these ...
        assert "nan" not in got(filter=f"metrics.loss {op} 0.4") and "nan" not in got(filter=f"metrics.loss {op} metrics.loss")
    assert sorted(got(filter="metrics.loss != 0.4")) == ["minus_inf", "nan", "np_inf"]  # ... and satisfies !=
    assert got(filter="metrics.loss IS NULL") == ["none"] and got(filter="metrics.loss > 1e308") == ["np_inf"]
    assert got(order_by="metrics.loss") == ["minus_inf", "ok", "np_inf", "nan", "none"]
    assert got(order_by=["metrics.loss DESC"]) == ["np_inf", "ok", "minus_inf", "nan", "none"]
    df = get_runs("diverge", workspace=ws).set_index("run_id")
    assert np.isnan(df.loc[ids["nan"], "metrics.loss"]) and df.loc[ids["np_inf"], "metrics.loss"] == np.inf
    run = get_run(ids["nan"], ws)
    assert np.isnan(run["metrics"]["loss"]) and run["history"]["loss"][0][1] == 0.9 and np.isnan(run["history"]["loss"][1][1])
    proc = mlnb_cli("runs", "show", ids["nan"], "-w", ws)
    assert proc.returncode == 0 and ["loss", "NaN", "2", "step(s)"] in [l.split() for l in proc.stdout.splitlines()], proc.stdout + proc.stderr
    proc = mlnb_cli("runs", "compare", ids["ok"], ids["np_inf"], "--json", "-w", ws)
    assert ["loss", 0.4, "Infinity", False] in json.loads(proc.stdout)["metrics"], proc.stdout
    w = RunCompare("diverge", workspace=ws, metric="loss", mode="min")
    col = dict(zip(w._data["ids"], w._data["metrics"]["loss"]))
    assert [col[ids[k]] for k in ("ok", "nan", "np_inf", "minus_inf", "none")] == [0.4, "NaN", "Infinity", "-Infinity", None]
    assert w.best == ids["minus_inf"] and json.dumps(w._data, allow_nan=False)
    with pytest.raises(ParameterError, match=r"expected a number \(NaN and ±inf included\), found a str"):
        start_run("diverge", workspace=ws).log_metric("loss", "nan")


def test_run_compare_script_shows_and_sorts_nan(ws):
    "The widget's ES module (run under node): NaN reads NaN, ±inf ∞, and sorting puts NaN after numbers, then no value."
    node = shutil.which("node")
    if node is None: pytest.skip("node is not installed")
    from mlnb.widgets.base import esm
    script = esm("run_compare").replace("export default { render };", "") + """
const d = rcDecode({ids: ["a", "b", "c", "d", "e"], metrics: {loss: [0.4, "NaN", "Infinity", "-Infinity", null]}});
const order = (desc) => [0, 1, 2, 3, 4].sort((x, y) => rcCompare(d.metrics.loss[x], d.metrics.loss[y], desc)).map((i) => d.ids[i]);
console.log(JSON.stringify({fmt: d.metrics.loss.map(rcFmt), asc: order(false), desc: order(true)}));
"""
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"fmt": ["0.4", "NaN", "∞", "-∞", "–"], "asc": ["d", "a", "c", "b", "e"],
                                      "desc": ["c", "a", "d", "b", "e"]}


def test_filters_quote_names_with_double_quotes_or_backticks(ws):
    "MLflow's syntax: metrics.\"f1-score\", metrics.`avg model score`, params.\"cat.dog\"; bare, a clear error."
    for params, metrics in [({"cat.dog": "x", "model/layers": 2}, {"f1-score": 2.5, "avg model score": 0.6, "val/auc": 0.9}),
                            ({"cat.dog": "y", "model/layers": 3}, {"f1-score": 1.5, "avg model score": 0.4, "val/auc": 0.7})]:
        with start_run("quoted", params, workspace=ws) as run: run.log_metrics(metrics)
    n = lambda f: len(get_runs("quoted", filter=f, workspace=ws))
    assert [n('metrics."f1-score" > 2'), n("metrics.`f1-score` > 2"), n("metrics.`avg model score` > 0.5"),
            n('metrics."avg model score" > 0.5'), n("params.\"cat.dog\" = 'x'"), n("params.`cat.dog` = 'x'")] == [1] * 6
    assert [n('metrics."val/auc" >= 0.7 AND params."model/layers" IN (2, 3)'), n('params."cat.dog" = "y"'),
            n('params."cat.dog" != \'metrics."a-b"\'')] == [2, 1, 2]  # a quoted name inside a string is a value
    top = get_runs("quoted", order_by=['metrics."avg model score" DESC'], workspace=ws)
    assert top["params.cat.dog"].tolist() == ["x", "y"]
    for bad, how in [("metrics.f1-score > 2", 'metrics."f1-score" or metrics.`f1-score`'),
                     ("params.cat.dog = 'x'", 'params."cat.dog" or params.`cat.dog`'),
                     ("metrics.val/auc > 0.5", 'metrics."val/auc"')]:
        with pytest.raises(ParameterError) as e:
            get_runs("quoted", filter=bad, workspace=ws)
        assert how in str(e.value) and "quoted" in str(e.value), str(e.value)


def test_sweep_best_needs_a_metric_when_runs_record_several(ws):
    "No guessing by the order metrics were logged in: several metrics and no --metric is an error listing them."
    notebook(ws / "two.ipynb", "lr = 0.1", """
import math, mlnb
with mlnb.start_run() as run:
    run.log_metric("auc", 0.9 + lr / 100)  # training: recorded first, and highest where validation diverged
    run.log_metric("val_auc", math.nan if lr > 1 else 0.8 - lr)""")
    proc = mlnb_cli("sweep", "two.ipynb", "--grid", "lr=0.1,9", "--parallel", "2", cwd=ws)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the runs recorded 2 metrics (auc, val_auc)" in proc.stderr and "--metric" in proc.stderr, proc.stderr
    assert "best run: not chosen" in proc.stdout
    proc = mlnb_cli("sweep", "two.ipynb", "--grid", "lr=0.1,9", "--metric", "val_auc", cwd=ws)
    assert proc.returncode == 0 and "(2 cached)" in proc.stdout, proc.stdout + proc.stderr
    best = re.search(r"best run: (\S+)\s+val_auc=(\S+)\s+lr=(\S+)", proc.stdout)
    assert best and (best.group(2), best.group(3)) == ("0.7", "0.1"), proc.stdout  # NaN (lr=9) never wins
    df = get_runs("two", workspace=ws)  # the NaN came through the kernel's bundle and the store
    assert df["metrics.val_auc"].isna().sum() == 1 and len(df.attrs["logged_nan"]["metrics.val_auc"]) == 1
    assert df["metrics.auc"].max() == pytest.approx(0.99)  # what "the first metric recorded" would have picked
    # the second case, in Python (no kernel): one metric recorded is the rule's easy case; several need a choice
    from mlnb.runs.sweep import Sweep
    sw = Sweep(ws / "two.ipynb", [{"lr": 0.1}, {"lr": 0.5}])
    for e, m in zip(sw.combos, [{"score": 0.6}, {"score": 0.9}]): e.update(status="succeeded", metrics=m, run_id=str(e["index"]))
    assert (sw.best()["params"], sw.best(mode="min")["params"]) == ({"lr": 0.5}, {"lr": 0.1})
    sw.combos[0]["metrics"]["loss"] = 0.3
    with pytest.raises(ParameterError, match=r"recorded 2 metrics \(loss, score\)"):
        sw.best()
    assert sw.best("loss", "min")["params"] == {"lr": 0.1}
