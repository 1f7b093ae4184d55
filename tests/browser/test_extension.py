"""The mlnb JupyterLab extension in real chromium: the sidebar lists a pipeline, runs it, shows the run, opens the
executed step notebook and its Voila app in lab tabs, re-runs it forced and compares the two runs in RunCompare;
nothing leaves 127.0.0.1 (the `page` fixture fails the test otherwise)."""
from __future__ import annotations
import sys
from pathlib import Path

from conftest import screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlnb_server_util import tiny_pipeline  # noqa: E402

PANEL = 'li[data-id="mlnb-sidebar"]'
PIPELINE = '.mlnb-pipeline[data-path="tiny/pipeline.yaml"]'


def test_sidebar_runs_opens_and_compares(jupyter_lab, page, tmp_path):
    root = tmp_path / "root"
    tiny_pipeline(root / "tiny")
    server = jupyter_lab(root)
    page.goto(f"{server.url}lab?token={server.token}&reset")
    page.click(PANEL, timeout=90_000)
    pipeline = page.wait_for_selector(PIPELINE, timeout=60_000)
    page.wait_for_selector('.mlnb-step[data-step="total"] .mlnb-step-state:has-text("never run")', timeout=60_000)
    assert "No runs yet." in pipeline.inner_text()
    screenshot(page, "mlnb-sidebar")

    # Run: live progress, then the run with its metrics, and the steps up to date
    page.click(f"{PIPELINE} .mlnb-run-button")
    page.wait_for_selector(".mlnb-progress", timeout=30_000)
    run = page.wait_for_selector(".mlnb-run.mlnb-status-succeeded", timeout=240_000)
    run_id = run.get_attribute("data-run-id")
    assert (root / "tiny" / "runs" / run_id / "run.json").is_file()
    assert "rows=5" in run.inner_text() and "total=20" in run.inner_text(), run.inner_text()
    page.wait_for_selector('.mlnb-step[data-step="total"] .mlnb-step-state:has-text("up to date")', timeout=30_000)
    page.wait_for_selector(f'.mlnb-progress:has-text("{run_id} succeeded")')
    screenshot(page, "mlnb-run-done")

    # the step's notebook (the published copy) and its Voila app, in lab tabs
    page.click(f'.mlnb-run[data-run-id="{run_id}"] .mlnb-run-id')  # expand: steps with their actions
    step = f'.mlnb-run[data-run-id="{run_id}"] .mlnb-run-step[data-step="total"]'
    page.click(f"{step} .mlnb-open-notebook")
    page.wait_for_selector(f'.lm-TabBar-tab[title*="tiny/site/{run_id}/notebooks/total.ipynb"]', timeout=60_000)
    page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output:has-text("total 20.0")',
                           timeout=60_000)
    page.click(f"{step} .mlnb-open-voila")
    page.wait_for_selector(".mlnb-VoilaFrame iframe", timeout=30_000)
    frame = page.frame_locator(".mlnb-VoilaFrame iframe")
    frame.locator("text=total 20.0").wait_for(timeout=120_000)  # the stored outputs, replayed by the site's app
    assert frame.locator("text=A step of the tiny pipeline").count() == 1
    html = frame.locator("html").inner_html()
    assert "mlnb.record" not in html and "read_text().split()" not in html, "Voila showed the sources"
    assert "There was an error" not in html
    screenshot(page, "mlnb-voila-preview")

    # a forced second run, then both compared: RunCompare over the runs their steps tracked
    page.check(f"{PIPELINE} .mlnb-force")
    page.click(f"{PIPELINE} .mlnb-run-button")
    page.wait_for_function("() => document.querySelectorAll('.mlnb-run.mlnb-status-succeeded').length === 2",
                           timeout=240_000)
    for rid in [r.get_attribute("data-run-id") for r in page.query_selector_all(".mlnb-run")]:
        page.check(f'.mlnb-run[data-run-id="{rid}"] .mlnb-run-select')
    page.click('.mlnb-compare-button:has-text("Compare (2)")')
    page.wait_for_selector(".jp-CodeConsole", timeout=60_000)
    page.wait_for_selector('.jp-CodeConsole .jp-OutputArea-output :text("2 runs")', timeout=120_000)
    outputs = " ".join(e.inner_text() for e in page.query_selector_all(".jp-CodeConsole .jp-OutputArea-output"))
    assert "not available" not in outputs and "Error" not in outputs, outputs
    screenshot(page, "mlnb-compare")
    assert not page.js_errors, page.js_errors
