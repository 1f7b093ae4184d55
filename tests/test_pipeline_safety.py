"""Pipelines that stay correct under concurrency, copies, damage and odd inputs (issue 12): real `mlnb` processes,
real kernels, a real ML-Metadata SQLite store.

Kernel start-up dominates the time: each test runs as few steps as the behaviour under test allows, and the tests
that only need a recorded run share one small workspace."""
import json, os, re, shutil, signal, sqlite3, subprocess, sys, threading, time
from pathlib import Path

import pytest

from mlnb.core.files import fingerprint
from mlnb.metadata.lineage import get_run, list_runs
from mlnb.metadata.store import Store
from mlnb.pipeline.api import Pipeline

from pipeline_util import MLNB, mlnb, notebook, workspace


def start(*args, cwd):
    return subprocess.Popen([MLNB, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_id_of(out: str) -> str:
    return re.search(r"mlnb run: pipeline '[^']+', run (\S+):", out).group(1)


def run_json(ws: Path, run_id: str) -> dict:
    return json.loads((ws/"runs"/run_id/"run.json").read_text())


# ---------------------------------------------------------------------------------------------------------
# Item 1: two runs in one workspace never consume each other's artifacts.
# A toy model of the real kind: `train` writes model/ (weights that depend on epochs), `evaluate` reads it and
# blesses it, `push` copies model/ to serving/toy/<next version>/ when blessed.

TOY = """name: toy
steps:
  train:
    notebook: train.ipynb
    outputs: [model]
  evaluate:
    notebook: evaluate.ipynb
    upstream: [train]
  push:
    notebook: push.ipynb
    upstream: [train, evaluate]
    when: evaluate.blessed
"""

TOY_NOTEBOOKS = {
    "train.ipynb": notebook("epochs = 1", "import json, os, time, mlnb\ntime.sleep(1)\nos.makedirs('model', exist_ok=True)\n"
                           "w = [round((epochs * 7 + i) % 13 / 13, 4) for i in range(5)]\n"
                           "json.dump({'epochs': epochs, 'w': w}, open('model/weights.json', 'w'))\nmlnb.record('epochs', epochs)"),
    "evaluate.ipynb": notebook("", "import json, time, mlnb\nw = json.load(open('model/weights.json'))\ntime.sleep(1)\n"
                              "mlnb.record('epochs_seen', w['epochs'])\nmlnb.record('blessed', True)"),
    "push.ipynb": notebook("", "import os, shutil, mlnb\nos.makedirs('serving/toy', exist_ok=True)\n"
                          "v = 1 + max([int(d) for d in os.listdir('serving/toy')] or [0])\n"
                          "shutil.copytree('model', f'serving/toy/{v}')\nmlnb.record('version', v)"),
}


def check_own_model(ws: Path, run_id: str, epochs: int) -> int:
    "Assert that run `run_id` pushed the model it trained and evaluated (by the fingerprints in the store); its version."
    steps = get_run(ws, run_id)["steps"]
    trained = {a["path"]: a["fingerprint"] for a in steps["train"]["artifacts"] if a["role"] == "output"}["model"]
    for step in ("evaluate", "push"):
        read = {a["path"]: a["fingerprint"] for a in steps[step]["artifacts"] if a["role"] == "upstream:train"}
        assert read == {"model": trained}, (run_id, step, read, trained)
    assert steps["evaluate"]["records"]["epochs_seen"] == epochs, (run_id, steps["evaluate"]["records"])
    version = steps["push"]["records"]["version"]
    pushed = ws/"serving"/"toy"/str(version)
    assert fingerprint(pushed) == trained, (run_id, version)
    assert json.loads((pushed/"weights.json").read_text())["epochs"] == epochs
    # run.json tells the same: each step's artifacts as recorded
    doc = run_json(ws, run_id)
    assert {a["path"]: a["fingerprint"] for a in doc["steps"]["train"]["artifacts"] if a["role"] == "output"} == {"model": trained}
    return version


def test_two_runs_at_once_each_push_their_own_model(tmp_path):
    ws = workspace(tmp_path/"toy", TOY, TOY_NOTEBOOKS)
    # the input: two runs with different epochs at once; by default the second waits for the first
    procs = {e: start("run", "pipeline.yaml", "-p", f"train.epochs={e}", cwd=ws) for e in (9, 10)}
    outs = {e: p.communicate(timeout=600)[0] for e, p in procs.items()}
    assert [p.returncode for p in procs.values()] == [0, 0], outs
    ids = {e: run_id_of(o) for e, o in outs.items()}
    waited = [e for e, o in outs.items() if "waiting:" in o]
    assert len(waited) == 1, outs
    other = 19 - waited[0]
    assert f"run {ids[other]} (pid {procs[other].pid}, started" in outs[waited[0]], outs[waited[0]]
    versions = {check_own_model(ws, ids[e], e) for e in (9, 10)}
    assert versions == {1, 2}

    # --no-wait: refused with exit 2 naming the run that holds the workspace and its pid; a sweep too
    first = start("run", "pipeline.yaml", "-p", "train.epochs=11", cwd=ws)
    holder = ws/".mlnb"/"locks"/"workspace.json"
    deadline = time.time() + 120
    while not (holder.exists() and json.loads(holder.read_text())["pid"] == first.pid):
        assert first.poll() is None and time.time() < deadline, "the first run never took the workspace"
        time.sleep(0.1)
    held_by = json.loads(holder.read_text())["run_id"]
    code, out = mlnb("run", "pipeline.yaml", "--no-wait", "-p", "train.epochs=12", cwd=ws)
    assert code == 2 and f"run {held_by} (pid {first.pid}" in out and "is busy" in out and "Traceback" not in out, out
    code, out = mlnb("sweep", "train.ipynb", "--grid", "epochs=1,2", "--no-wait", cwd=ws)
    assert code == 2 and f"run {held_by} (pid {first.pid}" in out, out
    out = first.communicate(timeout=600)[0]
    assert first.returncode == 0 and run_id_of(out) == held_by, out
    assert check_own_model(ws, held_by, 11) == 3
    assert len(list_runs(ws)) == 3  # the refused ones left nothing behind
    assert sorted(os.listdir(ws/"serving"/"toy")) == ["1", "2", "3"]


def test_a_step_fails_when_upstream_output_changed_under_it(tmp_path):
    "A process outside mlnb rewrites model/ after `train` recorded it: `evaluate` must not bless that, `push` must not push it."
    ws = workspace(tmp_path/"toy", TOY, TOY_NOTEBOOKS)
    proc = start("run", "pipeline.yaml", "-p", "train.epochs=13", cwd=ws)
    deadline = time.time() + 300
    while True:
        runs = [d for d in (ws/"runs").glob("*/run.json")] if (ws/"runs").exists() else []
        if runs:
            try: doc = json.loads(runs[0].read_text())
            except ValueError: doc = {}
            if (doc.get("steps", {}).get("train") or {}).get("status") == "ran": break
        assert proc.poll() is None and time.time() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    (ws/"model"/"weights.json").write_text('{"epochs": 99, "w": [1, 1, 1, 1, 1]}')  # someone else's model
    out = proc.communicate(timeout=600)[0]
    assert proc.returncode == 1, out
    doc = run_json(ws, run_id_of(out))
    ev = doc["steps"]["evaluate"]
    assert ev["status"] == "failed" and "output model of upstream step 'train'" in ev["reason"], ev
    assert f"changed since that step of run {doc['run_id']} wrote it" in ev["reason"] and "another process changed it" in ev["reason"]
    assert doc["steps"]["push"]["status"] == "skipped" and not (ws/"serving").exists()
    assert "output model of upstream step 'train' changed since that step of run" in out  # the run line says it too


# ---------------------------------------------------------------------------------------------------------
# One small recorded workspace for items 5, 6, 7 and 11: `make` writes out/numbers.txt from `n` (with a date
# parameter, item 8, and the parameters cell of item 9), `total` reads it.

TINY = """name: tiny
steps:
  make:
    notebook: make.ipynb
    parameters: {run_date: 2024-01-31, days: [2024-02-01], since: 2023-12-31}
    outputs: [out]
  total:
    notebook: total.ipynb
    upstream: [make]
    outputs: [total.txt]
"""

TINY_NOTEBOOKS = {
    "make.ipynb": notebook('n = 3\nrun_date = "1970-01-01"\ndays = ["1970-01-01"]\nsince = None\ns = "a=b"\nfoo: None | str = None',
                          "import json, os, mlnb\nos.makedirs('out', exist_ok=True)\n"
                          "open('out/numbers.txt', 'w').write(' '.join(map(str, range(n))))\n"
                          "json.dump({'run_date': run_date, 'days': days, 'since': since, 's': s, 'foo': foo}, open('params.json', 'w'))\n"
                          "mlnb.record('n', n)"),
    "total.ipynb": notebook("", "import mlnb\nt = sum(map(int, open('out/numbers.txt').read().split()))\n"
                           "open('total.txt', 'w').write(str(t))\nmlnb.record('total', t)"),
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    "The tiny workspace after one run with the issue's parameters (`-p make.s=x -p make.foo=BAR`): (workspace, run id, output)."
    ws = workspace(tmp_path_factory.mktemp("tiny")/"tiny", TINY, TINY_NOTEBOOKS)
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", cwd=ws)
    assert code == 0, out
    return ws, run_id_of(out), out


def test_dates_in_pipeline_yaml_and_no_false_parameter_warnings(tiny):
    ws, run_id, out = tiny
    # item 8: YAML dates arrive as the ISO strings a str parameter expects (also in lists, and where the default is None)
    assert json.loads((ws/"params.json").read_text()) == {"run_date": "2024-01-31", "days": ["2024-02-01"], "since": "2023-12-31",
                                                         "s": "x", "foo": "BAR"}
    assert run_json(ws, run_id)["steps"]["make"]["parameters"]["run_date"] == "2024-01-31"
    # item 9: papermill's parser does not follow `s = "a=b"` or `foo: None | str = None`; mlnb's does, and nothing false is printed
    for noise in ("Unable to parse line", "Passed unknown parameter", "MissingIDFieldWarning", "WARNING"):
        assert noise not in out, out
    # the same notebook in a sweep (the other papermill caller), with a date on the command line
    code, out = mlnb("sweep", "make.ipynb", "--grid", "foo=Q", "-p", "s=y", "-p", "run_date=2024-03-01", cwd=ws)
    assert code == 0, out
    for noise in ("Unable to parse line", "Passed unknown parameter", "WARNING"):
        assert noise not in out, out
    assert json.loads((ws/"params.json").read_text())["run_date"] == "2024-03-01"
    # a value that does not fit the optional type is refused before anything runs
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.n=None", "--only", "make", cwd=ws)
    assert code == 2 and "parameter 'n' (-p override): expected a value of type int" in out, out


def test_copied_and_moved_workspaces_keep_cache_history_and_lineage(tiny, tmp_path):
    ws, run_id, _ = tiny
    # item 7: `cp -a taxi taxi2; cd taxi2; mlnb run` is all cache hits; lineage and the sidebar's states come along
    copy = tmp_path/"tiny2"
    subprocess.run(["cp", "-a", str(ws), str(copy)], check=True)
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", cwd=copy)
    assert code == 0 and "(2 cached)" in out, out
    code, out = mlnb("lineage", "out/numbers.txt", cwd=copy)
    assert code == 0 and f"produced by step 'make' in run {run_id}" in out and "out/numbers.txt is inside out" in out, out
    states = Pipeline.load(copy).status({"make.s": "x", "make.foo": "BAR"})
    assert {n: s["state"] for n, s in states.items()} == {"make": "up to date", "total": "up to date"}
    from mlnb.lab.jobs import pipeline_info
    assert {s.name: s.last_status for s in pipeline_info(tmp_path, copy/"pipeline.yaml").steps} == {"make": "cached", "total": "cached"}
    assert [r["run_id"] for r in list_runs(copy)][-1] == run_id  # its history too

    # a store written by an older mlnb (absolute workspace and paths), then the workspace moved: migrated on open
    old = tmp_path/"old"
    subprocess.run(["cp", "-a", str(ws), str(old)], check=True)
    db = old/".mlnb"/"metadata.sqlite"
    con = sqlite3.connect(db)
    with con:
        for table, key in (("ContextProperty", "context_id"), ("ExecutionProperty", "execution_id")):
            con.execute(f"UPDATE {table} SET string_value = ? WHERE name = 'workspace'", (str(old),))
        con.execute("UPDATE Artifact SET uri = ? || '/' || uri, external_id = replace(external_id, '@', ?) "
                    "WHERE uri NOT LIKE '/%'", (str(old), f"@{old}/"))
    con.close()
    moved = tmp_path/"moved"
    old.rename(moved)
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", cwd=moved)
    assert code == 0 and "(2 cached)" in out, out
    code, out = mlnb("lineage", "total.txt", cwd=moved)
    assert code == 0 and f"produced by step 'total' in run {run_id}" in out, out
    uris = {a["uri"] for e in Store(moved).executions() for a in e["artifacts"]}
    assert uris and not any(u.startswith("/") for u in uris), uris


def test_damaged_files_exit_2_naming_the_file(tiny, tmp_path):
    ws, run_id, _ = tiny
    dmg = tmp_path/"dmg"
    subprocess.run(["cp", "-a", str(ws), str(dmg)], check=True)
    rj = dmg/"runs"/run_id/"run.json"
    good = rj.read_text()
    # item 6: `--resume` of a run whose run.json is cut short, is not an object, or has a step of the wrong shape
    for bad, why in ((good[:len(good) // 2], "not JSON"), ("[1, 2]", "expected a JSON object, found list"),
                     ('{"pipeline": "tiny", "steps": {"make": 5}}', "step objects"),
                     ('{"pipeline": "tiny", "options": {"params": []}, "steps": {}}', "`options.params` should be dict")):
        rj.write_text(bad)
        for args in (("run", "pipeline.yaml", "--resume", run_id), ("publish", run_id)):
            code, out = mlnb(*args, cwd=dmg)
            assert code == 2 and f"runs/{run_id}/run.json is damaged (" in out and why in out and "Traceback" not in out, (args, out)
    # the lab server's reader says the same
    from mlnb.errors import DamagedFile
    from mlnb.lab.jobs import read_run
    with pytest.raises(DamagedFile, match="run.json is damaged"):
        read_run(tmp_path, dmg, run_id)
    rj.write_text(good)
    executed = dmg/"runs"/run_id/"make.ipynb"  # an executed notebook cut short: publishing names it
    executed.write_text(executed.read_text()[:100])
    code, out = mlnb("publish", run_id, cwd=dmg)
    assert code == 2 and f"runs/{run_id}/make.ipynb is damaged (not a notebook" in out and "Traceback" not in out, out
    # a sweep's state, pipeline.yaml and the workspace's config
    sweep = dmg/"runs"/"sweeps"/"s1"
    sweep.mkdir(parents=True)
    for bad, why in (("{", "not JSON"), ('{"notebook": "make.ipynb", "experiment": "e", "combinations": [3]}', "`combinations`")):
        (sweep/"sweep.json").write_text(bad)
        code, out = mlnb("sweep", "--resume", "s1", cwd=dmg)
        assert code == 2 and "runs/sweeps/s1/sweep.json is damaged (" in out and why in out and "Traceback" not in out, out
    shutil.rmtree(sweep)
    spec = (dmg/"pipeline.yaml").read_text()
    for bad, why in ((b"steps: [a\n", "not YAML"), (b"\xff\xfe\x00", "not UTF-8")):
        (dmg/"pipeline.yaml").write_bytes(bad)
        code, out = mlnb("run", cwd=dmg)
        assert code == 2 and f"pipeline.yaml is damaged ({why}" in out and "Traceback" not in out, out
    (dmg/"pipeline.yaml").write_text(spec)
    (dmg/".mlnb"/"config.yaml").write_text("metadata: [\n")
    code, out = mlnb("runs", "list", cwd=dmg)
    assert code == 2 and ".mlnb/config.yaml is damaged (not YAML" in out and "Traceback" not in out, out


def test_an_emptied_store_is_refused_next_to_recorded_runs(tiny, tmp_path):
    ws, run_id, _ = tiny
    ws5 = tmp_path/"ws5"
    subprocess.run(["cp", "-a", str(ws), str(ws5)], check=True)
    runs_before = sorted(os.listdir(ws5/"runs"))
    db = ws5/".mlnb"/"metadata.sqlite"
    # item 5: `truncate -s 0 .mlnb/metadata.sqlite` next to runs/*/run.json: refused, with what to do
    subprocess.run(["truncate", "-s", "0", str(db)], check=True)
    code, out = mlnb("run", "pipeline.yaml", cwd=ws5)
    assert code == 2 and "holds none of this workspace's runs, but runs/ holds" in out and "mlnb runs rebuild" in out, out
    assert sorted(os.listdir(ws5/"runs")) == runs_before  # nothing ran, nothing recorded
    # a deleted store is the same loss (the sidebar says so rather than "never run")
    db.unlink()
    code, out = mlnb("run", "pipeline.yaml", "--only", "make", cwd=ws5)
    assert code == 2 and "holds none of this workspace's runs" in out, out
    from mlnb.errors import StoreReset
    with pytest.raises(StoreReset):
        Pipeline.load(ws5).status()
    # rebuilt from run.json: history, cache hits and lineage are back
    code, out = mlnb("runs", "rebuild", cwd=ws5)
    assert code == 0 and f"rebuilt 1 run(s)" in out and run_id in out, out
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", cwd=ws5)
    assert code == 0 and "(2 cached)" in out, out
    code, out = mlnb("lineage", "total.txt", cwd=ws5)
    assert code == 0 and f"in run {run_id}" in out, out
    # sweeps: an emptied store next to runs/sweeps/*/sweep.json is refused too
    (ws5/"runs"/"sweeps"/"s0").mkdir(parents=True)
    (ws5/"runs"/"sweeps"/"s0"/"sweep.json").write_text("{}")
    code, out = mlnb("sweep", "make.ipynb", "--grid", "n=1", cwd=ws5)
    assert code == 2 and "holds none of this workspace's sweeps, but runs/sweeps/ holds" in out, out


def test_broken_pipes_and_rerun_reasons(tiny, tmp_path):
    ws, run_id, _ = tiny
    ws11 = tmp_path/"ws11"
    subprocess.run(["cp", "-a", str(ws), str(ws11)], check=True)

    def closed_reader(*args):
        "Run `mlnb ARGS` whose reader is gone before the first line (`| head -0`): (exit code, stderr)."
        p = subprocess.Popen([MLNB, *args], cwd=ws11, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdout.close()
        return p.wait(timeout=300), p.stderr.read()

    # item 11: `mlnb lineage model | head -1` and every other printing command end quietly
    for args in (("lineage", "out"), ("runs", "list"), ("runs", "show", run_id), ("--help",)):
        code, err = closed_reader(*args)
        assert code in (0, 141) and "Traceback" not in err and "BrokenPipe" not in err, (args, code, err)
    p = subprocess.run(f"{MLNB} lineage out | head -1", shell=True, cwd=ws11, capture_output=True, text=True)
    assert p.stdout.startswith("out  (mlnb.") and p.stderr == "", (p.stdout, p.stderr)
    # a run nobody reads still runs and records (its steps do not fail on the closed pipe)
    code, err = closed_reader("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR")
    assert code == 0 and err == "", err
    assert list_runs(ws11)[0]["status"] == "succeeded"

    # a step that re-runs says why: its output changed (the issue), or a parameter did
    (ws11/"total.txt").write_text("tampered")
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", cwd=ws11)
    assert code == 0, out
    why = re.search(r"total +ran .*re-ran: (output total.txt changed since run \S+)", out)
    assert why, out
    assert run_json(ws11, run_id_of(out))["steps"]["total"]["reason"] == why.group(1)
    assert (ws11/"total.txt").read_text() == "3"
    code, out = mlnb("run", "pipeline.yaml", "-p", "make.s=x", "-p", "make.foo=BAR", "-p", "make.n=4", cwd=ws11)
    assert code == 0 and re.search(r"make +ran .*re-ran: parameter n 3 → 4 since run \S+", out), out
    assert re.search(r"total +ran .*re-ran: output out of upstream step 'make' changed since run \S+", out), out
