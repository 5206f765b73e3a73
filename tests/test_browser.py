"""In a real browser (Debian's chromium, driven by Playwright): JupyterLab shows the widgets of an executed notebook
saved by the demo (signed, with its widget state), not their text fallback (`VBox(children=...`).

Skips cleanly without chromium (`apt install chromium`; `.ci/run` installs it) or without Playwright (the dev
extra). The screenshot is kept under build/screenshots/ as an artefact.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None or importlib.util.find_spec("playwright") is None
                                or not (ROOT / ".venv" / "bin" / "jupyter").exists(),
                                reason="needs chromium (apt), playwright and the lab extra")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_demo():
    spec = importlib.util.spec_from_file_location("workbench_demo", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    """Notebook 01 executed and saved the way the demo saves it (signed, widget state kept)."""
    out = tmp_path_factory.mktemp("executed")
    demo = load_demo()
    saved = {k: os.environ.get(k) for k in [*demo.OFFLINE_ENV, "WORKBENCH_HOME"]}
    os.environ.update(demo.OFFLINE_ENV)
    os.environ["WORKBENCH_HOME"] = str(tmp_path_factory.mktemp("home"))
    try:
        demo.execute(ROOT / "notebooks" / "01_build_evalset.ipynb", out)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out / "01_build_evalset.ipynb"


@contextlib.contextmanager
def running_lab(command: list[str], env: dict[str, str]):
    """JupyterLab started with ``command`` (token ``t``, loopback), its base URL while it runs."""
    port = free_port()
    proc = subprocess.Popen([*command, "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
                             "--ServerApp.token=t"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("JupyterLab did not start in 90 s")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def lab(executed, tmp_path_factory):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("runtime"))}
    command = [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", f"--ServerApp.root_dir={executed.parent}",
               *(["--allow-root"] if os.geteuid() == 0 else [])]
    with running_lab(command, env) as url:
        yield url


def test_an_executed_notebook_shows_its_widgets_not_their_text(lab, executed):
    from playwright.sync_api import sync_playwright

    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab}/lab/tree/{executed.name}?token=t&reset", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        page.wait_for_selector(".jp-Notebook .jupyter-widgets", state="attached", timeout=60_000)
        time.sleep(1.0)  # let the widget views finish rendering before the screenshot
        page.locator(".jp-Notebook .jupyter-widgets").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "01_executed_widgets.png"))
        text = page.locator(".jp-Notebook").inner_text()
        widgets = page.locator(".jp-Notebook .jupyter-widgets").count()
        browser.close()
    assert widgets > 0
    assert "VBox(children=" not in text and "HTML(value=" not in text


@pytest.fixture
def interactive_01(tmp_path):
    """A copy of notebook 01 with INTERACTIVE = True beside it (its relative paths stay valid), removed after."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "01_build_evalset.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("INTERACTIVE = False"))
    cell.source = cell.source.replace("INTERACTIVE = False", "INTERACTIVE = True", 1)
    path = ROOT / "notebooks" / f"_browser_{os.getpid()}_01.ipynb"
    nbformat.write(nb, path)
    yield path
    path.unlink(missing_ok=True)
    (path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb").unlink(missing_ok=True)


def test_clicking_accept_in_notebook_01_records_the_decision(interactive_01, tmp_path):
    import json

    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_OFFLINE": "1",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    reviews = home / "reviews" / "01_review_decisions.jsonl"
    (ROOT / "build" / "screenshots").mkdir(parents=True, exist_ok=True)
    with running_lab([str(ROOT / "scripts" / "lab")], env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/{interactive_01.name}?token=t&reset", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        select = page.locator(".jp-Dialog button:has-text('Select')")
        try:  # JupyterLab may ask which kernel to start
            select.wait_for(state="visible", timeout=10_000)
            select.click()
        except Exception:  # noqa: BLE001 - no dialog: the kernel starts by itself
            pass
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        accept = page.locator(".jp-OutputArea .jupyter-widgets button:has-text('Accept')").first
        try:
            accept.wait_for(state="visible", timeout=120_000)
        except Exception:
            page.screenshot(path=str(ROOT / "build" / "screenshots" / "01_accept_timeout.png"))
            raise
        accept.scroll_into_view_if_needed()
        accept.click()
        page.locator(".jp-OutputArea .jupyter-widgets:has-text('✓ accepted')").first.wait_for(timeout=30_000)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (reviews.exists() and reviews.read_text().strip()):
            time.sleep(0.3)
        time.sleep(0.5)
        page.screenshot(path=str(ROOT / "build" / "screenshots" / "01_accept_clicked.png"))
        browser.close()
    rows = [json.loads(line) for line in reviews.read_text(encoding="utf-8").splitlines()]
    assert rows and rows[-1]["action"] == "accept", rows  # and the form said so: "✓ accepted ..."
