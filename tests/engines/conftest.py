"""Fixtures for the engine tests: a real MariaDB server and a real Apache Airflow 3 (its own cached venv).

Every test in this folder carries the `engines` marker: `pytest tests -m "not engines"` leaves them out,
`pytest tests -m engines` runs only them.
"""
from __future__ import annotations
import sys, uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines_util import Airflow, MariaDB, airflow_venv as _build_airflow_venv  # noqa: E402

HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "engines: tests against real engines (Airflow, MariaDB, Beam's DirectRunner)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents: item.add_marker(pytest.mark.engines)


@pytest.fixture(scope="session")
def mariadb():
    "A MariaDB server for the session (installed with apt-get when missing), stopped and removed at the end."
    server = MariaDB().start(log=lambda m: print(f"\n{m}"))
    print(f"\nMariaDB on 127.0.0.1:{server.port}, started in {server.start_seconds:.1f} s")
    yield server
    server.stop()


@pytest.fixture
def mysql_database(mariadb):
    "The name of a fresh database on the session's MariaDB (ML-Metadata creates it on first connection); dropped after."
    name = "mlnb_" + uuid.uuid4().hex[:10]
    yield name
    mariadb.sql(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(scope="session")
def airflow_venv():
    "The cached Airflow venv (built on first use, about a minute)."
    return _build_airflow_venv(log=lambda m: print(f"\n{m}"))


@pytest.fixture
def airflow(airflow_venv, tmp_path):
    "Airflow commands against a throwaway AIRFLOW_HOME with SQLite; put DAG files into `airflow.dags`."
    return Airflow(airflow_venv, tmp_path / "airflow")
