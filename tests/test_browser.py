"""In a real browser (Debian's chromium, driven by Playwright), with JupyterLab on loopback:

- an executed notebook saved by the demo (signed, with its widget state) shows its widgets, not their text
  fallback (`VBox(children=...`);
- in notebook 01, clicking Accept in the review form records the decision;
- in notebook 04, moving the "cache hits" slider by keyboard changes the monthly total the widget shows, and the
  new total equals ``fmt_usd(project(scenario, ics).monthly_usd)`` computed here, from the kernel's item costs and
  the scenario the widget reports.

Skips cleanly without chromium (`apt install chromium`; `.ci/run` installs it) or without Playwright (the dev
extra). Screenshots are kept under build/screenshots/ as artefacts.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
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
    settings = Path(env.get("JUPYTER_RUNTIME_DIR") or ROOT / "build") / f"lab-settings-{port}"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8")  # no news prompt
    proc = subprocess.Popen([*command, "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
                             "--ServerApp.token=t", "--LabApp.news_url=None",
                             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                            env={**env, "JUPYTERLAB_SETTINGS_DIR": str(settings)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
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
        browser, page = new_page(p)
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


@contextlib.contextmanager
def copy_beside_notebooks(nb, tag: str):
    """``nb`` written as ``notebooks/_browser_<pid>_<tag>.ipynb`` (beside the originals, so its relative paths stay
    valid; git-ignored), removed after with its JupyterLab checkpoint."""
    import nbformat

    path = ROOT / "notebooks" / f"_browser_{os.getpid()}_{tag}.ipynb"
    nbformat.write(nb, path)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
        (path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb").unlink(missing_ok=True)


def new_page(playwright):
    """Debian's chromium, headless, and a 1400×1000 page in it."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    return browser, browser.new_page(viewport={"width": 1400, "height": 1000})


@pytest.fixture
def interactive_01():
    """A copy of notebook 01 with INTERACTIVE = True beside it, removed after."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "01_build_evalset.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("INTERACTIVE = False"))
    cell.source = cell.source.replace("INTERACTIVE = False", "INTERACTIVE = True", 1)
    with copy_beside_notebooks(nb, "01") as path:
        yield path


def lab_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a JupyterLab whose kernels run offline, with a fresh WORKBENCH_HOME under ``tmp_path``."""
    return {**os.environ, "WORKBENCH_HOME": str(tmp_path / "home"), "WORKBENCH_OFFLINE": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}


def open_and_run_all(page, url: str, notebook: Path) -> None:
    """Open ``notebook`` (beside the originals) in JupyterLab and run all its cells through the Run menu."""
    page.goto(f"{url}/lab/tree/{notebook.name}?token=t&reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    select = page.locator(".jp-Dialog button:has-text('Select')")
    try:  # JupyterLab may ask which kernel to start
        select.wait_for(state="visible", timeout=10_000)
        select.click()
    except Exception:  # noqa: BLE001 - no dialog: the kernel starts by itself
        pass
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")


def wait_or_screenshot(page, locator, name: str, timeout_ms: int) -> None:
    """Wait for ``locator`` to be visible; when a cell raises instead (Run All stops there) or on timeout, keep a
    screenshot ``name`` and fail with the notebook's error outputs."""
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                          has_text="Traceback (most recent call last)")  # how JupyterLab renders an error
    try:
        locator.or_(errors).first.wait_for(state="visible", timeout=timeout_ms)
        if locator.is_visible():
            return
        why = "a cell raised"
    except Exception:  # noqa: BLE001 - a Playwright timeout
        why = f"not shown in {timeout_ms / 1000:.0f} s"
    page.screenshot(path=str(SHOTS / name))
    pytest.fail(f"{why} (screenshot build/screenshots/{name}); errors: {errors.all_text_contents()}")


def test_clicking_accept_in_notebook_01_records_the_decision(interactive_01, tmp_path):
    from playwright.sync_api import sync_playwright

    env = lab_env(tmp_path)
    reviews = Path(env["WORKBENCH_HOME"]) / "reviews" / "01_review_decisions.jsonl"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_lab([str(ROOT / "scripts" / "lab")], env) as url, sync_playwright() as p:
        browser, page = new_page(p)
        open_and_run_all(page, url, interactive_01)
        accept = page.locator(".jp-OutputArea .jupyter-widgets button:has-text('Accept')").first
        wait_or_screenshot(page, accept, "01_accept_timeout.png", 120_000)
        accept.scroll_into_view_if_needed()
        accept.click()
        page.locator(".jp-OutputArea .jupyter-widgets:has-text('✓ accepted')").first.wait_for(timeout=30_000)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (reviews.exists() and reviews.read_text().strip()):
            time.sleep(0.3)
        time.sleep(0.5)
        page.screenshot(path=str(SHOTS / "01_accept_clicked.png"))
        browser.close()
    rows = [json.loads(line) for line in reviews.read_text(encoding="utf-8").splitlines()]
    assert rows and rows[-1]["action"] == "accept", rows  # and the form said so: "✓ accepted ..."


WIDGET_CELL = "projection_sliders(ics, base)"
HOOK = """\
# test hook (tests/test_browser.py): the kernel's item costs and base scenario, then the scenario the widget
# shows, now and whenever a slider's value changes (after the widget's own observer has updated the total), and
# a log of those changes
import json as _json, os as _os, pickle as _pickle, time as _time
with open({costs!r}, "wb") as _f:
    _pickle.dump((ics, base), _f)

def _write_scenario():
    with open({scenario!r} + ".tmp", "w", encoding="utf-8") as f:
        _json.dump(box.scenario().model_dump(), f)
    _os.replace({scenario!r} + ".tmp", {scenario!r})

def _record_change(change):
    with open({log!r}, "a", encoding="utf-8") as f:
        f.write(_json.dumps({{"t": _time.time(), "slider": change["owner"].description, "old": change["old"],
                             "new": change["new"]}}) + "\\n")
    _write_scenario()

for _slider in box.sliders.values():
    _slider.observe(_record_change, names="value")
_write_scenario()
"""


@pytest.fixture(scope="module")
def interactive_04(tmp_path_factory):
    """A copy of notebook 04 beside it whose slider widget is kept in ``box``, with a test-hook cell after it that
    pickles ``(ics, base)``, writes the widget's scenario as JSON (when the cell runs and whenever a slider's
    value changes) and logs the changes; yields (notebook, costs, scenario, log) paths and removes the copy after."""
    import nbformat

    tmp = tmp_path_factory.mktemp("hook04")
    costs, scenario, log = tmp / "costs.pkl", tmp / "scenario.json", tmp / "changes.jsonl"
    nb = nbformat.read(ROOT / "notebooks" / "04_cost_estimation.ipynb", as_version=4)
    at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
               and c.source.rstrip().endswith(f"\n{WIDGET_CELL}")), None)
    assert at is not None, f"notebook 04 has no cell ending with `{WIDGET_CELL}`: update this test"
    cell = nb.cells[at]
    cell.source = cell.source.rstrip()[:-len(WIDGET_CELL)] + f"box = {WIDGET_CELL}\nbox"
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(HOOK.format(costs=str(costs), scenario=str(scenario),
                                                                  log=str(log))))
    with copy_beside_notebooks(nb, "04") as path:
        yield path, costs, scenario, log


def settle(read, what: str, quiet: float = 2.0, timeout: float = 60.0):
    """``read()`` once it has returned the same value for ``quiet`` seconds (fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"{what} did not settle in {timeout:.0f} s: last {value}"
        time.sleep(0.25)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
    return value


def percent(readout: str) -> float:
    """A slider readout such as ``25%`` as a fraction."""
    match = re.fullmatch(r"\s*(-?[\d.]+)\s*%\s*", readout)
    assert match, f"not a percentage readout: {readout!r}"
    return float(match[1]) / 100


def assert_readouts_show(readouts: dict[str, str], scenario) -> None:
    """Every slider's readout shows ``scenario``'s value, within the readout's rounding."""
    from workbench.widgets.costs import LEVERS

    assert float(readouts["items/day"].replace(",", "")) == pytest.approx(scenario.items_per_day, abs=0.5 + 1e-9)
    weights = {label.removeprefix("tier "): float(r) for label, r in readouts.items() if label.startswith("tier ")}
    assert {t for t, w in weights.items() if w > 0} == {t for t, s in scenario.mix.items() if s > 0}, readouts
    for tier, share in scenario.mix.items():  # weights within 0.005 each, normalised
        assert share == pytest.approx(weights[tier] / sum(weights.values()), abs=0.01), (tier, readouts, scenario)
    for name, label, _ in LEVERS:
        assert getattr(scenario, name) == pytest.approx(percent(readouts[label]), abs=0.005 + 1e-9), (label, scenario)


@pytest.fixture(scope="module")
def sliders_04(interactive_04, tmp_path_factory):
    """Notebook 04 run in JupyterLab: the widget's total, readouts and scenario once settled, before and after the
    "cache hits" slider is moved five steps by keyboard (screenshots 04_slider_before/moved.png)."""
    from playwright.sync_api import expect, sync_playwright

    notebook, costs, recorded, log = interactive_04
    env = lab_env(tmp_path_factory.mktemp("lab04"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_lab([str(ROOT / "scripts" / "lab")], env) as url, sync_playwright() as p:
        browser, page = new_page(p)
        open_and_run_all(page, url, notebook)  # in a fresh WORKBENCH_HOME it runs notebook 03's experiment first
        widget = page.locator(".jp-OutputArea-output .widget-hbox",
                              has=page.locator(".widget-slider", has_text="cache hits")).first
        total = widget.locator(".widget-html b").first
        wait_or_screenshot(page, total, "04_sliders_timeout.png", 600_000)
        widget.scroll_into_view_if_needed()

        def state():
            """(total shown, {slider label: readout}, scenario the kernel last wrote)."""
            readouts = widget.evaluate("el => Object.fromEntries([...el.querySelectorAll('.widget-slider')].map("
                                       "s => [s.querySelector('.widget-label').textContent,"
                                       " s.querySelector('.widget-readout').textContent]))")
            return total.inner_text(), readouts, recorded.read_text() if recorded.exists() else None

        deadline = time.monotonic() + 120  # the hook cell runs after the widget cell
        while not recorded.exists():
            assert time.monotonic() < deadline, "the test-hook cell did not run"
            time.sleep(0.3)
        before = settle(state, "the widget after display")
        page.screenshot(path=str(SHOTS / "04_slider_before.png"))

        handle = widget.locator(".widget-slider", has_text="cache hits").locator(".noUi-handle")
        handle.focus()  # like a user tabbing to the handle, then pressing the arrow key
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        expect(total).not_to_have_text(before[0], timeout=30_000)
        after = settle(state, "the widget after the move")
        page.screenshot(path=str(SHOTS / "04_slider_moved.png"))
        browser.close()
    with costs.open("rb") as f:
        ics, base = pickle.load(f)
    from workbench.costs import Scenario

    changes = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return SimpleNamespace(ics=ics, base=base, changes=changes, **{
        f"{when}_{k}": v for when, (shown, readouts, scenario) in (("before", before), ("after", after))
        for k, v in (("total", shown), ("readouts", readouts), ("scenario", Scenario.model_validate_json(scenario)))})


def test_moving_a_slider_in_notebook_04_shows_the_projection_of_the_api(sliders_04):
    from workbench.costs import project
    from workbench.costs.items import fmt_usd

    s = sliders_04
    # before the move: the total is the API's projection of the scenario the widget reports, as the readouts show
    assert s.before_total == fmt_usd(project(s.before_scenario, s.ics).monthly_usd), s.changes
    assert_readouts_show(s.before_readouts, s.before_scenario)
    # five steps right: the readout moved from 20 % to 25 %, the scenario follows it and nothing else changed
    assert percent(s.after_readouts["cache hits"]) == pytest.approx(percent(s.before_readouts["cache hits"]) + 0.05)
    assert_readouts_show(s.after_readouts, s.after_scenario)
    assert s.after_scenario == s.before_scenario.replace(cache_hit_rate=s.after_scenario.cache_hit_rate)
    # the total changed, to the API's projection of that scenario
    assert s.after_total != s.before_total
    assert s.after_total == fmt_usd(project(s.after_scenario, s.ics).monthly_usd), (s.after_scenario, s.changes)


def test_notebook_04_sliders_keep_showing_the_base_total_until_a_slider_moves(sliders_04):
    from workbench.costs import project
    from workbench.costs.items import fmt_usd

    s = sliders_04  # the browser snaps the sliders to their steps when it draws them: that is not a move
    assert s.before_scenario == s.base, s.changes
    assert s.before_total == fmt_usd(project(s.base, s.ics).monthly_usd), s.changes
