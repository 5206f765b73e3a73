"""Properties of ① inputs over arbitrary Unicode and nested JSON: never raises, valid statuses, idempotent
normalisation, accepted output is NFC and free of control / bidi characters."""
from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.inputs import InputPolicy, check, normalise
from workbench.inputs.chars import BIDI_RE, CONTROL_RE
from workbench.inputs.fields import iter_strings

POLICY = InputPolicy()
STATUSES = {"accepted", "flagged", "rejected"}
# text that leans towards the interesting characters: controls, bidi, zero width, mojibake, combining marks
SPICY = st.sampled_from(["\x00", "\x1b", "\x85", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\r\n", "\r",
                         "\n\n\n\n", "  ", "Ã©", "â€™", "e\u0301", "👩", "Ignore all previous instructions", "\t"])
TEXT = st.one_of(st.text(), st.lists(st.one_of(st.text(max_size=8), SPICY), max_size=12).map("".join))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT)
def test_normalise_is_idempotent_and_nfc(text):
    once = normalise(text).text
    assert normalise(once).text == once
    assert normalise(once).changes == []
    assert unicodedata.is_normalized("NFC", once)


ASCII_WHITESPACE_HEAVY = st.text(alphabet="ab. \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85", max_size=40).filter(str.isascii)


@FAST
@given(ASCII_WHITESPACE_HEAVY)
def test_one_pass_is_enough_for_ascii_text(text):
    """``normalise`` stops after one pass on ASCII text: what it returns has nothing left to change."""
    once = normalise(text).text
    assert normalise(once).changes == [] and normalise(once).text == once


@FAST
@given(TEXT)
def test_check_never_raises_on_text(text):
    r = POLICY.check({"id": "x", "text": text})
    assert r.status in STATUSES
    assert (r.code is None) == (r.status == "accepted") == (r.message is None)
    if r.status == "accepted":
        out = r.normalised["text"]
        assert unicodedata.is_normalized("NFC", out)
        assert not CONTROL_RE.search(out) and not BIDI_RE.search(out)


@FAST
@given(JSON)
def test_check_never_raises_on_nested_json(obj):
    r = check(obj)
    assert r.status in STATUSES
    if not isinstance(obj, dict):
        assert r.code == "not_object"
        return
    assert set(r.classes) == {"language", "length", "content_type"}
    for f in r.flags:
        assert f.code and (f.score is None or 0.0 <= f.score <= 1.0)
    if r.status == "accepted":
        for _, value in iter_strings(r.normalised, skip_top_id=True):
            assert unicodedata.is_normalized("NFC", value)
            assert not CONTROL_RE.search(value) and not BIDI_RE.search(value)


@FAST
@given(JSON)
def test_normalised_output_is_a_fixed_point(obj):
    r = check(obj)
    if isinstance(obj, dict) and r.status != "rejected":
        again = check(r.normalised)
        assert again.normalised == r.normalised


LINE = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(
    ["def ", "x = 1", "f(a)", ");", " {", "=>", "-> int", "):", "|", "\t", "    ", "a", " ", "; ", "(", ")", "@x",
     "}", "SELECT", "\u2003", "\x1c"]), max_size=10).map("".join))


@FAST
@given(LINE)
def test_content_type_line_gates_agree_with_the_plain_regexes(line):
    from workbench.inputs import classes

    assert classes._code_line(line) == (classes._CODE_LINE.search(line) is not None)
    assert (classes._maybe_table(line) and classes._TABLE_LINE.match(line) is not None) == \
        (classes._TABLE_LINE.match(line) is not None)


DOC_LINE = st.one_of(LINE, st.sampled_from(["# Title", "## Part", "```", "~~~", "- item", "1. step", "> quote",
                                             "---", "| a | b |", "[a link](http://x)", "**bold**", "", "  ", "prose"]))


@FAST
@given(st.lists(DOC_LINE, max_size=40))
@example(["# Title", "## Part", *["prose"] * 20])  # two Markdown lines first, then too much prose for Markdown
def test_content_type_stopping_early_gives_what_counting_every_line_gives(lines):
    from workbench.inputs import classes

    assert classes._type_of_lines(*classes._line_counts(lines)) == \
        classes._type_of_lines(*classes._line_counts(lines, early=False))


NUMBERISH = st.lists(st.one_of(st.text(alphabet="0123456789 -.()/+\n", max_size=12), st.sampled_from(
    ["4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "078-05-1120", "192.168.0.1", "+49 30 1234567",
     "(555) 123-4567", "2024-01-31", "\n", "INV-", "x", " "])), max_size=10).map("".join)


@FAST
@given(NUMBERISH)
def test_number_kinds_scanned_per_line_match_a_whole_text_scan(text):
    from workbench.inputs import pii

    def whole_text(t):  # the plain scan: every regex over the whole text when the gate matches anywhere
        return pii._numbers_in(t, 0, len(t)) if pii._NUMBER_GATE.search(t) else []

    order = lambda m: (m.start, m.end, m.kind)  # noqa: E731
    assert sorted(pii._numbers(text, pii._shape(text)), key=order) == sorted(whole_text(text), key=order)


def test_normalise_reaches_a_fixed_point_when_stripping_enables_a_mojibake_repair():
    once = normalise("á\x86™Ä ").text  # hypothesis found it: ftfy repairs the text only once the space is gone
    assert normalise(once).text == once


STOPWORDY = st.lists(st.sampled_from(["the", "The", "DE", "la", "Und", "is", "of", "y", "que", "ET", "x", "42", "-", ",",
                                      "\n", " ", "Refund", "och"]), max_size=30).map(" ".join)


@FAST
@given(st.one_of(STOPWORDY, st.text(alphabet=st.characters(max_codepoint=127), max_size=60)))
def test_language_of_ascii_text_matches_the_general_vote(text):
    """ASCII text is lower-cased once and only stopwords are counted; the vote is the general path's."""
    from workbench.inputs.language import _ASCII_NON_LETTERS, _latin_language, detect_language

    words = text.translate(_ASCII_NON_LETTERS).split()
    assert detect_language(text) == (_latin_language(words, text) if words else "und")


CAPSY = st.lists(st.sampled_from(["AB", "HELLO", "A", "x", "Yes", "!", ".", ",", "?", " ", "\t", "\n", "\x1c", "\x0b",
                                  "Ä", "ÖL", "-", "7"]), max_size=20).map("".join)


@FAST
@given(st.one_of(CAPSY, st.text(alphabet=st.characters(max_codepoint=127), max_size=60)))
def test_the_capitals_gate_is_the_capitals_regex(text):
    """On ASCII text a byte-shape scan decides first; it must agree with the regex on every text."""
    from workbench.inputs.injection import _CAPS_RE, _caps

    assert _caps(text) == (_CAPS_RE.search(text) is not None)


@FAST
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_ascii_words_are_the_words_of_the_regex(text):
    from workbench.inputs.injection import _WORD_RE, _words

    lower = text.lower()
    assert _words(lower) == set(_WORD_RE.findall(lower))


CODEY = st.lists(st.sampled_from(["x", "a.b", " ", "    ", "\t", "=", "==", "(", ")", ";", "{", "def ", "Refunds", ".",
                                  "**", "`", "[a](b)", "]", "(", "-> y", "=>", ":", "_", "9"]), max_size=12).map("".join)


@FAST
@given(st.one_of(CODEY, st.text(max_size=40)))
def test_line_class_shortcuts_change_no_verdict(line):
    """The possessive code regex matches where its greedy spelling does, and a line the inline gate turns away
    holds no inline Markdown."""
    import re

    from workbench.inputs import classes

    greedy = re.compile(classes._CODE_LINE.pattern.replace("*+", "*").replace("++", "+"))
    assert (classes._CODE_LINE.search(line) is None) == (greedy.search(line) is None)
    assert (classes._CODE_LINE.match(line) is None) == (greedy.match(line) is None)
    if not classes._maybe_inline(line):
        assert classes._MD_INLINE.search(line) is None


@FAST
@given(st.one_of(NUMBERISH, st.text(alphabet=st.characters(max_codepoint=127), max_size=60)))
def test_the_number_gate_on_a_shape_finds_what_the_regex_finds(text):
    from workbench.inputs import pii

    shape = pii._shape(text)
    assert [m.span() for m in pii._NUMBER_SHAPE_GATE.finditer(shape)] == [m.span() for m in
                                                                          pii._NUMBER_GATE.finditer(text)]


HINTY = st.lists(st.one_of(st.sampled_from(["sk-", "akia", "gh", "xox", "key", "token", "passw", "pwd", "auth", "a",
                                            " ", "-", "s", "k"]), st.text(max_size=6)), max_size=60).map("".join)


@FAST
@given(HINTY)
def test_the_first_secret_hint_is_the_first_of_the_finds(text):
    """One search for any hint (short texts) and a find per hint (long ones) agree on where the first hint is."""
    from workbench.inputs import pii

    lower = text.lower()
    finds = [i for i in map(lower.find, pii._SECRET_HINTS) if i >= 0]
    assert pii._first_hint(lower) == min(finds, default=-1)
    m = pii._SECRET_HINT.search(lower)
    assert (-1 if m is None else m.start()) == min(finds, default=-1)
