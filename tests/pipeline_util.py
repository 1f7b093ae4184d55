"""Helpers of the pipeline tests: notebooks and workspaces written from strings, the real `mlnb` command."""
import json, subprocess, sys
from pathlib import Path

MLNB = str(Path(sys.executable).parent/"mlnb")


def notebook(params, *cells: str) -> dict:
    "A notebook whose first cell (tagged `parameters`) is `params` (None: no such cell), then one code cell per string."
    def cell(i, src, tags):
        return {"cell_type": "code", "id": f"cell-{i}", "metadata": {"tags": tags}, "source": src,
                "outputs": [], "execution_count": None}
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
            "cells": ([cell(0, params, ["parameters"])] if params is not None else [])
                     + [cell(i + 1, c, []) for i, c in enumerate(cells)]}


def workspace(root: Path, spec: str, notebooks: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root/"pipeline.yaml").write_text(spec)
    for name, nb in notebooks.items():
        (root/name).write_text(json.dumps(nb))
    return root


def mlnb(*args, cwd=None, timeout=300):
    "Run the real `mlnb` command; (exit code, stdout + stderr)."
    p = subprocess.run([MLNB, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr
