"""Published dashboards and `mlnb serve` in real chromium; no request may leave 127.0.0.1 (the `page` fixture fails the
test otherwise).

- The published taxi demo: the index and the step dashboards render with live widgets (a slice picked in StatsView
  is answered by the kernel), the static report opens. Screenshots: test-artifacts/publish-*.png.
- Issue 13 items 8 and 9: in a step's dashboard a `live` widget answers, an untagged one is a static view under a
  note that says why and how to make it live; the run page names the run's `-p` overrides.
  Screenshots: test-artifacts/publish-static-widget*.png.
- Issue 13 item 11: `mlnb serve NOTEBOOK` and `mlnb serve FOLDER` on notebooks outside any site, with mlnb widgets
  and a Font Awesome icon, offline. Screenshots: test-artifacts/serve-notebook.png, serve-folder.png."""
from __future__ import annotations
import re, secrets, sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import assert_no_widget_errors, free_port, screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from taxi_workspace import MLNB, mlnb, taxi_run  # noqa: E402

STEPS = ["ingest", "statistics", "schema", "validate", "train", "evaluate", "compare", "push", "monitor"]


def test_published_demo_in_voila(voila, page, tmp_path_factory, tmp_path):
    info = taxi_run(tmp_path_factory)
    site = tmp_path / "site"
    proc = mlnb("publish", info["run_id"], "-o", str(site), cwd=info["workspace"])
    assert proc.returncode == 0, proc.stderr
    port, token = free_port(), secrets.token_hex(12)
    server = voila(cmd=[str(MLNB), "serve", str(site), "--port", str(port), "--token", token], port=port, cwd=tmp_path)
    base = f"{server.url}voila/render/"

    # the index: every step with its status, recorded metrics and links
    page.goto(f"{base}index.ipynb?token={token}")
    page.wait_for_selector('.mlnb-index tr[data-step="push"]', timeout=180_000)
    rows = page.locator(".mlnb-index tr[data-step]")
    assert [rows.nth(i).get_attribute("data-step") for i in range(rows.count())] == STEPS
    assert {rows.nth(i).get_attribute("data-status") for i in range(rows.count())} <= {"ran", "cached"}
    text = page.inner_text(".mlnb-index")
    assert re.search(r"auc 0\.\d+", text) and "blessed True" in text
    screenshot(page, "publish-index")

    # the statistics dashboard: StatsView is live; picking a slice makes the kernel send that slice's payload
    # (JupyterLab's HTML sanitizer opens output links in a new tab: follow the link in this watched page instead)
    href = page.eval_on_selector('tr[data-step="statistics"] a:has-text("dashboard")', "a => a.href")
    report = page.eval_on_selector('tr[data-step="statistics"] a:has-text("report")', "a => a.href")
    assert href.startswith(f"{base}apps/statistics.ipynb")
    page.goto(href)
    page.wait_for_selector(".mlnb-stats .mlnb-legend-item", timeout=180_000)
    train = re.search(r"train: ([\d,]+) examples", page.inner_text(".mlnb-stats .mlnb-legend")).group(1)
    assert "mlnb.stats(" not in page.content()  # sources stripped
    page.select_option(".mlnb-stats select.mlnb-slice", "local_yes")
    page.wait_for_function("n => !document.querySelector('.mlnb-stats .mlnb-legend').textContent.includes(`train: ${n} `)",
                           arg=train, timeout=60_000)
    page.fill(".mlnb-stats .mlnb-filter", "dist")
    page.wait_for_function("() => document.querySelectorAll('.mlnb-stats tr.mlnb-row').length === 1")
    assert page.get_attribute(".mlnb-stats tr.mlnb-row", "data-feature") == "distance"
    assert_no_widget_errors(page)
    screenshot(page, "publish-statistics")

    # the validate dashboard: AnomaliesView for each span
    page.goto(f"{base}apps/validate.ipynb?token={token}")
    page.wait_for_selector(".mlnb-anomalies >> nth=2", timeout=180_000)
    assert_no_widget_errors(page)
    screenshot(page, "publish-validate")

    # the train dashboard: the run's outputs replayed (the learning curves as SVG), nothing retrained
    page.goto(f"{base}apps/train.ipynb?token={token}")
    page.wait_for_selector("#rendered_cells .jp-RenderedSVG img", timeout=180_000)  # JupyterLab shows SVG as <img>
    assert "cuda drivers" not in page.inner_text("#rendered_cells")  # stderr logs stay in the notebook
    screenshot(page, "publish-train")

    # the static report, served by Voila's file handler
    assert report == f"{server.url}voila/files/reports/statistics.html"
    page.goto(report)
    page.wait_for_selector(".mlnb-live-note")
    assert page.locator(".mlnb-static .mlnb-chart, .mlnb-static img, .mlnb-static svg").count() > 0  # StatsView's static charts
    screenshot(page, "publish-report")


KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
SCHEMA = 'feature { name: "fare" type: FLOAT }\nfeature { name: "company" type: BYTES }\n'


def _serve(voila, path, tmp_path):
    "`mlnb serve PATH` on a free port with a token: (server, token)."
    port, token = free_port(), secrets.token_hex(12)
    return voila(cmd=[str(MLNB), "serve", str(path), "--port", str(port), "--token", token], port=port, cwd=tmp_path), token


def test_static_and_live_widgets_in_a_dashboard(voila, page, tmp_path):
    "Issue 13 items 8, 9: a live widget answers; an untagged widget says it is static, and how to make it live."
    ws = tmp_path / "ws"
    ws.mkdir()
    nbformat.write(new_notebook(metadata=KERNEL, cells=[
        new_code_cell("rows = 3", metadata={"tags": ["parameters"]}),
        new_markdown_cell("# Fares"),
        new_code_cell("import ipywidgets as w\nfrom mlnb.widgets import SchemaEditor", metadata={"tags": ["live"]}),
        new_code_cell(f"open('schema.pbtxt', 'w').write({SCHEMA!r});"),
        new_code_cell("SchemaEditor('schema.pbtxt')"),  # untagged: its static view under the note
        new_code_cell("w.IntSlider(value=rows, description='live rows')", metadata={"tags": ["live"]}),
    ]), str(ws / "fares.ipynb"))
    (ws / "pipeline.yaml").write_text("name: fares\nsteps:\n  fares:\n    notebook: fares.ipynb\n"
                                      "    parameters: {rows: 3}\n    outputs: [schema.pbtxt]\n")
    for args in (["run", "pipeline.yaml", "-p", "fares.rows=5"], ["publish", "latest", "-o", "published"]):
        proc = mlnb(*args, cwd=ws)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    server, token = _serve(voila, ws / "published", tmp_path)

    page.goto(f"{server.url}voila/render/index.ipynb?token={token}")  # the run page: the -p override
    page.wait_for_selector('.mlnb-index tr[data-step="fares"]', timeout=180_000)
    assert "mlnb run pipeline.yaml -p fares.rows=5" in page.inner_text(".mlnb-command")
    assert page.inner_text('tr[data-step="fares"] .mlnb-params') == "-p rows=5"
    screenshot(page, "publish-static-widget-index")

    page.goto(f"{server.url}voila/render/apps/fares.ipynb?token={token}")
    page.wait_for_selector(".widget-slider", timeout=180_000)
    note = page.locator(".mlnb-static-note")
    assert note.count() == 1
    text = note.inner_text()
    assert "Static view" in text and "tag its cell live in fares.ipynb" in text and "mlnb publish" in text, text
    # the note sits right above the SchemaEditor's static table (the run's view), in the same output
    assert page.locator(".jp-OutputArea-output:has(.mlnb-static-note) .mlnb-static").count() == 1
    assert "fare" in page.inner_text(".jp-OutputArea-output:has(.mlnb-static-note) .mlnb-static")
    # the live slider is a real widget, built again with the run's -p value, and it answers the keyboard
    readout = page.locator(".widget-slider .widget-readout")
    assert readout.inner_text() == "5"
    page.focus(".widget-slider .noUi-handle")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.widget-slider .widget-readout').textContent.trim() === '6'")
    assert_no_widget_errors(page)
    screenshot(page, "publish-static-widget")


def _font_awesome_drawn(page, selector: str) -> bool:
    "Whether the icon at `selector` is drawn with the Font Awesome font (loaded, and with a glyph before it)."
    return page.locator(selector).first.evaluate("""async (icon) => {
        await document.fonts.ready;
        const glyph = getComputedStyle(icon, '::before').content;
        const family = getComputedStyle(icon).fontFamily;
        const loaded = [...document.fonts].some(f => /Font Awesome/.test(f.family) && f.status === 'loaded');
        return /Font Awesome/.test(family) && glyph !== 'none' && glyph !== '' && loaded;
    }""")


def test_serve_any_notebook_or_folder_offline(voila, page, tmp_path):
    "Issue 13 item 11: `mlnb serve NOTEBOOK|FOLDER` (not only sites): mlnb widgets and icons render, nothing from outside."
    folder = tmp_path / "analysis"
    folder.mkdir()
    (folder / "schema.pbtxt").write_text(SCHEMA)
    nbformat.write(new_notebook(metadata=KERNEL, cells=[
        new_markdown_cell("# An analysis, not a pipeline step"),
        new_code_cell("import ipywidgets as w\nfrom mlnb.widgets import SchemaEditor\nSchemaEditor('schema.pbtxt')"),
        new_code_cell("w.Button(description='Approve', icon='check')"),
    ]), str(folder / "analysis.ipynb"))
    server, token = _serve(voila, folder / "analysis.ipynb", tmp_path)
    page.goto(f"{server.url}?token={token}")  # Voila serves the one notebook at its root
    page.wait_for_selector(".mlnb-schema .mlnb-schema-table", timeout=180_000)
    page.wait_for_selector("button:has-text('Approve') i.fa-check")
    assert "SchemaEditor(" not in page.content()  # sources stripped
    assert "company" in page.inner_text("#rendered_cells")
    assert _font_awesome_drawn(page, "button:has-text('Approve') i.fa-check")
    assert_no_widget_errors(page)
    screenshot(page, "serve-notebook")

    server, token = _serve(voila, folder, tmp_path)
    page.goto(f"{server.url}?token={token}")  # Voila's list of the folder's notebooks
    item = page.wait_for_selector(".jp-DirListing-item:has-text('analysis.ipynb')", timeout=60_000)
    assert item.query_selector(".jp-DirListing-itemIcon svg")  # JupyterLab's own icons, bundled
    screenshot(page, "serve-folder")
