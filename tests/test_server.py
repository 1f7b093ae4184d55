"""mlnb's server extension (/mlnb/api/) against a real JupyterLab server: auth, path confinement, bad requests,
and a real run of a 2-step pipeline (real kernels, the real runner, a real ML-Metadata store)."""
from __future__ import annotations
import http.cookiejar, json, os, re, subprocess, sys, urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from mlnb_server_util import lab, start_lab, tiny_pipeline, wait_job  # noqa: E402

BIN = Path(sys.executable).parent


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
    listed = [p["path"] for p in server.api("mlnb/api/pipelines")[1]["pipelines"]]
    assert listed == ["tiny/pipeline.yaml"], listed  # not the symlinked or hidden ones


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
    status, info = server.api("mlnb/api/pipelines?path=tiny/pipeline.yaml")
    assert status == 200 and info["error"] is None, info
    assert [(s["name"], s["state"]) for s in info["steps"]] == [("make", "never run"), ("total", "never run")]

    status, job = server.api("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml",
                                                       "params": {"make.n": 4}})
    assert status == 202 and job["running"] and job["pipeline"] == "tiny/pipeline.yaml", job
    again = server.api("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml"})
    if server.api(f"mlnb/api/jobs/{job['job']}")[1]["running"]:  # the kernels take seconds to start
        assert again[0] == 409 and "already in progress" in again[1]["message"], again
    job = wait_job(server, job["job"])
    assert job["returncode"] == 0 and job["status"] == "succeeded", job["log"]
    run_id = job["run_id"]
    assert run_id and job["run"]["progress"]["done"] == 2 == job["run"]["progress"]["total"], job

    status, runs = server.api("mlnb/api/runs?workspace=tiny")
    assert status == 200 and runs["runs"][0]["run_id"] == run_id, runs
    row = runs["runs"][0]
    assert row["status"] == "succeeded"
    assert row["metrics"] == {"make.rows": 4, "total.total": 12.0}, row["metrics"]  # (0+1+2+3) * scale 2.0
    assert row["parameters"]["make"]["n"] == 4 and row["parameters"]["total"]["scale"] == 2.0, row["parameters"]

    status, run = server.api(f"mlnb/api/runs/{run_id}?workspace=tiny")
    assert status == 200 and set(run["steps"]) == {"make", "total"}
    nb = run["steps"]["total"]["notebook_path"]
    assert nb == f"tiny/runs/{run_id}/total.ipynb" and (root / nb).is_file(), nb

    status, arts = server.api(f"mlnb/api/artifacts?workspace=tiny&run={run_id}")
    assert status == 200 and {"step": "make", "path": "tiny/data/numbers.txt"}.items() <= arts["artifacts"][0].items(), arts

    status, lin = server.api("mlnb/api/lineage?path=tiny/data/numbers.txt")
    assert status == 200, lin
    produced = lin["lineage"]["produced_by"]
    assert produced["step"] == "make" and produced["run_id"] == run_id and produced["parameters"]["n"] == 4, produced

    status, site = server.api("mlnb/api/apps", "POST", {"workspace": "tiny", "run": run_id, "step": "total"})
    assert status == 200 and site["app"] == f"tiny/site/{run_id}/apps/total.ipynb", site
    assert (root / site["app"]).is_file() and (root / site["notebook"]).is_file() and (root / site["report"]).is_file()
    assert server.api("mlnb/api/apps", "POST", {"workspace": "tiny", "run": run_id, "step": "nope"})[0] == 404
    assert server.api("mlnb/api/apps", "POST", {"workspace": "../outside", "run": run_id, "step": "total"})[0] == 403

    status, info = server.api("mlnb/api/pipelines?path=tiny/pipeline.yaml")
    make, total = info["steps"]  # the run overrode make.n, so with the defaults both steps would run again
    assert make["state"] == "stale" and "parameters" in make["reason"] and make["last_run"] == run_id, make
    assert total["state"] == "stale" and "upstream step 'make'" in total["reason"], total

    status, job = server.api("mlnb/api/jobs", "POST", {"pipeline": "tiny/pipeline.yaml", "force": True})
    assert status == 202, job
    status, job = server.api(f"mlnb/api/jobs/{job['job']}", "DELETE")  # Stop: SIGINT to the runner
    assert status == 202, job
    job = wait_job(server, job["job"])
    assert job["status"] == "interrupted" and job["returncode"] != 0, job


def test_extensions_enabled():
    "After `make install`, Jupyter lists both halves of mlnb as enabled and OK."
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1")
    procs = [subprocess.Popen([str(BIN / "jupyter"), *cmd, "list"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env) for cmd in (["labextension"], ["server", "extension"])]
    lab_out, server_out = (re.sub(r"\x1b\[[0-9;]*m", "", p.communicate(timeout=300)[0]) for p in procs)
    assert any(l.split()[:4] == ["mlnb", "v0.1.0", "enabled", "OK"] for l in lab_out.splitlines()), lab_out
    assert "mlnb enabled" in server_out and "mlnb 0.1.0 OK" in server_out, server_out
