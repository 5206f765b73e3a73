"""``freeze_startup_heap``: after it, a full garbage collection no longer walks the objects a warmed-up runner made at
start (litellm's ~400k), which held a server's event loop for 0.22 s each time."""
from __future__ import annotations

import gc
import time

from workbench._util.heap import freeze_startup_heap
from workbench.models.litellm_env import import_litellm


def _full_collection_seconds() -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - start)
    return best


def _make_a_cycle(n: int) -> None:
    nodes = [[] for _ in range(n)]
    for i, node in enumerate(nodes):
        node.append(nodes[(i + 1) % n])


def test_a_full_collection_skips_what_was_alive_at_start():
    import_litellm()  # what a runner's warm-up loads: most of the objects
    held = [{"i": i} for i in range(200_000)]  # and then some, so the difference is plain on any machine
    before = _full_collection_seconds()
    try:
        frozen = freeze_startup_heap()
        after = _full_collection_seconds()
        assert frozen >= len(held) and gc.get_freeze_count() > 0  # objects may die meanwhile: no equality
        assert after < before / 5, (before, after)
        _make_a_cycle(10)  # made after the freeze: still collected
        assert gc.collect() >= 10
    finally:
        gc.unfreeze()
    del held


def test_serve_and_worker_freeze_after_their_warm_up():
    from pathlib import Path

    for name in ("serve_cmd.py", "worker_cmd.py"):
        text = (Path(__file__).resolve().parents[1] / "workbench" / "cli" / name).read_text(encoding="utf-8")
        assert text.index("runner.warm_up()") < text.index("freeze_startup_heap()")
