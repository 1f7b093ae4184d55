"""Issue 12 item 2 on the command line: `mlnb run` refuses a pipeline whose step notebook is outside the workspace
(absolute or `..`) or not a string, with exit 2 and a message naming the step — before anything runs.
(The server side, POST /mlnb/api/jobs, is in tests/test_server.py.)"""
import subprocess, sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from mlnb_server_util import notebook  # noqa: E402

MLNB = Path(sys.executable).parent / "mlnb"


@pytest.mark.parametrize("value, words", [
    ("{outside}/x.ipynb", "must be relative and inside the workspace"),
    ("../outside/x.ipynb", "must be relative and inside the workspace"),
    ("3", "`notebook` must be a path (a string), found int 3"),
    ("[x.ipynb]", "`notebook` must be a path (a string), found list"),
])
def test_run_refuses_notebook_outside_workspace(tmp_path, value, words):
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir(); outside.mkdir()
    nbformat.write(notebook("n = 1", "open('ran.txt', 'w').write('ran')"), outside / "x.ipynb")
    (ws / "pipeline.yaml").write_text(f"steps:\n  a:\n    notebook: {value.format(outside=outside)}\n")
    res = subprocess.run([str(MLNB), "run", "pipeline.yaml"], cwd=ws, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert words in res.stderr and "step 'a'" in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert not (outside / "ran.txt").exists() and not (ws / "runs").exists()
