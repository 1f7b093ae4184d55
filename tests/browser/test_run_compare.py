"""RunCompare in a real browser: JupyterLab and Voila render it offline, selecting runs updates the charts,
the filter runs in the kernel, links open the executed notebooks; no request leaves 127.0.0.1."""
from __future__ import annotations
import json, random
from pathlib import Path

import pytest
from conftest import assert_no_widget_errors, lab_run_all, screenshot

CURVES = "svg[data-chart=curves] path.rc-curve"


@pytest.fixture(scope="module")
def runs_ws(tmp_path_factory):
    "A workspace with 24 runs of a 'taxi' experiment (histories by epoch) and a notebook showing RunCompare."
    from mlnb.metadata.run_records import tracking_store, put_run
    ws = tmp_path_factory.mktemp("runcompare") / "ws"
    (ws / ".mlnb").mkdir(parents=True)
    store, rng = tracking_store(ws), random.Random(1)
    sweep_dir = ws / "runs" / "sweeps" / "s1"
    sweep_dir.mkdir(parents=True)
    for i in range(24):
        lr, units = [0.1, 0.03, 0.01, 0.003][i % 4], [8, 16, 32, 64, 128, 256][i // 4]
        final = 0.55 + 0.3 * rng.random()
        hist = {"val_auc": [[e, round(0.5 + (final - 0.5) * e / 5, 4), e] for e in range(1, 6)],
                "loss": [[e, round(0.7 - 0.05 * e * rng.random(), 4), e] for e in range(1, 6)]}
        executed = sweep_dir / f"{i:03d}.ipynb"
        executed.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        put_run(store, {"run_id": f"run-{i:02d}", "experiment": "taxi", "status": "failed" if i == 5 else "succeeded",
                        "source": "sweep", "sweep_id": "s1", "started": f"2024-05-01T10:{i:02d}:00.000+00:00",
                        "params": {"learning_rate": lr, "units": units, "optimizer": "adam"},
                        "metrics": {k: v[-1][1] for k, v in hist.items()}, "history": hist,
                        "executed_notebook": str(executed)})
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                     "source": "from mlnb.widgets import RunCompare\nRunCompare('taxi', metric='val_auc', workspace='.')"}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    put_run(store, {"run_id": "run-24-diverged", "experiment": "taxi", "status": "succeeded", "source": "sweep", "sweep_id": "s1",
                    "started": "2024-05-01T10:24:00.000+00:00", "params": {"learning_rate": 3.0, "units": 8, "optimizer": "adam"},
                    "metrics": {"val_auc": float("nan"), "loss": float("inf")},  # a diverged run: shown, never best, sorted last
                    "history": {"val_auc": [[1, 0.5, 1], [2, float("nan"), 2]], "loss": [[1, 0.7, 1], [2, float("inf"), 2]]}})
    (ws / "compare.ipynb").write_text(json.dumps(nb))
    from mlnb.runs.query import get_runs
    df = get_runs("taxi", workspace=ws)
    return ws, df


def _count(page, selector: str) -> int:
    return page.eval_on_selector_all(selector, "els => els.length")


def _select_another_run(page, df) -> str:
    "Click a row that is not selected; wait until the kernel sent its curve; the run id."
    before = _count(page, CURVES)
    row = page.locator(".mlnb-runs tr.rc-row:not(.rc-selected)").first
    run_id = row.get_attribute("data-run")
    row.click()
    page.wait_for_function(f"() => document.querySelectorAll('{CURVES}').length === {before + 1}", timeout=30_000)
    assert page.locator(f"{CURVES}[data-run='{run_id}']").count() == 1
    assert page.locator(f"svg[data-chart=parallel] path.rc-selected[data-run='{run_id}']").count() == 1
    assert page.locator(f"svg[data-chart=scatter] circle.rc-selected[data-run='{run_id}']").count() == 1
    return run_id


def test_run_compare_in_jupyterlab(jupyter_lab, page, runs_ws):
    ws, df = runs_ws
    server = jupyter_lab(ws)
    lab_run_all(page, server, "compare.ipynb")
    page.wait_for_selector(".mlnb-runs tr.rc-row", timeout=60_000)
    page.wait_for_function(f"() => document.querySelectorAll('{CURVES}').length === 3", timeout=30_000)
    assert _count(page, ".mlnb-runs tr.rc-row") == 25
    ok = df[df["status"] == "succeeded"]
    best = ok.loc[ok["metrics.val_auc"].idxmax(), "run_id"]  # NaN is never best
    assert page.locator(f"tr.rc-row.rc-best[data-run='{best}'] .rc-star").count() == 1
    assert page.inner_text(".rc-best-id") == best
    assert page.locator(".mlnb-runs tr.rc-row").first.get_attribute("data-run") == best  # sorted by the metric
    assert _count(page, "svg[data-chart=parallel] path.rc-pline") == 24  # every run with the metric (the failed one too), not NaN
    diverged = page.locator(".mlnb-runs tr.rc-row").last  # NaN sorts after every number
    assert diverged.get_attribute("data-run") == "run-24-diverged"
    cells = diverged.locator("td.mlnb-num").all_inner_texts()
    assert cells[-2:] == ["∞", "NaN"], cells  # loss, val_auc: as logged
    diverged.scroll_into_view_if_needed()
    screenshot(page, "run_compare_lab_diverged")
    page.locator(".mlnb-runs .rc-table-box").evaluate("el => el.scrollTop = 0")
    screenshot(page, "run_compare_lab_initial")

    added = _select_another_run(page, df)
    assert page.locator(f".rc-param-table th:has-text('{added}')").count() == 1
    # "differences only": the optimizer is the same everywhere, so it shows only when unchecked
    assert page.locator(".rc-param-table tr[data-param=optimizer]").count() == 0
    page.locator(".rc-diff-label input").uncheck()
    page.wait_for_selector(".rc-param-table tr[data-param=optimizer]", timeout=15_000)

    page.fill(".rc-filter", "params.units >= 64 and metrics.val_auc > 0.6")
    page.press(".rc-filter", "Enter")
    expected = ((df["params.units"] >= 64) & (df["metrics.val_auc"] > 0.6)).sum()
    page.wait_for_function(f"() => document.querySelectorAll('.mlnb-runs tr.rc-row').length === {expected}", timeout=15_000)
    page.fill(".rc-filter", "metric.val_auc > 0.6")
    page.press(".rc-filter", "Enter")
    page.wait_for_selector(".rc-filter-error:has-text(\"unknown prefix 'metric.'\")", timeout=15_000)

    href = page.locator("tr.rc-row a.rc-link").first.get_attribute("href")
    assert href.startswith("/lab/tree/runs/sweeps/s1/") and href.endswith(".ipynb"), href
    screenshot(page, "run_compare_lab_selected")
    page.locator(".mlnb-runs .rc-parallel").scroll_into_view_if_needed()
    screenshot(page, "run_compare_lab_charts")
    assert_no_widget_errors(page)
    assert not page.js_errors, page.js_errors


def test_run_compare_in_voila(voila, page, runs_ws):
    ws, df = runs_ws
    server = voila(ws / "compare.ipynb")
    page.goto(server.url)
    page.wait_for_selector(".mlnb-runs tr.rc-row", timeout=90_000)
    page.wait_for_function(f"() => document.querySelectorAll('{CURVES}').length === 3", timeout=30_000)
    _select_another_run(page, df)
    page.locator(".mlnb-runs th[data-col='params.learning_rate']").click()
    first = page.locator(".mlnb-runs tr.rc-row").first.get_attribute("data-run")
    assert first in set(df[df["params.learning_rate"] == 0.003]["run_id"])
    screenshot(page, "run_compare_voila")
    assert_no_widget_errors(page)
    assert not page.js_errors, page.js_errors
