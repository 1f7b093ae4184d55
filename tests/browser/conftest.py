"""Real-browser fixtures: Debian chromium driven by Python playwright, JupyterLab and Voila on 127.0.0.1.

Every page records the requests it makes; a request to any host other than 127.0.0.1 fails the test.
Screenshots go to `test-artifacts/` at the repo root: look at them.
"""
from __future__ import annotations
import json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VOILA_TEMPLATES = REPO / "mlnb" / "templates"  # holds voila/templates/mlnb: Voila's lab template, nothing from a CDN


def free_port() -> int:
    "A TCP port that is free on 127.0.0.1 right now."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    "A Jupyter or Voila server started by a test."
    url: str  # base URL ending with '/'
    token: str
    proc: subprocess.Popen
    log: Path
    root: Path
    extra: dict = field(default_factory=dict)

    def lab_url(self, path: str) -> str:
        "The JupyterLab URL that opens `path` (relative to the root) in a fresh workspace."
        return f"{self.url}lab/tree/{path}?token={self.token}&reset"

    def api(self, path: str, method: str = "GET", body=None, token: bool = True):
        "Call a JSON API of the server; returns (status, parsed body)."
        req = urllib.request.Request(self.url + path.lstrip("/"), method=method,
                                     data=None if body is None else json.dumps(body).encode())
        if token: req.add_header("Authorization", f"token {self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try: return e.code, json.loads(raw)
            except ValueError: return e.code, raw.decode(errors="replace")


class PortTaken(RuntimeError):
    "The server could not bind its port: another process took it between `free_port()` and the bind."


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90, ok_below: int = 500) -> None:
    """Poll `url` until it answers with a status below `ok_below` from our own process, or fail with its log.

    With a token in `url`, pass ok_below=400: another server answering on a reused port says 403, not 200."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            text = log.read_text()
            if "already in use" in text or "not available" in text or "Address already in use" in text:
                raise PortTaken(text[-500:])
            raise RuntimeError(f"server exited with {proc.returncode}:\n{text[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = None
        if status is not None and status < ok_below:
            time.sleep(0.3)  # a server that lost the port race exits at once: make sure ours is the one answering
            if proc.poll() is None: return
        time.sleep(0.3)
    raise RuntimeError(f"server not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def _start(make_cmd, url_of, cwd, env, log: Path, started: list, attempts: int = 3, **wait):
    "Start a server on a free port, trying another port when the chosen one was taken meanwhile."
    for attempt in range(attempts):
        port = free_port()
        proc = subprocess.Popen(make_cmd(port), cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(proc)
        try:
            _wait_ready(url_of(port), proc, log, **wait)
            return port, proc
        except PortTaken:
            if attempt == attempts - 1: raise


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()


def _jupyter_env(tmp: Path) -> dict:
    "An environment that isolates JupyterLab's settings and workspaces and turns off the news pop-up."
    settings = tmp / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), PYTHONUNBUFFERED="1")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def jupyter_lab(tmp_path_factory):
    """Factory: `jupyter_lab(root_dir)` starts JupyterLab on 127.0.0.1 with a token; stopped after the test.

    `jupyter_lab(root_dir, app="notebook")` starts Jupyter Notebook 7 instead."""
    started = []

    def start(root_dir, *args: str, app: str = "lab") -> Server:
        tmp = tmp_path_factory.mktemp("lab")
        token, log = secrets.token_hex(16), tmp / "lab.log"
        cmd = lambda port: [str(BIN / "jupyter"), app, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}", *args]
        port, proc = _start(cmd, lambda port: f"http://127.0.0.1:{port}/api/status?token={token}", root_dir,
                            _jupyter_env(tmp), log, started, ok_below=400)
        return Server(f"http://127.0.0.1:{port}/", token, proc, log, Path(root_dir))

    yield start
    for p in started: _stop(p)


@pytest.fixture
def voila(tmp_path_factory):
    """Factory: `voila(notebook_or_dir, *args)` starts Voila on 127.0.0.1 with mlnb's offline template
    (`--template=mlnb`, found through JUPYTER_PATH=mlnb/templates); stopped after the test.

    Pass a ready-made command instead (`voila(cmd=[...], port=N)`) to test a launcher such as `mlnb serve`."""
    started = []

    def start(target=None, *args: str, cmd: list | None = None, port: int | None = None, cwd=None) -> Server:
        tmp = tmp_path_factory.mktemp("voila")
        log = tmp / "voila.log"
        root = Path(cwd or (Path(target).parent if target and Path(target).is_file() else target or "."))
        env = _jupyter_env(tmp)
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(VOILA_TEMPLATES), env.get("JUPYTER_PATH")]))
        url_of = lambda port: f"http://127.0.0.1:{port}/"
        if cmd is None:
            make = lambda port: [str(BIN / "voila"), str(target), "--no-browser", f"--port={port}",
                                 "--Voila.ip=127.0.0.1", "--template=mlnb", *args]
            port, proc = _start(make, url_of, root, env, log, started, timeout=120)
        else:  # a launcher with its own port: no retry possible
            proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
            started.append(proc)
            _wait_ready(url_of(port), proc, log, timeout=120)
        return Server(url_of(port), "", proc, log, root)

    yield start
    for p in started: _stop(p)


@pytest.fixture(scope="session")
def browser():
    "Debian's chromium, headless, through Python playwright (never `playwright install`)."
    from playwright.sync_api import sync_playwright
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: `apt-get install -y chromium` (make test does this)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page that records every request and JS error; fails the test on a request leaving 127.0.0.1.

    `page.outside_requests` and `page.js_errors` are lists; a screenshot of the last state is saved
    as test-artifacts/<test name>-final.png."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.outside_requests, pg.js_errors = [], []

    def on_request(req):
        u = urlparse(req.url)
        if u.scheme in ("data", "blob", "about", "chrome-extension"): return
        if u.hostname not in LOCAL_HOSTS: pg.outside_requests.append(req.url)

    pg.on("request", on_request)
    pg.on("pageerror", lambda e: pg.js_errors.append(str(e)))
    yield pg
    try: screenshot(pg, f"{request.node.name}-final")
    except Exception: pass
    context.close()
    assert not pg.outside_requests, f"requests left 127.0.0.1: {pg.outside_requests}"


def screenshot(page, name: str) -> Path:
    "Save a full-page screenshot to test-artifacts/NAME.png and return its path."
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_kernel_idle(page, timeout: float = 120_000) -> None:
    "Wait until JupyterLab's status bar shows the kernel idle."
    page.wait_for_selector(".jp-Notebook", timeout=timeout)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item')]"
        ".some(e => /Idle/.test(e.textContent))", timeout=timeout)


def _run_all_cells(page, timeout: float) -> None:
    "Run > Run All Cells (JupyterLab and Notebook 7 share the menu), then wait until every code cell has run."
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    page.wait_for_function(
        """() => {
          const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
          return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""", timeout=timeout)


def lab_run_all(page, server: Server, notebook: str, timeout: float = 240_000) -> None:
    """Open `notebook` in JupyterLab, Run All Cells from the Run menu, wait until every code cell ran."""
    page.goto(server.lab_url(notebook))
    wait_kernel_idle(page, timeout)
    _run_all_cells(page, timeout)
    wait_kernel_idle(page, timeout)


def assert_no_widget_errors(page) -> None:
    "Fail when any output shows a widget error."
    text = page.inner_text("body")
    for bad in ("Error displaying widget", "Failed to load model class", "Error rendering output"):
        assert bad not in text, f"the page shows '{bad}'"


def notebook7_run_all(page, server: Server, notebook: str, timeout: float = 240_000) -> None:
    """Open `notebook` in Jupyter Notebook 7, Run All Cells from the Run menu, wait until every code cell ran."""
    page.goto(f"{server.url}notebooks/{notebook}?token={server.token}")
    page.wait_for_selector(".jp-Notebook", timeout=timeout)
    # Notebook 7 may ask which kernel to start (JupyterLab starts the notebook's own): take the one offered
    ready = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
    page.wait_for_selector(f"{ready}, .jp-Dialog button:has-text('Select')", timeout=timeout)
    page.wait_for_timeout(1500)  # the dialog can follow the indicator
    if page.locator(".jp-Dialog button:has-text('Select')").count():
        page.click(".jp-Dialog button:has-text('Select')")
    page.wait_for_selector(ready, timeout=timeout)
    _run_all_cells(page, timeout)
