"""The entry point of the offline heuristics: one job, dispatching ``respond(model, messages, response_format)``.

``OFFLINE_MODELS`` names the heuristics (call them as ``local/<name>``); ``respond`` parses the prompt once and
hands it to the heuristic's reply function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ...errors import UnknownModelError
from .drafter import drafter_reply
from .judge import judge_reply
from .parsing import Prompt, parse
from .qa import answer_extractive, answer_keyword, qa_reply

OFFLINE_MODELS: dict[str, str] = {
    "extractive": "heuristic: BM25 sentence extraction from the given context, with an answer-type bonus "
                  "(offline, deterministic)",
    "keyword": "heuristic: the context sentence with the most words in common with the question; a weaker tier "
            "(offline, deterministic)",
    "judge": "heuristic: lexical judge, token F1 against the reference and word support in the context; "
             "JSON verdict (offline, deterministic)",
    "drafter": "heuristic: turns informative document sentences into cloze-style questions; JSON list "
               "(offline, deterministic)",
}
"""The offline models, ``name -> one-line description`` (a constant); call them as ``local/<name>``."""

_HANDLERS: Mapping[str, Callable[[Prompt, Any], str]] = MappingProxyType({
    "extractive": lambda p, rf: qa_reply(answer_extractive(p), rf),
    "keyword": lambda p, rf: qa_reply(answer_keyword(p), rf),
    "judge": judge_reply,
    "drafter": drafter_reply,
})


def respond(model: str, messages: list[dict[str, Any]], response_format: dict[str, Any] | None = None) -> str:
    """The reply of offline heuristic ``model`` (the part after ``local/``) to a chat prompt; deterministic."""
    name = model.removeprefix("local/")
    handler = _HANDLERS.get(name)
    if handler is None:
        known = ", ".join(f"local/{m}" for m in OFFLINE_MODELS)
        raise UnknownModelError(f"unknown offline model {model!r}; the offline models are: {known}",
                                hint="use one of the local/ models listed, or a provider model such as openai/...")
    return handler(parse(messages), response_format)
