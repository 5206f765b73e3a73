"""The model layer against the fault-injecting server: retries, fallbacks, cache, costs, typed errors."""
import asyncio

import pytest

from workbench.caches import ResponseCache
from workbench.errors import (
    AllModelsFailedError,
    MalformedResponseError,
    MissingKeyError,
    ModelTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownTierError,
    UsageError,
)
from workbench.models import Endpoint, ModelOptions, RetryPolicy, acomplete, build_model, complete
from workbench.models.records import Completion
from workbench.testing import FaultConfig, FaultServer

MSGS = [{"role": "user", "content": "Say hello to the test."}]
FAST = RetryPolicy(retries=3, base_delay=0.001, max_delay=0.05)


@pytest.fixture(scope="module")
def server():
    with FaultServer(seed=1) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(server):
    server.configure(rate_429=0, rate_500=0, rate_timeout=0, rate_malformed=0, latency_ms=0)
    server.reset_stats()


def call(server, *, timeout=60.0, **kw):
    kw.setdefault("retries", 0)
    return complete(MSGS, model="openai/gpt-4o-mini", endpoint=Endpoint(server.base_url, "sk-test", timeout), **kw)


def test_a_call_returns_a_priced_completion(server):
    c = call(server)
    assert isinstance(c, Completion)
    assert c.text and c.model == "openai/gpt-4o-mini"
    assert c.usage.input_tokens > 0 and c.usage.output_tokens > 0
    assert c.cost_basis == "provider" and c.cost_usd > 0
    assert c.latency_ms > 0 and len(c.attempts) == 1 and c.attempts[0].ok


def test_unpriced_model_reports_none_not_zero(server):
    c = complete(MSGS, model="openai/not-a-real-model", endpoint=Endpoint(server.base_url, "k"), retries=0)
    assert c.cost_usd is None and c.cost_basis == "unpriced"


@pytest.mark.parametrize("fault, error", [("rate_429", RateLimitedError), ("rate_500", ProviderUnavailableError),
                                          ("rate_malformed", MalformedResponseError)])
def test_each_fault_becomes_a_typed_error(server, fault, error):
    server.configure(**{fault: 1.0})
    with pytest.raises(error) as info:
        call(server)
    assert info.value.retryable
    assert "openai/gpt-4o-mini" in str(info.value)


def test_timeout_becomes_a_typed_error(server):
    server.configure(rate_timeout=1.0, timeout_s=5)
    with pytest.raises(ModelTimeoutError):
        call(server, timeout=0.3)


def test_retry_after_is_read_from_429(server):
    server.configure(rate_429=1.0, retry_after=0.02)
    with pytest.raises(RateLimitedError) as info:
        call(server)
    assert info.value.retry_after == pytest.approx(0.02, abs=0.01)


def test_retries_recover_and_are_recorded(server):
    server.configure(rate_500=0.2, rate_429=0.1)
    many = RetryPolicy(retries=12, base_delay=0.001, max_delay=0.01)
    results = [call(server, retries=many) for _ in range(20)]
    assert all(r.text for r in results)
    retried = [r for r in results if len(r.attempts) > 1]
    assert retried, "with 30% faults some calls must have been retried"
    for r in retried:
        assert [a.ok for a in r.attempts] == [False] * (len(r.attempts) - 1) + [True]
        assert r.attempts[0].error_code in {"provider_unavailable", "rate_limited"}


def test_retry_delay_honours_retry_after_and_caps():
    import random

    err = RateLimitedError("slow down", retry_after=3.0)
    policy = RetryPolicy(retries=2, base_delay=0.1, max_delay=2.0, jitter=0.0)
    assert policy.delay(0, err, random.Random(0)) == 2.0
    assert RetryPolicy(base_delay=0.1, max_delay=5, jitter=0).delay(0, err, random.Random(0)) == 3.0
    plain = ProviderUnavailableError("down")
    delays = [RetryPolicy(base_delay=0.1, jitter=0).delay(i, plain, random.Random(0)) for i in range(3)]
    assert delays == pytest.approx([0.1, 0.2, 0.4])


def test_fallback_to_another_model_records_every_attempt(server):
    from workbench.models import FallbackModel, LiteLLMModel, RetryingModel

    with FaultServer(FaultConfig(rate_500=1.0)) as down:
        chain = FallbackModel([
            RetryingModel(LiteLLMModel("openai/gpt-4o-mini", endpoint=Endpoint(down.base_url, "k")), FAST),
            LiteLLMModel("openai/gpt-4.1-nano", endpoint=Endpoint(server.base_url, "k")),
        ])
        c = chain.complete(MSGS)
    assert c.model == "openai/gpt-4.1-nano"
    assert [a.model for a in c.attempts] == ["openai/gpt-4o-mini"] * 4 + ["openai/gpt-4.1-nano"]
    assert [a.ok for a in c.attempts][-1] is True


def test_all_models_failing_raises_with_attempts(server):
    from workbench.models import FallbackModel, LiteLLMModel

    server.configure(rate_500=1.0)
    chain = FallbackModel([LiteLLMModel(m, endpoint=Endpoint(server.base_url, "k"))
                           for m in ("openai/gpt-4o-mini", "openai/gpt-4.1-nano")])
    with pytest.raises(AllModelsFailedError) as info:
        chain.complete(MSGS)
    assert len(info.value.attempts) == 2 and not any(a.ok for a in info.value.attempts)
    assert info.value.hint


def test_batch_of_async_calls_loses_nothing_under_faults(server):
    # half of all tries fail: 21 tries per item leave ~3e-5 odds that one of the 60 items never gets an answer
    server.configure(rate_500=0.3, rate_429=0.1, rate_malformed=0.1)
    model = build_model(model="openai/gpt-4o-mini", options=ModelOptions(
        endpoint=Endpoint(server.base_url, "k"), retries=RetryPolicy(retries=20, base_delay=0.001, max_delay=0.01),
        max_concurrency=8))

    async def run():
        return await asyncio.gather(*(model.acomplete([{"role": "user", "content": f"item {i}"}])
                                      for i in range(60)), return_exceptions=True)

    results = asyncio.run(run())
    assert len(results) == 60
    assert all(isinstance(r, Completion) for r in results), [r for r in results if not isinstance(r, Completion)]
    assert all(f"item {i}" in r.text for i, r in enumerate(results)), "replies must stay in input order"


def test_cache_hit_costs_nothing_and_skips_the_provider(server, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    first = call(server, cache=cache)
    second = call(server, cache=cache)
    assert server.stats["requests"] == 1
    assert not first.cached and second.cached
    assert second.text == first.text and second.attempts == ()
    assert (second.cost_usd, second.cached, second.saved_usd) == (0.0, True, first.cost_usd)
    assert (second.answer_cost_usd, second.cost_basis) == (first.cost_usd, first.cost_basis)
    third = call(server, cache=cache, temperature=0.7)  # a setting that changes the output is a new key
    assert not third.cached and server.stats["requests"] == 2
    fourth = call(server, cache=cache, timeout=33)  # a transport setting is not
    assert fourth.cached


def test_cache_survives_a_new_process_object(server, tmp_path):
    call(server, cache=ResponseCache(tmp_path / "c.sqlite"))
    again = call(server, cache=ResponseCache(tmp_path / "c.sqlite"))
    assert again.cached and len(ResponseCache(tmp_path / "c.sqlite")) == 1


def test_write_behind_cache_serves_at_once_and_writes_on_flush(server, tmp_path):
    cache = ResponseCache(tmp_path / "wb.sqlite", write_behind_seconds=60.0)
    first = call(server, cache=cache)
    assert call(server, cache=cache).cached and server.stats["requests"] == 1  # served from memory meanwhile
    assert len(ResponseCache(tmp_path / "wb.sqlite")) == 0  # another process sees nothing yet...
    cache.flush()
    again = call(server, cache=ResponseCache(tmp_path / "wb.sqlite"))  # ...and everything after the flush
    assert again.cached and again.text == first.text and server.stats["requests"] == 1


def test_write_behind_cache_on_a_failing_disk_misses_instead_of_failing(server, tmp_path):
    cache = ResponseCache(tmp_path / "ro.sqlite", write_behind_seconds=0.001)
    call(server, cache=cache)
    cache.flush()

    def read_only(keys, original=cache._write):  # the writer thread's connection refuses writes from now on
        cache._conn().db.execute("PRAGMA query_only=ON")
        original(keys)

    cache._writer.write = read_only
    call(server, cache=cache, temperature=0.3)  # a new key; its write fails in the background
    cache.flush()
    assert not cache._unwritten and server.stats["requests"] == 2
    assert not call(server, cache=cache, temperature=0.3).cached and server.stats["requests"] == 3


@pytest.mark.parametrize("behind", [None, 0.001])
def test_an_answer_holding_a_lone_surrogate_is_not_cached_and_costs_nothing_else(tmp_path, behind):
    """A provider's JSON may carry ``\\ud800``; SQLite stores UTF-8, which cannot. Written at once, the put raised out
    of the model call (a paid answer lost); written behind, it lost its whole batch and stayed in memory for good."""
    cache = ResponseCache(tmp_path / "c.sqlite", write_behind_seconds=behind)
    bad, good = Completion(text="a lone \ud800 surrogate", model="m"), Completion(text="fine", model="m")
    cache.put("bad", bad)
    cache.put("good", good)
    cache.flush()
    assert not cache._unwritten and len(cache) == 1
    fresh = ResponseCache(tmp_path / "c.sqlite")
    assert fresh.get("good").text == "fine" and fresh.get("bad") is None


def test_a_cache_file_of_text_keys_is_moved_to_16_byte_keys_and_keeps_its_answers(tmp_path):
    """Files made before 2026-12-07 hold a ``responses`` table keyed by the 71-character key text. Opened now, their
    entries move to ``entries`` (16-byte keys, no key text kept) and are still served; the old table is gone."""
    import json
    import sqlite3

    from workbench.caches.exact import stored_key

    path, key = tmp_path / "old.sqlite", "sha256:" + "ab" * 32
    old = Completion(text="kept across the upgrade", model="m")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL, created REAL NOT NULL)")
        db.execute("INSERT INTO responses VALUES (?, ?, ?)", (key, json.dumps(old.to_dict()), 1.0e9))
    cache = ResponseCache(path)
    assert cache.get(key).text == "kept across the upgrade" and len(cache) == 1
    assert cache.purge(1.0) == 1 and len(cache) == 0  # its age came along
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"entries"}
    cache.put(key, old)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM entries").fetchall() == [(stored_key(key),)]
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(stored_key(key)) == 16 and key.encode() not in path.read_bytes()  # the dropped table overwritten
    ResponseCache(path)  # opening a moved file again changes nothing
    assert ResponseCache(path).get(key).text == "kept across the upgrade"


def test_many_processes_opening_an_old_cache_file_at_once_move_it_once(tmp_path):
    import json
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL, created REAL NOT NULL)")
        db.executemany("INSERT INTO responses VALUES (?, ?, ?)",
                       [(f"k{i}", json.dumps(Completion(text=f"a{i}", model="m").to_dict()), 2.0e9)
                        for i in range(500)])
    with ThreadPoolExecutor(6) as pool:  # a connection per cache object, as separate processes have
        caches = list(pool.map(lambda _: ResponseCache(path), range(6)))
    assert all(len(c) == 500 for c in caches) and caches[3].get("k499").text == "a499"


def test_async_twin(server):
    c = asyncio.run(acomplete(MSGS, model="openai/gpt-4o-mini", endpoint=Endpoint(server.base_url, "k"),
                              retries=0))
    assert c.text and c.cost_basis == "provider"


def test_unknown_tier_names_the_known_ones():
    with pytest.raises(UnknownTierError) as info:
        complete(MSGS, tier="gigantic")
    assert "small" in str(info.value) and info.value.exit_code == 2


def test_missing_key_without_stand_in_says_what_to_set(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    with pytest.raises(MissingKeyError) as info:
        complete(MSGS, model="openai/gpt-4o-mini")
    assert "OPENAI_API_KEY" in str(info.value) and "WORKBENCH_OFFLINE=1" in str(info.value)


def test_offline_mode_without_a_stand_in_is_an_error_not_a_real_call(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-would-be-used")
    with pytest.raises(MissingKeyError, match="no offline stand-in"):
        complete(MSGS, model="openai/gpt-4o-mini")


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        complete(MSGS)
    with pytest.raises(UsageError, match="api_base") as info:  # moved into Endpoint, never sent as a setting
        complete(MSGS, model="local/extractive", api_base="http://127.0.0.1:9/v1")
    assert "Endpoint" in info.value.hint
    with pytest.raises(UsageError):
        complete([{"content": "no role"}], model="local/extractive")
