"""The semantic cache's near-miss guard on the adversarial set (scripts/make_near_miss_set.py): 326 near misses in
12 kinds (swapped directions and roles, plan/tier and edition words, before/after, numbers, negation, months,
comparisons, platforms) and 99 paraphrases, a third held out (by a hash fixed before the guard was tuned).

Measured when the set was written, before the guard's direction/order and swapped-word rules: it let through 129
of 200 tuning and 64 of 126 held-out near misses. Now: none of either, and it keeps every paraphrase."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from workbench.caches.guard import signature

ROWS = [json.loads(x) for x in (Path(__file__).parent / "data" / "near_miss_adversarial.jsonl")
        .read_text(encoding="utf-8").splitlines()]


def passes(row: dict) -> bool:
    return signature(row["a"]).compatible(signature(row["b"])) and signature(row["b"]).compatible(signature(row["a"]))


def test_the_set_is_big_and_varied_enough():
    kinds = Counter(r["kind"] for r in ROWS if not r["same"])
    assert sum(kinds.values()) >= 300 and len(kinds) >= 10 and min(kinds.values()) >= 25
    assert 0.25 < sum(r["split"] == "heldout" for r in ROWS) / len(ROWS) < 0.42


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_no_near_miss_gets_through(split):
    through = [(r["kind"], r["a"], r["b"]) for r in ROWS if r["split"] == split and not r["same"] and passes(r)]
    assert not through, through[:5]


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_paraphrases_are_kept(split):
    kept = [passes(r) for r in ROWS if r["split"] == split and r["same"]]
    assert sum(kept) / len(kept) >= 0.9


FRESH = {name: [json.loads(x) for x in (Path(__file__).parent / "data" / f"{name}.jsonl")
                .read_text(encoding="utf-8").splitlines()]
         for name in ("near_miss_fresh", "near_miss_fresh2", "near_miss_fresh3", "near_miss_fresh4", "near_miss_fresh5",
                      "near_miss_fresh6", "paraphrases_fresh", "paraphrases_fresh2", "paraphrases_fresh3",
                      "paraphrases_fresh4", "paraphrases_fresh5", "paraphrases_fresh6")}
"""Four sets written apart from the project, by authors who saw neither the guard nor the other sets (2026-12-07):
``*_fresh`` (160 near misses of 12 kinds, 90 paraphrases; a third held out by hash before tuning) and ``*_fresh2``
(156 near misses, 75 paraphrases, six other domains; held out whole, run once the tuning on the first was done).
First runs, at MiniLM 0.55 with the guard as it was: the first set's tune part let 14 of 108 near misses through;
its held-out part, after tuning on the tune part, 5 of 52; the second set 4 of 156 (25 with the guard before this
tuning). ``*_fresh3`` (144 near misses, 60 paraphrases, six more domains, asked to be inventive: prepositions
swapped in place, possessives, prefixes, separated particles) was written after that tuning and held out whole: its
first run let 8 of 144 through (29 with the guard of the morning). ``*_fresh4`` (144, 60, six more domains) was
written after the tuning on those three: its first run let 3 of 144 through (33 with the guard of the morning). Each
of those is now refused, and the tests below keep them so; none of the four sets is blind any more.

Two more, written on 2026-12-08 by authors who saw neither the guard nor any set, each held out whole:
``*_fresh5`` (220 near misses of 17 kinds, 82 paraphrases) let 20 of 220 through on its first run: 10 of its 13
modality pairs ("can I" / "do I have to"), 8 of its 13 tense pairs ("did" / "will"), a reason and an added
possessive. The guard then learnt modality, tense, another clause after the same words, and the possessive;
``*_fresh6`` (199 near misses of 16 kinds, 65 paraphrases), written meanwhile and run once after that change, let
4 of 199 through (30 with the guard of the morning: 12 modality, 11 tense, 5 reasons, an actor, a comparison), and
no paraphrase of any set was lost. Three of the four are now refused; the fourth is below."""

KNOWN_THROUGH = {("What happens if the library loses a book I returned?",
                  "What happens if I lose a book I borrowed from the library?")}
"""Near misses of the sets above that the guard still lets through: who acts, said by a phrase only one question has
("from the library"), which the role rule leaves undecided so that "transfer money from savings" / "can my savings
be transferred" stays a paraphrase. MiniLM scores it 0.72."""


def test_the_fresh_sets_are_big_and_varied_enough():
    for name in ("near_miss_fresh", "near_miss_fresh2", "near_miss_fresh3", "near_miss_fresh4", "near_miss_fresh5",
                 "near_miss_fresh6"):
        kinds = Counter(r["kind"] for r in FRESH[name])
        assert sum(kinds.values()) >= 144 and len(kinds) >= 12 and min(kinds.values()) >= 12
        assert not any(r["same"] for r in FRESH[name])
    assert 0.25 < sum(r["split"] == "heldout" for r in FRESH["near_miss_fresh"]) / 160 < 0.42
    assert len({r["a"] for r in FRESH["paraphrases_fresh"]}) == 90 and len(FRESH["paraphrases_fresh2"]) == 75


@pytest.mark.parametrize("name", ["near_miss_fresh", "near_miss_fresh2", "near_miss_fresh3", "near_miss_fresh4",
                                  "near_miss_fresh5", "near_miss_fresh6"])
def test_the_guard_alone_refuses_every_fresh_near_miss(name):
    through = [(r["kind"], r["a"], r["b"]) for r in FRESH[name] if passes(r) and (r["a"], r["b"]) not in KNOWN_THROUGH]
    assert not through, through[:5]


@pytest.mark.parametrize("name, kept_at_least", [("paraphrases_fresh", 0.65), ("paraphrases_fresh2", 0.62),
                                                 ("paraphrases_fresh3", 0.5), ("paraphrases_fresh4", 0.4),
                                                 ("paraphrases_fresh5", 0.7), ("paraphrases_fresh6", 0.58)])
def test_the_guard_keeps_most_fresh_paraphrases(name, kept_at_least):
    """The guard errs towards a miss: 60/90, 47/75, 32/60, 26/60, 59/82 and 39/65 pass it. Most of the rest say a negation one way
    and not the other ("my card didn't work" / "my card was declined"), name a thing one way only ("SMS" / "texts", "2FA" /
    "two-factor"), or start with a capitalised word read as a name."""
    kept = [passes(r) for r in FRESH[name]]
    assert sum(kept) / len(kept) >= kept_at_least, sum(kept)
