"""The background batch writer: batches, flush, back-pressure, idle exit, errors said once."""
from __future__ import annotations

import threading
import time

import pytest

from workbench._util import batching
from workbench._util.batching import BatchWriter


def test_items_arrive_in_order_in_batches_and_flush_waits():
    batches: list[list[int]] = []
    writer = BatchWriter(batches.append, batch_seconds=5.0, max_batch=10)
    for i in range(35):
        writer.append(i)
    assert writer.flush(timeout=10)  # does not wait for batch_seconds
    assert [i for b in batches for i in b] == list(range(35)) and max(map(len, batches)) <= 10
    assert len(writer) == 0


def test_back_pressure_bounds_the_queue_without_dropping():
    seen: list[int] = []

    def slow(batch):
        time.sleep(0.01)
        seen.extend(batch)

    writer = BatchWriter(slow, batch_seconds=0.001, max_batch=5, max_pending=20)
    for i in range(200):
        writer.append(i)
        assert len(writer) <= 25
    writer.flush()
    assert seen == list(range(200))


def test_an_idle_thread_ends_and_the_next_append_starts_one(monkeypatch):
    monkeypatch.setattr(batching, "IDLE_SECONDS", 0.05)
    got: list[str] = []
    writer = BatchWriter(got.extend, batch_seconds=0.001)
    writer.append("a")
    writer.flush()
    deadline = time.monotonic() + 5
    while writer._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer._thread is None
    writer.append("b")
    writer.flush()
    assert got == ["a", "b"]


def test_a_failing_write_is_said_once_and_does_not_stop_the_writer(capsys):
    calls = []

    def broken(batch):
        calls.append(batch)
        raise RuntimeError("boom")

    writer = BatchWriter(broken, batch_seconds=0.001, max_batch=1)
    for i in range(3):
        writer.append(i)
    writer.flush()
    assert calls == [[0], [1], [2]] and capsys.readouterr().err.count("boom") == 1


def test_many_threads_append_and_nothing_is_lost():
    got: list[tuple[int, int]] = []
    writer = BatchWriter(got.extend, batch_seconds=0.002, max_batch=7, max_pending=30)
    threads = [threading.Thread(target=lambda k=k: [writer.append((k, i)) for i in range(300)]) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    assert sorted(got) == [(k, i) for k in range(4) for i in range(300)]


@pytest.mark.parametrize("inline", [False, True], ids=["thread", "full-batches-inline"])
def test_every_item_is_written_within_the_bound_whatever_the_traffic(inline):
    """Idle periods, lone items and bursts: each item reaches ``write`` at most ``batch_seconds`` (plus scheduling
    slack) after its ``append``. Before, a lone item waited out the idle timeout (10 s) for a full batch."""
    written: dict[int, float] = {}

    def write(batch):
        now = time.monotonic()
        written.update(dict.fromkeys(batch, now))

    writer = BatchWriter(write, batch_seconds=0.2, max_batch=8 if inline else 500, write_full_batches=inline)
    appended: dict[int, float] = {}
    pattern = [0.0, 0.5, 0.0, 0.0, 0.35, 0.05, 0.05, 1.0] + [0.001] * 50 + [0.6]
    for i, pause in enumerate(pattern):
        time.sleep(pause)
        appended[i] = time.monotonic()
        writer.append(i)
    time.sleep(0.5)  # no flush: the bound must hold on its own
    late = {i: round(written[i] - appended[i], 3) for i in appended if i not in written or
            written[i] - appended[i] > 0.3}
    assert len(written) == len(pattern) and not late, late


def test_a_full_batch_is_written_by_the_thread_that_filled_it():
    """``write_full_batches``: the appending thread writes a full batch itself (no hand-over to another thread); the
    background thread writes the rest. Order is kept and writes never overlap."""
    written: list[tuple[str, list[int]]] = []
    busy = threading.Lock()

    def write(batch):
        assert busy.acquire(blocking=False), "two writes at once"
        written.append((threading.current_thread().name, list(batch)))
        busy.release()

    writer = BatchWriter(write, batch_seconds=5.0, max_batch=4, name="bg", write_full_batches=True)
    for i in range(10):
        writer.append(i)
    me = threading.current_thread().name
    assert written == [(me, [0, 1, 2, 3]), (me, [4, 5, 6, 7])]
    assert writer.flush(timeout=10)
    assert written[2:] == [("bg", [8, 9])]


def test_full_batches_from_many_threads_lose_nothing_and_keep_each_threads_order():
    got: list[tuple[int, int]] = []
    writer = BatchWriter(got.extend, batch_seconds=0.01, max_batch=5, max_pending=40, write_full_batches=True)

    def produce(t):
        for i in range(300):
            writer.append((t, i))

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert writer.flush(timeout=10)
    assert sorted(got) == [(t, i) for t in range(4) for i in range(300)]
    for t in range(4):
        assert [i for u, i in got if u == t] == list(range(300))
