"""The mlnb JupyterLab extension in real chromium: the sidebar lists a pipeline, runs it, shows the run (its id as
a time), opens a step's notebook and a run step's executed notebook by clicking the step, its Voila app in a lab tab,
re-runs it forced and compares the two runs in a Voila app that shows only the comparison; a failed step's tooltip is
its error message; nothing leaves 127.0.0.1 (the `page` fixture fails the test otherwise)."""
from __future__ import annotations
import re, sys
from pathlib import Path

import nbformat

from conftest import screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlnb_server_util import notebook, tiny_pipeline  # noqa: E402

PANEL = 'li[data-id="mlnb-sidebar"]'
PIPELINE = '.mlnb-pipeline[data-path="tiny/pipeline.yaml"]'


def test_sidebar_runs_opens_and_compares(jupyter_lab, page, tmp_path):
    root = tmp_path / "root"
    tiny_pipeline(root / "tiny")
    (root / "broken").mkdir()  # a step that raises
    nbformat.write(notebook("n = 1", "raise ValueError(f'no rows for n={n}')"), root / "broken" / "fail.ipynb")
    (root / "broken" / "pipeline.yaml").write_text("steps:\n  fail:\n    notebook: fail.ipynb\n")
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
    page.wait_for_selector(f'.mlnb-progress[data-run-id="{run_id}"]:has-text("succeeded")')
    label = page.inner_text(f'.mlnb-run[data-run-id="{run_id}"] .mlnb-run-id')
    assert re.fullmatch(r"\d\d:\d\d:\d\d", label) and f"-{label.replace(':', '')}-" in run_id, label  # the time, no date prefix
    screenshot(page, "mlnb-run-done")

    # clicking a pipeline's step opens its notebook
    page.click(f'{PIPELINE} .mlnb-step[data-step="make"]')
    page.wait_for_selector('.lm-TabBar-tab[title*="tiny/make.ipynb"]', timeout=60_000)

    # the step's notebook (the published copy) and its Voila app, in lab tabs
    page.click(f'.mlnb-run[data-run-id="{run_id}"] .mlnb-run-id')  # expand: steps with their actions
    step = f'.mlnb-run[data-run-id="{run_id}"] .mlnb-run-step[data-step="total"]'
    page.click(f"{step} .mlnb-step-name")  # clicking the run's step opens its executed notebook
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
    page.wait_for_selector('.lm-TabBar-tab:has-text("Compare 2 runs")', timeout=60_000)
    frame = page.frame_locator('[id^="mlnb-voila-tiny-site-compare-"] iframe')
    frame.locator("text=2 runs").first.wait_for(timeout=180_000)
    shown = frame.locator("body").inner_text()
    assert "compare_pipeline_runs" not in shown and "import" not in shown and "Error" not in shown, shown
    assert page.locator(".jp-CodeConsole").count() == 0  # no console with code
    screenshot(page, "mlnb-compare")

    # a failed step: its tooltip in the run's steps is the error's message (not "[object Object]")
    broken = '.mlnb-pipeline[data-path="broken/pipeline.yaml"]'
    page.click(f"{broken} .mlnb-run-button")
    failed = page.wait_for_selector(f"{broken} .mlnb-run.mlnb-status-failed", timeout=240_000)
    page.click(f'{broken} .mlnb-run[data-run-id="{failed.get_attribute("data-run-id")}"] .mlnb-run-id')
    tip = page.get_attribute(f'{broken} .mlnb-run-step[data-step="fail"]', "title", timeout=30_000)
    assert "ValueError: no rows for n=1" in tip and "object" not in tip, tip
    screenshot(page, "mlnb-failed-step")
    assert not page.js_errors, page.js_errors
