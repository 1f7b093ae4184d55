"""The real engines behind tests/engines: Apache Airflow 3 in a venv of its own and a MariaDB server.

Both install themselves when missing, so `make test` works on a fresh machine:
- Airflow: a venv built from airflow-requirements.txt (pinned, installed with --no-deps) and cached at
  ~/.cache/mlnb-airflow-venv/<key> (override with MLNB_AIRFLOW_VENV_CACHE), the key naming the Airflow version, the
  Python version and a hash of the pins. Airflow conflicts with the TFDV pins: it never goes into the repo's .venv.
- MariaDB: Debian's `mariadb-server` (apt-get installs it when `mariadbd` is missing), started on 127.0.0.1 on a free
  port with a throwaway data dir and socket, stopped and removed afterwards.

Run this file to build the Airflow venv ahead of the tests: `python tests/engines/engines_util.py airflow`.
"""
from __future__ import annotations
import fcntl, hashlib, json, os, secrets, shutil, socket, subprocess, sys, tempfile, time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AIRFLOW_VERSION = "3.3.2"
AIRFLOW_REQUIREMENTS = HERE / "airflow-requirements.txt"
UV = "uv==0.13.9"  # installs the pins into the Airflow venv
MLNB = Path(sys.executable).parent / "mlnb"  # the repo's .venv/bin/mlnb, by absolute path


def free_port() -> int:
    "A TCP port that is free on 127.0.0.1 right now."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def file_lock(path: Path):
    "An exclusive fcntl lock on `path` (created if missing): two test sessions never build the same thing at once."
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------------------------------------- Airflow
def base_python() -> str:
    "The interpreter the Airflow venv is made from: MLNB_AIRFLOW_PYTHON, else the base Python of the running venv."
    return os.environ.get("MLNB_AIRFLOW_PYTHON") or getattr(sys, "_base_executable", None) or sys.executable


def airflow_venv_key(python: str | None = None) -> str:
    "The cache key of the Airflow venv: Airflow's version, the Python version, a hash of the pins."
    python = python or base_python()
    version = subprocess.run([python, "-c", "import sys; print('%d%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    pins = hashlib.sha256(AIRFLOW_REQUIREMENTS.read_bytes()).hexdigest()[:10]
    return f"airflow-{AIRFLOW_VERSION}-py{version}-{pins}"


def airflow_venv(log=print) -> Path:
    """The cached Airflow venv, built first if missing (~30 s cold with uv); its `.complete` file holds the install time.

    A half-built venv (an interrupted install) has no `.complete` file and is rebuilt."""
    python = base_python()
    cache = Path(os.environ.get("MLNB_AIRFLOW_VENV_CACHE", "~/.cache/mlnb-airflow-venv")).expanduser()
    key = airflow_venv_key(python)
    venv, done = cache / key, cache / key / ".complete"
    if done.exists(): return venv
    with file_lock(cache / f"{key}.lock"):
        if done.exists(): return venv
        log(f"installing Apache Airflow {AIRFLOW_VERSION} into {venv} (cached for later runs)")
        shutil.rmtree(venv, ignore_errors=True)
        t0 = time.monotonic()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
        subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
        # uv downloads and installs in parallel: ~20 s cold where pip takes 60-130 s; pip is the fallback
        uv = subprocess.run([*pip, "install", UV], capture_output=True, text=True, env=env, timeout=600)
        if uv.returncode == 0:
            proc = subprocess.run([str(venv / "bin" / "uv"), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                                   "--no-deps", "-r", str(AIRFLOW_REQUIREMENTS)],
                                  capture_output=True, text=True, env=env, timeout=1800)
        if uv.returncode != 0 or proc.returncode != 0:
            log(f"uv failed, installing with pip: {(uv.stderr or proc.stderr)[-500:]}")
            proc = subprocess.run([*pip, "install", "--no-deps", "-r", str(AIRFLOW_REQUIREMENTS)],
                                  capture_output=True, text=True, env=env, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"installing Airflow failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        check = subprocess.run([*pip, "check"], capture_output=True, text=True, env=env)
        if check.returncode != 0: raise RuntimeError(f"the Airflow venv's pins conflict:\n{check.stdout}")
        seconds = time.monotonic() - t0
        done.write_text(json.dumps({"airflow": AIRFLOW_VERSION, "python": python, "install_seconds": round(seconds, 1)}))
        log(f"installed Apache Airflow {AIRFLOW_VERSION} in {seconds:.0f} s")
    return venv


def migrated_database(venv: Path) -> Path:
    "An empty Airflow SQLite database, migrated once per venv and kept beside it (`airflow db migrate` costs 5-15 s)."
    db = Path(venv) / "migrated-airflow.db"
    if db.exists(): return db
    with file_lock(Path(venv) / "migrated-airflow.lock"):
        if db.exists(): return db
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
            proc = subprocess.run([str(Path(venv) / "bin" / "airflow"), "db", "migrate"], cwd=home, env=env,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0: raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            shutil.copyfile(Path(home) / "airflow.db", db.with_suffix(".tmp"))
            os.replace(db.with_suffix(".tmp"), db)
    return db


class Airflow:
    "Airflow commands from the cached venv, against a throwaway AIRFLOW_HOME (SQLite) whose DAG folder is `dags/`."
    def __init__(self, venv: Path, home: Path):
        self.venv, self.home = Path(venv), Path(home)
        self.dags = self.home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "AIRFLOW_HOME": str(self.home), "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO", "NO_PROXY": "*"}
        self.env.pop("VIRTUAL_ENV", None)
        migrated = migrated_database(self.venv)
        shutil.copyfile(migrated, self.home / "airflow.db")

    def __call__(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        "Run `airflow ARGS...`; output captured."
        return subprocess.run([str(self.venv / "bin" / "airflow"), *args], cwd=self.home, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def python(self, code: str) -> subprocess.CompletedProcess:
        "Run Python code with the Airflow venv's interpreter (e.g. to read the Airflow database)."
        return subprocess.run([str(self.venv / "bin" / "python"), "-c", code], cwd=self.home, env=self.env,
                              capture_output=True, text=True, timeout=300)

    def dag_runs(self, dag_id: str) -> dict[str, dict]:
        "{run_id: {state, tasks: {task_id: state}, tries, version, schedule}} of a DAG's runs, from the Airflow database."
        code = ("import json, airflow\nfrom airflow.utils.session import create_session\n"
                "from airflow.models import DagModel, DagRun, TaskInstance as TI\nv = lambda st: str(getattr(st, 'value', st))\n"
                "with create_session() as s:\n"
                f"    runs = s.query(DagRun.run_id, DagRun.state).filter(DagRun.dag_id == {dag_id!r}).all()\n"
                f"    tis = s.query(TI.run_id, TI.task_id, TI.state, TI.try_number).filter(TI.dag_id == {dag_id!r}).all()\n"
                f"    schedule = s.query(DagModel.timetable_summary).filter(DagModel.dag_id == {dag_id!r}).scalar()\n"
                "print(json.dumps({r: {'state': v(st), 'version': airflow.__version__, 'schedule': schedule,\n"
                "                      'tasks': {t: v(ts) for rr, t, ts, n in tis if rr == r},\n"
                "                      'tries': {t: n for rr, t, ts, n in tis if rr == r}} for r, st in runs}))")
        proc = self.python(code)
        if proc.returncode != 0: raise RuntimeError(proc.stderr[-3000:])
        return json.loads(proc.stdout.strip().splitlines()[-1])


def mlnb_run_id(airflow_run_id: str) -> str:
    "The mlnb run id an exported DAG derives from an Airflow run id (as the DAG's `mlnb_run_id` does)."
    import re
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", airflow_run_id).strip("-_.") or "airflow"


# ----------------------------------------------------------------------------------------------------------- mlnb
def mlnb(*args: str, cwd=None, env=None, timeout: float = 900) -> subprocess.CompletedProcess:
    "Run the repo's `mlnb` command line (by absolute path), capturing its output."
    return subprocess.run([str(MLNB), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def notebook(params: str, code: str) -> str:
    "A notebook (JSON text) with a cell tagged `parameters` and one code cell."
    cell = lambda src, tags: {"cell_type": "code", "metadata": {"tags": tags}, "source": src, "outputs": [],
                              "execution_count": None}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": [cell(params, ["parameters"]), cell(code, [])],
                       "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}})


def write_pipeline(ws: Path, yaml_text: str, notebooks: dict) -> Path:
    "A workspace with pipeline.yaml and notebooks {file name: (parameters source, code source)}."
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "pipeline.yaml").write_text(yaml_text)
    for name, (params, code) in notebooks.items(): (ws / name).write_text(notebook(params, code))
    return ws


# ----------------------------------------------------------------------------------------------------------- MariaDB
def mariadb_binary(name: str) -> str | None:
    "The path of a MariaDB program (`mariadbd` lives in /usr/sbin, often not on PATH)."
    return shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None)


def ensure_mariadb(log=print):
    "Install Debian's mariadb-server when `mariadbd` is missing (the service is not started: tests start their own)."
    if mariadb_binary("mariadbd") and mariadb_binary("mariadb-install-db"): return
    with file_lock(Path(tempfile.gettempdir()) / "mlnb-mariadb-install.lock"):
        if mariadb_binary("mariadbd") and mariadb_binary("mariadb-install-db"): return
        log("installing mariadb-server with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "mariadb-server"]
        if subprocess.run(install, env=env, capture_output=True, timeout=900).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=900)
            proc = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0: raise RuntimeError(f"apt-get install mariadb-server failed:\n{proc.stderr[-3000:]}")


class MariaDB:
    "A MariaDB server of our own: 127.0.0.1, a free port, a throwaway data dir, a user `mlnb` with a random password."
    user = "mlnb"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="mlnb-mariadb-"))  # short: the socket path has a 108-byte limit
        self.datadir, self.socket, self.log = self.root / "data", self.root / "mysqld.sock", self.root / "error.log"
        self.password = secrets.token_hex(8)
        self.port, self.proc = 0, None

    def start(self, log=print) -> "MariaDB":
        ensure_mariadb(log)
        t0 = time.monotonic()
        root_user = ["--user=root"] if os.geteuid() == 0 else []
        proc = subprocess.run([mariadb_binary("mariadb-install-db"), "--no-defaults", f"--datadir={self.datadir}",
                               "--auth-root-authentication-method=normal", "--skip-test-db", *root_user],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0: raise RuntimeError(f"mariadb-install-db failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        for _ in range(3):  # a free port can be taken by someone else before mariadbd binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [mariadb_binary("mariadbd"), "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
                 f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve", f"--log-error={self.log}",
                 f"--pid-file={self.root / 'mysqld.pid'}", "--innodb-buffer-pool-size=64M",
                 "--innodb-flush-log-at-trx-commit=2", "--max-connections=200", *root_user],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready(): break
            self.proc.kill(); self.proc.wait()
        else:
            raise RuntimeError(f"mariadbd did not start:\n{self.log.read_text()[-3000:] if self.log.exists() else ''}")
        self.sql(f"CREATE USER '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}';"
                 f"GRANT ALL PRIVILEGES ON *.* TO '{self.user}'@'127.0.0.1';")
        self.start_seconds = time.monotonic() - t0
        return self

    def _wait_ready(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None: return False
            if self.socket.exists():
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0: return True
            time.sleep(0.1)
        return False

    def sql(self, statements: str) -> str:
        "Run SQL as root through the socket; returns the tab-separated output."
        proc = subprocess.run([mariadb_binary("mariadb"), "--no-defaults", f"--socket={self.socket}", "-uroot",
                               "--batch", "-e", statements], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0: raise RuntimeError(f"SQL failed: {statements}\n{proc.stderr}")
        return proc.stdout

    def setting(self, database: str, password: bool = True) -> dict:
        "The mlnb metadata setting (pipeline.yaml `metadata:` mapping) for a database of this server."
        out = {"type": "mysql", "host": "127.0.0.1", "port": self.port, "database": database, "user": self.user}
        if password: out["password"] = self.password
        return out

    def url(self, database: str) -> str:
        "The mysql:// URL (MLNB_METADATA's form) for a database of this server."
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["airflow"]:
        print(migrated_database(airflow_venv()).parent)
    elif sys.argv[1:] == ["mariadb"]:
        ensure_mariadb()
    else:
        sys.exit("usage: engines_util.py airflow|mariadb")
