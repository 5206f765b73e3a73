"""Test settings: offline environment, a private workspace, and no network beyond loopback.

Any attempt to connect to a non-loopback address fails the test that made it (even if the code under test
caught the error), so a test can never pass by quietly reaching the internet.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_OFFLINE_MODE": "true", "RAGAS_DO_NOT_TRACK": "true",
    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "TRANSFORMERS_OFFLINE": "1", "WORKBENCH_OFFLINE": "1",
}
os.environ.update(OFFLINE_ENV)
_CREATED: list[Path] = []
"""Temporary folders this session made (its workspace, the figure audit's); removed when it ends."""
if "WORKBENCH_HOME" not in os.environ:
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="workbench-tests-")
    _CREATED.append(Path(os.environ["WORKBENCH_HOME"]))

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared" / "external"
_violations: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a hostname other than localhost would need DNS


def _check(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        _violations.append(repr(address))
        raise ConnectionRefusedError(f"network blocked in tests: connection to {address!r}")


def _guarded_connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


@pytest.fixture(autouse=True)
def _no_network():
    """Fail the test if it tried to reach a non-loopback address."""
    _violations.clear()
    yield
    if _violations:
        found = list(_violations)
        _violations.clear()
        pytest.fail(f"test tried to reach the network: {found}")


@pytest.fixture
def shared_external() -> Path:
    """``../shared/external`` when present; skips the test otherwise (users clone the project alone)."""
    if not SHARED.is_dir():
        pytest.skip("../shared/external is not present")
    return SHARED


def pytest_configure(config):
    """Run the notebooks with nbval in lax mode (they are stored without outputs), in this environment, with every
    figure they show audited (``workbench.testing.figure_audit``; ``notebooks/test_figures.py`` reads the audit)."""
    if hasattr(config.option, "nbval_lax"):
        config.option.nbval_lax = True
        config.option.nbval_current_env = True
    if "WORKBENCH_FIGURE_AUDIT" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="workbench-figures-"))
        _CREATED.append(folder)
        startup = folder / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00_figure_audit.py").write_text(
            "import os\nfrom workbench.testing.figure_audit import install\n"
            "install(os.environ['WORKBENCH_FIGURE_AUDIT'])\n", encoding="utf-8")
        os.environ["IPYTHONDIR"] = str(folder / "ipython")  # kernels started by this session run the startup file
        os.environ["WORKBENCH_FIGURE_AUDIT"] = str(folder / "figures.jsonl")


def pytest_unconfigure(config):
    """Remove the temporary folders this session made (one workspace and one audit folder per run used to be
    left in /tmp). Background writers still open are flushed first, so none writes into a removed folder."""
    from workbench._util.batching import _flush_all

    _flush_all()
    for folder in _CREATED:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_runtest_setup(item):
    """Name the notebook whose kernel is about to start (before nbval starts it), for the figure audit."""
    if item.path.suffix == ".ipynb":
        os.environ["WORKBENCH_FIGURE_SOURCE"] = item.path.name
    else:
        os.environ.pop("WORKBENCH_FIGURE_SOURCE", None)
