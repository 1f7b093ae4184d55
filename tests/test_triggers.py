"""Triggers with real components: a real `mlnb watch` process that picks up a span dropped into its folder and fires
exactly once, restarted without firing again; `mlnb trigger`'s exit codes (0 fired, 3 not, 1 its run failed, 2 bad
input with nothing recorded, 130 interrupted and resumed by the next evaluation); decisions read back from the
ML-Metadata store. The pipeline is one trivial notebook, so each test takes seconds, not a model's training."""
from __future__ import annotations
import json, os, queue, signal, subprocess, sys, threading, time
from pathlib import Path

import pytest

from mlnb.pipeline.triggers import LOG_COLUMNS, trigger_log

MLNB = Path(sys.executable).parent / "mlnb"
COUNT = ("import mlnb, time\n"
         "time.sleep(sleep)\n"
         "rows = sum(1 for _ in open(f'incoming/{span}.csv')) - 1\n"
         "assert rows > 0, f'span {span} is empty'\n"
         "open('count.txt', 'w').write(f'{span} {rows}')\n"
         "mlnb.record('rows', rows)")


def notebook(params: str, code: str) -> dict:
    cell = lambda src, tags: {"cell_type": "code", "metadata": {"tags": tags}, "source": src, "outputs": [],
                              "execution_count": None}
    return {"nbformat": 4, "nbformat_minor": 5, "cells": [cell(params, ["parameters"]), cell(code, [])],
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}}


def drop_span(ws: Path, key: str, rows: int = 3, columns=("a", "b")):
    "A span arrives as the file incoming/<key>.csv, written atomically."
    (ws / "incoming").mkdir(exist_ok=True)
    tmp = ws / "incoming" / f".{key}.tmp"
    tmp.write_text(",".join(columns) + "\n" + "".join(f"{i},{i * 2}\n" for i in range(rows)))
    os.replace(tmp, ws / "incoming" / f"{key}.csv")


@pytest.fixture
def ws(tmp_path):
    "A workspace whose one step counts the rows of the span it is given; a trigger on every new span."
    (tmp_path / "count.ipynb").write_text(json.dumps(notebook('span = ""\nsleep = 0.0', COUNT)))
    write_spec(tmp_path, "  fresh: {on: new_span}\n")
    drop_span(tmp_path, "1")
    return tmp_path


def write_spec(ws: Path, triggers: str, monitor: str = ""):
    (ws / "pipeline.yaml").write_text("name: tiny\nsteps:\n  count: {notebook: count.ipynb, outputs: [count.txt]}\n"
                                      f"monitor:\n  spans: incoming/{{span}}.csv\n{monitor}triggers:\n{triggers}")


def mlnb(*args, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([str(MLNB), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


class Watch:
    "A real `mlnb watch` process whose output lines are read as they come."
    def __init__(self, ws: Path, interval: float = 0.5):
        self.proc = subprocess.Popen([str(MLNB), "watch", "pipeline.yaml", "--interval", str(interval)], cwd=ws,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines, self.queue = [], queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout: self.queue.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> str:
        "The first line (from now on) containing `text`."
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try: line = self.queue.get(timeout=0.2)
            except queue.Empty: continue
            self.lines.append(line)
            if text in line: return line
        raise AssertionError(f"no line with {text!r} within {timeout} s; output:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        time.sleep(0.2)
        while not self.queue.empty(): self.lines.append(self.queue.get())
        return code


def fired(ws: Path) -> list[tuple]:
    log = trigger_log(ws)
    return sorted((r.trigger, r.span, r.run_status) for r in log[log.fired].itertuples())


def runs(ws: Path) -> list[str]:
    return sorted(p.parent.name for p in (ws / "runs").glob("*/run.json")) if (ws / "runs").exists() else []


def test_watch_fires_once_per_new_span_and_not_again_after_a_restart(ws):
    w = Watch(ws)
    try:
        w.wait_for("fired      span 1")
        w.wait_for("mlnb run: run")
        w.wait_for("nothing new (1 span(s), newest '1')")
        assert (ws / "count.txt").read_text() == "1 3"
        drop_span(ws, "2", rows=5)  # a span arrives while it watches
        line = w.wait_for("fired      span 2")
        assert "new span '2' (2.csv)" in line
        assert "succeeded" in w.wait_for("mlnb run: run")
        w.wait_for("nothing new (2 span(s), newest '2')")
        time.sleep(1.5)  # three more checks: nothing fires again
    finally:
        code = w.stop()
    assert code == 0 and w.lines[-1].endswith("mlnb watch: stopped"), w.lines
    assert sum("  fired  " in line for line in w.lines) == 2, w.lines
    assert (ws / "count.txt").read_text() == "2 5"
    assert fired(ws) == [("fresh", "1", "succeeded"), ("fresh", "2", "succeeded")]
    assert len(runs(ws)) == 2

    again = Watch(ws)  # restarted: its state is the store's
    try:
        again.wait_for("nothing new (2 span(s), newest '2')")
        time.sleep(1.5)
    finally:
        assert again.stop() == 0
    assert not any("fired" in line or "running pipeline" in line for line in again.lines), again.lines
    assert fired(ws) == [("fresh", "1", "succeeded"), ("fresh", "2", "succeeded")] and len(runs(ws)) == 2


def test_trigger_exit_codes_and_the_log(ws):
    first = mlnb("trigger", "pipeline.yaml", cwd=ws)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "fresh          fired      span 1" in first.stdout and "-p count.span=1" in first.stdout
    assert mlnb("trigger", "pipeline.yaml", cwd=ws).returncode == 3  # nothing new
    drop_span(ws, "2", rows=0)  # an empty span: the run fails
    failed = mlnb("trigger", "pipeline.yaml", cwd=ws)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert mlnb("trigger", "pipeline.yaml", cwd=ws).returncode == 3  # a decision is made once, even when its run failed
    drop_span(ws, "2", rows=4)  # a corrected file is a new version of the span
    fixed = mlnb("trigger", "pipeline.yaml", cwd=ws)
    assert fixed.returncode == 0 and "fired      span 2" in fixed.stdout, fixed.stdout + fixed.stderr
    log = trigger_log(ws)
    assert list(log.columns) == LOG_COLUMNS and log.fired.all()
    assert log.run_status.tolist() == ["succeeded", "failed", "succeeded"] and log.run_id.notna().all()
    shown = mlnb("trigger", "pipeline.yaml", "--log", cwd=ws)
    assert shown.returncode == 0 and shown.stdout.count("fresh") == 3 and "failed" in shown.stdout
    assert "3 when nothing fired" in mlnb("trigger", "--help", cwd=ws).stdout


@pytest.mark.parametrize("triggers, monitor, expected", [
    ("  d: {on: drift, feature: fare}\n", "", "trigger 'd': feature 'fare' is not a column of the spans"),
    ("  m: {on: metric, metric: precision_at_k, below: 0.5}\n", "  label: b\n  model: model.pkl\n", "unknown metric 'precision_at_k'"),
    ("  nightly: {on: schedule, cron: '0 25 * * *'}\n", "", "`cron` '0 25 * * *': the hour field '25' is out of range"),
    ("  t: {on: schedule, cron: '0 0 30 2 *'}\n", "", "trigger 't': `cron` '0 0 30 2 *' never fires"),  # February 30
    ("  t: {on: new_span}\n  t: {on: schedule, cron: '0 3 * * *'}\n", "", "key 't' given twice, at lines 7 and 8"),
    ("  nightly: {on: schedule, cron: 'every night'}\n", "", "expected a cron expression of 5 fields"),
    ("  fresh: {on: new_span}\n", "", "the span pattern matches no file"),
    ("  fresh: {on: new_span}\n", "", "has other columns than the baseline span"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_recorded(ws, triggers, monitor, expected):
    write_spec(ws, triggers, monitor)
    if "matches no file" in expected:
        (ws / "pipeline.yaml").write_text((ws / "pipeline.yaml").read_text().replace("incoming/{span}", "incomming/{span}"))
    if "other columns" in expected: drop_span(ws, "2", columns=("a", "c"))
    for command in (["trigger"], ["watch", "--interval", "1"]):
        proc = mlnb(*command, "pipeline.yaml", cwd=ws, timeout=60)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stderr
    assert not (ws / ".mlnb" / "metadata.sqlite").exists() and not (ws / "runs").exists()


@pytest.mark.parametrize("args, expected", [(["--checks", "0"], "--checks 0: expected 1 or more"),
                                            (["--interval", "nan"], "--interval nan: expected a positive number of seconds")])
def test_watch_refuses_a_bad_argument(ws, args, expected):
    proc = mlnb("watch", "pipeline.yaml", *args, cwd=ws, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stdout + proc.stderr
    assert not (ws / ".mlnb" / "metadata.sqlite").exists()


def test_a_schedule_fires_once_per_due_time(ws):
    write_spec(ws, "  nightly: {on: schedule, cron: '0 3 * * *'}\n")
    start = mlnb("trigger", "pipeline.yaml", "--time", "2026-03-01T12:00", cwd=ws)
    assert start.returncode == 3 and "schedule '0 3 * * *' starts; first due at 2026-03-02T03:00" in start.stdout, start.stdout
    assert mlnb("trigger", "pipeline.yaml", "--time", "2026-03-02T02:59", cwd=ws).returncode == 3
    due = mlnb("trigger", "pipeline.yaml", "--time", "2026-03-02T03:05", "--no-run", "--json", cwd=ws)
    assert due.returncode == 0, due.stdout + due.stderr
    out = json.loads(due.stdout)
    assert out["fired"] and out["overrides"] == ["-p", "count.span=1"] and out["run"] is None
    assert out["decisions"][0]["reason"].startswith("scheduled for 2026-03-02T03:00")
    assert mlnb("trigger", "pipeline.yaml", "--time", "2026-03-02T09:00", cwd=ws).returncode == 3
    assert not runs(ws)  # --no-run left the run to the caller


def test_an_interrupted_run_is_run_again_by_the_next_evaluation(ws):
    (ws / "count.ipynb").write_text(json.dumps(notebook('span = ""\nsleep = 60.0', COUNT)))
    proc = subprocess.Popen([str(MLNB), "trigger", "pipeline.yaml"], cwd=ws, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "count            running" in line: break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert [r.run_status for r in trigger_log(ws).itertuples()] == ["interrupted"]
    (ws / "count.ipynb").write_text(json.dumps(notebook('span = ""\nsleep = 0.0', COUNT)))
    again = mlnb("trigger", "pipeline.yaml", cwd=ws)
    assert again.returncode == 0 and "resumed" in again.stdout, again.stdout + again.stderr
    assert fired(ws) == [("fresh", "1", "succeeded")]  # one decision, completed: it did not fire twice
    assert mlnb("trigger", "pipeline.yaml", cwd=ws).returncode == 3


def test_spans_split_from_one_table_are_named_by_their_column(tmp_path):
    "A field report: a new span of one table split by a column was explained by an internal cache file's name."
    (tmp_path / "count.ipynb").write_text(json.dumps(notebook('span = ""', "print(span)")))
    (tmp_path / "trips.csv").write_text("year,fare\n" + "".join(f"{2000 + i % 2},{i}\n" for i in range(8)))
    (tmp_path / "pipeline.yaml").write_text("name: tiny\nsteps:\n  count: {notebook: count.ipynb}\n"
                                            "monitor: {spans: trips.csv, split_by: year}\ntriggers:\n  fresh: {on: new_span}\n")
    out = mlnb("trigger", "pipeline.yaml", "--no-run", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [d["reason"] for d in json.loads(out.stdout)["decisions"]] == [
        "new span '2000' (year of trips.csv)", "new span '2001' (year of trips.csv)"]
