"""MonitorView in real chromium, on the taxi months of tests/monitor_workspace.py (a fifth month with a new company,
missing hours and kilometres): in JupyterLab a click on a flagged cell of the timeline makes the kernel read that
span and send example rows; on the site `mlnb publish` builds, served by `mlnb serve`, the index shows the
monitoring verdict and the history across runs, the static monitoring page opens through Voila's file handler,
and the step's Voila app shows the view live, answering clicks from the saved rows. No request leaves 127.0.0.1
(the `page` fixture fails the test otherwise). Screenshots: test-artifacts/monitor-*.png."""
from __future__ import annotations
import secrets, sys
from pathlib import Path

import nbformat

from conftest import ARTIFACTS, assert_no_widget_errors, free_port, lab_run_all, screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from monitor_workspace import MLNB, mlnb, monitor_notebook, monitoring_runs  # noqa: E402

VIEW = ".mlnb-monitor"
CELL = VIEW + ' rect.mv-cell[data-span="{}"][data-feature="{}"]'


def shot(page, name: str) -> None:
    "Screenshots of the view's parts (JupyterLab scrolls inside its panels: a full-page shot would cut the view)."
    ARTIFACTS.mkdir(exist_ok=True)
    for part in ("mv-timeline-wrap", "mv-examples", "mv-trends", "mv-bottom"):
        box = page.locator(f"{VIEW} .{part}").first
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(ARTIFACTS / f"{name}-{part[3:]}.png"))


def example_column(page, name: str) -> list[str]:
    "The cells of one column of the example rows shown."
    return page.eval_on_selector_all(f"{VIEW} table.mv-rows tbody tr", """(rows, name) => {
        const k = [...document.querySelectorAll('.mlnb-monitor table.mv-rows thead th')].map(t => t.textContent).indexOf(name);
        return rows.map(r => r.children[k].textContent); }""", name)


def test_monitor_view_in_jupyterlab(jupyter_lab, page, tmp_path_factory):
    info = monitoring_runs(tmp_path_factory)
    ws = Path(info["workspace"])  # the pipeline ran here: the spans' profiles are cached
    nbformat.write(monitor_notebook(5), str(ws / "explore.ipynb"))
    server = jupyter_lab(ws)
    lab_run_all(page, server, "explore.ipynb")
    page.wait_for_selector(CELL.format("May", "company"), timeout=120_000)
    assert_no_widget_errors(page)
    statuses = page.eval_on_selector_all(f"{VIEW} rect.mv-cell", "cs => cs.map(c => [c.dataset.span, c.dataset.feature, c.dataset.status])")
    flagged = {(s, f): st for s, f, st in statuses if st != "ok"}
    assert flagged[("May", "company")] == flagged[("May", "hour")] == "anomaly" and flagged[("May", "distance")] == "drift"
    assert len(statuses) == 5 * 6
    assert "newest span May" in page.inner_text(f"{VIEW} .mv-summary")
    assert page.locator(f"{VIEW} .mv-grid-charts svg.mv-chart").count() == 4  # distance, p-value, missing, quantiles
    assert page.locator(f"{VIEW} .mv-model svg.mv-chart circle").count() == 5 * 3  # auc per span, 3 slices
    assert page.locator(f"{VIEW} .mv-triggers tbody tr").count() == 3
    page.wait_for_timeout(500)
    shot(page, "monitor-lab")

    # a click on the new company's cell: the kernel reads May's rows and sends five carrying "Zeta Cabs"
    page.locator(CELL.format("May", "company")).click()
    page.wait_for_selector(f"{VIEW} table.mv-rows tbody tr", timeout=60_000)
    assert example_column(page, "company") == ["Zeta Cabs"] * 5
    assert "values outside the schema's domain of company: Zeta Cabs" in page.inner_text(f"{VIEW} .mv-examples")
    assert page.locator(f"{VIEW} .mv-trends .mv-chart-title").nth(3).inner_text() == "Share of the most frequent values"

    # drift: the rows in the range of distances whose share grew most (kilometres read as miles)
    page.locator(CELL.format("May", "distance")).click()
    page.wait_for_function("() => document.querySelector('.mlnb-monitor .mv-examples').textContent.includes('grew most')",
                           timeout=60_000)
    assert all(float(v.replace(",", "")) >= 17 for v in example_column(page, "distance"))
    page.select_option(f"{VIEW} select.mv-feature", "hour")
    page.wait_for_function("() => document.querySelector('.mlnb-monitor .mv-kind').textContent.startsWith('hour')")
    assert_no_widget_errors(page)
    page.wait_for_timeout(500)
    shot(page, "monitor-lab-drilldown")


def test_published_monitoring(voila, page, tmp_path_factory, tmp_path):
    info = monitoring_runs(tmp_path_factory)
    ws = Path(info["workspace"])
    for run in info["runs"]:
        proc = mlnb("publish", run, cwd=ws)
        assert proc.returncode == 0, proc.stderr
    site = ws / "site" / info["runs"][-1]
    port, token = free_port(), secrets.token_hex(12)
    voila(cmd=[str(MLNB), "serve", str(site), "--port", str(port), "--token", token], port=port, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}/voila/render/"

    # the index: the monitoring verdict with its links, and the history across both runs
    page.goto(f"{base}index.ipynb?token={token}")
    block = '.mlnb-index [data-monitoring="monitor"]'
    page.wait_for_selector(block, timeout=180_000)
    assert "needs attention" in page.inner_text(block) and "newest span May: 2 anomalies" in page.inner_text(block)
    assert page.locator(".mlnb-history figure").count() == 3  # anomalies, auc, skew share over the two runs
    assert page.locator(".mlnb-history tbody tr").count() == 2
    screenshot(page, "monitor-site-index")

    # the static monitoring page, through Voila's file handler: timeline, charts as images, saved example rows
    href = page.eval_on_selector(f'{block} a:has-text("monitoring page")', "a => a.href")
    app = page.eval_on_selector(f'{block} a:has-text("live view")', "a => a.href")
    page.goto(href)
    page.wait_for_selector(".mlnb-monitor table.mv-grid-table")
    assert page.locator('.mv-grid-table td[data-status="anomaly"]').count() == 2
    assert page.eval_on_selector_all(".mlnb-monitor img.mlnb-chart", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    target = page.eval_on_selector('.mv-grid-table td[data-status="anomaly"] a', "a => a.getAttribute('href')")
    assert page.locator(f"details.mv-example{target}").count() == 1  # a flagged cell links to its example rows
    page.locator(f"details.mv-example{target} summary").click()
    assert page.locator(f"details.mv-example{target}[open] tbody tr").count() == 5
    screenshot(page, "monitor-site-page")

    # the step's Voila app: the view is live, loaded from the site, and answers clicks with the saved rows
    assert app.startswith(f"{base}apps/monitor.ipynb")
    page.goto(app)
    page.wait_for_selector(CELL.format("May", "hour"), timeout=180_000)
    page.locator(CELL.format("May", "hour")).click()
    page.wait_for_selector(f"{VIEW} table.mv-rows tbody tr", timeout=60_000)
    assert set(example_column(page, "hour")) == {"–"}  # the rows whose hour is missing
    assert "mlnb.monitor(" not in page.content()  # sources stripped, nothing recomputed
    assert_no_widget_errors(page)
    page.wait_for_timeout(500)
    screenshot(page, "monitor-site-app")
