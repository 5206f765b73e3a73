"""``dumps_with``: the encoder made once writes what ``json.dumps`` writes, under every option the project uses."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench._util.jsontext import dumps_with

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
OPTIONS = [{}, {"ensure_ascii": False}, {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False},
           {"ensure_ascii": False, "default": str}]


@pytest.mark.parametrize("options", OPTIONS)
@given(value=values)
def test_it_writes_what_json_dumps_writes(options, value):
    assert dumps_with(**options)(value) == json.dumps(value, **options)


def test_default_is_called_for_what_json_cannot_write():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert dumps_with(default=str)({"a": Odd(), "b": {1}}) == '{"a": "odd", "b": "{1}"}'
    with pytest.raises(TypeError):
        dumps_with()({"a": Odd()})


@pytest.mark.parametrize("options", OPTIONS)
def test_a_cycle_is_a_value_error(options):
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps_with(**options)({"a": loop})
