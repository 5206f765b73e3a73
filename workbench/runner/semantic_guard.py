"""The near-miss guard of the semantic cache, and the question normalisation it keys on.

Two questions can be lexically almost identical and still ask different things: *"refund after 30 days"* vs
*"after 60 days"*, *"the Growth plan"* vs *"the Starter plan"*, *"does Scale include SSO"* vs *"does Scale not
include SSO"*. Embeddings place such pairs very close (0.85–0.95 cosine with the hashing embedder), so a cache hit
also requires the two questions to agree on:

- **numbers** (digits, ``1,000``, ``2.5``, ``10k``, ordinals, number words), as exact values;
- **dates and periods** (month and weekday names, today/tomorrow/yesterday, "last/next/this <unit>", time units
  such as day/month/year, daily/monthly/annual...);
- **currencies** (``$ € £ ¥``, ISO codes, currency words);
- **named entities**: capitalised tokens that are not common sentence words, acronyms (``SSO``, ``EUR``),
  camelCase and letter-digit codes (``Q1``, ``v2``), and ``entity_terms`` given by the caller (e.g. plan names typed
  in lower case). Each entity of one question must occur (in any case) among the words of the other;
- **negation** (not, no, never, without, n't, cannot, none...), as a yes/no flag;
- **contrast words**: one question may not use a word whose antonym the other uses (before/after,
  upgrade/downgrade, more/less, enable/disable, add/remove, paid/unpaid, partial/full...).

It is a lexical heuristic: it errs towards a miss (a paraphrase answered by the model), never towards a hit on a
question that differs in one of those values.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable

_TOKEN = re.compile(r"\w+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)(k|m|bn)")
_SENTENCE_END = tuple(".!?:;\n")
_NEGATIONS = frozenset("not no never without cannot none nobody nothing neither nor nowhere".split())
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                  "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000,
                  "dozen": 12, "half": 0.5, "twice": 2, "double": 2, "triple": 3, "once": 1}
_MONTHS = {m[:3]: m for m in "january february march april june july august september october november december"
           .split()} | {"sept": "september"}
_MONTHS |= {m: m for m in _MONTHS.values()}
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday weekend weekday weekdays".split())
_RELATIVE = frozenset("today tonight tomorrow yesterday".split())
_MODIFIERS = frozenset("last next this previous coming past current".split())
_UNITS = {u: u for u in "minute hour day week month quarter year decade".split()}
_UNITS |= {u + "s": u for u in list(_UNITS)}
_UNITS |= {"seconds": "second", "hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month",
           "quarterly": "quarter", "yearly": "year", "annual": "year", "annually": "year", "biweekly": "2 week",
           "fortnight": "2 week", "am": "am", "pm": "pm"}
_CURRENCY_WORDS = {"usd": "usd", "dollar": "usd", "dollars": "usd", "eur": "eur", "euro": "eur", "euros": "eur",
                   "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "sterling": "gbp", "jpy": "jpy", "yen": "jpy",
                   "cad": "cad", "aud": "aud", "chf": "chf", "franc": "chf", "francs": "chf", "inr": "inr",
                   "rupee": "inr", "rupees": "inr", "cny": "cny", "yuan": "cny", "sek": "sek", "nok": "nok",
                   "dkk": "dkk", "krona": "sek", "krone": "nok", "mxn": "mxn", "peso": "mxn", "pesos": "mxn",
                   "brl": "brl", "real": "brl", "reais": "brl"}
_CURRENCY_SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "₹": "inr"}


def _forms(words: str) -> frozenset[str]:
    """Each word with its common inflections (enable -> enables, enabled, enabling)."""
    out = set()
    for w in words.split():
        stem = w[:-1] if w.endswith("e") else w
        out |= {w, w + "s", w + "es", stem + "ed", stem + "ing", w + "d"}
    return frozenset(out)


_CONTRASTS = tuple((_forms(a), _forms(b)) for a, b in (
    ("before prior earlier earliest first", "after later latest last"),
    ("more over above greater higher exceed max maximum most increase raise", "less under below fewer lower min "
     "minimum least decrease reduce"),
    ("upgrade", "downgrade"), ("enable activate", "disable deactivate"), ("add include allow", "remove exclude "
     "block"), ("start begin open resume", "stop end close pause"), ("inbound incoming receive received",
     "outbound outgoing send sent"), ("paid", "unpaid overdue"), ("partial partially", "full fully"),
    ("import", "export"), ("credit", "debit"), ("public", "private"), ("encrypt", "decrypt")))
"""Antonym groups: a question using one side and another using the other side ask different things."""

_COMMON = frozenset(
    "what whats how why when where who whom whose which is are was were be been being do does did done can could "
    "would will should shall may might must have has had i im ive id me my mine we our ours you your yours he she "
    "it its they them their there here this that these those the a an and or but if then so as at by for from in "
    "into of on onto to with about after before since until while during per via any all some each every other "
    "another such no not yes please kindly hi hello hey thanks thank tell show explain give list describe help "
    "find get set add remove create delete update change cancel enable disable send check compare summarise "
    "summarize calculate let lets need want ok okay also just still again only".split())
_CONTRACTIONS = [(re.compile(p), r) for p, r in (
    (r"\bwon['’]t\b", "will not"), (r"\bcan['’]t\b", "can not"), (r"\bshan['’]t\b", "shall not"),
    (r"n['’]t\b", " not"), (r"\b(what|that|it|there|here|who|where|how|when|why)['’]s\b", r"\1 is"),
    (r"['’]re\b", " are"), (r"['’]ve\b", " have"), (r"['’]ll\b", " will"), (r"\bi['’]m\b", "i am"),
    (r"['’]d\b", " would"), (r"\bcannot\b", "can not"))]
_FILLER = frozenset("please kindly hi hello hey thanks thank the a an".split())


def normalise_question(text: str) -> str:
    """The cache's key text: NFKC, lower case, contractions expanded, punctuation (outside numbers), articles and
    pleasantries dropped, whitespace collapsed. Equal keys are an exact hit; the embedder embeds this text."""
    text = unicodedata.normalize("NFKC", text).lower()
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    text = re.sub(r"[$€£¥₹%]", lambda m: f" {m.group()} ", text)
    words = re.findall(r"[$€£¥₹%]|\w+(?:[.,]\d+)*", text)
    return " ".join(w for w in words if w not in _FILLER)


def _number(token: str) -> str | None:
    """The canonical value of a numeric token (``1,000`` == ``1000``; ``2,5`` == ``2.5``; ``10k`` == ``10000``)."""
    scale = Decimal(1)
    if m := _ORDINAL.fullmatch(token):
        token = m.group(1)
    elif m := _SCALED.fullmatch(token):
        token, scale = m.group(1), Decimal({"k": 1000, "m": 1_000_000, "bn": 1_000_000_000}[m.group(2)])
    elif not _NUMBER.fullmatch(token):
        return None
    token = token.replace(",", "") if _THOUSANDS.fullmatch(token) else token.replace(",", ".")
    if token.count(".") > 1:  # a version or a dotted date: keep it as it is
        return token
    try:
        return format((Decimal(token) * scale).normalize(), "f")
    except InvalidOperation:
        return token


@dataclass(frozen=True)
class Signature:
    """What two questions must share for a semantic hit."""

    numbers: frozenset[str]
    dates: frozenset[str]
    currencies: frozenset[str]
    contrasts: tuple[int, ...]
    """Per antonym group: 1 (only the first side used), -1 (only the second), 0 (neither or both)."""
    entities: frozenset[str]
    words: frozenset[str]
    negated: bool

    def compatible(self, other: "Signature") -> bool:
        """True when neither question has a value the other lacks (entities: in any case, anywhere)."""
        return (self.negated == other.negated and self.numbers == other.numbers and self.dates == other.dates
                and self.currencies == other.currencies
                and not any(a * b < 0 for a, b in zip(self.contrasts, other.contrasts))
                and self.entities <= other.words and other.entities <= self.words)


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“‘(«[")
    return not before or before.endswith(_SENTENCE_END)


def _is_entity(token: str, lower: str, terms: frozenset[str]) -> bool:
    """A caller's term, a code such as Q1, v2, 2FA (pure numbers never get here), or a capitalised word that is not
    a common sentence word (sentence-initial ones included: "Stripe webhooks..." names Stripe; since entities only
    need to *occur* in the other question, "Refunds take how long?" still matches "how long do refunds take")."""
    if lower in terms or any(c.isdigit() for c in token):
        return True
    return any(c.isupper() for c in token) and lower not in _COMMON


def signature(question: str, entity_terms: Iterable[str] = ()) -> Signature:
    """The values of ``question`` the guard compares (see the module docstring)."""
    text = unicodedata.normalize("NFKC", question)
    terms = frozenset(t.lower() for t in entity_terms)
    lowered = text.lower()
    negated = bool(re.search(r"n['’]t\b", lowered))
    tokens = [(m.group(), m.group().lower(), m.start()) for m in _TOKEN.finditer(text)]
    numbers, dates, entities = set(), set(), set()
    currencies = {code for sym, code in _CURRENCY_SYMBOLS.items() if sym in text}
    for i, (token, lower, start) in enumerate(tokens):
        neighbours = [tokens[j][1] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
        if (value := _number(lower)) is not None:
            numbers.add(value)
        elif lower in _NUMBER_WORDS:
            numbers.add(format(Decimal(str(_NUMBER_WORDS[lower])).normalize(), "f"))
        elif lower == "may":  # the month only beside a number or capitalised mid-sentence ("May I..." is a verb)
            if any(_NUMBER.fullmatch(n) for n in neighbours) or (token == "May" and not _sentence_initial(text, start)):
                dates.add("may")
        elif lower in _MONTHS:
            dates.add(_MONTHS[lower])
        elif lower in _WEEKDAYS or lower in _RELATIVE or lower in _UNITS:
            dates.add(_UNITS.get(lower, lower))
            if i and tokens[i - 1][1] in _MODIFIERS:
                dates.add(f"{tokens[i - 1][1]} {_UNITS.get(lower, lower)}")
        elif lower in _CURRENCY_WORDS and (lower != "real" or token.isupper()):
            currencies.add(_CURRENCY_WORDS[lower])
        elif _is_entity(token, lower, terms):
            entities.add(lower)
        if lower in _NEGATIONS:
            negated = True
    words = frozenset(t[1] for t in tokens)
    contrasts = tuple(bool(words & a) - bool(words & b) for a, b in _CONTRASTS)
    return Signature(frozenset(numbers), frozenset(dates), frozenset(currencies), contrasts, frozenset(entities),
                     words, negated)
