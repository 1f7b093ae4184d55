"""The WhatIf widget in a real browser, offline: examples/whatif.ipynb (a Keras taxi model and a scikit-learn one).

JupyterLab runs the notebook; the test edits the datapoint (a number field and a dropdown) and checks the shown
prediction changes, finds the counterfactual, selects a point in the scatter, draws partial dependence and the
fairness table. Voila renders the same notebook and an edit re-predicts there too. No request leaves 127.0.0.1
(the `page` fixture fails the test otherwise). Screenshots: test-artifacts/whatif-*.png.
"""
from __future__ import annotations
import shutil

import pytest
from conftest import REPO, ARTIFACTS, lab_run_all, screenshot, assert_no_widget_errors

EXAMPLE = REPO / "examples" / "whatif.ipynb"
SLOW = 300_000  # ms: the kernel imports TensorFlow and trains the model


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    return tmp_path


def _score(widget) -> str:
    return widget.locator(".mlnb-wi-editor .mlnb-wi-pred[data-model='0'] .mlnb-wi-score").inner_text()


def _wait_score_change(page, before: str) -> None:
    page.wait_for_function(
        """(before) => { const e = document.querySelector(".mlnb-wi-editor .mlnb-wi-pred[data-model='0'] .mlnb-wi-score");
                         return e && e.textContent !== before; }""", arg=before, timeout=30_000)


def _other_company(w) -> None:
    "Pick another company in the editor's dropdown and wait for the prediction to change."
    before = _score(w)
    select = w.locator("tr[data-feature='company'] select")
    select.select_option("Flash Cab" if select.input_value() != "Flash Cab" else "Sun Taxi")
    _wait_score_change(w.page, before)


def _shot(locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_whatif_in_jupyterlab(jupyter_lab, page, workdir):
    server = jupyter_lab(workdir)
    lab_run_all(page, server, EXAMPLE.name, timeout=SLOW)
    w = page.locator(".mlnb-whatif")
    w.locator(".mlnb-wi-editor .mlnb-wi-score").first.wait_for(timeout=60_000)
    assert_no_widget_errors(page)
    assert not page.js_errors, page.js_errors
    assert w.locator(".mlnb-wi-pred").count() == 2  # the Keras model and the scikit-learn one
    assert w.locator("svg.mlnb-wi-plot circle.mlnb-wi-pt").count() == 1000
    assert w.locator("table.mlnb-wi-controls tbody tr").count() == 6

    # an edit in a number field re-predicts, and the history records it
    before = _score(w)
    num = w.locator("tr[data-feature='distance'] input.mlnb-wi-num")
    num.fill("40" if float(num.input_value()) < 20 else "0.3")
    num.press("Enter")
    _wait_score_change(page, before)
    w.locator("ol.mlnb-wi-history li", has_text="distance:").wait_for()
    assert w.locator("tr.mlnb-wi-edited[data-feature='distance']").count() == 1
    # a dropdown edit too
    _other_company(w)
    assert "ms" in w.locator(".mlnb-wi-ms").inner_text()

    # the nearest counterfactual: its column appears, differing features highlighted
    w.locator("button.mlnb-wi-cf-btn").click()
    w.locator(".mlnb-wi-cfhead").wait_for()
    assert w.locator("td.mlnb-wi-cf.mlnb-wi-differs").count() >= 1
    _shot(w, "whatif-lab-datapoint")

    # revert, then select another datapoint from the scatter
    w.locator("button.mlnb-wi-revert").click()
    page.wait_for_function("() => !document.querySelector('.mlnb-wi-editor .mlnb-badge')")
    head = w.locator(".mlnb-wi-head b").inner_text()
    w.locator("svg.mlnb-wi-plot circle.mlnb-wi-pt").nth(500).click(force=True)
    page.wait_for_function("(h) => document.querySelector('.mlnb-wi-head b').textContent !== h", arg=head)

    # partial dependence for a chosen feature
    w.locator("button[data-tab='pdp']").click()
    w.locator("select.mlnb-wi-pdp-feature").select_option("hour")
    page.wait_for_function("() => [...document.querySelectorAll('.mlnb-wi-pdpchart text')].some(t => t.textContent === '23')")
    assert w.locator(".mlnb-wi-pdpchart path.mlnb-wi-mean").count() == 2
    _shot(w, "whatif-lab-pdp")

    # performance & fairness: equal opportunity per company, both models
    w.locator("button[data-tab='performance']").click()
    w.locator("select.mlnb-wi-group").select_option("company")
    w.locator("input.mlnb-wi-cost").fill("20")  # a false positive costs 20 false negatives: not everyone is predicted to tip
    w.locator("input.mlnb-wi-cost").press("Enter")
    w.locator("select.mlnb-wi-strategy").select_option("equal_opportunity")
    w.locator(".mlnb-wi-perf[data-strategy='equal_opportunity'][data-group='company'][data-cost='20']").wait_for()
    assert w.locator(".mlnb-wi-perftable tbody tr").count() == 16  # Overall + 7 companies, per model
    tpr = [float(t.rstrip("%")) for t in w.locator(".mlnb-wi-perftable[data-model='0'] tbody tr td:nth-child(5)").all_inner_texts()[1:]]
    assert max(tpr) - min(tpr) <= 3 and max(tpr) < 100, tpr  # equal opportunity: every company's recall the same (in %)
    _shot(w, "whatif-lab-performance")
    assert not page.js_errors, page.js_errors
    screenshot(page, "whatif-lab")


def test_whatif_in_voila(voila, page, workdir):
    server = voila(workdir / EXAMPLE.name)
    page.goto(server.url, timeout=SLOW)
    w = page.locator(".mlnb-whatif")
    w.locator(".mlnb-wi-editor .mlnb-wi-score").first.wait_for(timeout=SLOW)
    assert_no_widget_errors(page)
    _other_company(w)
    screenshot(page, "whatif-voila")
    assert not page.js_errors, page.js_errors
