"""A team's ML-Metadata store on a real MariaDB server: pipeline runs and `--resume`, lineage, tracked runs and sweeps
(RunCompare's data: `get_runs`), the lab server's API, and two workspaces in two processes sharing one store.

The server is in pipeline.yaml (`metadata: {type: mysql, host, port, database, user}`), the password is not: it comes
from MLNB_METADATA_PASSWORD, from a MySQL option file, or from MLNB_METADATA (a mysql:// URL) — as the README says."""
from __future__ import annotations
import json, os, subprocess, sys
from pathlib import Path

import yaml

from engines_util import MLNB, mlnb, write_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlnb_server_util import lab, start_lab, wait_job  # noqa: E402

PIPELINE = {
    "name": "team",
    "steps": {"make": {"notebook": "make.ipynb", "outputs": ["numbers.txt"]},
              "total": {"notebook": "total.ipynb", "upstream": ["make"], "outputs": ["total.txt"], "when": "make.n > 0",
                        "parameters": {"scale": 2}}}}
NOTEBOOKS = {
    "make.ipynb": ("n = 4", "import mlnb\nopen('numbers.txt', 'w').write(' '.join(map(str, range(n))))\nmlnb.record('n', n)"),
    # fails while a file `broken` exists; logs a tracked run (what RunCompare compares)
    "total.ipynb": ("scale = 1", "import mlnb, os\nif os.path.exists('broken'): raise RuntimeError('broken on purpose')\n"
                                 "t = sum(map(int, open('numbers.txt').read().split())) * scale\nopen('total.txt', 'w').write(str(t))\n"
                                 "with mlnb.start_run(params={'scale': scale}) as run:\n    run.log_metric('total', t)\n"
                                 "mlnb.record('total', t)"),
    "score.ipynb": ("lr = 0.01", "import mlnb\nmlnb.record('score', round(1 - abs(lr - 0.1), 3))"),
}


def team_workspace(path: Path, mariadb, database: str, **extra) -> Path:
    "A workspace whose pipeline.yaml names the MariaDB server and database, never the password."
    spec = dict(PIPELINE, metadata={**mariadb.setting(database, password=False), **extra})
    return write_pipeline(path, yaml.safe_dump(spec, sort_keys=False), NOTEBOOKS)


def test_runs_resume_lineage_sweeps_and_run_compare(mariadb, mysql_database, tmp_path, monkeypatch):
    ws = team_workspace(tmp_path / "ws", mariadb, mysql_database)
    assert mariadb.password not in (ws / "pipeline.yaml").read_text()
    monkeypatch.delenv("MLNB_METADATA", raising=False)
    monkeypatch.setenv("MLNB_METADATA_PASSWORD", mariadb.password)

    (ws / "broken").touch()
    failed = mlnb("run", cwd=ws)
    assert failed.returncode == 1 and "broken on purpose" in failed.stdout, failed.stdout + failed.stderr
    run_id = json.loads(mlnb("runs", "list", "--json", cwd=ws).stdout)[0]["run_id"]
    (ws / "broken").unlink()
    resumed = mlnb("run", "--resume", run_id, cwd=ws)
    assert resumed.returncode == 0 and "kept: make" in resumed.stdout, resumed.stdout + resumed.stderr
    runs = json.loads(mlnb("runs", "list", "--json", cwd=ws).stdout)
    assert [(r["run_id"], r["status"], r["steps"]) for r in runs] == [(run_id, "succeeded", {"ran": 2})]
    assert not (ws / ".mlnb" / "metadata.sqlite").exists()  # everything went to MariaDB

    node = json.loads(mlnb("lineage", "total.txt", "--json", cwd=ws).stdout)
    assert node["produced_by"]["step"] == "total" and node["produced_by"]["run_id"] == run_id
    numbers = {i["role"]: i for i in node["inputs"]}["upstream:make"]
    assert numbers["path"] == "numbers.txt" and numbers["produced_by"]["run_id"] == run_id

    sweep = mlnb("sweep", "score.ipynb", "--grid", "lr=0.1,0.5", "--metric", "score", cwd=ws)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    from mlnb.runs.query import get_runs
    df = get_runs(workspace=ws)  # RunCompare's data: the tracked run of the pipeline step and the sweep's two runs
    assert sorted(df["experiment"]) == ["score", "score", "team"]
    team = df[df["experiment"] == "team"].iloc[0]
    assert (team["params.scale"], team["metrics.total"], team["source"]) == (2, 12.0, "pipeline")
    assert sorted(df[df["experiment"] == "score"]["metrics.score"]) == [0.6, 1.0]
    again = mlnb("sweep", "score.ipynb", "--grid", "lr=0.1,0.5", "--metric", "score", cwd=ws)
    assert again.returncode == 0 and "2 cached" in again.stdout, again.stdout  # the sweep's cache lives in MariaDB too


def test_two_workspaces_in_two_processes_share_one_store(mariadb, mysql_database, tmp_path, monkeypatch):
    "Two copies of one pipeline (two machines) run at once on one database: each sees its own runs and cache only."
    monkeypatch.delenv("MLNB_METADATA", raising=False)
    option_file = tmp_path / "team.cnf"  # machine A: the password in a MySQL option file
    option_file.write_text(f"[client]\npassword = {mariadb.password}\n")
    a = team_workspace(tmp_path / "a", mariadb, mysql_database, option_file=str(option_file))
    b = team_workspace(tmp_path / "b", mariadb, mysql_database)
    env_b = {**os.environ, "MLNB_METADATA": mariadb.url(mysql_database)}  # machine B: a URL in its environment
    procs = [subprocess.Popen([str(MLNB), "run"], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for ws, env in ((a, None), (b, env_b))]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    runs_a = json.loads(mlnb("runs", "list", "--json", cwd=a).stdout)
    runs_b = json.loads(mlnb("runs", "list", "--json", cwd=b, env=env_b).stdout)
    assert [r["steps"] for r in runs_a] == [{"ran": 2}] and [r["steps"] for r in runs_b] == [{"ran": 2}]
    assert runs_a[0]["run_id"] != runs_b[0]["run_id"]
    assert mlnb("runs", "show", runs_b[0]["run_id"], cwd=a).returncode == 2  # A does not see B's run

    for _ in range(5):  # A's cache hits pile up under the same cache keys as B's executions
        assert "2 cached" in mlnb("run", cwd=a).stdout
    # B still finds its own cache entries (the store filters by workspace before it limits), and, run step by step,
    # takes its upstream values from its own runs (the condition `make.n > 0` reads B's make, not A's)
    assert "2 cached" in mlnb("run", cwd=b, env=env_b).stdout
    (b / "numbers.txt").write_text("9")  # B's make output changes: B's total must run, A's cache must not answer
    only = mlnb("run", "--only", "total", cwd=b, env=env_b)
    assert only.returncode == 0 and "total            ran" in only.stdout, only.stdout + only.stderr
    assert (b / "total.txt").read_text() == "18" and (a / "total.txt").read_text() == "12"
    assert "2 cached" in mlnb("run", cwd=a).stdout


def test_lab_server_api_on_mysql(mariadb, mysql_database, tmp_path, monkeypatch):
    "The lab extension's API (runs, run, lineage, a job that runs the pipeline) reads and writes the MariaDB store."
    root = tmp_path / "root"
    ws = team_workspace(root / "team", mariadb, mysql_database)
    monkeypatch.delenv("MLNB_METADATA", raising=False)
    monkeypatch.setenv("MLNB_METADATA_PASSWORD", mariadb.password)  # JupyterLab's environment, as a team sets it
    server = start_lab(root, tmp_path)
    try:
        status, job = server.api("mlnb/api/jobs", "POST", {"pipeline": "team/pipeline.yaml", "params": {"make.n": 3}})
        assert status == 202, job
        job = wait_job(server, job["job"])
        assert job["returncode"] == 0 and job["status"] == "succeeded", job["log"]
        status, runs = server.api("mlnb/api/runs?workspace=team")
        assert status == 200 and [r["run_id"] for r in runs["runs"]] == [job["run_id"]], runs
        assert runs["runs"][0]["metrics"] == {"make.n": 3, "total.total": 6}, runs
        status, run = server.api(f"mlnb/api/runs/{job['run_id']}?workspace=team")
        assert status == 200 and set(run["steps"]) == {"make", "total"}, run
        status, lin = server.api("mlnb/api/lineage?path=team/total.txt")
        assert status == 200 and lin["lineage"]["produced_by"]["run_id"] == job["run_id"], lin
        status, compare = server.api("mlnb/api/compare", "POST", {"workspace": "team", "runs": [job["run_id"]]})
        assert status == 200 and (root / compare["app"]).is_file(), compare
    finally:
        lab._stop(server.proc)
    assert not (ws / ".mlnb" / "metadata.sqlite").exists()
