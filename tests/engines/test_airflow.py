"""A pipeline exported with `mlnb export airflow` runs under a real Apache Airflow 3 (`airflow dags test`, SQLite):
one DAG run is one mlnb run; a retry runs the failed step again inside that run; `when:` skips are Airflow skips;
a conf value reaches the step as `-p` and is checked by mlnb as on its command line (refused: failed, not retried);
the pipeline's triggers are a short circuit: no trigger fired, no step runs; one fired, its span reaches the steps."""
from __future__ import annotations
import json, os, sys, time
from pathlib import Path

from engines_util import mlnb, mlnb_run_id, write_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PIPELINE = """name: tiny
schedule: "30 4 * * 1-5"
steps:
  make:   {notebook: make.ipynb, outputs: [numbers.txt]}
  flaky:  {notebook: flaky.ipynb, upstream: [make]}
  total:  {notebook: total.ipynb, upstream: [flaky, make], when: make.n > 2, outputs: [total.txt]}
  report: {notebook: report.ipynb, upstream: [total]}
"""
NOTEBOOKS = {
    "make.ipynb": ("n = 3", "import mlnb\nopen('numbers.txt', 'w').write(' '.join(map(str, range(n))))\nmlnb.record('n', n)"),
    # fails on its first attempt ever: Airflow's retry must run it again inside the same mlnb run
    "flaky.ipynb": ("", "import mlnb, pathlib\np = pathlib.Path('attempts.txt')\np.write_text((p.read_text() if p.exists() else '') + 'x')\n"
                        "assert len(p.read_text()) > 1, 'a transient failure, on the first attempt'\n"
                        "mlnb.record('attempts', len(p.read_text()))"),
    "total.ipynb": ("", "import mlnb\nt = sum(map(int, open('numbers.txt').read().split()))\nopen('total.txt', 'w').write(str(t))\n"
                        "mlnb.record('total', t)"),
    "report.ipynb": ("", "import mlnb\nmlnb.record('report', open('total.txt').read())"),
}


def dag_test(airflow, dag_id: str, conf: dict) -> tuple[str, dict, str]:
    "Run `airflow dags test` with a conf: (mlnb run id, the Airflow run's states, Airflow's output)."
    before = set(airflow.dag_runs(dag_id)) if (airflow.home / "airflow.db").exists() else set()
    t0 = time.monotonic()
    proc = airflow("dags", "test", dag_id, "-c", json.dumps(conf))
    print(f"\nairflow dags test {dag_id} -c {json.dumps(conf)}: {time.monotonic() - t0:.1f} s")
    output = proc.stdout + proc.stderr
    runs = airflow.dag_runs(dag_id)
    new = [r for r in runs if r not in before]
    assert len(new) == 1, f"expected one new DAG run, found {new}\n{output[-5000:]}"
    return mlnb_run_id(new[0]), runs[new[0]], output


def test_dag_run_is_one_mlnb_run_with_retry_skip_and_conf(airflow, tmp_path):
    ws = write_pipeline(tmp_path / "ws", PIPELINE, NOTEBOOKS)
    export = mlnb("export", "airflow", str(ws), "-o", str(airflow.dags / "tiny.py"), "--retries", "1", "--retry-delay", "0")
    assert export.returncode == 0, export.stderr

    # 1. conf {"make.n": 4}: every step runs in one mlnb run; flaky fails once and its retry succeeds in that run
    run_id, af, output = dag_test(airflow, "mlnb_tiny", {"make.n": 4})
    assert af["state"] == "success", output[-6000:]
    assert af["tasks"] == dict.fromkeys(["make", "flaky", "total", "report"], "success") and af["tries"]["flaky"] == 2
    assert af["schedule"] == "30 4 * * 1-5"  # pipeline.yaml's schedule is the DAG's
    listed = json.loads(mlnb("runs", "list", "--json", "-w", str(ws)).stdout)
    assert [(r["run_id"], r["status"], r["steps"]) for r in listed] == [(run_id, "succeeded", {"ran": 4})]
    run = json.loads((ws / "runs" / run_id / "run.json").read_text())
    assert run["status"] == "succeeded" and list(run["steps"]) == ["make", "flaky", "total", "report"]
    assert run["options"]["params"] == {"make": {"n": 4}} and run["steps"]["make"]["parameters"] == {"n": 4}
    assert run["steps"]["total"]["records"] == {"total": 6} and run["steps"]["flaky"]["records"] == {"attempts": 2}
    from mlnb.metadata.store import Store
    flaky = Store(ws).executions(f"properties.run_id.string_value = '{run_id}' AND properties.step.string_value = 'flaky'")
    assert [e["status"] for e in flaky] == ["ran", "failed"]  # newest first: the retry, then the first attempt
    shown = json.loads(mlnb("runs", "show", run_id, "--json", "-w", str(ws)).stdout)
    assert {n: s["status"] for n, s in shown["steps"].items()} == dict.fromkeys(["make", "flaky", "total", "report"], "ran")

    # 2. conf {"make.n": 1}: total's `when:` is false, so its task is skipped, and report records why it was skipped
    run_id2, af2, output = dag_test(airflow, "mlnb_tiny", {"make.n": 1})
    assert af2["tasks"] == {"make": "success", "flaky": "success", "total": "skipped", "report": "skipped"}, output[-6000:]
    run2 = json.loads((ws / "runs" / run_id2 / "run.json").read_text())
    assert {n: (s["status"], s["reason"]) for n, s in run2["steps"].items() if s["status"] == "skipped"} == {
        "total": ("skipped", "condition `make.n > 2` is false (make.n = 1)"),
        "report": ("skipped", "upstream step 'total' skipped (in this run)")}
    assert run2["status"] == "succeeded"

    # 3. a conf value of the wrong type fails the first task with mlnb's own message, as `mlnb run -p` does, and
    #    without retries (a retry would be refused too)
    cli = mlnb("run", str(ws), "-p", "make.n=many")
    message = cli.stderr.strip().splitlines()[-1].split("error: ", 1)[-1]
    assert cli.returncode == 2 and "expected a value of type int" in message
    _, af3, output = dag_test(airflow, "mlnb_tiny", {"make.n": "many"})
    assert af3["state"] == "failed" and af3["tasks"]["make"] == "failed" and af3["tries"]["make"] == 1
    assert message in output
    assert len(json.loads(mlnb("runs", "list", "--json", "-w", str(ws)).stdout)) == 2  # nothing recorded


TRIGGERED = """name: ct
steps:
  count:  {notebook: count.ipynb, outputs: [count.txt]}
  report: {notebook: report.ipynb, upstream: [count]}
monitor:
  spans: incoming/{span}.csv
triggers:
  fresh: {on: new_span}
"""
COUNTING = {
    "count.ipynb": ("span = ''", "import mlnb\nrows = sum(1 for _ in open(f'incoming/{span}.csv')) - 1\n"
                                 "open('count.txt', 'w').write(f'{span} {rows}')\nmlnb.record('rows', rows)"),
    "report.ipynb": ("", "import mlnb\nmlnb.record('report', open('count.txt').read())"),
}


def test_triggers_are_a_short_circuit_and_the_log_names_the_dag_run(airflow, tmp_path):
    "Continuous training under Airflow: each DAG run evaluates the triggers first; the run they start is recorded on them."
    ws = write_pipeline(tmp_path / "ct", TRIGGERED, COUNTING)
    (ws / "incoming").mkdir()
    (ws / "incoming" / "2026-03.csv").write_text("x,y\n1,a\n2,b\n3,c\n")
    assert mlnb("export", "airflow", str(ws), "-o", str(airflow.dags / "ct.py")).returncode == 0

    # 1. a new span: `fresh` fires, the steps run with span=2026-03, and the decision names the run and its outcome
    run_id, af, output = dag_test(airflow, "mlnb_ct", {})
    assert af["state"] == "success" and af["tasks"] == dict.fromkeys(["triggers", "count", "report", "record_run"], "success"), output[-6000:]
    assert af["schedule"] == "*/10 * * * *"  # triggers are evaluated every 10 minutes without a `schedule:`
    run = json.loads((ws / "runs" / run_id / "run.json").read_text())
    assert run["status"] == "succeeded" and run["options"]["params"] == {"count": {"span": "2026-03"}}
    assert run["steps"]["report"]["records"] == {"report": "2026-03 3"}
    log = json.loads(mlnb("trigger", str(ws), "--log", "--json").stdout)
    assert [(d["trigger"], d["span"], d["fired"], d["run_id"], d["run_status"]) for d in log] == [
        ("fresh", "2026-03", True, run_id, "succeeded")]

    # 2. nothing new: the short circuit skips every step, and no mlnb run is started
    _, af2, output = dag_test(airflow, "mlnb_ct", {})
    assert af2["state"] == "success", output[-6000:]
    assert af2["tasks"] == {"triggers": "success", "count": "skipped", "report": "skipped", "record_run": "skipped"}
    assert [r["run_id"] for r in json.loads(mlnb("runs", "list", "--json", "-w", str(ws)).stdout)] == [run_id]
    assert "nothing fired (1 span(s)): the steps are skipped" in output

    # 3. a step task that fails before mlnb records it (pipeline.yaml renamed `report` after the export): the run is
    #    incomplete, so record_run records it failed and the DAG run fails
    (ws / "pipeline.yaml").write_text(TRIGGERED.replace("report:", "summary:"))
    (ws / "incoming" / "2026-04.csv").write_text("x,y\n1,a\n")
    run_id3, af3, output = dag_test(airflow, "mlnb_ct", {})
    assert af3["state"] == "failed" and af3["tasks"] == {"triggers": "success", "count": "success", "report": "failed",
                                                         "record_run": "failed"}, output[-6000:]
    log = json.loads(mlnb("trigger", str(ws), "--log", "--json").stdout)
    assert [(d["span"], d["run_id"], d["run_status"]) for d in log if d["fired"]][-1] == ("2026-04", run_id3, "failed")


def test_taxi_dag_on_a_mysql_store_is_one_run_with_its_lineage(airflow, mariadb, mysql_database, tmp_path):
    "The demo pipeline as a team runs it: Airflow's worker environment points mlnb at MySQL; conf sets three parameters."
    import shutil, subprocess, yaml
    from taxi_workspace import EXAMPLE, GENERATED
    ws = tmp_path / "taxi"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(*GENERATED))
    subprocess.run([sys.executable, "spans.py", "Jan", "Feb"], cwd=ws, check=True, capture_output=True)  # two months arrive
    steps = list(yaml.safe_load((ws / "pipeline.yaml").read_text())["steps"])
    env = {"MLNB_METADATA": mariadb.url(mysql_database)}
    airflow.env.update(env)  # the tasks inherit the worker's environment
    export = mlnb("export", "airflow", str(ws), "-o", str(airflow.dags / "taxi.py"))
    assert export.returncode == 0, export.stderr

    conf = {"ingest.span": "Feb", "train.epochs": 2, "compare.min_auc": 0.5}
    run_id, af, output = dag_test(airflow, "mlnb_taxi", conf)  # no model is served yet: model_quality fires
    assert af["state"] == "success" and af["tasks"] == dict.fromkeys(["triggers", *steps, "record_run"], "success"), output[-8000:]
    listed = json.loads(mlnb("runs", "list", "--json", "-w", str(ws), env={**os.environ, **env}).stdout)
    assert [(r["run_id"], r["status"], r["steps"]) for r in listed] == [(run_id, "succeeded", {"ran": len(steps)})]
    run = json.loads((ws / "runs" / run_id / "run.json").read_text())
    assert list(run["steps"]) == steps and {s["status"] for s in run["steps"].values()} == {"ran"}
    assert run["options"]["params"] == {"ingest": {"span": "Feb"}, "train": {"epochs": 2}, "compare": {"min_auc": 0.5}}
    assert run["steps"]["train"]["parameters"]["epochs"] == 2 and run["steps"]["compare"]["records"]["blessed"] is True
    assert not (ws / ".mlnb" / "metadata.sqlite").exists()
    log = json.loads(mlnb("trigger", str(ws), "--log", "--json", env={**os.environ, **env}).stdout)
    assert {(d["trigger"], d["run_id"], d["run_status"]) for d in log if d["fired"]} >= {("model_quality", run_id, "succeeded")}, log

    node = json.loads(mlnb("lineage", "serving/taxi", "--json", cwd=ws, env={**os.environ, **env}).stdout)
    producers, todo = {}, [node]
    while todo:  # every artifact upstream of the pushed model was produced by a step of this one run
        n = todo.pop()
        if n.get("produced_by"): producers[n["produced_by"]["step"]] = n["produced_by"]["run_id"]
        todo.extend(n.get("inputs") or [])
    assert producers == dict.fromkeys([s for s in steps if s != "monitor"], run_id), producers
