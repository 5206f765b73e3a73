import socket

from workbench.models.tokens import tokenizer_for


def test_openai_models_use_their_own_encoding():
    t = tokenizer_for("openai/gpt-4o-mini")
    assert t.encoding_name == "o200k_base" and t.exact
    assert tokenizer_for("gpt-4").encoding_name == "cl100k_base"


def test_local_and_unknown_models_count_with_cl100k():
    for model in ("local/extractive", "anthropic/claude-sonnet-4-5", "mystery-model"):
        t = tokenizer_for(model)
        assert t.encoding_name == "cl100k_base"
    assert not tokenizer_for("anthropic/claude-sonnet-4-5").exact


def test_encode_count_decode_roundtrip():
    t = tokenizer_for("local/extractive")
    text = "Refunds are available within 30 days — naïve café 東京 <|endoftext|>"
    ids = t.encode(text)
    assert t.count(text) == len(ids) > 0
    assert t.decode(ids) == text


def test_count_messages_adds_framing():
    t = tokenizer_for("openai/gpt-4o-mini")
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    assert t.count_messages(msgs) == 3 + (3 + t.count("Be brief.")) + (3 + t.count("Hello there"))


def test_loading_an_encoding_needs_no_network(monkeypatch):
    from workbench.models import tokens

    tokens._encoding.cache_clear()
    tokens.tokenizer_for.cache_clear()

    def refuse(*a, **k):
        raise AssertionError("tokenizer tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert tokenizer_for("openai/gpt-4o").count("hello world") == 2


def test_tiktoken_cache_env_is_restored(monkeypatch):
    import os

    from workbench.models import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/somewhere/else")
    tokens._encoding.cache_clear()
    tokens._encoding("p50k_base")
    assert os.environ["TIKTOKEN_CACHE_DIR"] == "/somewhere/else"
