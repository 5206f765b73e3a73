"""Token counting, offline.

``tokenizer_for(model)`` returns a ``Tokenizer`` with ``encode`` and ``count``. OpenAI models get their own
tiktoken encoding; ``local/*`` models and models without a known public tokenizer count with ``cl100k_base``
(``Tokenizer.exact`` says which). The encoding files come from the copies litellm ships, read without importing
litellm, so counting never touches the network.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError

DEFAULT_ENCODING = "cl100k_base"
_ENV_LOCK = threading.Lock()


@dataclass(frozen=True)
class Tokenizer:
    """Counts tokens as a given model does."""

    model: str
    """The model the tokenizer was asked for."""
    encoding_name: str
    """The tiktoken encoding used."""
    exact: bool
    """True when this is the model's own tokenizer, False when it is the cl100k_base approximation."""
    _encoding: Any

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text`` (special-token text counts as plain text: ``encode_ordinary``)."""
        return self._encoding.encode_ordinary(text)

    def decode(self, tokens: list[int]) -> str:
        """The text of ``tokens``."""
        return self._encoding.decode(tokens)

    def count(self, text: str) -> int:
        """How many tokens ``text`` is."""
        return len(self._encoding.encode_ordinary(text))

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        """Prompt tokens of a chat request, with OpenAI's per-message framing (3 per message + 3)."""
        total = 3
        for m in messages:
            total += 3 + self.count(_content_text(m.get("content")))
            if m.get("name"):
                total += 1
        return total


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _bundled_encodings_dir() -> Path:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("litellm is not installed", hint="install workbench's core dependencies: uv pip install -e .")
    return Path(list(spec.submodule_search_locations)[0]) / "litellm_core_utils" / "tokenizers"


@functools.cache
def _encoding(name: str) -> Any:
    import tiktoken

    # tiktoken looks in TIKTOKEN_CACHE_DIR before downloading; point it at litellm's bundled files for this load.
    with _ENV_LOCK:
        old = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(_bundled_encodings_dir())
        try:
            return tiktoken.get_encoding(name)
        except Exception as e:  # a missing file would otherwise become a download attempt deep inside tiktoken
            raise UsageError(f"tokenizer {name!r} is not available offline: {e}",
                             hint="reinstall litellm, which ships the encoding files") from e
        finally:
            if old is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old


def _encoding_name_for(model: str) -> tuple[str, bool]:
    provider, _, name = model.rpartition("/")
    if provider in ("", "openai", "azure", "text-completion-openai"):
        import tiktoken.model

        try:
            return tiktoken.model.encoding_name_for_model(name), True
        except KeyError:
            pass
    return DEFAULT_ENCODING, False


@functools.cache
def tokenizer_for(model: str) -> Tokenizer:
    """The tokenizer that counts for ``model`` (e.g. ``openai/gpt-4o-mini``, ``local/extractive``)."""
    encoding_name, exact = _encoding_name_for(model)
    return Tokenizer(model=model, encoding_name=encoding_name, exact=exact, _encoding=_encoding(encoding_name))
