"""The taxi demo pipeline (examples/taxi), run once per test session in a temporary copy.

Several test modules need a real run of the demo (tests/test_taxi.py, tests/browser/test_publish.py); the
first one to ask runs it with `mlnb run` and later ones reuse that workspace, found through the session's
base temporary folder.
"""
from __future__ import annotations
import json, os, shutil, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "taxi"
MLNB = Path(sys.executable).parent / "mlnb"
# what a run writes into the workspace: never copied from a checkout where `make demo` ran
GENERATED = ("data", "stats", "schema", "anomalies", "model", "evaluation", "blessing", "serving", "runs", "site", ".mlnb")


def mlnb(*args: str, cwd) -> subprocess.CompletedProcess:
    "Run the `mlnb` command line in `cwd`, capturing its output."
    return subprocess.run([str(MLNB), *args], cwd=cwd, capture_output=True, text=True, timeout=1200)


def run_json(workspace: Path, run_id: str) -> dict:
    return json.loads((Path(workspace) / "runs" / run_id / "run.json").read_text())


def newest_run_id(workspace: Path) -> str:
    runs = sorted((Path(workspace) / "runs").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent.name


def taxi_run(tmp_path_factory) -> dict:
    """{workspace, run_id, seconds, log} of the session's first (cold) run of the demo pipeline."""
    base = tmp_path_factory.getbasetemp() / "taxi-demo"
    done = base / "first-run.json"
    if done.exists(): return json.loads(done.read_text())
    reuse = os.environ.get("MLNB_TAXI_WORKSPACE")  # debugging: a workspace where the demo already ran once
    if reuse:
        ok = [p for p in sorted(Path(reuse).glob("runs/*/run.json"), key=lambda p: p.stat().st_mtime)
              if json.loads(p.read_text())["status"] == "succeeded"]
        return {"workspace": reuse, "run_id": ok[-1].parent.name, "seconds": float("nan"), "log": ""}
    workspace = base / "taxi"
    if workspace.exists(): shutil.rmtree(workspace)
    shutil.copytree(EXAMPLE, workspace, ignore=shutil.ignore_patterns(*GENERATED))
    t0 = time.monotonic()
    proc = mlnb("run", "pipeline.yaml", cwd=workspace)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, f"mlnb run failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    info = {"workspace": str(workspace), "run_id": newest_run_id(workspace), "seconds": seconds, "log": proc.stdout}
    print(f"\ntaxi demo, cold run: {seconds:.1f} s\n{proc.stdout}")
    done.write_text(json.dumps(info))
    return info
