"""Shared by tests/test_server.py and tests/browser/test_extension.py: a tiny real pipeline, and JupyterLab
started once per module (the launch helpers come from tests/browser/conftest.py, loaded by path)."""
from __future__ import annotations
import importlib.util, json, secrets, subprocess, sys, time
from pathlib import Path

import nbformat

_spec = importlib.util.spec_from_file_location("mlnb_browser_conftest", Path(__file__).parent / "browser" / "conftest.py")
lab = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = lab  # dataclasses look their module up there
_spec.loader.exec_module(lab)


def notebook(params: str, body: str) -> nbformat.NotebookNode:
    "A notebook with a tagged `parameters` cell and one code cell."
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A step of the tiny pipeline"),
                nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    return nb


def tiny_pipeline(ws: Path) -> Path:
    "A 2-step pipeline: `make` writes numbers and records how many; `total` sums them and records the total."
    ws.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook("n = 5", "from pathlib import Path\nimport mlnb\n"
                            "Path('data').mkdir(exist_ok=True)\n"
                            "Path('data/numbers.txt').write_text('\\n'.join(str(i) for i in range(n)))\n"
                            "mlnb.record('rows', n)"), ws / "make.ipynb")
    nbformat.write(notebook("scale = 1.0", "from pathlib import Path\nimport mlnb\n"
                            "nums = [int(x) for x in Path('data/numbers.txt').read_text().split()]\n"
                            "print('total', sum(nums) * scale)\n"
                            "with mlnb.start_run(params={'scale': scale}) as run:  # a tracked run, for RunCompare\n"
                            "    run.log_metric('total', sum(nums) * scale)\n"
                            "mlnb.record('total', sum(nums) * scale)"), ws / "total.ipynb")
    (ws / "pipeline.yaml").write_text(
        "name: tiny\nsteps:\n"
        "  make:\n    notebook: make.ipynb\n    outputs: [data/numbers.txt]\n"
        "  total:\n    notebook: total.ipynb\n    upstream: [make]\n    parameters: {scale: 2.0}\n")
    return ws / "pipeline.yaml"


def start_lab(root: Path, tmp: Path) -> "lab.Server":
    "JupyterLab on 127.0.0.1 with a token, rooted at `root` (stop it with `lab._stop(server.proc)`)."
    port, token, log = lab.free_port(), secrets.token_hex(16), tmp / "lab.log"
    cmd = [str(lab.BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}"]
    proc = subprocess.Popen(cmd, cwd=root, env=lab._jupyter_env(tmp), stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    lab._wait_ready(f"{url}api/status?token={token}", proc, log)
    return lab.Server(url, token, proc, log, Path(root))


def wait_job(server, job_id: str, timeout: float = 240) -> dict:
    "Poll a job until its process has exited; returns its last state."
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, job = server.api(f"mlnb/api/jobs/{job_id}")
        assert status == 200, job
        if not job["running"]: return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still running after {timeout}s: {json.dumps(job)[:2000]}")
