"""The near-miss guard of the semantic cache, and the question normalisation it keys on.

Two questions can be lexically almost identical and still ask different things: *"refund after 30 days"* vs
*"after 60 days"*, *"the Growth plan"* vs *"the Starter plan"*, *"does Scale include SSO"* vs *"does Scale not
include SSO"*. Embeddings place such pairs very close (0.85–0.95 cosine with the hashing embedder), so a cache hit
also requires the two questions to agree on:

- **numbers** (digits, ``1,000``, ``2.5``, ``10k``, ordinals, number words), as exact values;
- **dates and periods** (month and weekday names, today/tomorrow/yesterday, "last/next/this <unit>", time units
  such as day/month/year, daily/monthly/annual..., am/pm after a number: "Am I able to" is not a time);
- **currencies** (``$ € £ ¥``, ISO codes, currency words);
- **named entities**: capitalised tokens that are not common sentence words, acronyms (``SSO``, ``EUR``),
  camelCase and letter-digit codes (``Q1``, ``v2``), and ``entity_terms`` given by the caller (e.g. plan names typed
  in lower case). Each entity of one question must occur (in any case) among the words of the other;
- **negation** (not, no, non, never, without, n't, cannot, none...), as a yes/no flag;
- **contrast words**: one question may not use a word whose antonym the other uses (before/after,
  upgrade/downgrade, more/less, enable/disable, add/remove, paid/unpaid, partial/full, log in/log out...);
- **direction and roles**: the values and the words beside a direction word (from, to, into, than, vs...) must come
  in the same order ("from Paris to Berlin" is not "from Berlin to Paris"; "celsius into fahrenheit" is not the
  reverse; "is pro cheaper than team" is not the reverse);
- **one swapped word**: two questions whose content words are the same but for one, at the same place ("the pro
  plan" / "the team plan", "the sender" / "the recipient", "the second edition" / "the third"), ask about different
  things, unless the two words are inflections of each other or listed synonyms (``_SYNONYMS``);
- **the same words in another order**: a swap of roles or directions ("can the billing contact change the account
  owner" / the reverse; "can my landlord view my usage" / "can I view my landlord's usage");
- **one short run swapped or added**, the rest word for word the same: "change my email" / "change my phone
  number", "an economy ticket" / "a premium economy ticket", "for me" / "for my family", "cancel order 2" / "get a
  refund for order 2" (actions count, though common words; listed synonyms such as change/update pass);
- **all of something** on one side only (all, every, each, whole...): "delete this chat" / "delete every chat";
  **part of it** on one side only (only, except...): "cover any driver" / "cover only me";
- **a time condition** on one side only (before/after..., the conjunction "once"): "change my address after
  ordering" / "save another address";
- **in X / out of X** ("in-network" / "out-of-network", "in stock" / "out of stock");
- **roles of preposition phrases**: a word that is the object of "from" / "out of" in one question and of "to" /
  "into" in the other ("a shuttle from the arena to downtown" / "to the arena from downtown"), or that plays
  another part where the other has a phrase of the same kind, also after with, on, for, by ("my friend transfers
  her ticket to me" / "I transfer my ticket to my friend", "the hotel cancels on me" / "I cancel on the hotel");
- **who owns what**: a possessor ("my landlord's service") that is another part in the other question;
- **prefixes**: a word and the same word with un-, de-, dis-, re-, pre-, post-, ex-, mis-, non- ("list" /
  "delist", "order" / "pre-order").
- **modality**: what is possible or allowed ("can I", "is it possible") against what is required ("must I", "do
  I need", "do I have to", "is it mandatory");
- **tense**: the past ("did", "was", "already", "has my order shipped") against the future ("will", "going to");
- **another clause** after the same words: a reason, condition or comparison that names nothing of the other's
  ("because it is defective" / "because I changed my mind"; "cheaper than paying per order" / "cheaper than the
  rival's plan").

Some words lose their value from their neighbours: the conjunction "once" ("once the order is placed") is no
number, a bare unit ("how many days") no period, the pronoun "one" ("a new one") no number; "current" is "this".

It is a lexical heuristic: it errs towards a miss (a paraphrase answered by the model), never towards a hit on a
question that differs in one of those values. It cannot know every way two questions differ: on sets of near
misses written apart from it (``tests/data/*_fresh*.jsonl``), each new author's first run still found 2–9 % that
it let through (all but one since refused; see ``tests/test_near_miss_set.py``).

A signature takes ~40 µs (per-token results are memoised); its ``digest`` (three integers) lets the cache rule
out most incompatible entries with integer operations on arrays, without their questions (``may_be_compatible``
is implied by ``compatible``, not the converse, so the full comparison still decides every hit).
"""
from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache

_TOKEN = re.compile(r"\w+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)(k|m|bn)")
_SENTENCE_END = tuple(".!?:;\n")
_NEGATIONS = frozenset("not no non never without cannot none nobody nothing neither nor nowhere".split())
"""Negation words ("non" as in "non-refundable")."""
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
_PLAIN_UNITS = frozenset("second seconds minute minutes hour hours day days week weeks month months quarter quarters "
                         "year years decade decades".split())
_QUANTIFIED_BY = _MODIFIERS | {"a", "an", "per", "every", "each"}
"""A plain unit noun is a period only after a number or one of these ("3 days", "per month", "last week"); bare, it
asks about a duration in general ("how many days until it arrives" is "how long does delivery take")."""
_SAME_MODIFIER = {"current": "this", "present": "this", "previous": "last", "past": "last", "coming": "next"}
"""Period modifiers that say the same ("the current month" is "this month")."""
_PRONOUN_AFTER = frozenset("a an the this that which another any".split())
"""Within two words before "one", these make it a pronoun ("a new one", "which one"), unless a unit follows ("a
one-year plan")."""
_CLAUSE_STARTS = frozenset("the my your our their his her its i you we they he she it this that these those there "
                           "payment everything".split())
"""After "once", these start a clause: "once the order is placed" is "after", not the number 1."""
_UNITS = {u: u for u in "minute hour day week month quarter year decade".split()}
_UNITS |= {u + "s": u for u in list(_UNITS)}
_UNITS |= {"seconds": "second", "hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month",
           "quarterly": "quarter", "yearly": "year", "annual": "year", "annually": "year", "biweekly": "2 week",
           "fortnight": "2 week"}
_CLOCK = frozenset({"am", "pm"})
"""Times of day only after a number ("9 am", "9:30 pm"): "Am I able to..." and "if I am" are the verb."""
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


_PHRASAL_VERBS = frozenset(("log logs logged logging sign signs signed signing turn turns turned turning switch "
                            "switches switched switching opt opts opted opting check checks checked checking").split())


_PARTICLES = frozenset("in on out off up down".split())


def _phrasal(particles: str) -> frozenset[str]:
    """"log" and "sign" with each particle, as word pairs ("logged out", "sign on") and as one word ("logout");
    "turn", "switch", "opt" and "check" as word pairs ("turn off", "opt in", "check out")."""
    return (frozenset(f"{verb} {particle}" for verb in _PHRASAL_VERBS for particle in particles.split())
            | _forms(" ".join(f"log{particle} sign{particle}" for particle in particles.split())))


_CONTRASTS = tuple((_forms(a), _forms(b)) for a, b in (
    ("before prior earlier earliest first", "after later latest last"),
    ("more over above greater higher exceed max maximum most increase raise", "less under below fewer lower min "
     "minimum least decrease reduce"),
    ("upgrade", "downgrade"), ("enable activate", "disable deactivate"), ("add include allow", "remove exclude "
     "block"), ("start begin open resume", "stop end close pause"), ("inbound incoming receive received",
     "outbound outgoing send sent"), ("paid", "unpaid overdue"), ("partial partially", "full fully"),
    ("import", "export"), ("credit", "debit"), ("public", "private"), ("encrypt", "decrypt"))) + (
    (_phrasal("in on"), _phrasal("out off")),)
"""Antonym groups: a question using one side and another using the other side ask different things. The last group
is phrasal (word pairs: "sign out" / "single sign-on", "log in" / "logout")."""

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
_DIRECTIONS = frozenset("from to into onto towards toward than vs versus".split())
"""Words whose two sides are ordered: what comes before and after them must stay where it is."""
_SOURCES, _TARGETS = frozenset({"from"}), frozenset("to into onto towards toward".split())
_ROLE_PREPOSITIONS = frozenset("with on for by".split())
"""Prepositions whose phrases keep their object's part too ("cancels on me" / "I cancel on the hotel")."""
_EXCLUSIVE = frozenset("only solely exclusively except excluding".split())
"""Words that restrict a question to part of something: "cover any driver" is not "cover only me"."""
_OBJECT_MARKS = frozenset("the a an my your our their his her its this that these those".split())
_PERSON_OBJECTS = frozenset("me us him them".split())
_PREFIXES = ("un", "de", "dis", "re", "pre", "post", "ex", "mis", "non")
"""Prefixes that make another word of a word ("list" / "delist", "order" / "pre-order")."""
_SYNONYMS = tuple(frozenset(g.split()) for g in (
    "window period", "cost price fee charge", "cancel terminate", "refund reimbursement", "invoice bill",
    "account profile", "install setup", "quick fast", "purchase buy", "customer client", "photo picture",
    "help support", "error failure", "reset restore", "begin start", "app application", "turn switch",
    "change update modify edit", "delete remove erase"))
"""Word groups that may replace each other without changing the question (the swapped-word rule allows them)."""
_UNIVERSAL = frozenset("all every each entire whole everything everyone everybody everywhere".split())
"""Words that make a question about all of something: "delete this chat" is not "delete every chat"."""
_ORDINAL_WORDS = {w: str(i) for i, w in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth".split())}
_KEY_TOKEN = re.compile(r"[$€£¥₹%]|\w+(?:[.,]\d+)*")
_FILLER = frozenset("please kindly hi hello hey thanks thank the a an".split())


def normalise_question(text: str) -> str:
    """The cache's key text: NFKC, lower case, contractions expanded, punctuation (outside numbers), articles and
    pleasantries dropped, whitespace collapsed. Equal keys are an exact hit; the embedder embeds this text."""
    text = unicodedata.normalize("NFKC", text).lower()
    if "'" in text or "’" in text or "cannot" in text:  # every contraction needs one of them
        for pattern, repl in _CONTRACTIONS:
            text = pattern.sub(repl, text)
    return " ".join(w for w in _KEY_TOKEN.findall(text) if w not in _FILLER)


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
    order: tuple[str, ...] = ()
    """Values and direction anchors in the order they appear."""
    content: tuple[str, ...] = ()
    """The content words (not common sentence words), in order."""
    universal: bool = False
    """Whether the question speaks of all of something (all, every, each, entire, whole...)."""
    tokens: tuple[str, ...] = ()
    """The question's words in lower case, in order, without articles and pleasantries (for ``_one_span_swapped``)."""
    roles: frozenset[tuple[str, str]] = frozenset()
    """``("from" | "to" | "with" | "on" | "for" | "by", word)``: the objects of prepositions ("from the arena", "out
    of your service"; "to my friend", "into savings"; "with me"; an infinitive "to switch" is no object)."""
    prefixed: frozenset[str] = frozenset()
    """Prefixes written apart ("re-activate", "pre-order": ``re``, ``pre``) and words made of a prefix and another
    word (``delist``: ``de|list``)."""
    possessors: frozenset[str] = frozenset()
    """Words followed by a possessive ``'s`` ("landlord" in "my landlord's service")."""
    inside: frozenset[str] = frozenset()
    """``in X`` as ``+x`` and ``out of X`` as ``-x`` ("in-network" / "out-of-network", "in stock" / "out of
    stock")."""
    modality: int = 0
    """1 when the question asks what is possible or allowed only ("can I", "am I allowed"), -1 when it asks what is
    required only ("must I", "do I need", "do I have to", "is it mandatory"), 0 for neither or both."""
    tense: int = 0
    """1 when the question asks about the past only ("did", "was", "already", "has my order shipped"), -1 about the
    future only ("will", "going to", "I'll"), 0 for neither or both."""

    @cached_property
    def digest(self) -> tuple[int, int, int]:
        """Three 64-bit integers that rule out most incompatible pairs without a signature of the other question
        (the semantic cache keeps one per entry in memory): a non-zero key of the values compared for equality
        (numbers, dates, currencies, negation), and one bit (crc32 mod 64) per word and per entity. Two compatible
        signatures have equal keys and each one's entity bits among the other's word bits (``may_be_compatible``);
        the converse does not hold. Stable across processes; entities found with ``entity_terms`` only add bits, so
        a digest made without them still rules out only entries a cache with terms would refuse too."""
        text = repr((sorted(self.numbers), sorted(self.dates), sorted(self.currencies), self.negated))
        key = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1 or 1
        return key, _bits(self.words), _bits(self.entities)

    def compatible(self, other: Signature) -> bool:
        """True when neither question has a value the other lacks (entities: in any case, anywhere)."""
        return (self.negated == other.negated and self.numbers == other.numbers and self.dates == other.dates
                and self.currencies == other.currencies
                and not any(a * b < 0 for a, b in zip(self.contrasts, other.contrasts, strict=True))
                and self.contrasts[0] == other.contrasts[0]  # "after ordering" is a condition the other lacks
                and self.entities <= other.words and other.entities <= self.words
                and self.universal == other.universal
                and self.words.isdisjoint(_EXCLUSIVE) == other.words.isdisjoint(_EXCLUSIVE)
                and not any(f"{'-' if x[0] == '+' else '+'}{x[1:]}" in other.inside for x in self.inside)
                and _same_roles(self, other) and _same_roles(other, self)
                and _possessors_kept(self, other) and _possessors_kept(other, self)
                and self.modality * other.modality >= 0 and self.tense * other.tense >= 0
                and not _prefix_antonyms(self, other) and not _prefix_antonyms(other, self)
                and _same_order(self.order, other.order) and not _one_word_swapped(self.content, other.content)
                and not _reordered(self.content, other.content) and not _one_span_swapped(self.tokens, other.tokens)
                and not _other_clause(self.tokens, other.tokens))


def _same_roles(a: Signature, b: Signature) -> bool:
    """No word of ``a``'s preposition phrases plays another part in ``b``: the object of the other kind of
    preposition ("from the arena to downtown" / "to the arena from downtown", "into your service" / "out of your
    service"), or, where ``b`` has a phrase of the same kind about something else, a word outside every phrase ("my
    friend transfers her ticket to me" / "I transfer my ticket to my friend", "the hotel cancels on me" / "I cancel
    on the hotel"). A phrase one question lacks decides nothing, nor does a word in another phrase ("a limit on the
    number on the Starter plan" / "a limit to the number on the Starter plan")."""
    phrases_b, objects_b = {role for role, _ in b.roles}, {word for _, word in b.roles}
    for role, word in a.roles:
        if word in b.words and (role, word) not in b.roles and (
                (role in phrases_b and word not in objects_b) or ("to" if role == "from" else "from", word) in b.roles):
            return False
    return True


def _possessors_kept(a: Signature, b: Signature) -> bool:
    """Who owns what stays: a word that owns something in ``a`` ("my landlord's service") is no other part in ``b``
    ("can my landlord cancel my service")."""
    return all(w in b.possessors or w not in b.words for w in a.possessors)


def _prefix_antonyms(a: Signature, b: Signature) -> bool:
    """``a`` uses a word that ``b`` uses with a prefix ("list" / "delist", "activate" / "reactivate"), or ``b``
    writes a prefix apart ("re-activate") that ``a`` lacks."""
    return any(p in b.prefixed and p not in a.prefixed for p in _PREFIXES) or any(
        f"{p}|{w}" in b.prefixed for w in a.words for p in _PREFIXES if f"{p}|{w}" not in a.prefixed)


def _same_order(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The items both sequences hold come in the same order in each."""
    shared = set(a) & set(b)
    if len(shared) < 2:
        return True
    return list(dict.fromkeys(x for x in a if x in shared)) == list(dict.fromkeys(x for x in b if x in shared))


def _one_word_swapped(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Same content words but one, at the same place, and the two are neither inflections nor synonyms; or the same
    words with two of them trading places."""
    if len(a) != len(b) or len(a) < 2:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 2:  # two words trading places: "is pro cheaper than team" / "is team cheaper than pro"
        i, j = diffs
        return a[i] == b[j] and a[j] == b[i]
    if len(diffs) != 1:
        return False
    x, y = a[diffs[0]], b[diffs[0]]
    return not (_stem(x) == _stem(y) or any(x in g and y in g for g in _SYNONYMS))


def _reordered(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same content words (up to inflection) in another order: a swap of roles or directions ("can the billing
    contact change the account owner" / "can the account owner change the billing contact"; "convert points into
    credit" / "convert credit into points")."""
    if len(a) != len(b) or len(a) < 2:
        return False
    sa, sb = [_stem(w) for w in a], [_stem(w) for w in b]
    return sa != sb and sorted(sa) == sorted(sb)


_MAX_SPAN = 3
"""The longest run of words ``_one_span_swapped`` looks at: a longer one is a rewording, not a swapped object."""
_PERSONS = frozenset("i me my myself mine we us our ours ourselves you your yours yourself".split())
_ACTIONS = frozenset("add remove create delete update change cancel enable disable send set compare calculate".split())
"""Common words that still name what is done: "cancel order 2" is not "get a refund for order 2"."""
_MAX_INSERT = 2
"""The most words one question may add to the other, all else equal, for ``_one_span_swapped`` to see a modifier
("premium", "team's") rather than a rewording."""


def _common_ends(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, int]:
    """How many words ``a`` and ``b`` share at their start, then at their end (not counting those twice)."""
    n = min(len(a), len(b))
    start = 0
    while start < n and a[start] == b[start]:
        start += 1
    end = 0
    while end < n - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


def _one_span_swapped(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two questions that are word for word the same but for one short run in each (the rest, at least two words,
    around it), where a run names a thing the other does not: "change my email" / "change my phone number", "close
    my savings account" / "close my credit card", "return a sale item" / "return a full-price item". A run of common
    words only on either side ("can I find" / "do I see") and inflections or listed synonyms do not count. A run
    added on one side only (one or two words, one of them a content word; a possessive ``'s`` is no word of its own)
    is a modifier: "an economy ticket" / "a premium economy ticket", "export my data" / "export my team's data", "my
    account" / "my late father's account"."""
    start, end = _common_ends(a, b)
    run_a, run_b = a[start:len(a) - end], b[start:len(b) - end]
    if len(run_a) > _MAX_SPAN or len(run_b) > _MAX_SPAN or start + end < 2:
        return False
    named_a, named_b = _named(run_a), _named(run_b)
    if not run_a or not run_b:  # words added: "an economy ticket" / "a premium economy ticket"
        return bool(named_a or named_b) and len(run_a) + len(run_b) - (run_a + run_b).count("s") <= _MAX_INSERT
    if (named_b and not named_a and set(run_a) <= _PERSONS) or (named_a and not named_b and set(run_b) <= _PERSONS):
        return True  # a person for a group or thing: "for me" / "for my family"
    if not named_a or not named_b:  # a verb reworded around common words: "can I find" / "do I see"
        return False
    return not (_matched(named_a, named_b) and _matched(named_b, named_a))


_CLAUSE_OPENERS = frozenset("because if unless when since whenever than".split())
"""Words that open a condition, a reason or a comparison: what follows them is another question when it differs."""


def _other_clause(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same words up to a condition, a reason or a comparison, then another one, the rest the same: "late
    because the restaurant was slow, can I get a refund" / "... because I gave the wrong address, ..."; "cheaper
    than paying per order" / "cheaper than the rival's subscription" (too long a run for ``_one_span_swapped``).
    Clauses that share a named thing (up to inflection or a listed synonym) are rewordings: "if I smell gas in my
    home" / "if there's a gas smell in my house"."""
    start, end = _common_ends(a, b)
    opener = next((i for i in range(start - 1, 1, -1) if a[i] in _CLAUSE_OPENERS), None)
    if opener is None:
        return False
    named_a, named_b = _named(a[opener + 1:len(a) - end]), _named(b[opener + 1:len(b) - end])
    return bool(named_a and named_b) and not any(_matched({w}, named_b) for w in named_a)


def _named(run: tuple[str, ...]) -> set[str]:
    """The stems of a run's content words and actions (numbers by value: "1,000" is "1000", "2nd" is "second")."""
    out = set()
    for w in run:
        if (w not in _COMMON and w not in _FILLER) or w in _ACTIONS:
            kind = _token_value(w, frozenset())
            out.add(kind[1] if kind is not None and kind[0] == "number" else _stem(w))
    return out


def _matched(these: set[str], those: set[str]) -> bool:
    """Each of ``these`` is among ``those`` or has a listed synonym there."""
    return all(w in those or any(w in g and not g.isdisjoint(those) for g in _STEMMED_SYNONYMS) for w in these)


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_STEMMED_SYNONYMS = tuple(frozenset(_stem(w) for w in g) for g in _SYNONYMS)


def _bits(words: Iterable[str]) -> int:
    out = 0
    for w in words:
        out |= 1 << (zlib.crc32(w.encode()) & 63)
    return out


def may_be_compatible(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """False when the signatures of two digests cannot be compatible (see ``Signature.digest``)."""
    return a[0] == b[0] and a[2] & ~b[1] == 0 and b[2] & ~a[1] == 0


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


@lru_cache(maxsize=1 << 16)
def _token_value(token: str, terms: frozenset[str]) -> tuple[str, str] | None:
    """What one token contributes, where that does not depend on its neighbours: ``("number" | "date" | "unit" |
    "currency" | "entity", value)``, ``("may", "may")`` or ``("clock", "am" | "pm")`` (decided in context) or ``None``. Memoised: questions share
    most of their words, and this is most of the cost of a signature."""
    lower = token.lower()
    if (value := _number(lower)) is not None:
        return "number", value
    if lower in _NUMBER_WORDS or lower in _ORDINAL_WORDS:  # "second edition" == "2nd edition"
        word = _NUMBER_WORDS.get(lower, _ORDINAL_WORDS.get(lower))
        return "number", format(Decimal(str(word)).normalize(), "f")
    if (when := _calendar_value(lower)) is not None:
        return when
    if lower in _CURRENCY_WORDS and (lower != "real" or token.isupper()):
        return "currency", _CURRENCY_WORDS[lower]
    if _is_entity(token, lower, terms):
        return "entity", lower
    return None


def _calendar_value(lower: str) -> tuple[str, str] | None:
    """``_token_value`` of a calendar word: a month (``"may"`` undecided), a weekday, a relative day or a unit."""
    if lower == "may":
        return "may", "may"
    if lower in _CLOCK:
        return "clock", lower
    if lower in _MONTHS:
        return "date", _MONTHS[lower]
    if lower in _WEEKDAYS or lower in _RELATIVE or lower in _UNITS:
        return "unit", _UNITS.get(lower, lower)
    return None


def _in_context(kinds: list[tuple[str, str] | None], lowers: list[str]) -> list[tuple[str, str] | None]:
    """``kinds`` without the values their neighbours undo: the conjunction "once" ("once the order is placed"), a
    bare unit ("how many days"), the pronoun "one" ("a new one")."""
    for i, lower in enumerate(lowers):
        after = lowers[i + 1] if i + 1 < len(lowers) else ""
        conjunction = lower == "once" and after in _CLAUSE_STARTS
        bare_unit = lower in _PLAIN_UNITS and not (i and (lowers[i - 1] in _QUANTIFIED_BY or (
            kinds[i - 1] is not None and kinds[i - 1][0] == "number")))
        pronoun = lower == "one" and not _PRONOUN_AFTER.isdisjoint(lowers[max(0, i - 2):i]) and not (
            after in _UNITS or after in _PLAIN_UNITS)
        if conjunction or bare_unit or pronoun:
            kinds[i] = None
    return kinds


def _roles(lowers: list[str], kinds: list[tuple[str, str] | None]) -> frozenset[tuple[str, str]]:
    """``Signature.roles``: the words of the phrase after a source or target preposition, or after with, on, for, by
    (past determiners and possessives, up to three content words or values); after "to" only when a determiner, a
    possessive or a value follows it, or a person ("to me"): "to switch" is an infinitive. "out of" is a source."""
    out = set()
    for i, lower in enumerate(lowers):
        role = "from" if lower in _SOURCES or (lower == "out" and lowers[i + 1:i + 2] == ["of"]) else \
            "to" if lower in _TARGETS else lower if lower in _ROLE_PREPOSITIONS else None
        if role is None:
            continue
        j = i + 2 if lower == "out" else i + 1
        marked = j < len(lowers) and (lowers[j] in _OBJECT_MARKS or lowers[j] in _PERSON_OBJECTS)
        while j < len(lowers) and lowers[j] in _OBJECT_MARKS:
            j += 1
        if j >= len(lowers) or not (lower != "to" or marked or kinds[j] is not None):
            continue
        for k in range(j, min(j + 3, len(lowers))):
            if (lowers[k] in _COMMON and lowers[k] not in _PERSON_OBJECTS) or lowers[k] in _DIRECTIONS:
                break
            out.add((role, lowers[k]))
    return frozenset(out)


def _possessors(lowers: list[str], kinds: list[tuple[str, str] | None]) -> frozenset[str]:
    """``Signature.possessors``: words before a possessive ``'s``; not a common word ("what's" is "what is") nor a
    number, date or unit ("this month's invoice")."""
    return frozenset(a for i, (a, b) in enumerate(itertools.pairwise(lowers))
                     if b == "s" and a not in _COMMON and kinds[i] is None and a not in _PLAIN_UNITS)


def _prefixed(words: frozenset[str]) -> frozenset[str]:
    """``Signature.prefixed``: prefixes written apart, and ``prefix|word`` for each word that is a prefix and a word
    of at least three letters also used somewhere (``delist`` -> ``de|list``; the other question decides)."""
    out = {p for p in _PREFIXES if p in words}
    out |= {f"{p}|{w[len(p):]}" for w in words if w.startswith(_PREFIXES)  # one C call for most words
            for p in _PREFIXES if w.startswith(p) and len(w) - len(p) >= 3}
    return frozenset(out)


def _inside(lowers: list[str]) -> frozenset[str]:
    """``+x`` for each "in x", ``-x`` for each "out of x" (see ``Signature.inside``)."""
    out = {f"+{b}" for a, b in itertools.pairwise(lowers) if a == "in" and b not in _COMMON and b not in _FILLER}
    out |= {f"-{lowers[i + 2]}" for i in range(len(lowers) - 2) if lowers[i] == "out" and lowers[i + 1] == "of"}
    return frozenset(out)


def _contrast_sides(lowers: list[str], kinds: list[tuple[str, str] | None]) -> tuple[int, ...]:
    """Per antonym group of ``_CONTRASTS``: 1 (only its first side used), -1 (only the second) or 0."""
    used = set(lowers) | {f"{a} {b}" for a, b in itertools.pairwise(lowers)}  # word pairs for the phrasal ones
    used |= {f"{a} {lowers[k]}" for i, a in enumerate(lowers) if a in _PHRASAL_VERBS  # "turn it off", "check my
             for k in range(i + 2, min(i + 4, len(lowers)))                       # cat in"; not "sign in on"
             if _PARTICLES.isdisjoint(lowers[i + 1:k])}
    if "once" in lowers and any(lower == "once" and kind is None for lower, kind in zip(lowers, kinds, strict=True)):
        used.add("after")  # the conjunction: "once the order is placed"
    return tuple((not used.isdisjoint(a)) - (not used.isdisjoint(b)) for a, b in _CONTRASTS)


def signature(question: str, entity_terms: Iterable[str] = ()) -> Signature:
    """The values of ``question`` the guard compares (see the module docstring)."""
    text = unicodedata.normalize("NFKC", question)
    terms = frozenset(t.lower() for t in entity_terms)
    negated = bool(re.search(r"n['’]t\b", text.lower()))
    tokens = _TOKEN.findall(text)
    lowers = [t.lower() for t in tokens]
    found: dict[str, set[str]] = {"number": set(), "date": set(), "currency": set(), "entity": set()}
    found["currency"].update(code for sym, code in _CURRENCY_SYMBOLS.items() if sym in text)
    kinds = _in_context([_token_value(token, terms) for token in tokens], lowers)
    for i, (token, kind) in enumerate(zip(tokens, kinds, strict=True)):
        if kind is None:
            pass
        elif kind[0] == "may":  # the month only beside a number or capitalised mid-sentence ("May I..." is a verb)
            neighbours = [lowers[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            if any(_NUMBER.fullmatch(n) for n in neighbours) or (
                    token == "May" and not _sentence_initial(text, _nth_start(text, i))):
                found["date"].add("may")
        elif kind[0] == "clock":
            if i and kinds[i - 1] is not None and kinds[i - 1][0] == "number":
                found["date"].add(kind[1])
        elif kind[0] == "unit":
            found["date"].add(kind[1])
            if i and lowers[i - 1] in _MODIFIERS:
                found["date"].add(f"{_SAME_MODIFIER.get(lowers[i - 1], lowers[i - 1])} {kind[1]}")
        else:
            found[kind[0]].add(kind[1])
        if lowers[i] in _NEGATIONS:
            negated = True
    words = frozenset(lowers)
    contrasts = _contrast_sides(lowers, kinds)
    content = tuple(kind[1] if kind is not None and kind[0] in ("number", "currency") else lower  # 1,000 == 1000
                    for kind, lower in zip(kinds, lowers, strict=True)
                    if lower not in _COMMON and lower not in _FILLER and _stem(lower) not in _COMMON
                    and lower != "s")  # the possessive: "my landlord's usage"
    return Signature(frozenset(found["number"]), frozenset(found["date"]), frozenset(found["currency"]), contrasts,
                     frozenset(found["entity"]), words, negated, _order(kinds, lowers), content,
                     not words.isdisjoint(_UNIVERSAL), tuple(w for w in lowers if w not in _FILLER),
                     _roles(lowers, kinds), _prefixed(words),
                     _possessors(lowers, kinds), _inside(lowers), _modality(lowers), _tense(lowers))


_PERMISSION = frozenset("can could able allowed permitted possible ok okay".split())
_OBLIGATION = frozenset("must required require requires mandatory compulsory obligatory necessary".split())
_NEED = frozenset("need needs have has".split())
"""After do/does/did/will (within three words: "do I need", "does my son need", "do I have to"), these ask what is
required; elsewhere they do not ("I need help", "I have an account")."""
_DO = frozenset("do does did will".split())


def _modality(lowers: list[str]) -> int:
    """``Signature.modality``: "can I" (1) against "must I" / "do I need" / "do I have to" / "is X required" (-1)."""
    may_verb = bool(lowers) and lowers[0] == "may"
    permission = may_verb or not _PERMISSION.isdisjoint(lowers)
    obligation = not _OBLIGATION.isdisjoint(lowers) or any(
        lower in _NEED and (lower not in ("have", "has") or lowers[i + 1:i + 2] == ["to"])
        and not _DO.isdisjoint(lowers[max(0, i - 3):i]) for i, lower in enumerate(lowers))
    return permission - obligation


_PAST = frozenset("did was were already had".split())
_FUTURE = frozenset("will shall ll gonna".split())


def _tense(lowers: list[str]) -> int:
    """``Signature.tense``: "did it ship" / "has it shipped" (1) against "will it ship" (-1)."""
    past = not _PAST.isdisjoint(lowers) or (bool(lowers) and lowers[0] in ("has", "have"))
    future = not _FUTURE.isdisjoint(lowers) or any(
        a == "going" and b == "to" for a, b in itertools.pairwise(lowers)) or any(
        a == "won" and b == "t" for a, b in itertools.pairwise(lowers))
    return past - future


def _order(kinds: list[tuple[str, str] | None], lowers: list[str]) -> tuple[str, ...]:
    """Values (numbers, currencies, entities) and the content words beside direction words, in order."""
    out = []
    for i, (kind, lower) in enumerate(zip(kinds, lowers, strict=True)):
        if kind is not None and kind[0] in ("number", "currency", "entity"):
            out.append(kind[1])
        elif lower not in _COMMON and lower not in _FILLER and any(
                0 <= j < len(lowers) and lowers[j] in _DIRECTIONS for j in (i - 1, i + 1)):
            out.append(lower)
    return tuple(out)


def _nth_start(text: str, n: int) -> int:
    """Where the ``n``-th token of ``text`` starts."""
    return next(m.start() for i, m in enumerate(_TOKEN.finditer(text)) if i == n)
