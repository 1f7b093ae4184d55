"""Publishing a real run: a small pipeline (one step that ran, one that failed, two skipped) executed by the real
runner and kernels, then `mlnb publish` and `mlnb serve` on it."""
import json, re, time, urllib.error, urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import mlnb
from mlnb.cli import main
from mlnb.publish.site import external_refs, find_run, publish
from mlnb.publish.serve import serve

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
PIPELINE = """name: tiny
steps:
  make:
    notebook: make.ipynb
    parameters: {rows: 7}
    outputs: [out/numbers.csv]
  boom:
    notebook: boom.ipynb
    upstream: [make]
  after:
    notebook: make.ipynb
    upstream: [boom]
  gated:
    notebook: make.ipynb
    upstream: [make]
    when: make.n > 100
"""


def _make_notebook():
    return new_notebook(metadata=KERNEL, cells=[
        new_code_cell("rows = 5", metadata={"tags": ["parameters"]}),
        new_markdown_cell("# Numbers\nA table of numbers."),
        new_code_cell("import os, pandas as pd, ipywidgets as w\nimport mlnb", metadata={"tags": ["live"]}),
        new_code_cell("frame = pd.DataFrame({'number': range(rows)})\nos.makedirs('out', exist_ok=True)\n"
                      "frame.to_csv('out/numbers.csv', index=False)\nframe"),
        new_code_cell("print('hello from the run')"),
        new_code_cell("mlnb.record('n', rows)\nmlnb.record('mean', float(frame.number.mean()));"),
        new_code_cell("w.IntSlider(value=len(pd.read_csv('out/numbers.csv')), description='rows')",
                      metadata={"tags": ["live"]}),
        new_code_cell("w.Checkbox(value=True, description='not tagged live')"),  # a widget left static
    ])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    "A workspace after one real run of the tiny pipeline (it fails: `boom` divides by zero)."
    ws = tmp_path_factory.mktemp("tiny")
    (ws / "pipeline.yaml").write_text(PIPELINE)
    nbformat.write(_make_notebook(), str(ws / "make.ipynb"))
    nbformat.write(new_notebook(metadata=KERNEL, cells=[new_code_cell("print('before')"), new_code_cell("1/0")]),
                   str(ws / "boom.ipynb"))
    result = mlnb.Pipeline.load(ws).run(log=lambda line: None)
    assert {s: r.status for s, r in result.steps.items()} == {"make": "ran", "boom": "failed", "after": "skipped",
                                                              "gated": "skipped"}
    return ws


@pytest.fixture(scope="module")
def site(workspace):
    return publish("latest", workspace=workspace)


def test_site_layout(workspace, site):
    run_id = find_run("latest", workspace).name
    assert site == workspace / "site" / run_id
    for path in ["index.html", "index.ipynb", "run.json", "apps/make.ipynb", "apps/boom.ipynb", "reports/make.html",
                 "reports/boom.html", "notebooks/make.ipynb", "artifacts/out/numbers.csv"]:
        assert (site / path).is_file(), path
    assert not (site / "apps" / "after.ipynb").exists()  # a skipped step has no notebook to show
    published = json.loads((site / "run.json").read_text())
    assert published["steps"]["make"]["site"] == {"app": "apps/make.ipynb", "report": "reports/make.html",
                                                  "notebook": "notebooks/make.ipynb"}
    assert published["published"]["artifact_notes"] == {}
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".")]  # no half-built folder left behind


def test_index_lists_steps_status_and_metrics(site):
    index = (site / "index.html").read_text()
    rows = dict(re.findall(r'<tr data-step="(\w+)" data-status="(\w+)">', index))
    assert rows == {"make": "ran", "boom": "failed", "after": "skipped", "gated": "skipped"}
    assert "ZeroDivisionError" in index  # why boom failed
    assert "upstream step &#x27;boom&#x27; failed" in index  # why `after` was skipped
    assert "make.n = 7" in index  # why `gated` was skipped: the condition and the value it read
    assert "<b>n</b> 7" in index and "<b>mean</b> 3" in index  # recorded values
    assert 'href="reports/make.html"' in index and 'href="notebooks/make.ipynb"' in index
    assert external_refs(index) == []


def test_reports_show_outputs_without_code_or_outside_loads(site):
    report = (site / "reports" / "make.html").read_text()
    assert "hello from the run" in report and "<table" in report  # printed text and the DataFrame
    assert "frame.to_csv" not in report and "rows = 7" not in report  # no code
    code_cells = re.findall(r'<div class="jp-Cell jp-CodeCell[^"]*"', report)
    assert len(code_cells) == 8 and all("jp-mod-noInput" in c for c in code_cells)
    assert report.count("mlnb-live-note") == 1  # where the live slider sits: interactive in the dashboard
    assert report.count("mlnb-static-note") == 1  # the untagged checkbox: static, and how to make it live
    assert "tag its cell <code>live</code> in <code>make.ipynb</code>" in report
    assert "n = 7" not in report  # mlnb.record bundles are for the index, not the report
    failed = (site / "reports" / "boom.html").read_text()
    assert "ZeroDivisionError" in failed and "before" in failed
    for page in site.glob("reports/*.html"):
        text = page.read_text()
        assert external_refs(text) == [], page
        assert not re.search(r"<(script|link)\b[^>]*(src|href)=[\"']https?://", text), page
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "mathjax" not in text.lower()


def test_app_replays_outputs_and_reruns_live_cells(site):
    "Executing an app notebook the way Voila does (a real kernel, in its folder) shows the run's outputs."
    from nbclient import NotebookClient
    app = nbformat.read(str(site / "apps" / "make.ipynb"), as_version=4)
    sources = [c.source for c in app.cells if c.cell_type == "code"]
    assert any("w.IntSlider" in s for s in sources) and any("rows = 7" in s for s in sources)  # live + injected
    assert not any("frame.to_csv" in s for s in sources)  # the computation is not repeated
    NotebookClient(app, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(site / "apps")}}).execute()
    outputs = [o for c in app.cells if c.cell_type == "code" for o in c.outputs]
    text = json.dumps([o.get("text", "") for o in outputs] + [o.get("data", {}) for o in outputs])
    assert "hello from the run" in text and "<table" in text
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 1  # the live slider, built again from the site's artifacts
    notes = [o["data"]["text/html"] for o in outputs if "mlnb-static-note" in o.get("data", {}).get("text/html", "")]
    assert len(notes) == 1 and "tag its cell <code>live</code> in <code>make.ipynb</code>" in notes[0]  # the checkbox
    assert not (site / "out").exists()  # live cells ran in artifacts/, not next to the app


def test_failed_app_shows_the_error(site):
    from nbclient import NotebookClient
    app = nbformat.read(str(site / "apps" / "boom.ipynb"), as_version=4)
    NotebookClient(app, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(site / "apps")}}).execute()
    shown = json.dumps([o.get("data", {}) for c in app.cells if c.cell_type == "code" for o in c.outputs])
    assert "ZeroDivisionError" in shown


def test_republish_replaces_the_site_and_flags_changed_artifacts(workspace, site):
    out = workspace / "out" / "numbers.csv"
    out.write_text(out.read_text() + "7\n")  # a later run rewrote this output
    again = publish("latest", workspace=workspace)
    assert again == site
    notes = json.loads((site / "run.json").read_text())["published"]["artifact_notes"]
    assert list(notes) == ["out/numbers.csv"] and "changed after this run" in notes["out/numbers.csv"]
    assert "out/numbers.csv: changed after this run" in (site / "index.html").read_text()


def test_cli_publish(workspace, tmp_path, capsys):
    run_id = find_run("latest", workspace).name
    assert main(["publish", run_id, "--workspace", str(workspace / "pipeline.yaml"), "-o", str(tmp_path / "s")]) == 0
    assert f"mlnb serve {tmp_path / 's'}" in capsys.readouterr().out
    assert (tmp_path / "s" / "index.html").is_file()
    assert main(["publish", "no-such-run", "--workspace", str(workspace)]) == 2
    err = capsys.readouterr().err
    assert "no run 'no-such-run'" in err and run_id in err
    assert main(["publish", "latest", "--workspace", str(tmp_path)]) == 2
    assert "run the pipeline first" in capsys.readouterr().err


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r: return r.status, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, ""


def test_serve(workspace, site, tmp_path):
    "Voila on 127.0.0.1 with mlnb's template: token required, reports served, notebooks and sources not."
    server = serve(workspace / "site", log=tmp_path / "voila.log")  # finds the newest site below site/
    try:
        assert server.site == site.resolve() and server.url.startswith("http://127.0.0.1:")
        status, page = _get(server.url)
        assert status == 200 and 'data-voila="voila"' in page
        assert "cdn.jsdelivr" not in page and external_refs(page) == []
        assert "dashboard(" not in page  # sources stripped
        status, _ = _get(server.url.split("?")[0])  # no token
        assert status in (401, 403) or "login" in _get(server.url.split("?")[0])[1].lower()
        status, report = _get(f"{server.base}/voila/files/reports/make.html?token={server.token}")
        assert status == 200 and "hello from the run" in report
        status, _ = _get(f"{server.base}/voila/files/notebooks/make.ipynb?token={server.token}")
        assert status == 403
        status, _ = _get(f"{server.base}/voila/render/notebooks/make.ipynb?token={server.token}")
        assert status == 403 and not (site / "notebooks" / "out").exists()  # the step is not run again in the site
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_serve_token_guards_files_and_pages(workspace, site, tmp_path):
    "Issue 12 item 3: with `mlnb serve SITE --token T` (the real CLI), no page or file answers without the token."
    import os, secrets, signal, socket, subprocess, sys
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    token, log = secrets.token_hex(8), (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mlnb"), "serve", str(site), "--port", str(port), "--token", token],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60  # as a user does: wait for the address it prints
        while time.time() < deadline and "open:" not in (tmp_path / "serve.log").read_text() and proc.poll() is None:
            time.sleep(0.3)
        assert proc.poll() is None and "open:" in (tmp_path / "serve.log").read_text(), (tmp_path / "serve.log").read_text()[-3000:]
        for path in ["voila/files/reports/make.html", "voila/files/reports/boom.html", "voila/files/notebooks/make.ipynb",
                     "voila/files/run.json"]:
            req = urllib.request.Request(f"{base}/{path}")
            with pytest.raises(urllib.error.HTTPError) as e: urllib.request.urlopen(req, timeout=30)
            assert e.value.code == 403, (path, e.value.code)
        for path in ["voila/render/index.ipynb", "voila/render/apps/make.ipynb", "voila/tree", "", "voila/api/contents"]:
            status, body = _get_no_redirect(f"{base}/{path}")
            assert status in (302, 401, 403) and "hello from the run" not in body, (path, status)
        status, report = _get(f"{base}/voila/files/reports/make.html?token={token}")
        assert status == 200 and "hello from the run" in report
        status, _ = _get(f"{base}/voila/files/notebooks/make.ipynb?token={token}")
        assert status == 403  # not allow-listed, token or not
    finally:
        proc.send_signal(signal.SIGTERM); proc.wait(30); log.close()
    # issue 13 item 10: one address in the terminal, the page to open (Voila's own "running at" line is dropped)
    printed = (tmp_path / "serve.log").read_text()
    assert re.findall(r"https?://\S+", printed) == [f"{base}/voila/render/index.ipynb?token={token}"], printed
    assert "Traceback" not in printed and "Uncaught exception" not in printed, printed  # a refused file is one log line


def _get_no_redirect(url):
    "(status, body) of a GET that does not follow redirects (a login redirect is a refusal)."
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs): return None
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=60) as r: return r.status, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, e.read().decode(errors="replace")


def test_serve_any_notebook_or_folder(tmp_path):
    "Issue 13 item 11: `mlnb serve NOTEBOOK` and `mlnb serve FOLDER` serve notebooks outside any site, with nothing from outside."
    folder = tmp_path / "plain"
    folder.mkdir()
    nbformat.write(new_notebook(metadata=KERNEL, cells=[
        new_markdown_cell("# A plain notebook"),
        new_code_cell("import ipywidgets as w\nprint('hello from a plain notebook')\nw.IntSlider(description='n')")]),
        str(folder / "hello.ipynb"))
    server = serve(folder / "hello.ipynb", log=tmp_path / "notebook.log")
    try:
        assert server.url == f"{server.base}/?token={server.token}"  # Voila serves the one notebook at its root
        status, page = _get(server.url)
        assert status == 200 and "hello from a plain notebook" in page and "A plain notebook" in page
        assert "cdn.jsdelivr" not in page and external_refs(page) == []  # mlnb's template: no Font Awesome CDN
        assert "print(" not in page  # sources stripped
    finally:
        server.stop()
    server = serve(folder, log=tmp_path / "folder.log")
    try:
        status, page = _get(server.url)
        assert status == 200 and "voila-tree-main" in page and external_refs(page) == []  # Voila's list of the notebooks
        status, listing = _get(f"{server.base}/voila/api/contents?token={server.token}")  # what that list shows
        assert status == 200 and [c["name"] for c in json.loads(listing)["content"]] == ["hello.ipynb"]
        status, page = _get(f"{server.base}/voila/render/hello.ipynb?token={server.token}")
        assert status == 200 and "hello from a plain notebook" in page and external_refs(page) == []
    finally:
        server.stop()
    assert main(["serve", str(folder / "missing.ipynb")]) == 2


def test_run_page_shows_overrides_and_keeps_record_order(workspace, tmp_path):
    "Issue 13 item 9: the run page names the run's -p overrides; recorded values keep one order whether a step ran or came from the cache."
    p = mlnb.Pipeline.load(workspace)
    ran = p.run(params={"make.rows": 9}, log=lambda line: None)
    cached = p.run(params={"make.rows": 9}, log=lambda line: None)
    assert ran.steps["make"].status == "ran" and cached.steps["make"].status == "cached"
    assert list(ran.steps["make"].records) != list(cached.steps["make"].records)  # the input: two orders of one record
    rows = []
    for r in (ran, cached):
        page = (publish(r.run_id, workspace=workspace, out=tmp_path / r.run_id) / "index.html").read_text()
        assert "run as <code>mlnb run pipeline.yaml -p make.rows=9</code>" in page
        rows.append(re.search(r'<tr data-step="make".*?</tr>', page).group(0))
        assert '<div class="mlnb-params" title="set with -p for this run">-p rows=9</div>' in rows[-1]
    order = [re.findall(r'<span class="mlnb-metric"><b>(\w+)</b>', row) for row in rows]
    assert order[0] == order[1] == ["mean", "n"]
