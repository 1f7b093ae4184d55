"""A MySQL (MariaDB) store shared by two clones of one workspace on different paths (as on two machines): records are
keyed by the workspace's name and paths relative to it, so the second clone reuses the first one's cache and finds
its lineage; a workspace of another name sharing the store sees none of it (issue 12, item 7)."""
from __future__ import annotations
import json, re, subprocess, sys
from pathlib import Path

MLNB = str(Path(sys.executable).parent/"mlnb")

NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
            "cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "source": "n = 3",
                       "outputs": [], "execution_count": None},
                      {"cell_type": "code", "id": "c", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": "import os, mlnb\nos.makedirs('out', exist_ok=True)\n"
                                 "open('out/numbers.txt', 'w').write(' '.join(map(str, range(n))))\nmlnb.record('n', n)"}]}


def mlnb(*args, cwd):
    p = subprocess.run([MLNB, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def test_two_clones_share_cache_and_lineage_through_mysql(mariadb, mysql_database, tmp_path):
    spec = "name: shared\nmetadata: " + json.dumps(mariadb.setting(mysql_database)) + \
           "\nsteps:\n  make: {notebook: make.ipynb, outputs: [out]}\n"
    first = tmp_path/"machine-a"/"taxi"
    first.mkdir(parents=True)
    (first/"pipeline.yaml").write_text(spec)
    (first/"make.ipynb").write_text(json.dumps(NOTEBOOK))
    code, out = mlnb("run", cwd=first)
    assert code == 0 and "1 ran" in out, out
    run_id = re.search(r"run (\S+):", out).group(1)
    second = tmp_path/"machine-b"/"taxi"  # a clone elsewhere: same name, its own .mlnb/ caches, outputs synced
    second.parent.mkdir()
    subprocess.run(["cp", "-a", str(first), str(second)], check=True)
    subprocess.run(["rm", "-rf", str(second/".mlnb")], check=True)
    code, out = mlnb("run", cwd=second)
    assert code == 0 and "1 cached" in out, out
    again = re.search(r"run (\S+):", out).group(1)
    assert json.loads((second/"runs"/again/"run.json").read_text())["steps"]["make"]["reason"] == f"same cache key as run {run_id}"
    code, out = mlnb("lineage", "out/numbers.txt", cwd=second)
    assert code == 0 and f"produced by step 'make' in run {run_id}" in out, out
    code, out = mlnb("runs", "list", cwd=second)
    assert code == 0 and run_id in out, out
    other = tmp_path/"machine-a"/"other"  # another workspace on the same store
    subprocess.run(["cp", "-a", str(first), str(other)], check=True)
    subprocess.run(["rm", "-rf", str(other/"runs")], check=True)
    code, out = mlnb("runs", "list", cwd=other)
    assert code == 0 and run_id not in out and "no runs yet" in out, out
