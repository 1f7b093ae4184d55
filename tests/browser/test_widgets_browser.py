"""The data widgets (StatsView, SchemaEditor, AnomaliesView) in a real browser, offline.

JupyterLab runs examples/data_validation.ipynb; the test checks each widget rendered (DOM and SVG charts, no widget
error), edits the schema in the SchemaEditor (an invalid edit is refused inline, a valid one applied), accepts a
fix in the AnomaliesView, saves, and reads the schema the kernel wrote. Voila renders the same notebook. A third
test renders 200 features. Screenshots: test-artifacts/widgets-*.png.
"""
from __future__ import annotations
import json, shutil
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, ARTIFACTS, lab_run_all, notebook7_run_all, screenshot, assert_no_widget_errors

EXAMPLE = REPO / "examples" / "data_validation.ipynb"
SLOW = 300_000  # ms: the kernel imports TensorFlow and computes three statistics protos


@pytest.fixture
def workdir(tmp_path):
    "A copy of the example notebook in a fresh folder (its artifacts/ are written there)."
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    return tmp_path


def _shot(locator, name: str) -> None:
    "Screenshot one widget to test-artifacts/NAME.png."
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _saved_schema(workdir: Path):
    from mlnb.data.schema import load_schema
    return load_schema(workdir / "artifacts" / "schema.pbtxt")


def _domain_values(schema, feature: str) -> list[str]:
    f = next(f for f in schema.feature if f.name == feature)
    if f.HasField("string_domain"): return list(f.string_domain.value)
    return list(next(d for d in schema.string_domain if d.name == f.domain).value)


def test_data_widgets_in_jupyterlab(jupyter_lab, page, workdir):
    server = jupyter_lab(workdir)
    lab_run_all(page, server, EXAMPLE.name, timeout=SLOW)
    stats = page.locator(".mlnb-stats")
    editor = page.locator(".mlnb-schema")
    views = page.locator(".mlnb-anomalies")
    stats.locator("table.mlnb-stats-table svg rect").first.wait_for(timeout=60_000)
    editor.locator("table.mlnb-schema-table").wait_for()
    views.nth(1).locator(".mlnb-card").first.wait_for()
    assert_no_widget_errors(page)
    assert not page.js_errors, page.js_errors

    # StatsView: a row and a chart per feature, both datasets, distances; a click opens the detail
    assert stats.locator("tr.mlnb-row").count() == 7
    assert stats.locator("td.mlnb-chartcell svg").count() == 7
    assert stats.locator(".mlnb-ds1").count() > 0 and stats.locator("td.mlnb-distance").count() == 7
    stats.locator("tr[data-feature='distance']").click()
    stats.locator("tr.mlnb-detail svg").first.wait_for()
    assert stats.locator("tr.mlnb-detail svg").count() == 2  # histogram and quantiles
    stats.locator("select.mlnb-chart-kind").select_option("quantiles")
    stats.locator("td.mlnb-chartcell svg circle").first.wait_for()
    stats.locator("input.mlnb-log").check()
    stats.locator("input.mlnb-filter").fill("dist")
    page.wait_for_function("() => document.querySelectorAll('.mlnb-stats tr.mlnb-row').length === 1")
    _shot(stats, "widgets-lab-stats")
    stats.locator("input.mlnb-filter").fill("")

    # SchemaEditor: an invalid range is refused on the row with the schema's message; a valid one applies
    hour = editor.locator("tr[data-feature='hour']")
    hour.locator("input.mlnb-range-max").fill("5")
    hour.locator("input.mlnb-range-max").press("Enter")
    editor.locator("ul.mlnb-diff li", has_text="range set to (-inf, 5]").wait_for()
    hour.locator("input.mlnb-range-min").fill("30")
    hour.locator("input.mlnb-range-min").press("Enter")
    refused = editor.locator("tr.mlnb-error-row", has_text="greater than max")
    refused.wait_for()
    _shot(editor, "widgets-lab-schema-refused")
    hour.locator("input.mlnb-range-min").fill("0")
    hour.locator("input.mlnb-range-min").press("Enter")
    editor.locator("ul.mlnb-diff li", has_text="range set to [0, 5]").wait_for()
    hour.locator("input.mlnb-range-max").fill("23")
    hour.locator("input.mlnb-range-max").press("Enter")
    editor.locator("ul.mlnb-diff li", has_text="range set to [0, 23]").wait_for()
    assert refused.count() == 0
    editor.locator("button.mlnb-undo").click()
    editor.locator("ul.mlnb-diff li", has_text="range set to [0, 5]").wait_for()
    hour.locator("input.mlnb-range-max").fill("23")
    hour.locator("input.mlnb-range-max").press("Enter")
    editor.locator("ul.mlnb-diff li", has_text="range set to [0, 23]").wait_for()
    editor.locator("button.mlnb-save").click()
    editor.locator(".mlnb-status", has_text="saved").wait_for()
    saved = _saved_schema(workdir)
    hour_domain = next(f for f in saved.feature if f.name == "hour").int_domain
    assert (hour_domain.min, hour_domain.max) == (0, 23)

    # AnomaliesView: Accept the suggested fix for 'month' -> the schema allows 'Apr', the card goes
    first = views.nth(0)
    n_before = first.locator(".mlnb-card").count()
    month = first.locator(".mlnb-card[data-feature='month']")
    assert "Apr" in month.inner_text()
    month.locator("button.mlnb-accept").first.click()
    month.wait_for(state="detached")
    assert first.locator(".mlnb-card").count() == n_before - 1
    first.locator(".mlnb-accepted li", has_text="allow 'Apr' in 'month'").wait_for()
    editor.locator("ul.mlnb-diff li", has_text="value 'Apr' added to the domain").wait_for()
    _shot(first, "widgets-lab-anomalies")
    editor.locator("button.mlnb-save").click()
    page.wait_for_function("() => /saved/.test(document.querySelector('.mlnb-schema .mlnb-status').textContent)"
                           " && !document.querySelector('.mlnb-schema ul.mlnb-diff')")
    assert "Apr" in _domain_values(_saved_schema(workdir), "month")
    _shot(editor, "widgets-lab-schema")

    # a value the statistics saw is added from the row's input, and removed again with its chip's ×
    company = editor.locator("tr[data-feature='company']")
    company.locator("input.mlnb-add-value").fill("Metro Jet Taxi")
    company.locator("input.mlnb-add-value").press("Enter")
    editor.locator("ul.mlnb-diff li", has_text="value 'Metro Jet Taxi' added to the domain").wait_for()
    company.locator(".mlnb-chip[title='Metro Jet Taxi'] button.mlnb-chip-x").click()
    editor.locator("ul.mlnb-diff").wait_for(state="detached")
    assert not page.js_errors, page.js_errors
    screenshot(page, "widgets-lab")


def test_data_widgets_in_voila(voila, page, workdir):
    server = voila(workdir / EXAMPLE.name)
    page.goto(server.url, timeout=SLOW)
    page.locator(".mlnb-anomalies").nth(1).locator(".mlnb-card").first.wait_for(timeout=SLOW)
    assert page.locator(".mlnb-stats td.mlnb-chartcell svg").count() == 7
    assert page.locator(".mlnb-schema tr[data-feature]").count() == 7
    assert page.locator(".mlnb-anomalies").count() == 2
    assert_no_widget_errors(page)
    assert not page.js_errors, page.js_errors
    screenshot(page, "widgets-voila")
    _shot(page.locator(".mlnb-schema"), "widgets-voila-schema")
    _shot(page.locator(".mlnb-anomalies").nth(1), "widgets-voila-serving")


def test_200_features_slices_and_the_static_fallback(jupyter_lab, page, tmp_path, diamonds_df, taxi_df):
    """200 features (diamonds' ten columns, twenty variants each) against a second span: every row drawn from a
    small payload. Then a notebook saved with the widgets' outputs but no kernel (untrusted): the static HTML shows."""
    import pandas as pd
    import mlnb
    from mlnb.data.statistics import save_stats
    from mlnb.data.schema import infer_schema
    from mlnb.widgets import StatsView, SchemaEditor, AnomaliesView
    from mlnb.widgets.stats_view import get_payload
    wide = {}
    for i in range(20):
        for c in diamonds_df.columns.drop("rownames"):
            col = diamonds_df[c].iloc[:8000]
            wide[f"{c}_{i:02d}"] = col * (1 + i / 10) if col.dtype.kind in "if" else col.astype(str) + f"_{i % 3}"
    wide = pd.DataFrame(wide)
    a, b = mlnb.stats(wide.iloc[:4000]), mlnb.stats(wide.iloc[4000:])
    save_stats(a, tmp_path / "a.pb"); save_stats(b, tmp_path / "b.pb")
    save_stats(mlnb.stats(taxi_df.drop(columns=["rownames"]), slice_by="local"), tmp_path / "sliced.pb")
    payload = len(json.dumps(get_payload(a, b)))
    proto = len(a.SerializeToString()) + len(b.SerializeToString())
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from mlnb.widgets import StatsView\nStatsView('a.pb', 'b.pb')"),
        nbformat.v4.new_code_cell("StatsView('sliced.pb')")], metadata={"kernelspec": kernel})
    nbformat.write(nb, tmp_path / "wide.ipynb")
    # the same kind of outputs a papermill run leaves, in a notebook nobody trusted
    schema = infer_schema(a)
    outputs = [w._repr_mimebundle_()[0] for w in (StatsView(a, b), SchemaEditor(schema),
                                                  AnomaliesView(mlnb.validate(b, schema), schema=schema))]
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": kernel}, cells=[
        nbformat.v4.new_code_cell("w", execution_count=i + 1, outputs=[nbformat.v4.new_output("display_data", data=d)])
        for i, d in enumerate(outputs)])
    nbformat.write(nb, tmp_path / "static.ipynb")

    server = jupyter_lab(tmp_path)
    lab_run_all(page, server, "wide.ipynb")
    page.wait_for_function("() => document.querySelector('.mlnb-stats') && document.querySelector('.mlnb-stats').querySelectorAll('tr.mlnb-row').length === 200", timeout=60_000)
    assert page.locator(".mlnb-stats").first.locator("td.mlnb-chartcell svg").count() == 200
    render_ms = float(page.locator(".mlnb-stats").first.get_attribute("data-render-ms"))
    assert_no_widget_errors(page)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "widgets-200-features.json").write_text(json.dumps(
        {"features": 200, "payload_bytes": payload, "proto_bytes": proto, "render_ms": render_ms}))
    print(f"200 features: payload {payload / 1e3:.0f} kB (protos {proto / 1e3:.0f} kB), table drawn in {render_ms:.0f} ms")
    assert payload < 400_000  # pre-binned: about a kB per feature, whatever the number of rows
    screenshot(page, "widgets-200-features")

    # the slice picker: the statistics hold one dataset per value of `local`; picking one redraws from its slice
    sliced = page.locator(".mlnb-stats").nth(1)
    sliced.scroll_into_view_if_needed()
    picker = sliced.locator("select.mlnb-slice")
    options = picker.locator("option").all_text_contents()
    assert options[0] == "All Examples" and len(options) == 3
    assert "10,000 examples" in sliced.locator(".mlnb-legend").inner_text()
    picker.select_option(options[1])
    sliced.locator(".mlnb-legend", has_text=f"{(taxi_df.local == options[1].split('_')[-1]).sum():,} examples").wait_for()
    _shot(sliced, "widgets-lab-slices")

    page.goto(server.lab_url("static.ipynb"))
    static = page.locator(".jp-OutputArea-output .mlnb-static")
    static.nth(2).wait_for(timeout=60_000)
    assert static.count() == 3
    assert static.nth(0).locator("img.mlnb-chart").count() == 200
    assert "Categorical features" in static.nth(0).text_content()
    assert "Schema" in static.nth(1).text_content() and "carat_00" in static.nth(1).text_content()
    assert "Anomalies" in static.nth(2).text_content()
    assert_no_widget_errors(page)
    static.nth(1).scroll_into_view_if_needed()
    _shot(static.nth(1), "widgets-static-schema")
    static.nth(0).scroll_into_view_if_needed()
    page.locator(".jp-OutputArea-output").first.evaluate("e => e.scrollIntoView()")
    screenshot(page, "widgets-static-stats")


def test_data_widgets_in_notebook7(jupyter_lab, page, workdir):
    "Jupyter Notebook 7 runs the same example: the three widgets render and respond."
    server = jupyter_lab(workdir, app="notebook")
    notebook7_run_all(page, server, EXAMPLE.name, timeout=SLOW)
    stats = page.locator(".mlnb-stats")
    stats.locator("table.mlnb-stats-table svg rect").first.wait_for(timeout=60_000)
    page.locator(".mlnb-schema table.mlnb-schema-table").wait_for()
    page.locator(".mlnb-anomalies").nth(1).locator(".mlnb-card").first.wait_for()
    assert_no_widget_errors(page)
    # Notebook 7.6's own shortcuts plugin throws this on Run All in any notebook (seen with mlnb's extension removed)
    notebook7_own = "Cannot read properties of undefined (reading 'schema')"
    assert not [e for e in page.js_errors if e != notebook7_own], page.js_errors
    assert stats.locator("tr.mlnb-row").count() == 7
    stats.locator("input.mlnb-filter").fill("dist")
    page.wait_for_function("() => document.querySelectorAll('.mlnb-stats tr.mlnb-row').length === 1")
    _shot(stats, "widgets-notebook7-stats")
    screenshot(page, "widgets-notebook7")
