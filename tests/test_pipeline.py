"""Notebook pipelines end to end: real kernels (papermill), a real ML-Metadata SQLite store, the real `mlnb` CLI.

Kernel start-up dominates the time, so the tests share a few small pipelines and run each step as few times
as the behaviour under test allows."""
import ast, json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest

from mlnb.errors import PipelineError, StepFailed
from mlnb.pipeline.api import Pipeline
from mlnb.pipeline.export import airflow_dag
from mlnb.metadata.store import Store
from mlnb.metadata.lineage import get_run, lineage, list_runs

from pipeline_util import MLNB, mlnb, notebook, workspace


def run_json(ws: Path, run_id: str) -> dict:
    return json.loads((ws/"runs"/run_id/"run.json").read_text())


def statuses(result) -> dict:
    return {n: s.status for n, s in result.steps.items()}


def times(ws: Path, rel: str) -> tuple:
    "(start, end) of an executed notebook, from papermill's metadata."
    from datetime import datetime
    meta = json.loads((ws/rel).read_text())["metadata"]["papermill"]
    return datetime.fromisoformat(meta["start_time"]), datetime.fromisoformat(meta["end_time"])


# ---------------------------------------------------------------------------------------------------------
# A diamond: ingest -> (left, right) -> join, plus a step gated by a condition that is false.

DIAMOND = """name: diamond
steps:
  ingest:
    notebook: ingest.ipynb
    inputs: [raw.csv]
    outputs: [data/clean.csv]
  left:
    notebook: left.ipynb
    upstream: [ingest]
    parameters: {factor: 2}
    outputs: [data/left.csv]
  right:
    notebook: right.ipynb
    upstream: [ingest]
  join:
    notebook: join.ipynb
    upstream: [left, right]
    when: right.mean > 0 and ingest.rows >= 3
    outputs: [report]
  gated:
    notebook: gated.ipynb
    upstream: [right]
    when: right.mean > 1000
"""


@pytest.fixture(scope="module")
def diamond(tmp_path_factory):
    ws = workspace(tmp_path_factory.mktemp("diamond"), DIAMOND, {
        "ingest.ipynb": notebook("", "import os, pandas as pd, mlnb\nos.makedirs('data', exist_ok=True)\n"
                                     "df = pd.read_csv('raw.csv').dropna()\ndf.to_csv('data/clean.csv', index=False)\n"
                                     "mlnb.record('rows', len(df))"),
        "left.ipynb": notebook("factor = 1", "import time, pandas as pd, mlnb\ntime.sleep(1.5)\n"
                                             "df = pd.read_csv('data/clean.csv') * factor\n"
                                             "df.to_csv('data/left.csv', index=False)\nmlnb.record('total', df.x.sum())"),
        "right.ipynb": notebook("", "import time, pandas as pd, mlnb\ntime.sleep(1.5)\n"
                                    "mlnb.record('mean', pd.read_csv('data/clean.csv').x.mean())"),
        "join.ipynb": notebook("", "import os, pandas as pd, mlnb\nos.makedirs('report', exist_ok=True)\n"
                                   "total = int(pd.read_csv('data/left.csv').x.sum())\n"
                                   "open('report/total.txt', 'w').write(str(total))\nmlnb.record('total', total)"),
        "gated.ipynb": notebook("", "raise RuntimeError('a false condition must keep this step from running')"),
    })
    (ws/"raw.csv").write_text("x\n1\n2\n\n3\n4\n")
    t0 = time.perf_counter()
    result = Pipeline.load(ws/"pipeline.yaml").run(parallel=2)
    return ws, result, time.perf_counter() - t0


def test_dag_order_parallel_branches_records_and_condition(diamond):
    ws, r, took = diamond
    print(f"cold run of 4 steps, parallel 2: {took:.1f}s")
    assert r.status == "succeeded"
    assert statuses(r) == {"ingest": "ran", "left": "ran", "right": "ran", "join": "ran", "gated": "skipped"}
    assert r.records["ingest"] == {"rows": 4} and r.records["left"] == {"total": 20} and r.records["right"] == {"mean": 2.5}
    assert (ws/"report"/"total.txt").read_text() == "20"
    # dependency order, and the two branches ran at the same time
    ingest, left, right, join = (times(ws, r.steps[s].notebook) for s in ("ingest", "left", "right", "join"))
    assert ingest[1] <= left[0] and ingest[1] <= right[0] and max(left[1], right[1]) <= join[0]
    assert max(left[0], right[0]) < min(left[1], right[1]), "left and right should overlap with parallel=2"
    gated = r.steps["gated"]
    assert gated.reason == "condition `right.mean > 1000` is false (right.mean = 2.5)" and gated.notebook is None
    # run.json: the contract the publisher reads
    doc = run_json(ws, r.run_id)
    assert doc["status"] == "succeeded" and doc["pipeline"] == "diamond" and doc["spec"] == "pipeline.yaml"
    left_doc = doc["steps"]["left"]
    assert left_doc["notebook"] == f"runs/{r.run_id}/left.ipynb" and (ws/left_doc["notebook"]).exists()
    assert left_doc["parameters"] == {"factor": 2} and left_doc["outputs"] == ["data/left.csv"]
    assert left_doc["cache_key"].startswith("sha256:") and left_doc["duration"] > 0
    assert doc["steps"]["gated"]["status"] == "skipped" and "right.mean" in doc["steps"]["gated"]["reason"]
    # the store holds the same facts
    stored = get_run(ws, r.run_id)
    assert stored["status"] == "succeeded"
    assert {n: s["status"] for n, s in stored["steps"].items()} == statuses(r)
    assert stored["steps"]["left"]["records"] == {"total": 20} and stored["steps"]["left"]["cached"] is False


def test_second_run_is_all_cache_hits(diamond):
    ws, first, _ = diamond
    t0 = time.perf_counter()
    code, out = mlnb("run", "pipeline.yaml", cwd=ws)
    took = time.perf_counter() - t0
    print(f"second, unchanged run through the CLI (process start included): {took:.2f}s\n{out}")
    assert code == 0, out
    run_id = out.split("run ")[-1].split()[0]
    doc = run_json(ws, run_id)
    assert {n: s["status"] for n, s in doc["steps"].items()} == {
        "ingest": "cached", "left": "cached", "right": "cached", "join": "cached", "gated": "skipped"}
    assert doc["steps"]["join"]["records"] == {"total": 20}
    assert (ws/doc["steps"]["join"]["notebook"]).exists()  # the executed notebook is in this run's folder too
    assert "running" not in out  # no kernel started
    assert {n: s["state"] for n, s in Pipeline.load(ws).status().items()} == {
        "ingest": "up to date", "left": "up to date", "right": "up to date", "join": "up to date", "gated": "never run"}


def test_parameter_change_reruns_that_step_and_downstream_only(diamond):
    ws, first, _ = diamond
    p = Pipeline.load(ws)
    assert {n: s["state"] for n, s in p.status({"left.factor": 3}).items()} == {
        "ingest": "up to date", "left": "stale", "right": "up to date", "join": "stale", "gated": "never run"}
    code, out = mlnb("run", "pipeline.yaml", "-p", "left.factor=3", "--parallel", "2", cwd=ws)
    assert code == 0, out
    run_id = out.split("run ")[-1].split()[0]
    steps = run_json(ws, run_id)["steps"]
    assert {n: s["status"] for n, s in steps.items()} == {
        "ingest": "cached", "left": "ran", "right": "cached", "join": "ran", "gated": "skipped"}
    assert steps["left"]["parameters"] == {"factor": 3} and steps["join"]["records"] == {"total": 30}
    # a deleted output is re-made: only the step that wrote it runs again
    (ws/"report"/"total.txt").unlink()
    result = p.run(params={"left": {"factor": 3}})
    assert statuses(result) == {"ingest": "cached", "left": "cached", "right": "cached", "join": "ran", "gated": "skipped"}
    assert (ws/"report"/"total.txt").read_text() == "30"
    # selections: --only and --from, all cached now
    assert statuses(p.run(params={"left.factor": 3}, only="join")) == {"join": "cached"}
    assert statuses(p.run(params={"left.factor": 3}, from_step="right")) == {"right": "cached", "join": "cached", "gated": "skipped"}


def test_lineage_runs_and_export(diamond, capsys):
    ws, first, _ = diamond
    node = lineage(ws, "report")
    assert node["type"] == "mlnb.Directory" and node["produced_by"]["step"] == "join" and node["current"]
    inputs = {i["role"]: i for i in node["inputs"]}
    assert set(inputs) == {"notebook", "upstream:left"}
    left = inputs["upstream:left"]
    factor = int((ws/"data"/"left.csv").read_text().split()[1])  # first row is 1 * factor: 2, or 3 after the test above
    assert left["path"] == "data/left.csv" and left["produced_by"]["parameters"] == {"factor": factor}
    clean = {i["role"]: i for i in left["inputs"]}["upstream:ingest"]
    assert clean["produced_by"]["step"] == "ingest" and clean["produced_by"]["run_id"] == first.run_id
    assert {i["role"]: i["path"] for i in clean["inputs"]} == {"notebook": "ingest.ipynb", "input": "raw.csv"}

    code, out = mlnb("lineage", ws/"data"/"left.csv")
    assert code == 0 and "produced by step 'left'" in out and f"parameters: factor={factor}" in out and "raw.csv" in out, out
    code, out = mlnb("lineage", "report/total.txt", cwd=ws)  # a file inside a declared output folder
    assert code == 0 and "inside report" in out and "produced by step 'join'" in out, out
    code, out = mlnb("runs", "list", "--workspace", ws)
    assert code == 0 and out.count("diamond") == len(list_runs(ws)) >= 1 and first.run_id in out, out
    code, out = mlnb("runs", "show", first.run_id, cwd=ws)
    assert code == 0 and "rows=4" in out and "condition `right.mean > 1000` is false" in out, out
    code, out = mlnb("runs", "show", "no-such-run", cwd=ws)
    assert code == 2 and "no run 'no-such-run'" in out

    dag = ws/"dag.py"
    code, out = mlnb("export", "airflow", ws/"pipeline.yaml", "-o", dag, "--schedule", "@daily")
    assert code == 0, out
    source = dag.read_text()
    compile(source, str(dag), "exec")
    tree = ast.parse(source)
    tasks = {kw.value.value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "MlnbTask"
             for kw in n.keywords if kw.arg == "task_id"}
    edges = {(n.left.slice.value, n.right.slice.value) for n in ast.walk(tree)
             if isinstance(n, ast.BinOp) and isinstance(n.op, ast.RShift)}
    assert tasks == {"ingest", "left", "right", "join", "gated"}
    assert edges == {("ingest", "left"), ("ingest", "right"), ("left", "join"), ("right", "join"), ("right", "gated")}
    import json, re, shlex
    namespace = {"json": json, "re": re, "shlex": shlex}  # airflow is not installed: the constants and helpers only
    exec(compile(ast.Module([n for n in tree.body if isinstance(n, (ast.Assign, ast.FunctionDef))], []), "dag", "exec"), namespace)
    command = namespace["mlnb_step"]("left")  # one DAG run is one mlnb run: every task joins the run of its DAG run
    assert "run pipeline.yaml --only left --run-id {{ mlnb_run_id(run_id) }}" in command, command
    assert command.endswith("--skip-exit-code 99"), command
    assert namespace["mlnb_run_id"]("scheduled__2026-01-01T00:00:00+00:00") == "scheduled__2026-01-01T00-00-00-00-00"
    assert "@daily" in source and str(ws) in source


# ---------------------------------------------------------------------------------------------------------
# Failures: a runtime error and a syntax error; downstream skipped, independent branch finishes; resume.

FAILING = """name: failing
steps:
  a: {notebook: a.ipynb, outputs: [a.txt]}
  bad: {notebook: bad.ipynb, upstream: [a]}
  after_bad: {notebook: after.ipynb, upstream: [bad]}
  syntax: {notebook: syntax.ipynb, upstream: [a]}
  indep: {notebook: indep.ipynb, upstream: [a]}
"""


def test_failure_isolation_and_resume(tmp_path):
    ws = workspace(tmp_path, FAILING, {
        "a.ipynb": notebook("", "open('a.txt', 'w').write('a')"),
        "bad.ipynb": notebook("divisor = 0", "x = 1", "import mlnb\nmlnb.record('ratio', 1 / divisor)"),
        "after.ipynb": notebook("", "print('after')"),
        "syntax.ipynb": notebook("", "def broken(:\n    pass"),
        "indep.ipynb": notebook("", "import mlnb\nmlnb.record('ok', True)"),
    })
    code, out = mlnb("run", "pipeline.yaml", "--parallel", "2", cwd=ws)
    print(out)
    assert code == 1, out
    run_id = out.split("mlnb run: run ")[-1].split()[0]
    doc = run_json(ws, run_id)
    assert doc["status"] == "failed"
    steps = doc["steps"]
    assert {n: s["status"] for n, s in steps.items()} == {
        "a": "ran", "bad": "failed", "after_bad": "skipped", "syntax": "failed", "indep": "ran"}
    assert steps["after_bad"]["reason"] == "upstream step 'bad' failed"
    assert steps["bad"]["error"]["ename"] == "ZeroDivisionError" and steps["bad"]["error"]["cell_index"] == 2
    assert "step 'bad' failed in cell 2 of bad.ipynb: ZeroDivisionError: division by zero" in out
    assert steps["syntax"]["error"]["ename"] == "SyntaxError" and steps["syntax"]["error"]["cell_index"] == 1
    # the failing notebook is kept, with papermill's marker before the failing cell
    kept = json.loads((ws/steps["bad"]["notebook"]).read_text())
    tags = [c["metadata"].get("tags", []) for c in kept["cells"]]
    marker = next(i for i, t in enumerate(tags) if "papermill-error-cell-tag" in t and i > 0)
    assert "1 / divisor" in "".join(kept["cells"][marker + 1]["source"])
    # the same failure as an exception, from the Python API
    result = Pipeline.load(ws).run(only="bad")
    with pytest.raises(StepFailed) as e:
        result.raise_on_failure()
    assert (e.value.step, e.value.cell_index, e.value.ename) == ("bad", 2, "ZeroDivisionError")
    assert e.value.notebook == f"runs/{result.run_id}/bad.ipynb"

    # fix the notebooks, then complete the failed run: what succeeded is kept, the rest runs
    (ws/"bad.ipynb").write_text(json.dumps(notebook("divisor = 0", "x = 1", "import mlnb\nmlnb.record('ratio', 1 / (divisor + 2))")))
    (ws/"syntax.ipynb").write_text(json.dumps(notebook("", "def fixed():\n    pass")))
    code, out = mlnb("run", "pipeline.yaml", "--resume", run_id, "--parallel", "2", cwd=ws)
    assert code == 0, out
    doc = run_json(ws, run_id)
    assert doc["status"] == "succeeded" and doc["steps"]["bad"]["records"] == {"ratio": 0.5}
    assert {n: s["status"] for n, s in doc["steps"].items()} == {
        "a": "ran", "bad": "ran", "after_bad": "ran", "syntax": "ran", "indep": "ran"}
    stored = get_run(ws, run_id)
    assert stored["status"] == "succeeded"
    a_runs = Store(ws).executions("properties.step.string_value = 'a'")
    assert len(a_runs) == 1  # the resumed run did not run `a` again
    code, out = mlnb("run", "pipeline.yaml", "--resume", run_id, cwd=ws)  # nothing left to do
    assert code == 0 and "running" not in out.replace("mlnb run:", "") and run_json(ws, run_id)["status"] == "succeeded", out


# ---------------------------------------------------------------------------------------------------------
# kill -9 of the runner mid-step, then --resume.

KILLED = """name: killed
steps:
  first: {notebook: first.ipynb, outputs: [first.txt]}
  sleeper: {notebook: sleeper.ipynb, upstream: [first], outputs: [slept.txt]}
"""


def test_kill_9_mid_step_then_resume(tmp_path):
    ws = workspace(tmp_path, KILLED, {
        "first.ipynb": notebook("", "open('first.txt', 'w').write('1')"),
        "sleeper.ipynb": notebook("tag = 'default'", "import os, time\nopen('started.txt', 'w').write('x')\n"
                                      "time.sleep(0 if os.path.exists('fast') else 120)\nopen('slept.txt', 'w').write(tag)"),
    })
    proc = subprocess.Popen([MLNB, "run", "pipeline.yaml", "-p", "sleeper.tag=given"], cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.time() + 120
    while not (ws/"started.txt").exists():
        assert proc.poll() is None and time.time() < deadline, "the sleeper step never started"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    run_id = next((ws/"runs").iterdir()).name
    doc = run_json(ws, run_id)
    assert doc["status"] == "running" and doc["steps"]["first"]["status"] == "ran"
    assert doc["steps"]["sleeper"]["status"] == "running"
    # the store is consistent: the killed step simply has no execution, the run reads as interrupted
    assert [r["status"] for r in list_runs(ws)] == ["interrupted"]
    assert set(get_run(ws, run_id)["steps"]) == {"first"}
    (ws/"fast").write_text("")
    code, out = mlnb("run", "pipeline.yaml", "--resume", run_id, cwd=ws)
    assert code == 0, out
    doc = run_json(ws, run_id)
    assert doc["status"] == "succeeded" and doc["steps"]["sleeper"]["status"] == "ran"
    assert [r["status"] for r in list_runs(ws)] == ["succeeded"]
    assert (ws/"slept.txt").read_text() == "given"  # the resumed run keeps the run's -p overrides
    # the killed runner's kernel noticed its parent died and exited on its own
    deadline = time.time() + 30
    while _kernels_in(ws) and time.time() < deadline:
        time.sleep(0.5)
    assert not _kernels_in(ws)


def _kernels_in(ws: Path) -> list:
    "Pids of ipykernel processes whose working directory is `ws`."
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and b"ipykernel" in (d/"cmdline").read_bytes() and Path(os.readlink(d/"cwd")) == ws:
                found.append(int(d.name))
        except OSError:
            continue
    return found


# ---------------------------------------------------------------------------------------------------------
# Kernels started ahead (issue 16): still a fresh kernel per step, with the step's own folder, context and
# parameters; none left running after a run that succeeded, failed, or was interrupted (SIGINT, SIGTERM).

POOLED = """name: pooled
steps:
  a: {notebook: probe.ipynb, parameters: {name: a}, outputs: [a.json]}
  b: {notebook: probe.ipynb, parameters: {name: b}, upstream: [a], outputs: [b.json]}
  c: {notebook: probe.ipynb, parameters: {name: c}, upstream: [a], outputs: [c.json]}
"""

PROBE = ("import json, os, signal, time\n"
         "json.dump({'pid': os.getpid(), 'cwd': os.getcwd(), 'name': name,\n"
         "           'context': json.loads(os.environ['MLNB_TRACKING'])}, open(f'{name}.json', 'w'))\n"
         "if stop: open('stopping', 'w').close(); os.kill(os.getppid(), signal.SIGINT) if stop == 'sigint' else None; time.sleep(60)\n"
         "assert not fail, 'asked to fail'")


def test_kernels_started_ahead_fresh_per_step_and_none_left_behind(tmp_path):
    ws = workspace(tmp_path, POOLED, {"probe.ipynb": notebook("name = 'x'\nfail = False\nstop = ''", PROBE)})
    p = Pipeline.load(ws)
    r = p.run(parallel=2, log=lambda line: None)
    assert statuses(r) == {"a": "ran", "b": "ran", "c": "ran"}, r
    assert not _kernels_in(ws)  # right away: the runner waited for its kernels to exit
    seen = {n: json.loads((ws/f"{n}.json").read_text()) for n in "abc"}
    assert len({s["pid"] for s in seen.values()}) == 3  # a fresh kernel each
    for n, s in seen.items():
        assert s["cwd"] == str(ws) and s["name"] == n
        assert s["context"]["pipeline_run"] == r.run_id and s["context"]["notebook"] == str(ws/"probe.ipynb")
        assert (ws/"runs"/r.run_id/f"{n}.log").exists()  # the kernel's stderr
    # a failing first step: b and c are skipped, and the kernels started ahead for them are stopped
    r = p.run(params={"a.fail": True}, log=lambda line: None)
    assert statuses(r) == {"a": "failed", "b": "skipped", "c": "skipped"} and "asked to fail" in r.steps["a"].reason
    assert not _kernels_in(ws)
    # an interrupt (this process gets SIGINT from step a's kernel): the kernel running a and those ahead are killed;
    # this process lives on, so it is not ipykernel's parent watch that stops them
    r = p.run(params={"a.stop": "sigint"}, log=lambda line: None)
    assert r.status == "interrupted" and (ws/"stopping").exists()
    assert not _kernels_in(ws)
    # SIGTERM to `mlnb run` (what schedulers send): the same, before the process exits
    (ws/"stopping").unlink()
    proc = subprocess.Popen([MLNB, "run", "pipeline.yaml", "-p", "a.stop=sleep", "--parallel", "2"], cwd=ws,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not (ws/"stopping").exists():
        assert proc.poll() is None and time.time() < deadline, "step a never started"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 130
    assert not _kernels_in(ws)  # checked at once: ipykernel's own parent watch would take up to a second


# ---------------------------------------------------------------------------------------------------------
# Two runners at once on one workspace.

def test_two_runners_do_not_run_a_step_twice(tmp_path):
    ws = workspace(tmp_path, "name: twice\nsteps:\n  slow: {notebook: slow.ipynb, outputs: [out.txt]}\n"
                             "  after: {notebook: after.ipynb, upstream: [slow]}\n", {
        "slow.ipynb": notebook("", "import time, mlnb\ntime.sleep(2)\nopen('out.txt', 'w').write('x')\nmlnb.record('n', 1)"),
        "after.ipynb": notebook("", "import mlnb\nmlnb.record('m', 2)"),
    })
    procs = [subprocess.Popen([MLNB, "run", "pipeline.yaml"], cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    store = Store(ws)
    for step in ("slow", "after"):
        done = sorted(e["status"] for e in store.executions(f"properties.step.string_value = '{step}'"))
        assert done == ["cached", "ran"], (step, done, outs)
    runs = list_runs(ws)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"succeeded"}


# ---------------------------------------------------------------------------------------------------------
# Spec errors: each refused before anything runs, naming the step.

def test_spec_errors_name_the_step(tmp_path):
    nbs = {"a.ipynb": notebook("rows = 10\nrate = 0.5", "print(rows)"), "b.ipynb": notebook(None, "print(1)")}

    def check(spec, match, params=None):
        ws = workspace(tmp_path/str(abs(hash(spec + str(params)))), spec, nbs)
        with pytest.raises(PipelineError, match=match):
            Pipeline.load(ws).validate(params)
        return ws

    check("steps:\n  a: {notebook: a.ipynb, upstream: [b]}\n  b: {notebook: b.ipynb, upstream: [a]}\n",
          r"step 'a': steps form a cycle: a -> b -> a")
    check("steps:\n  a: {notebook: missing.ipynb}\n", r"step 'a': notebook .*missing.ipynb does not exist")
    check("steps:\n  a: {notebook: a.ipynb, upstream: [nope]}\n", r"step 'a': unknown upstream step 'nope'")
    check("steps:\n  a: {notebook: a.ipynb, parameters: {epochs: 3}}\n",
          r"step 'a': parameter 'epochs' \(parameters\) is not declared by a.ipynb's parameters cell; it declares: rows, rate")
    check("steps:\n  a: {notebook: a.ipynb, parameters: {rows: many}}\n",
          r"step 'a', parameter 'rows' \(parameters\): expected a value of type int .* found 'many'")
    check("steps:\n  b: {notebook: b.ipynb, parameters: {x: 1}}\n", r"step 'b': b.ipynb has no cell tagged `parameters`")
    check("steps:\n  a: {notebook: a.ipynb}\n  b: {notebook: b.ipynb, upstream: [a], when: \"__import__('os').system('id')\"}\n",
          r"step 'b': `when: .*is not allowed \(only comparisons")
    check("steps:\n  a: {notebook: a.ipynb}\n", r"unknown step 'c'", params={"c.x": 1})
    ws = check("steps:\n  a: {notebook: a.ipynb}\n", r"parameter 'lr' \(-p override\) is not declared", params={"a.lr": 1})
    # the CLI says it in one line and exits 2, without running anything
    code, out = mlnb("run", "pipeline.yaml", "-p", "a.rows=ten", cwd=ws)
    assert code == 2 and "mlnb run: error:" in out and "parameter 'rows' (-p override): expected a value of type int" in out, out
    assert "Traceback" not in out and not (ws/"runs").exists()
    code, out = mlnb("run", "pipeline.yaml", "--only", "zz", cwd=ws)
    assert code == 2 and "unknown step 'zz'" in out


def test_a_step_that_times_out_or_loses_its_kernel_names_the_cell(tmp_path):
    "A step's `timeout:` and a kernel that dies: the step fails naming the cell and what happened, without log noise."
    ws = workspace(tmp_path / "ws", "name: limits\nsteps:\n"
                   "  slow: {notebook: slow.ipynb, timeout: 2}\n"
                   "  crash: {notebook: crash.ipynb}\n"
                   "  after: {notebook: after.ipynb, upstream: [slow]}\n", {
        "slow.ipynb": notebook("pause = 60", "x = 1", "import time\ntime.sleep(pause)"),
        "crash.ipynb": notebook(None, "import os", "os._exit(3)"),
        "after.ipynb": notebook(None, "print('never')"),
    })
    code, out = mlnb("run", ws / "pipeline.yaml")
    assert code == 1, out
    run = json.loads(next((ws / "runs").glob("*/run.json")).read_text())
    steps = {n: (s["status"], s["reason"].split(";")[0]) for n, s in run["steps"].items()}
    assert steps == {
        "slow": ("failed", "step 'slow' failed in cell 2 of slow.ipynb: CellTimeoutError: the cell ran longer than the "
                           "timeout of 2 s per cell"),
        "crash": ("failed", "step 'crash' failed in cell 1 of crash.ipynb: DeadKernelError: the kernel died while running "
                            "the cell (it crashed, exited or ran out of memory)"),
        "after": ("skipped", "upstream step 'slow' failed")}, steps
    assert run["steps"]["slow"]["error"]["exec_count"] == 3  # In [3] of the executed copy: `pause` was not injected
    assert "ERROR:" not in out and "Task was destroyed" not in out, out  # papermill's and asyncio's notes say it again
    code, out = mlnb("run", ws / "pipeline.yaml", "--only", "slow", "-p", "slow.pause=0")
    assert code == 0, out
