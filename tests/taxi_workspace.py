"""The taxi demo (examples/taxi) run continuously, once per test session in a temporary copy, as `make demo` runs it:
January and February arrive and `mlnb trigger` trains the first model, March arrives and drifts (retrained, pushed),
April arrives broken (training blocked).

Several test modules need the demo (tests/test_taxi.py, tests/browser/test_publish_voila.py); the first one to ask
runs it and later ones reuse that workspace, found through the session's base temporary folder. Its `run_id` is
March's run: every step ran, the model was blessed and pushed as version 2.
"""
from __future__ import annotations
import json, os, shutil, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "taxi"
MLNB = Path(sys.executable).parent / "mlnb"
# what a run writes into the workspace: never copied from a checkout where `make demo` ran
GENERATED = ("data", "stats", "schema", "anomalies", "model", "evaluation", "blessing", "serving", "runs", "site", ".mlnb",
             "incoming")
ARRIVALS = (("Jan", "Feb"), ("Mar",), ("Apr",))  # the months that arrive before each `mlnb trigger`, as in `make demo`


def mlnb(*args: str, cwd) -> subprocess.CompletedProcess:
    "Run the `mlnb` command line in `cwd`, capturing its output."
    return subprocess.run([str(MLNB), *args], cwd=cwd, capture_output=True, text=True, timeout=1200)


def run_json(workspace: Path, run_id: str) -> dict:
    return json.loads((Path(workspace) / "runs" / run_id / "run.json").read_text())


def newest_run_id(workspace: Path) -> str:
    runs = sorted((Path(workspace) / "runs").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent.name


def taxi_run(tmp_path_factory) -> dict:
    """{workspace, run_id (March's run), runs {last month arrived: run id}, triggers {month: output}, seconds, log} of the
    session's continuous demo."""
    base = tmp_path_factory.getbasetemp() / "taxi-demo"
    done = base / "first-run.json"
    if done.exists(): return json.loads(done.read_text())
    reuse = os.environ.get("MLNB_TAXI_WORKSPACE")  # debugging: a workspace where the demo already ran
    if reuse:
        pushed = [p for p in sorted(Path(reuse).glob("runs/*/run.json"), key=lambda p: p.stat().st_mtime)
                  if json.loads(p.read_text())["steps"].get("push", {}).get("status") == "ran"]
        return {"workspace": reuse, "run_id": pushed[-1].parent.name, "runs": {}, "triggers": {}, "seconds": float("nan"), "log": ""}
    workspace = base / "taxi"
    if workspace.exists(): shutil.rmtree(workspace)
    shutil.copytree(EXAMPLE, workspace, ignore=shutil.ignore_patterns(*GENERATED))
    t0, runs, outputs = time.monotonic(), {}, {}
    for months in ARRIVALS:
        subprocess.run([sys.executable, "spans.py", *months], cwd=workspace, check=True, capture_output=True)
        proc = mlnb("trigger", "pipeline.yaml", cwd=workspace)
        assert proc.returncode == 0, f"mlnb trigger after {months} failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
        runs[months[-1]], outputs[months[-1]] = newest_run_id(workspace), proc.stdout
    seconds = time.monotonic() - t0
    info = {"workspace": str(workspace), "run_id": runs["Mar"], "runs": runs, "triggers": outputs, "seconds": seconds,
            "log": "\n".join(outputs.values())}
    print(f"\ntaxi demo, continuous, cold: {seconds:.1f} s\n{info['log']}")
    done.write_text(json.dumps(info))
    return info
