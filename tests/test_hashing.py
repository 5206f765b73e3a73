import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from workbench.hashing import canonical_json, content_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def test_rule_is_the_documented_one():
    obj = {"b": [1, 2], "a": "é"}
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == '{"a":"é","b":[1,2]}'
    assert content_hash(obj) == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@given(json_values)
def test_key_order_does_not_matter(value):
    if isinstance(value, dict):
        reordered = dict(reversed(list(value.items())))
        assert content_hash(reordered) == content_hash(value)
    assert content_hash(json.loads(canonical_json(value))) == content_hash(value)


def test_different_content_different_hash():
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert content_hash("x").startswith("sha256:") and len(content_hash("x")) == 7 + 64


@given(json_values)
def test_the_encoder_made_once_writes_what_json_dumps_writes(value):
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_a_cycle_is_still_a_value_error():
    import pytest

    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        canonical_json({"a": loop})
