"""The engine itself, before mlnb uses it: ML-Metadata's bundled MySQL client talks to our MariaDB. (Airflow's
`dags test` with the standard provider's BashOperator, a conf, a skip exit code and a retry is what test_airflow.py
runs mlnb's exported DAGs with.)"""
from __future__ import annotations
import json, subprocess, sys, textwrap


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
