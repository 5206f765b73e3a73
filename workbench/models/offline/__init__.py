"""The offline tier: heuristic "models", deterministic stand-ins for an LLM, with no network and no weights.

These are **heuristics**, not language models, and they are named as such everywhere they surface. They do honest
lexical work on the prompt they are given, so an offline pipeline produces answers whose quality can be measured
(and differs between tiers), with real token counts:

- ``extractive``: finds the question and the context in the prompt, scores each context sentence with BM25 plus a
  bonus when the sentence holds the kind of entity the question asks for (a year for "when", a number for
  "how many", a name for "who"), and answers with the best sentence verbatim, or with ``REFUSAL`` when the
  question's words are mostly absent. Without a question it summarises: the 3 most central sentences.
- ``keyword``: a deliberately weaker tier: the context sentence sharing the most words with the question (raw
  overlap: no IDF weighting, no answer-type bonus, refusal only when no word is shared).
- ``judge``: an LLM-as-judge stand-in: token F1 against the reference and word support in the context; JSON verdict.
- ``drafter``: turns informative sentences of a document into cloze-style questions; JSON list.

``respond(model, messages, response_format)`` is the one entry point; ``register_offline()`` binds it to litellm
as the ``local/`` provider. One module per job: ``parsing`` (prompt parsing, text helpers), ``qa`` (``extractive``,
``keyword``), ``judge``, ``drafter``, ``structured`` (JSON-schema replies), ``dispatch`` (``respond``,
``OFFLINE_MODELS``) and ``provider`` (the litellm binding). Importing this package does not import litellm.
"""
from __future__ import annotations

from .dispatch import OFFLINE_MODELS, respond
from .parsing import is_refusal, sentences
from .provider import PROVIDER, register_offline, unwrap_error
from .qa import ACKNOWLEDGEMENT, REFUSAL

__all__ = ["ACKNOWLEDGEMENT", "OFFLINE_MODELS", "PROVIDER", "REFUSAL", "is_refusal", "register_offline", "respond",
           "sentences", "unwrap_error"]
