"""Issue 12 item 10 in real chromium: a published app whose `live` cell has a button whose callback raises inside an
`ipywidgets.Output`. Served by `mlnb serve`, the viewer sees one generic line with a reference, never the callback's
source or the exception; the traceback is in the server's log for the author. `mlnb serve --debug` shows it.
Screenshots: test-artifacts/serve-callback-error.png, test-artifacts/serve-callback-error-debug.png."""
from __future__ import annotations
import re, secrets, sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import assert_no_widget_errors, free_port, screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from taxi_workspace import MLNB, mlnb  # noqa: E402

CALLBACK = '''import ipywidgets as w
out = w.Output()
button = w.Button(description="Recompute")
def recompute(_):
    with out:
        secret_threshold = 0.731  # an internal detail the stakeholder must not see
        raise ValueError(f"threshold {secret_threshold} rejected by the pricing table")
button.on_click(recompute)
w.VBox([button, out])'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "A real run of a one-step pipeline (its `live` cell has the button), published with `mlnb publish`."
    ws = tmp_path_factory.mktemp("callback")
    nbformat.write(new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                                cells=[new_markdown_cell("# Pricing"), new_code_cell("print('prices computed')"),
                                       new_code_cell(CALLBACK, metadata={"tags": ["live"]})]), ws / "dash.ipynb")
    (ws / "pipeline.yaml").write_text("steps:\n  dash:\n    notebook: dash.ipynb\n")
    for args in (["run", "pipeline.yaml"], ["publish", "latest", "-o", "published"]):
        proc = mlnb(*args, cwd=ws)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return ws / "published"


def _click_and_read(page, server, token: str, name: str) -> str:
    page.goto(f"{server.url}voila/render/apps/dash.ipynb?token={token}")
    page.wait_for_selector("button:has-text('Recompute')", timeout=180_000)
    assert "secret_threshold" not in page.content()  # sources stripped
    page.click("button:has-text('Recompute')")
    page.wait_for_selector(".widget-output .jp-OutputArea-output", timeout=60_000)
    page.wait_for_timeout(500)
    screenshot(page, name)
    return page.inner_text(".widget-output")


@pytest.mark.parametrize("debug", [False, True], ids=["served", "debug"])
def test_callback_error_in_output_widget(voila, page, site, tmp_path, debug):
    port, token = free_port(), secrets.token_hex(12)
    cmd = [str(MLNB), "serve", str(site), "--port", str(port), "--token", token] + (["--debug"] if debug else [])
    server = voila(cmd=cmd, port=port, cwd=tmp_path)
    shown = _click_and_read(page, server, token, "serve-callback-error" + ("-debug" if debug else ""))
    body = page.inner_text("body")
    assert "prices computed" in body and not body.lstrip().startswith("True"), body  # the app rendered, the guard cell silent
    assert_no_widget_errors(page)
    if debug:  # the author asked for tracebacks
        assert "ValueError" in shown and "threshold 0.731" in shown, shown
        return
    ref = re.search(r"Something went wrong in this dashboard \(error ([0-9a-f]{8})\)", shown)
    assert ref, shown
    text, html = page.inner_text("body"), page.content()
    for secret in ("ValueError", "0.731", "secret_threshold", "pricing table", "recompute", "Traceback"):
        assert secret not in shown and secret not in text, secret
    assert "secret_threshold" not in html and "pricing table" not in html
    page.wait_for_timeout(1000)  # the kernel's log line reaches the server's output
    log = server.log.read_text()
    assert f"error {ref.group(1)} in a widget callback" in log and "threshold 0.731 rejected" in log, log[-3000:]
    assert "raise ValueError(f\"threshold {secret_threshold}" in log  # the author gets the source line too
