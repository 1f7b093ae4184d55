"""mlnb's server extension (/mlnb/api/) against a real JupyterLab server: auth, path confinement, bad requests,
a real run of a 2-step pipeline (real kernels, the real runner, a real ML-Metadata store), and the typed contract:
every answer validated against mlnb/lab/api.schema.json, which the dataclasses of mlnb.lab.api generate and the
TypeScript interfaces of the extension are generated from."""
from __future__ import annotations
import http.cookiejar, json, os, re, subprocess, sys, urllib.request
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from mlnb_server_util import lab, notebook, start_lab, tiny_pipeline, wait_job  # noqa: E402
from mlnb.lab import api as contract  # noqa: E402

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def checked(server, path: str, endpoint: str, method: str = "GET", body=None, expected: int = 200):
    "Call the API and validate its answer against the schema definition of `endpoint` (a key of x-endpoints)."
    status, reply = server.api(path, method, body)
    assert status == expected, (path, status, reply)
    contract.validate(reply, endpoint)
    return reply


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    "One JupyterLab for the module, rooted at a folder with a tiny pipeline; a pipeline outside the root too."
    base = tmp_path_factory.mktemp("server")
    root, outside = base / "root", base / "outside"
    tiny_pipeline(root / "tiny")
    tiny_pipeline(outside)  # a real pipeline the API must refuse to read or run
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "hidden").mkdir(); (root / "hidden" / ".secret").mkdir()
    tiny_pipeline(root / "hidden" / ".secret")
    broken = root / "broken"  # a step that raises: its run's error is typed
    broken.mkdir()
    nbformat.write(notebook("n = 1", "raise ValueError(f'no rows for n={n}')"), broken / "fail.ipynb")
    (broken / "pipeline.yaml").write_text("steps:\n  fail:\n    notebook: fail.ipynb\n")
    escapes = root / "escapes"  # issue 12 item 2: notebooks outside the workspace, each its own pipeline
    for name, nb in [("dotdot", "../../outside/make.ipynb"), ("absolute", str(outside / "make.ipynb")), ("link", "link.ipynb")]:
        (escapes / name).mkdir(parents=True)
        (escapes / name / "pipeline.yaml").write_text(f"steps:\n  a:\n    notebook: {nb}\n")
    (escapes / "link" / "link.ipynb").symlink_to(outside / "make.ipynb")
    elsewhere = base / "elsewhere" / "runs" / "r1"  # issue 12 item 4: a run folder linked into the workspace
    elsewhere.mkdir(parents=True)
    (elsewhere / "run.json").write_text(json.dumps({"status": "succeeded", "pipeline": "SECRET", "steps": {
        "a": {"status": "ran", "outputs": ["../../../elsewhere"], "records": {"secret": 42}}}}))
    (root / "tiny" / "runs").mkdir(parents=True)
    (root / "tiny" / "runs" / "evil").symlink_to(elsewhere, target_is_directory=True)
    server = start_lab(root, base)
    yield server, root, outside
    lab._stop(server.proc)


def test_token_required(env):
    server, _, _ = env
    for path, method, body in [("mlnb/api/pipelines", "GET", None), ("mlnb/api/info", "GET", None),
                               ("mlnb/api/runs?workspace=tiny", "GET", None), ("mlnb/api/jobs", "GET", None),
                               ("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml"}),
                               ("mlnb/api/lineage?path=tiny/data/numbers.txt", "GET", None)]:
        status, reply = server.api(path, method, body, token=False)
        assert status == 403, (path, method, status, reply)
    assert server.api("mlnb/api/jobs", token=True)[1] == {"jobs": []}  # nothing was started without the token


def test_post_needs_xsrf_without_token(env):
    "A browser-style POST with the login cookie but no XSRF token is refused."
    server, _, _ = env
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server.url}lab?token={server.token}").read()  # sets the login and _xsrf cookies
    assert opener.open(f"{server.url}mlnb/api/info").status == 200
    body = json.dumps({"pipeline": "tiny/nope.yaml"}).encode()
    req = urllib.request.Request(f"{server.url}mlnb/api/jobs", method="POST", data=body)
    with pytest.raises(urllib.error.HTTPError) as e: opener.open(req)
    assert e.value.code == 403 and "_xsrf" in e.value.read().decode()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")  # what JupyterLab sends: the 404 proves it got through
    req = urllib.request.Request(f"{server.url}mlnb/api/jobs", method="POST", data=body, headers={"X-XSRFToken": xsrf})
    with pytest.raises(urllib.error.HTTPError) as e: opener.open(req)
    assert e.value.code == 404, e.value.read()


def test_paths_outside_root_refused(env):
    server, root, outside = env
    cases = [
        ("mlnb/api/pipelines?path=../outside/pipeline.yaml", 403),
        (f"mlnb/api/pipelines?path={outside}/pipeline.yaml", 403),
        ("mlnb/api/pipelines?path=escape/pipeline.yaml", 403),  # a symlink out of the root
        ("mlnb/api/pipelines?path=tiny/..%2F..%2Foutside%2Fpipeline.yaml", 403),
        ("mlnb/api/pipelines?path=hidden/.secret/pipeline.yaml", 404),
        ("mlnb/api/runs?workspace=..", 403),
        ("mlnb/api/runs?workspace=escape", 403),
        ("mlnb/api/runs?workspace=/", 403),
        ("mlnb/api/lineage?path=../outside/data/numbers.txt", 403),
        ("mlnb/api/lineage?path=%2Fetc%2Fpasswd", 403),
        ("mlnb/api/runs/..%2F..?workspace=tiny", 400),  # not a run id
    ]
    for path, expected in cases:
        status, reply = server.api(path)
        assert status == expected, (path, status, reply)
        assert isinstance(reply, dict) and reply.get("message"), (path, reply)
    for pipeline in ["../outside/pipeline.yaml", str(outside / "pipeline.yaml"), "escape/pipeline.yaml"]:
        status, reply = server.api("mlnb/api/jobs", "POST", {"pipeline": pipeline})
        assert status == 403, (pipeline, status, reply)
    assert not (outside / "runs").exists(), "a pipeline outside the root was run"
    listed = [p["path"] for p in checked(server, "mlnb/api/pipelines", "GET pipelines")["pipelines"]]
    assert "tiny/pipeline.yaml" in listed and not [p for p in listed if "escape/" in p or "hidden" in p], listed


def test_notebooks_outside_the_workspace_refused(env):
    "Issue 12 item 2: a pipeline whose notebook is `..`, absolute, or a symlink out of the root does not run."
    server, root, outside = env
    for name in ["dotdot", "absolute", "link"]:
        status, reply = server.api("mlnb/api/jobs", "POST", {"pipeline": f"escapes/{name}/pipeline.yaml"})
        assert status in (400, 403) and "notebook" in reply["message"], (name, status, reply)
    assert server.api("mlnb/api/jobs")[1] == {"jobs": []}
    assert not (outside / "runs").exists() and not list((root / "escapes").rglob("runs")), "a refused pipeline ran"


def test_symlinked_run_folder_confined(env):
    "Issue 12 item 4: runs/evil -> a run folder outside the root is neither listed nor read."
    server, root, _ = env
    for path in ["mlnb/api/runs/evil?workspace=tiny", "mlnb/api/artifacts?workspace=tiny&run=evil"]:
        status, reply = server.api(path)
        assert status == 403 and "outside the server root" in reply["message"], (path, status, reply)
    status, reply = server.api("mlnb/api/apps", "POST", {"workspace": "tiny", "run": "evil", "step": "a"})
    assert status == 403, reply
    runs = checked(server, "mlnb/api/runs?workspace=tiny", "GET runs?workspace=W")
    assert "evil" not in [r["run_id"] for r in runs["runs"]] and "SECRET" not in json.dumps(runs), runs


def test_bad_requests(env):
    server, root, _ = env
    posts = [({"params": {}}, 400, "pipeline"), ({"pipeline": "tiny/make.ipynb"}, 400, "pipeline.yaml"),
             ({"pipeline": "tiny/pipeline.yaml", "colour": 1}, 400, "unknown fields"),
             ({"pipeline": "tiny/pipeline.yaml", "params": {"scale": 2}}, 400, "step.name"),
             ({"pipeline": "tiny/pipeline.yaml", "params": {"total.scale": [1]}}, 400, "string, number or boolean"),
             ({"pipeline": "tiny/pipeline.yaml", "only": "make; rm -rf /"}, 400, "step name"),
             ({"pipeline": "tiny/pipeline.yaml", "force": "yes"}, 400, "true or false"),
             ({"pipeline": "tiny/nope.yaml"}, 404, "does not exist"), ([1, 2], 400, "JSON object")]
    for body, expected, words in posts:
        status, reply = server.api("mlnb/api/jobs", "POST", body)
        assert status == expected and words in reply["message"], (body, status, reply)
    req = urllib.request.Request(f"{server.url}mlnb/api/jobs", method="POST", data=b"{not json",
                                 headers={"Authorization": f"token {server.token}"})
    with pytest.raises(urllib.error.HTTPError) as e: urllib.request.urlopen(req)
    assert e.value.code == 400 and "not JSON" in json.loads(e.value.read())["message"]
    for path, expected in [("mlnb/api/runs", 400), ("mlnb/api/runs?workspace=tiny&limit=x", 400),
                           ("mlnb/api/runs/nope?workspace=tiny", 404), ("mlnb/api/jobs/0123456789ab", 404),
                           ("mlnb/api/pipelines?path=tiny/make.ipynb", 400), ("mlnb/api/artifacts?workspace=tiny", 400),
                           ("mlnb/api/lineage", 400), ("mlnb/api/runs?workspace=tiny/pipeline.yaml", 400)]:
        status, reply = server.api(path)
        assert status == expected, (path, status, reply)
    status, reply = server.api("mlnb/api/apps", "POST", {"workspace": "tiny", "run": "r1"})
    assert status == 400 and "step" in reply["message"], reply
    assert server.api("mlnb/api/jobs")[1] == {"jobs": []}


def test_run_lifecycle(env):
    "Start a run through the API, follow it to the end, then find it with its parameters, metrics and lineage."
    server, root, _ = env
    info = checked(server, "mlnb/api/pipelines?path=tiny/pipeline.yaml", "GET pipelines?path=P")
    assert info["error"] is None, info
    assert [(s["name"], s["state"]) for s in info["steps"]] == [("make", "never run"), ("total", "never run")]
    checked(server, "mlnb/api/info", "GET info")

    job = checked(server, "mlnb/api/jobs", "POST jobs", "POST", {"pipeline": "tiny/pipeline.yaml", "params": {"make.n": 4}}, 202)
    assert job["running"] and job["pipeline"] == "tiny/pipeline.yaml", job
    checked(server, f"mlnb/api/jobs/{job['job']}", "GET jobs/<job>")
    checked(server, "mlnb/api/jobs", "GET jobs")
    again = server.api("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml"})
    if server.api(f"mlnb/api/jobs/{job['job']}")[1]["running"]:  # the kernels take seconds to start
        assert again[0] == 409 and "already in progress" in again[1]["message"], again
    job = wait_job(server, job["job"])
    contract.validate(job, "GET jobs/<job>")
    assert job["returncode"] == 0 and job["status"] == "succeeded", job["log"]
    run_id = job["run_id"]
    assert run_id and job["run"]["progress"]["done"] == 2 == job["run"]["progress"]["total"], job

    runs = checked(server, "mlnb/api/runs?workspace=tiny", "GET runs?workspace=W")
    assert runs["runs"][0]["run_id"] == run_id, runs
    row = runs["runs"][0]
    assert row["status"] == "succeeded"
    assert row["metrics"] == {"make.rows": 4, "total.total": 12.0}, row["metrics"]  # (0+1+2+3) * scale 2.0
    assert row["parameters"]["make"]["n"] == 4 and row["parameters"]["total"]["scale"] == 2.0, row["parameters"]

    run = checked(server, f"mlnb/api/runs/{run_id}?workspace=tiny", "GET runs/<run_id>?workspace=W")
    assert set(run["steps"]) == {"make", "total"} and run["steps"]["make"]["error"] is None
    nb = run["steps"]["total"]["notebook_path"]
    assert nb == f"tiny/runs/{run_id}/total.ipynb" and (root / nb).is_file(), nb

    arts = checked(server, f"mlnb/api/artifacts?workspace=tiny&run={run_id}", "GET artifacts?workspace=W&run=R")
    assert {"step": "make", "path": "tiny/data/numbers.txt"}.items() <= arts["artifacts"][0].items(), arts

    lin = checked(server, "mlnb/api/lineage?path=tiny/data/numbers.txt", "GET lineage?path=P")
    produced = lin["lineage"]["produced_by"]
    assert produced["step"] == "make" and produced["run_id"] == run_id and produced["parameters"]["n"] == 4, produced

    site = checked(server, "mlnb/api/apps", "POST apps", "POST", {"workspace": "tiny", "run": run_id, "step": "total"})
    assert site["app"] == f"tiny/site/{run_id}/apps/total.ipynb", site
    assert (root / site["app"]).is_file() and (root / site["notebook"]).is_file() and (root / site["report"]).is_file()
    assert server.api("mlnb/api/apps", "POST", {"workspace": "tiny", "run": run_id, "step": "nope"})[0] == 404
    assert server.api("mlnb/api/apps", "POST", {"workspace": "../outside", "run": run_id, "step": "total"})[0] == 403

    compare = checked(server, "mlnb/api/compare", "POST compare", "POST", {"workspace": "tiny", "runs": [run_id]})
    assert compare["app"].startswith("tiny/site/compare/") and (root / compare["app"]).is_file(), compare
    for body, expected in [({"workspace": "tiny", "runs": []}, 400), ({"workspace": "tiny", "runs": ["nope"]}, 404),
                           ({"workspace": "tiny", "runs": ["evil"]}, 403), ({"workspace": "../outside", "runs": [run_id]}, 403),
                           ({"runs": [run_id]}, 400)]:
        assert server.api("mlnb/api/compare", "POST", body)[0] == expected, body

    status, info = server.api("mlnb/api/pipelines?path=tiny/pipeline.yaml")
    make, total = info["steps"]  # the run overrode make.n, so with the defaults both steps would run again
    assert make["state"] == "stale" and "parameters" in make["reason"] and make["last_run"] == run_id, make
    assert total["state"] == "stale" and "upstream step 'make'" in total["reason"], total

    status, job = server.api("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml", "force": True})
    assert status == 202, job
    job = checked(server, f"mlnb/api/jobs/{job['job']}", "DELETE jobs/<job>", "DELETE", expected=202)  # Stop: SIGINT
    job = wait_job(server, job["job"])
    assert job["status"] == "interrupted" and job["returncode"] != 0, job


def test_failed_step_error_is_typed(env):
    "A failed step's error reaches the client as {message, ename, evalue, cell_index}: the tooltip shows `message`."
    server, root, _ = env
    job = checked(server, "mlnb/api/jobs", "POST jobs", "POST", {"pipeline": "broken/pipeline.yaml"}, 202)
    job = wait_job(server, job["job"])
    assert job["status"] == "failed", job
    run = checked(server, f"mlnb/api/runs/{job['run_id']}?workspace=broken", "GET runs/<run_id>?workspace=W")
    error = run["steps"]["fail"]["error"]
    assert error["ename"] == "ValueError" and error["evalue"] == "no rows for n=1" and isinstance(error["cell_index"], int), error
    assert "ValueError: no rows for n=1" in error["message"], error


def test_schema_file_is_generated_from_the_dataclasses():
    "mlnb/lab/api.schema.json is what mlnb.lab.api's dataclasses generate (regenerate: write_schema())."
    assert json.loads(contract.SCHEMA_FILE.read_text()) == contract.api_schema()


def test_typescript_interfaces_match_the_schema():
    "extension/src/api.generated.ts is generated from the schema, declares each definition's fields, and api.ts declares no answer type by hand."
    res = subprocess.run(["node", str(REPO / "extension" / "scripts" / "schema-to-ts.mjs"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    ts = (REPO / "extension" / "src" / "api.generated.ts").read_text()
    declared = {m.group(1): set(re.findall(r"^  (\w+)\??:", m.group(2), re.M))
                for m in re.finditer(r"export interface I(\w+) \{\n(.*?)^\}", ts, re.S | re.M)}
    schema = contract.api_schema()
    assert {n: set(d["properties"]) for n, d in schema["$defs"].items()} == {n: f for n, f in declared.items() if n != "Endpoints"}
    hand = re.findall(r"export interface (\w+)", (REPO / "extension" / "src" / "api.ts").read_text())
    assert hand == ["IStartOptions"], hand  # a request body; every answer type comes from the schema
    panel = (REPO / "extension" / "src" / "panel.ts").read_text()
    assert "s.error.message" in panel and "s.error ||" not in panel  # the failed step's tooltip shows the message


def test_extensions_enabled():
    "After `make install`, Jupyter lists both halves of mlnb as enabled and OK."
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1")
    procs = [subprocess.Popen([str(BIN / "jupyter"), *cmd, "list"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env) for cmd in (["labextension"], ["server", "extension"])]
    lab_out, server_out = (re.sub(r"\x1b\[[0-9;]*m", "", p.communicate(timeout=300)[0]) for p in procs)
    assert any(l.split()[:4] == ["mlnb", "v0.1.0", "enabled", "OK"] for l in lab_out.splitlines()), lab_out
    assert "mlnb enabled" in server_out and "mlnb 0.1.0 OK" in server_out, server_out
