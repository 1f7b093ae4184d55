"""The published taxi demo in real chromium through `mlnb serve`: the index dashboard and the step dashboards render
with live widgets (a slice picked in StatsView is answered by the kernel), the static report opens, and no request
leaves 127.0.0.1 (the `page` fixture fails the test otherwise). Screenshots: test-artifacts/publish-*.png."""
from __future__ import annotations
import re, secrets, sys
from pathlib import Path

from conftest import assert_no_widget_errors, free_port, screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from taxi_workspace import MLNB, mlnb, taxi_run  # noqa: E402

STEPS = ["ingest", "statistics", "schema", "validate", "train", "evaluate", "compare", "push"]


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
