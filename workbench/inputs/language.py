"""Language identification without dependencies: Unicode scripts first, then a stopword vote for Latin script.

Non-Latin scripts map to one language each (Han -> zh, or ja when kana appear; Hangul -> ko; Cyrillic -> ru,
or uk with Ukrainian letters; Arabic -> ar, or fa with Persian letters; Greek -> el; Hebrew -> he;
Devanagari -> hi; Thai -> th). Latin-script text votes over the stopwords of 12 languages (en, es, fr, de, pt,
it, nl, sv, pl, tr, id, ro), helped by language-specific letters. Too little evidence gives ``"und"``.
This is a router's heuristic: good on sentences, unreliable on a few words.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter

from .._util.asciimap import ascii_table

_STOPWORDS = {
    "en": "the and is are was were of to in that it for with on as at by this have from not be you your what "
          "how why which who can do does i my we they would should will there their about an or",
    "es": "el la los las de que y en un una es por con para no se su al lo como más pero sus le ya o este "
          "sí porque esta entre cuando muy sin sobre también me hay qué cómo cuál dónde está son",
    "fr": "le la les de des et est un une du en que qui dans pour pas sur au avec ce il elle ne se plus par "
          "je vous nous sont mais ou comment quelle quel où être cette aux",
    "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an als wie was "
          "ich du wir sie aber oder wenn nach bei noch aus kann sind warum welche wer wo gibt",
    "pt": "o a os as de que e do da em um uma para com não por mais dos das se na no como mas ao ele ela "
          "você é são isso qual quando onde também",
    "it": "il la lo gli le di che e un una per non con del della sono è in si come ma anche questo nel "
          "più perché quale dove chi cosa",
    "nl": "de het een en van is dat op te in niet zijn voor met die hij ze er maar ook als bij naar wat "
          "hoe waarom wie kan jij je ik we",
    "sv": "och att det är som en på för av med den till inte har de jag om var men ett vad hur varför vem "
          "kan du vi ni",
    "pl": "i w nie na się z do że jest to jak o co ale po tak od za czy dla jego przez są jakie gdzie "
          "dlaczego który która",
    "tr": "ve bir bu da de için ile ne mi çok daha gibi olarak var ben sen o ama nasıl neden hangi nerede "
          "mı mu değil",
    "id": "dan yang di ini itu dengan untuk dari tidak ada ke pada akan juga saya anda kami mereka apa "
          "bagaimana mengapa siapa bisa sudah",
    "ro": "și în de la cu nu pe un o care este sunt mai din pentru ce să se că ca dar sau cum unde cine "
          "această acest",
}
_LETTER_HINTS = {"ß": "de", "ä": "de", "ü": "de", "ö": "de", "ñ": "es", "¿": "es", "¡": "es", "ã": "pt",
                 "õ": "pt", "ç": "fr", "è": "fr", "ê": "fr", "œ": "fr", "å": "sv", "ą": "pl", "ę": "pl",
                 "ł": "pl", "ś": "pl", "ż": "pl", "ź": "pl", "ğ": "tr", "ş": "tr", "ı": "tr", "ă": "ro",
                 "ș": "ro", "ț": "ro", "ì": "it", "ò": "it", "ĳ": "nl"}


def _word_votes() -> dict[str, tuple[str, ...]]:
    votes: dict[str, list[str]] = {}
    for lang, words in _STOPWORDS.items():
        for w in words.split():
            votes.setdefault(w, []).append(lang)
    return {w: tuple(langs) for w, langs in votes.items()}


_VOTES = _word_votes()
_UNIT = 27_720
"""lcm(1..12): a word shared by k of the 12 languages gives each ``_UNIT // k`` units, a whole number."""
_UNIT_VOTES = {w: tuple((lang, _UNIT // len(langs)) for lang in langs) for w, langs in _VOTES.items()}
_HINT_UNITS = _UNIT * 3 // 4
_WORD_RE = re.compile(r"[^\W\d_]+")
_ASCII_NON_LETTERS = ascii_table(lambda ch: ch if ch.isalpha() else " ")
"""ASCII letters kept, every other ASCII byte a space (a table for ``bytes.translate``, faster than ``str``'s)."""
_HINT_RE = re.compile("[" + "".join(_LETTER_HINTS) + "]")
_NON_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")
_KANA_RE = re.compile("[\u3040-\u30ff]")
# (first code point of a block, script) — a sorted table for bisect; None marks "not a script we route on".
_BLOCKS = [(0x0000, "latin"), (0x0250, None), (0x0370, "el"), (0x0400, "ru"), (0x0530, None), (0x0590, "he"),
           (0x0600, "ar"), (0x0700, None), (0x0900, "hi"), (0x0980, None), (0x0E00, "th"), (0x0E80, None),
           (0x1100, "ko"), (0x1200, None), (0x1E00, "latin"), (0x1F00, "el"), (0x2000, None),
           (0x3040, "ja"), (0x3100, None), (0x3130, "ko"), (0x3190, None), (0x3400, "zh"), (0x4DC0, None),
           (0x4E00, "zh"), (0xA000, None), (0xAC00, "ko"), (0xD7B0, None), (0xF900, "zh"), (0xFB00, None)]
_STARTS = [b[0] for b in _BLOCKS]
_REFINE = {"ru": (re.compile("[іїєґІЇЄҐ]"), "uk"), "ar": (re.compile("[پچژگ]"), "fa")}


def _script_of(ch: str) -> str | None:
    return _BLOCKS[bisect.bisect_right(_STARTS, ord(ch)) - 1][1]


def _script_counts(words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in words:
        script = "latin" if w[0] < "\u0250" else _script_of(w[0])
        if script:
            counts[script] = counts.get(script, 0) + len(w)
    return counts


def _latin_language(words: list[str], text: str, lower: bool = False) -> str:
    """The stopword vote: each word's vote split evenly among the languages that use it, plus letter hints; counted
    in whole units of ``1 / _UNIT`` so that sums and ties are exact. ``lower``: the words are lower-cased already
    (and ``text`` is ASCII, so it holds no letter hint)."""
    counts = Counter(filter(_UNIT_VOTES.__contains__, words if lower else map(str.lower, words)))
    scores: dict[str, int] = {}
    for w, n in counts.items():
        for lang, units in _UNIT_VOTES[w]:
            scores[lang] = scores.get(lang, 0) + n * units
    for ch in () if lower else set(_HINT_RE.findall(text.lower())):
        lang = _LETTER_HINTS[ch]
        scores[lang] = scores.get(lang, 0) + _HINT_UNITS
    if not scores:
        return "und"
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    return best if top >= _UNIT and top > second else "und"


def detect_language(text: str, max_chars: int = 5000) -> str:
    """ISO 639-1 code of the main language of ``text`` (its first ``max_chars`` characters), or ``"und"``."""
    text = text[:max_chars]
    if text.isascii():  # fast path: Latin script, lower-cased once, split on anything that is not a letter
        words = text.lower().encode("ascii").translate(_ASCII_NON_LETTERS).decode("ascii").split()
        return _latin_language(words, text, lower=True) if words else "und"
    words = _WORD_RE.findall(text)
    if not words:
        return "und"
    if _NON_LATIN.search(text) is None:
        return _latin_language(words, text)
    return _script_language(words, text)


def _script_language(words: list[str], text: str) -> str:
    """The language of text with non-Latin letters: that of the script with the most letters, refined where one
    script serves several languages (kana: Japanese, not Chinese; ``_REFINE``), or the Latin vote."""
    counts = _script_counts(words)
    if not counts:
        return "und"
    script = max(counts, key=counts.__getitem__)
    if script == "latin":
        return _latin_language(words, text)
    if script == "zh" and _KANA_RE.search(text):
        return "ja"
    if script in _REFINE:
        pattern, alternative = _REFINE[script]
        return alternative if pattern.search(text) else script
    return script
