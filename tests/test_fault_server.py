"""The fault-injecting OpenAI-compatible server, on its own and through litellm.

What each injected fault becomes through ``litellm.completion`` / ``acompletion`` (litellm 1.110, the openai
provider, ``max_retries=0, num_retries=0``) — pinned by the tests below:

=========  ==========================================================================================
fault      litellm exception
=========  ==========================================================================================
429        ``litellm.RateLimitError`` (status_code 429). ``Retry-After`` is readable as
           ``e.response.headers["retry-after"]`` (an ``httpx.Response``) and
           ``e.litellm_response_headers["retry-after"]`` (an ``httpx.Headers``); the value is the string
           the server sent, e.g. ``"0.05"``.
500        ``litellm.InternalServerError`` (status_code 500). Not a ``litellm.APIError``: it derives from
           ``openai.InternalServerError`` -> ``openai.APIStatusError`` -> ``openai.APIError``.
timeout    ``litellm.Timeout`` (an ``openai.APITimeoutError``, hence ``openai.APIConnectionError``, but not
           ``litellm.APIConnectionError``; status_code 408; no ``e.response``) when the call's ``timeout`` is
           shorter than the server's hang.
malformed  ``litellm.InternalServerError`` with status_code **500** even though the server said 200;
           ``e.response`` is a synthetic ``httpx.Response`` with no headers, ``e.litellm_response_headers``
           is None, and a ``json.JSONDecodeError`` sits in the ``__context__`` chain. That chain (or the
           empty headers) is the only way to tell it from a real 500.
           With ``stream=True`` a malformed (non-SSE) body raises nothing: the stream yields one chunk with
           empty content.
=========  ==========================================================================================
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from workbench.testing import FaultConfig, FaultServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there, fault server"}]
NO_FAULTS = {"rate_429": 0.0, "rate_500": 0.0, "rate_timeout": 0.0, "rate_malformed": 0.0}


@pytest.fixture()
def server() -> Iterator[FaultServer]:
    with FaultServer(FaultConfig(timeout_s=5), seed=3) as s:
        yield s


@pytest.fixture(scope="module")
def litellm_mod() -> Any:
    import litellm  # imported here: ~12 s, and only the litellm tests need it

    return litellm


@pytest.fixture()
def llm(litellm_mod: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(litellm_mod, "suppress_debug_info", True)  # no "Give Feedback" banner per error
    return litellm_mod


def post_chat(client: httpx.Client, server: FaultServer, **body: Any) -> httpx.Response:
    return client.post(f"{server.base_url}/chat/completions",
                       json={"model": "gpt-test", "messages": MESSAGES, **body})


def litellm_call(llm: Any, server: FaultServer, **kwargs: Any) -> Any:
    return llm.completion(model="openai/gpt-4o-mini", api_base=server.base_url, api_key="sk-test",
                          messages=MESSAGES, max_retries=0, num_retries=0, **kwargs)


def exception_chain(exc: BaseException) -> list[type]:
    chain: list[type] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10:
        chain.append(type(cur))
        cur = cur.__context__ or cur.__cause__
    return chain


# -- the server on its own ----------------------------------------------------------------------------------
def test_chat_completion_is_valid_openai_json(server: FaultServer) -> None:
    with httpx.Client() as client:
        body = post_chat(client, server).json()
        long = client.post(f"{server.base_url}/chat/completions",
                           json={"model": "m", "messages": [{"role": "user", "content": "x" * 100}]}).json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-test" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": "echo: hello there, fault server"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert long["choices"][0]["message"]["content"] == "echo: " + "x" * 60
    assert server.stats == {"requests": 2, "ok": 2, "429": 0, "500": 0, "timeout": 0, "malformed": 0}


def test_json_response_format_answers_a_json_object(server: FaultServer) -> None:
    with httpx.Client() as client:
        for fmt in ({"type": "json_object"}, {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}}):
            content = post_chat(client, server, response_format=fmt).json()["choices"][0]["message"]["content"]
            assert json.loads(content) == {"answer": "echo: hello there, fault server"}


def test_raw_stream_is_sse_of_chunks_with_usage_last(server: FaultServer) -> None:
    with httpx.Client() as client:
        resp = post_chat(client, server, stream=True, stream_options={"include_usage": True})
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in resp.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-test" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: hello there, fault server"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_embeddings_models_and_health(server: FaultServer) -> None:
    with httpx.Client() as client:
        emb = client.post(f"{server.base_url}/embeddings", json={"model": "e", "input": ["a", "b", "a"]}).json()
        models = client.get(f"{server.base_url}/models").json()
        health = client.get(server.base_url.removesuffix("/v1") + "/healthz")
    vectors = [d["embedding"] for d in emb["data"]]
    assert len(vectors) == 3 and len(vectors[0]) == 8 and vectors[0] == vectors[2] != vectors[1]
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-9
    assert models["object"] == "list" and models["data"][0]["object"] == "model"
    assert health.status_code == 200


def test_keep_alive_serves_several_requests_on_one_socket(server: FaultServer) -> None:
    body = json.dumps({"model": "m", "messages": MESSAGES}).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
               .encode() + body)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            headers = dict(line.decode().strip().lower().split(": ", 1)
                           for line in iter(reader.readline, b"\r\n"))
            assert json.loads(reader.read(int(headers["content-length"])))["object"] == "chat.completion"


def test_fault_bodies_and_retry_after_header(server: FaultServer) -> None:
    with httpx.Client() as client:
        server.configure(rate_429=1.0, retry_after=0.25)
        r429 = post_chat(client, server)
        server.configure(rate_429=0.0, rate_500=1.0)
        r500 = post_chat(client, server)
        server.configure(rate_500=0.0, rate_malformed=1.0)
        bad = post_chat(client, server)
    assert r429.status_code == 429 and r429.headers["retry-after"] == "0.25"
    assert r429.json()["error"]["type"] == "rate_limit_error"
    assert r429.json()["error"]["code"] == "rate_limit_exceeded"
    assert r500.status_code == 500 and r500.json()["error"]["type"] == "server_error"
    assert bad.status_code == 200 and bad.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(bad.content)
    assert server.stats == {"requests": 3, "ok": 0, "429": 1, "500": 1, "timeout": 0, "malformed": 1}


def test_no_retry_after_header_when_none() -> None:
    with FaultServer(FaultConfig(rate_429=1.0, retry_after=None)) as s, httpx.Client() as client:
        assert "retry-after" not in post_chat(client, s).headers


def observed_statuses(server: FaultServer, n: int) -> list[int | str]:
    out: list[int | str] = []
    with httpx.Client() as client:
        for _ in range(n):
            resp = post_chat(client, server)
            ok_json = resp.status_code == 200 and resp.content.endswith(b"}")
            out.append("malformed" if resp.status_code == 200 and not ok_json else resp.status_code)
    return out


def test_rates_are_honoured_over_400_requests_and_seeded() -> None:
    rates = FaultConfig(rate_429=0.1, rate_500=0.15, rate_malformed=0.05)
    with FaultServer(rates, seed=11) as s:
        first = observed_statuses(s, 400)
        stats = s.stats
    with FaultServer(rates, seed=11) as s:
        assert observed_statuses(s, 400) == first, "same seed, same fault sequence"
    assert stats["requests"] == 400
    assert stats["429"] == first.count(429) and stats["500"] == first.count(500)
    assert stats["malformed"] == first.count("malformed") and stats["ok"] == first.count(200)
    for key, rate in (("429", 0.1), ("500", 0.15), ("malformed", 0.05)):
        assert abs(stats[key] / 400 - rate) < 0.05, (key, stats)


def test_configure_reset_and_validation(server: FaultServer) -> None:
    with httpx.Client() as client:
        post_chat(client, server)
        server.configure(rate_500=1.0)
        assert post_chat(client, server).status_code == 500
        server.configure(rate_500=0.0, latency_ms=30)
        started = time.perf_counter()
        assert post_chat(client, server).status_code == 200
        assert time.perf_counter() - started >= 0.03
    assert server.stats["requests"] == 3
    server.reset_stats()
    assert server.stats == dict.fromkeys(["requests", "ok", "429", "500", "timeout", "malformed"], 0)
    with pytest.raises(ValueError):
        server.configure(rate_429=0.7, rate_500=0.7)
    with pytest.raises(ValueError):
        FaultServer(FaultConfig(rate_timeout=-0.1))
    with pytest.raises(TypeError):
        server.configure(rate_teapot=1.0)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", ""])
def test_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultServer(host=host)


def test_stop_is_fast_with_a_pending_timeout_request() -> None:
    server = FaultServer(FaultConfig(rate_timeout=1.0, timeout_s=30)).start()
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            with httpx.Client(timeout=60) as client:
                post_chat(client, server)
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=hang)
    worker.start()
    deadline = time.monotonic() + 5
    while server.stats["timeout"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.perf_counter()
    server.stop()
    stopped_in = time.perf_counter() - started
    worker.join(timeout=5)
    assert stopped_in < 1.0, stopped_in
    assert not worker.is_alive() and errors, "the hanging client is released with a connection error"


def test_round_trip_is_fast_without_nagle(server: FaultServer) -> None:
    """With Nagle on, every keep-alive request would cost ~40 ms; httpx itself costs ~0.5 ms here."""
    times = []
    with httpx.Client() as client:
        for i in range(250):
            started = time.perf_counter()
            post_chat(client, server)
            if i >= 50:
                times.append(time.perf_counter() - started)
    median_ms = statistics.median(times) * 1000
    print(f"httpx keep-alive round trip: median {median_ms:.3f} ms")
    assert median_ms < 10


# -- through litellm ----------------------------------------------------------------------------------------
def test_litellm_completion_works(llm: Any, server: FaultServer) -> None:
    resp = litellm_call(llm, server, response_format={"type": "json_object"})
    assert json.loads(resp.choices[0].message.content) == {"answer": "echo: hello there, fault server"}
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens > 0
    plain = asyncio.run(llm.acompletion(model="openai/gpt-4o-mini", api_base=server.base_url,
                                        api_key="sk-test", messages=MESSAGES, max_retries=0, num_retries=0))
    assert plain.choices[0].message.content == "echo: hello there, fault server"


def test_litellm_streaming(llm: Any, server: FaultServer) -> None:
    chunks = list(litellm_call(llm, server, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello there, fault server"
    assert chunks[-1].usage.total_tokens > 0


def test_litellm_429_is_rate_limit_error_with_retry_after(llm: Any, server: FaultServer) -> None:
    server.configure(rate_429=1.0, retry_after=0.05)
    with pytest.raises(llm.RateLimitError) as info:
        litellm_call(llm, server)
    exc = info.value
    print("429 ->", type(exc).__name__, "| e.response.headers['retry-after'] =",
          exc.response.headers.get("retry-after"), "| e.litellm_response_headers['retry-after'] =",
          exc.litellm_response_headers.get("retry-after"))
    assert exc.status_code == 429
    assert exc.response.headers["retry-after"] == "0.05"
    assert exc.litellm_response_headers["retry-after"] == "0.05"


def test_litellm_500_is_internal_server_error(llm: Any, server: FaultServer) -> None:
    server.configure(rate_500=1.0)
    with pytest.raises(llm.InternalServerError) as info:
        litellm_call(llm, server)
    assert info.value.status_code == 500 and "injected" in str(info.value)
    assert isinstance(info.value, openai.APIStatusError) and not isinstance(info.value, llm.APIError)


def test_litellm_hang_is_timeout(llm: Any, server: FaultServer) -> None:
    server.configure(rate_timeout=1.0)  # the fixture's server hangs 5 s
    started = time.perf_counter()
    with pytest.raises(llm.Timeout) as info:
        litellm_call(llm, server, timeout=0.5)
    assert isinstance(info.value, openai.APITimeoutError)
    assert time.perf_counter() - started < 3
    assert info.value.status_code == 408 and getattr(info.value, "response", None) is None


def test_litellm_malformed_json_is_internal_server_error_500(llm: Any, server: FaultServer) -> None:
    server.configure(rate_malformed=1.0)
    with pytest.raises(llm.InternalServerError) as info:
        litellm_call(llm, server)
    exc = info.value
    print("malformed ->", type(exc).__name__, exc.status_code, [t.__name__ for t in exception_chain(exc)])
    assert exc.status_code == 500  # litellm reports 500 although the server answered 200
    assert json.JSONDecodeError in exception_chain(exc)
    assert not exc.response.headers and exc.litellm_response_headers is None


def test_litellm_malformed_stream_yields_an_empty_reply(llm: Any, server: FaultServer) -> None:
    """Pinned litellm behaviour: a non-SSE truncated body on stream=True is not an error, just empty."""
    server.configure(rate_malformed=1.0)
    chunks = list(litellm_call(llm, server, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""


def test_litellm_faults_are_the_same_async(llm: Any, server: FaultServer) -> None:
    async def call() -> Any:
        return await llm.acompletion(model="openai/gpt-4o-mini", api_base=server.base_url, api_key="sk-test",
                                     messages=MESSAGES, max_retries=0, num_retries=0, timeout=0.5)

    expected = {"rate_429": llm.RateLimitError, "rate_500": llm.InternalServerError,
                "rate_timeout": llm.Timeout, "rate_malformed": llm.InternalServerError}
    for fault, exc_type in expected.items():
        server.configure(**{**NO_FAULTS, fault: 1.0})
        with pytest.raises(exc_type):
            asyncio.run(call())
