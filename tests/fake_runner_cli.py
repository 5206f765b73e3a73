"""``python tests/fake_runner_cli.py <workbench args>``: the workbench CLI with a fake runner, for tests that need
a worker or a server in a subprocess. ``WORKBENCH_TEST_FACTORY`` names the fake (``fake_factory`` by default, from
``test_queue``). Production has no such switch: only this test launcher replaces ``build_runner``."""
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import test_queue  # noqa: E402

import workbench.runner.source as source  # noqa: E402
from workbench.cli import main  # noqa: E402

source.build_runner = getattr(test_queue, os.environ.get("WORKBENCH_TEST_FACTORY", "fake_factory"))
sys.exit(main(sys.argv[1:]))
