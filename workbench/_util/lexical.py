"""Lexical text tools shared by the offline models, context selection and scoring: terms and BM25.

``terms(text)`` gives content words (lowercased, stopwords removed, lightly stemmed); ``bm25(query, docs)``
scores documents (lists of terms) against a query with Okapi BM25. Pure Python, no dependency.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

K1, B = 1.2, 0.75
"""Okapi BM25 parameters."""

STOPWORDS = frozenset([
    "a", "an", "the", "and", "or", "but", "if", "then", "else", "of", "to", "in", "on", "at", "by", "for",
    "with", "from", "into", "onto", "about", "as", "is", "are", "was", "were", "be", "been", "being", "do",
    "does", "did", "done", "doing", "have", "has", "had", "having", "it", "its", "it's", "this", "that",
    "these", "those", "there", "here", "which", "who", "whom", "whose", "what", "when", "where", "why",
    "how", "many", "much", "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her",
    "they", "them", "their", "not", "no", "nor", "so", "than", "too", "very", "can", "could", "would",
    "should", "will", "shall", "may", "might", "must", "also", "just", "only", "any", "all", "some", "each",
    "such", "more", "most", "other", "own", "same", "up", "down", "out", "over", "under", "again",
    "further", "once", "per", "via", "vs", "s", "t", "question", "answer", "context", "document",
    "documents", "please", "according", "provided", "given", "based", "tell", "say", "says", "said",
])

WORD_RE = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
IRREGULAR: Mapping[str, str] = MappingProxyType({past: base for base, forms in (
    ("begin", "began begun"), ("write", "wrote written"), ("build", "built"), ("make", "made"), ("hold", "held"),
    ("grow", "grew grown"), ("win", "won"), ("run", "ran"), ("lead", "led"), ("sell", "sold"), ("buy", "bought"),
    ("teach", "taught"), ("bring", "brought"), ("give", "gave given"), ("take", "took taken"),
    ("become", "became"), ("rise", "rose risen"), ("fall", "fell fallen"), ("draw", "drew drawn"),
    ("drive", "drove driven"), ("fly", "flew flown"), ("keep", "kept"), ("leave", "left"), ("lose", "lost"),
    ("meet", "met"), ("pay", "paid"), ("send", "sent"), ("spend", "spent"), ("stand", "stood"), ("tell", "told"),
    ("choose", "chose chosen"), ("speak", "spoke spoken"), ("break", "broke broken"), ("sing", "sang sung"),
    ("find", "found"), ("know", "knew known"), ("see", "saw seen"), ("eat", "ate eaten"), ("go", "went gone"),
    ("come", "came"), ("think", "thought"), ("feel", "felt"), ("sit", "sat"), ("get", "got gotten"),
    ("cost", "costs"), ("weigh", "weight weighs"), ("die", "died dead death"), ("bear", "born"),
    ("found", "founded"), ("high", "height"), ("long", "length"), ("wide", "width"), ("deep", "depth"),
) for past in [base, *forms.split()]})
"""Irregular forms mapped to one base form (and a few adjective/noun pairs: 'how high' ~ 'height')."""

@functools.lru_cache(maxsize=1 << 16)  # a pure function: the cache only saves time
def stem(word: str) -> str:
    """Light stemming: common irregular verbs, then -ies/-ing/-ed/plural s, a doubled final consonant, a final e.

    Enough to match 'opened'/'open', 'moved'/'move', 'began'/'begin'; both sides go through it, so over-stemming
    ('tree' -> 'tre') does no harm.
    """
    word = IRREGULAR.get(word, word)
    stem = word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        stem = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        stem = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stem = word[:-1]
    if stem is not word and len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        stem = stem[:-1]
    return stem[:-1] if len(stem) > 3 and stem.endswith("e") else stem


def terms(text: str) -> list[str]:
    """Content words of ``text``: lowercased, stopwords removed, lightly stemmed."""
    return [stem(w) for w in WORD_RE.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def idf(terms: list[str], docs: list[list[str]]) -> dict[str, float]:
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    return {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}


def bm25_scores(terms: list[str], docs: list[list[str]], idf: Mapping[str, float]) -> list[float]:
    """Okapi BM25 (k1=1.2, b=0.75) of each sentence against the query terms."""
    avgdl = (sum(map(len, docs)) / len(docs)) or 1.0
    scores = []
    for doc in docs:
        tf = Counter(doc)
        norm = K1 * (1 - B + B * len(doc) / avgdl)
        scores.append(sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in terms if tf[t]))
    return scores


def bm25(query: str, documents: list[str]) -> list[float]:
    """BM25 score of each document text against the query text."""
    docs = [terms(d) for d in documents]
    q = terms(query)
    return bm25_scores(q, docs, idf(q, docs)) if docs else []
