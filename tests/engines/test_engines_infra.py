"""The engines themselves, before mlnb uses them: ML-Metadata talks to our MariaDB, and Airflow 3's `dags test` runs
standard-provider BashOperator tasks with a conf, a skip exit code and a retry."""
from __future__ import annotations
import json, subprocess, sys, textwrap

from engines_util import AIRFLOW_VERSION


def test_mlmd_store_on_mariadb_is_shared_between_processes(mariadb, mysql_database, tmp_path):
    "ML-Metadata 1.16's bundled MySQL client talks to MariaDB (user with mysql_native_password); two processes share it."
    code = textwrap.dedent("""
        import json, sys
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2 as pb
        from mlnb.metadata.store import connection_config
        store = metadata_store.MetadataStore(connection_config(".", json.loads(sys.argv[1])))
        tid = store.put_artifact_type(pb.ArtifactType(name="probe"))
        if sys.argv[2] == "write": store.put_artifacts([pb.Artifact(type_id=tid, uri="file:///probe")])
        print(json.dumps([a.uri for a in store.get_artifacts_by_type("probe")]))
    """)
    setting = json.dumps(mariadb.setting(mysql_database))
    run = lambda mode: subprocess.run([sys.executable, "-c", code, setting, mode], cwd=tmp_path,
                                      capture_output=True, text=True, timeout=120)
    first, second = run("write"), run("read")
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads(second.stdout.splitlines()[-1]) == ["file:///probe"]
    assert mysql_database in mariadb.sql("SHOW DATABASES")


DAG = '''
import datetime, pathlib
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(dag_id="probe", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False,
         params={"who": "nobody"}) as dag:
    greet = BashOperator(task_id="greet", bash_command="echo {{ params.who }} {{ run_id }} > {{ params.out }}/greet.txt")
    skip = BashOperator(task_id="skip", bash_command="exit 99", skip_on_exit_code=99)
    flaky = BashOperator(task_id="flaky", retries=1, retry_delay=datetime.timedelta(seconds=0),
                         bash_command="f={{ params.out }}/tries; echo x >> $f; test $(wc -l < $f) -ge 2")
    greet >> [skip, flaky]
'''


def test_airflow_dags_test_runs_bash_operator(airflow, tmp_path):
    "`airflow dags test` with SQLite: params from conf, skip_on_exit_code gives a skipped task, a retry re-runs a task."
    (airflow.dags / "probe.py").write_text(DAG)
    out = tmp_path / "out"; out.mkdir()
    proc = airflow("dags", "test", "probe", "-c", json.dumps({"who": "conf-says-hi", "out": str(out)}))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (run_id, run), = airflow.dag_runs("probe").items()
    assert run_id.startswith("manual__") and run["state"] == "success" and run["version"] == AIRFLOW_VERSION
    assert run["tasks"] == {"greet": "success", "skip": "skipped", "flaky": "success"}
    assert run["tries"]["flaky"] == 2
    assert (out / "greet.txt").read_text().split() == ["conf-says-hi", run_id]
    assert (out / "tries").read_text().count("x") == 2
