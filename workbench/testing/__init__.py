"""Test helpers that ship with workbench: a fault-injecting OpenAI-compatible server for loopback tests and
benchmarks; never imported by the pipeline or the runner.

    from workbench.testing import FaultServer, FaultConfig, running
"""
from .._util.lazy import lazy_exports

_EXPORTS = {"FaultServer": ".fault_server", "FaultConfig": ".fault_server", "running": ".fault_server"}
__all__ = ["FaultConfig", "FaultServer", "running"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
