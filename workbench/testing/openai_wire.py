"""OpenAI wire format for the fault server: pure functions that build the answer bodies (stdlib only).

Chat completions (whole and as SSE ``data:`` payloads), embeddings (float lists or base64 float32), errors,
a truncated "malformed" body, and approximate usage. The reply is deterministic: ``echo: `` plus the start of
the last user message (as ``{"answer": ...}`` JSON when a JSON ``response_format`` is asked for); ids and
embedding vectors derive from hashes, so equal requests get equal answers (``created`` aside).
"""
from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from typing import Any

EMBEDDING_DIMS = 8


def error_body(message: str, type_: str, code: str | None) -> dict[str, Any]:
    """An OpenAI-style error body."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def malformed_bytes() -> bytes:
    """A chat.completion body cut off mid-way: valid start, invalid JSON."""
    full = json.dumps({"id": "chatcmpl-malformed", "object": "chat.completion", "created": 0,
                       "model": "fake", "choices": [{"index": 0, "message": {
                           "role": "assistant", "content": "this reply was cut off"}}]})
    return full[: len(full) // 2].encode()


def text_of(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def approx_tokens(text: str) -> int:
    """A cheap token estimate: ``len(text) // 4 + 1``."""
    return len(text) // 4 + 1


def reply_text(request: dict[str, Any]) -> str:
    """The deterministic reply: ``echo: `` + the last user message's first 60 chars (JSON when asked)."""
    messages = request.get("messages") or []
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    answer = "echo: " + text_of(last_user.get("content"))[:60]
    fmt = request.get("response_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        return json.dumps({"answer": answer})
    return answer


def usage_of(request: dict[str, Any], reply: str) -> dict[str, int]:
    """Approximate usage for a chat request and its reply."""
    prompt = approx_tokens("".join(text_of(m.get("content")) for m in request.get("messages") or []))
    completion = approx_tokens(reply)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_id(model: str, reply: str) -> str:
    """A deterministic id derived from the model and the reply."""
    return "chatcmpl-" + hashlib.sha256(f"{model}\n{reply}".encode()).hexdigest()[:24]


def tool_call(request: dict[str, Any]) -> dict[str, Any] | None:
    """A call of the request's first tool (arguments: the last user message as ``{"query": ...}``), or None."""
    tools = request.get("tools") or []
    if not tools or request.get("tool_choice") == "none":
        return None
    name = (tools[0].get("function") or {}).get("name", "tool")
    last_user = next((m for m in reversed(request.get("messages") or []) if m.get("role") == "user"), {})
    return {"id": completion_id(name, text_of(last_user.get("content")))[:30], "type": "function",
            "function": {"name": name, "arguments": json.dumps({"query": text_of(last_user.get("content"))[:60]})}}


def chat_body(request: dict[str, Any], usage: bool = True) -> dict[str, Any]:
    """A complete ``chat.completion`` answer: a tool call when the request offers tools, else the reply text;
    ``usage=False`` leaves the usage block out."""
    reply, model, call = reply_text(request), str(request.get("model", "fake")), tool_call(request)
    message = {"role": "assistant", "content": None if call else reply}
    if call:
        message["tool_calls"] = [call]
    body = {"id": completion_id(model, reply), "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": "fault-server",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if call else "stop"}]}
    if usage:
        body["usage"] = usage_of(request, reply)
    return body


def stream_events(request: dict[str, Any]) -> list[str]:
    """The SSE ``data:`` payloads of a streamed answer, ``[DONE]`` last."""
    reply, model = reply_text(request), str(request.get("model", "fake"))
    base = {"id": completion_id(model, reply), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "system_fingerprint": "fault-server"}
    words = reply.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
    events = [{**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]}
              for d in deltas]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": usage_of(request, reply)})
    return [json.dumps(e) for e in events] + ["[DONE]"]


def embedding_vector(text: str) -> list[float]:
    """A deterministic unit vector of ``EMBEDDING_DIMS`` floats from the text's hash."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [b / 127.5 - 1.0 for b in digest[:EMBEDDING_DIMS]]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


def embeddings_body(request: dict[str, Any]) -> dict[str, Any]:
    """An ``embeddings`` list answer; base64 float32 for ``encoding_format="base64"`` (openai's default)."""
    inputs = request.get("input", "")
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
    as_b64 = request.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(texts):
        vec: Any = embedding_vector(text)
        if as_b64:
            vec = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vec})
    tokens = sum(approx_tokens(t) for t in texts)
    return {"object": "list", "data": data, "model": request.get("model", "fake"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
