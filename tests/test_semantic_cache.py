"""The runner's semantic cache: near-miss guard, paraphrase hits, scopes, persistence, TTL, index recall."""
from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.caches.guard import may_be_compatible, normalise_question, signature
from workbench.caches.index import BITS, SketchIndex, max_distance
from workbench.caches.semantic import _DIGESTS_FIRST, Expiry, SearchLimits, SemanticCache
from workbench.models.embedders import HashingEmbedder

PAIRS = [json.loads(line) for line in
         (Path(__file__).parent / "data" / "near_miss_pairs.jsonl").read_text(encoding="utf-8").splitlines() if line]
NEAR_MISSES = [p for p in PAIRS if not p["same"]]
PARAPHRASES = [p for p in PAIRS if p["same"]]
# measured with HashingEmbedder (a lexical embedding that knows no synonyms): 7/23 at 0.95 (exactly the pairs
# that normalise to the same key), 18/23 at 0.8; the floors leave a little room for embedder tweaks
HIT_RATE_FLOOR = {0.95: 0.25, 0.8: 0.70}
EXACT_SCAN = SearchLimits(brute_force_max=10**9)  # every lookup scores every entry


def same(a: str, b: str) -> bool:
    """Whether the near-miss guard lets ``a`` and ``b`` share an answer."""
    return signature(a).compatible(signature(b))


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class TableEmbedder:
    """Vectors looked up by text: lets a test place entries exactly where it wants them."""

    name = "table"

    def __init__(self, table: dict[str, np.ndarray]):
        self.table = table
        self.dim = len(next(iter(table.values())))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def test_the_pair_set_is_big_and_mixed():
    assert len(PAIRS) >= 40 and len(NEAR_MISSES) >= 20 and len(PARAPHRASES) >= 15
    kinds = {p["kind"].split()[0] for p in NEAR_MISSES}
    assert {"entity", "number", "date", "negation"} <= kinds


@pytest.mark.parametrize("threshold", [0.95, 0.8])
def test_no_false_hit_on_any_near_miss_pair(threshold):
    false_hits = []
    for i, pair in enumerate(NEAR_MISSES):
        cache = SemanticCache(":memory:", threshold, entity_terms=pair.get("entity_terms", ()))
        for stored, asked in ((pair["a"], pair["b"]), (pair["b"], pair["a"])):
            cache.put(f"s{i}", stored, {"answer": stored})
            if cache.get(f"s{i}", asked) is not None:
                false_hits.append((stored, asked))
            cache.clear()
    assert false_hits == []


def test_every_near_miss_pair_is_refused_by_the_guard_alone():
    """Even at a similarity of 1.0 (an embedder that cannot tell them apart), the guard says no."""
    for pair in NEAR_MISSES:
        terms = pair.get("entity_terms", ())
        assert not signature(pair["a"], terms).compatible(signature(pair["b"], terms)), pair


@pytest.mark.parametrize("threshold", [0.95, 0.8])
def test_paraphrase_hit_rate(threshold):
    cache = SemanticCache(":memory:", threshold)
    hits = 0
    for i, pair in enumerate(PARAPHRASES):
        cache.put(f"s{i}", pair["a"], {"answer": i})
        hits += cache.get(f"s{i}", pair["b"]) == {"answer": i}
    rate = hits / len(PARAPHRASES)
    print(f"paraphrase hit rate at {threshold}: {hits}/{len(PARAPHRASES)} = {rate:.2f}")
    assert rate >= HIT_RATE_FLOOR[threshold]


def test_a_hit_says_how_similar_and_which_question():
    cache = SemanticCache(":memory:", 0.8)
    cache.put("s", "What happens when a webhook delivery fails?", {"answer": "retried 5 times"})
    match = cache.lookup("s", "What happens if a webhook delivery fails?")
    assert match is not None and match.answer == {"answer": "retried 5 times"}
    assert 0.8 <= match.similarity < 1.0 and match.question == "What happens when a webhook delivery fails?"
    assert cache.lookup("s", "what happens when a webhook delivery fails").similarity == 1.0


def test_the_best_compatible_entry_wins_over_a_closer_near_miss():
    cache = SemanticCache(":memory:", 0.8)
    cache.put("s", "Can I get a refund after 60 days on the Growth plan?", {"days": 60})
    cache.put("s", "Can I get a refund after 30 days on the Growth plan, please?", {"days": 30})
    assert cache.get("s", "Can I get a refund after 30 days on the Growth plan?") == {"days": 30}
    assert cache.get("s", "Can I get a refund after 90 days on the Growth plan?") is None


def test_scopes_are_isolated():
    cache = SemanticCache(":memory:", 0.95)
    cache.put("config-a|docs-1", "How long is the refund window?", {"answer": "30 days"})
    assert cache.get("config-a|docs-1", "How long is the refund window?") == {"answer": "30 days"}
    assert cache.get("config-a|docs-2", "How long is the refund window?") is None
    assert cache.get("config-b|docs-1", "How long is the refund window?") is None


def test_put_replaces_and_get_returns_a_copy():
    cache = SemanticCache(":memory:", 0.95)
    cache.put("s", "How long is the refund window?", {"answer": "14 days"})
    cache.put("s", "How long is the refund window?", {"answer": "30 days"})
    got = cache.get("s", "how long is the refund window")
    assert got == {"answer": "30 days"} and len(cache) == 1
    got["answer"] = "mutated"
    assert cache.get("s", "How long is the refund window?") == {"answer": "30 days"}


def test_persistent_across_instances_and_processes_see_each_others_rows(tmp_path):
    path = tmp_path / "semantic.sqlite"
    first = SemanticCache(path, 0.8)
    other = SemanticCache(path, 0.8)
    assert other.get("s", "What retry schedule is used for failed webhooks?") is None  # scope loaded, empty
    first.put("s", "What is the retry schedule for failed webhooks?", {"answer": "exponential"})
    assert other.get("s", "What retry schedule is used for failed webhooks?") == {"answer": "exponential"}
    first.close()
    other.close()
    reopened = SemanticCache(path, 0.8)
    assert reopened.get("s", "What retry schedule is used for failed webhooks?") == {"answer": "exponential"}
    assert len(reopened) == 1


def test_ttl_with_an_injected_clock(tmp_path):
    clock = Clock()
    cache = SemanticCache(tmp_path / "c.sqlite", 0.8, expiry=Expiry(ttl_seconds=3600, clock=clock))
    cache.put("s", "What is the retry schedule for failed webhooks?", {"answer": "exponential"})
    clock.now += 3599
    assert cache.get("s", "What is the retry schedule for failed webhooks?") is not None
    assert cache.get("s", "What retry schedule is used for failed webhooks?") is not None
    clock.now += 2
    assert cache.get("s", "What is the retry schedule for failed webhooks?") is None
    assert cache.get("s", "What retry schedule is used for failed webhooks?") is None
    assert cache.prune() == 1 and len(cache) == 0
    cache.put("s", "What is the retry schedule for failed webhooks?", {"answer": "linear"})
    assert cache.get("s", "What is the retry schedule for failed webhooks?") == {"answer": "linear"}


def test_guard_details():
    assert same("Is the limit 1,000 requests?", "Is the limit 1000 requests?")
    assert same("Is the limit 10k requests?", "Is the limit 10000 requests?")
    assert not same("Is the limit ten requests?", "Is the limit 11 requests?")
    assert same("May I get a refund?", "Can I get a refund?")            # "May" the verb is no date
    assert not same("Refunds issued in May 2024", "Refunds issued in June 2024")
    assert same("Stripe webhooks fail", "Why do stripe webhooks fail")    # entities match in any case
    assert not same("Does the plan include SSO?", "Does the plan include SAML?")
    assert not same("Is it billed monthly?", "Is it billed yearly?")
    assert same("How do I enable webhooks?", "How can I enable a webhook?")
    assert not same("How do I enable webhooks?", "How do I enable webhook signing?")  # one more named thing
    assert not same("Does it not renew?", "Does it renew?")
    assert same("Can I export invoices on the Growth plan?", "Am I able to export invoices on the Growth plan?")
    assert not same("Is support open at 9 am?", "Is support open at 9 pm?")
    assert not same("Does the call start at 9:30 am?", "Does the call start at 9:30 pm?")
    assert same("How many projects am I allowed?", "How many projects am I allowed to have?")
    assert normalise_question("What's the API's limit?!") == normalise_question("what is the API's limit")


def test_logging_in_and_out_are_opposites():
    """A phrasal antonym (word pairs, not words): found in the held-out real paraphrases, where "How can I sign out
    everywhere?" was served the answer of "How do I set up single sign-on?"."""
    assert not same("How can I sign out everywhere?", "How do I set up single sign-on?")
    assert not same("Why can't I log in on mobile?", "Why can't I log out on mobile?")
    assert not same("What happens when I logout?", "What happens when I login?")
    assert not same("Was I signed in?", "Was I signed out?")
    assert same("How do I log out of all devices?", "How can I sign out everywhere?")
    assert same("Where do I sign in?", "Where is the sign on page?")


def test_the_same_words_in_another_order_swap_roles_or_directions():
    """Found in the fresh near-miss set's tune part (tests/data/near_miss_fresh.jsonl), where MiniLM put these pairs
    at 0.97-0.99 and the guard let them through."""
    assert not same("Can the billing contact change the account owner?",
                    "Can the account owner change the billing contact?")
    assert not same("Is there a fee to convert loyalty points into store credit?",
                    "Is there a fee to convert store credit into loyalty points?")
    assert not same("Do I get credit when my friend signs up with my referral code?",
                    "Does my friend get credit when they sign up with my referral code?")
    assert same("Can the account owner change the billing contact?",
                "Is the account owner able to change the billing contact?")


def test_all_of_something_is_not_one_of_it():
    assert not same("How do I delete this chat conversation?", "How do I delete every chat conversation?")
    assert not same("How do I reset my password?", "How do I reset the passwords of all users in my organization?")
    assert not same("How do I download the statement for this account?",
                    "How do I download statements for all my accounts?")
    assert same("How do I log out of all devices?", "How do I sign out of every device?")


def test_one_short_run_naming_another_thing_is_another_question():
    assert not same("How do I change my email?", "How do I change my phone number?")
    assert not same("How do I close my savings account?", "How do I close my credit card?")
    assert not same("Can I return a sale item?", "Can I return a full-price item?")
    assert not same("Can I edit my delivery instructions after ordering?", "Can I edit my tip after ordering?")
    assert same("Where can I find my IBAN?", "Where do I see my IBAN?")          # common words around a verb
    # an action (enable) against a reworded one (turn on) is refused since actions count: a miss, where "enable" /
    # "turn off" would otherwise pass, as no antonym group holds both
    assert not same("How do I enable two-factor authentication?", "How do I turn on two-factor authentication?")
    assert not same("How do I enable data roaming?", "How do I turn off data roaming?")
    assert same("Is the limit 1,000 requests?", "Is the limit 1000 requests?")   # numbers by value
    assert same("What is the refund window?", "What is the refund period?")      # listed synonyms


def test_the_fresh_sets_held_out_part_and_second_set_near_misses():
    """Found in the fresh set's held-out part (5 served at MiniLM 0.55 when first run) and in the second fresh set
    (4 of 156 served when first run, before any of these rules)."""
    assert not same("Do I get charged if the host cancels my booking?",
                    "Does the host get charged if I cancel my booking?")           # "cancels" is "cancel"
    assert not same("Does an economy ticket include a checked bag?",
                    "Does a premium economy ticket include a checked bag?")        # a modifier added
    assert not same("How do I export my data?", "How do I export my team's data?")
    assert not same("How do I turn on data roaming?", "How do I turn off data roaming?")
    assert not same("How do I switch subtitles on?", "How do I switch subtitles off?")
    assert not same("Can I change the dates on a refundable ticket?",
                    "Can I change the dates on a non-refundable ticket?")          # "non" negates
    assert not same("Can my landlord view my energy usage?", "Can I view my landlord's energy usage?")
    assert not same("How much is a membership for me?", "How much is a membership for my family?")
    assert not same("How much is a visit with an in-network doctor?",
                    "How much is a visit with an out-of-network doctor?")
    assert not same("Is the blue kettle in stock?", "Is the blue kettle out of stock?")
    assert same("How do I set up single sign-on for my workspace?", "How do I set up single sign-on for our workspace?")


def test_the_third_fresh_sets_near_misses():
    """Its first run served 8 of 144 (tests/test_near_miss_set.py); these are six of them, and their paraphrases."""
    # prepositions swapped in place: the objects keep their places, the roles change
    assert not same("Is there a shuttle from the arena to downtown after the show?",
                    "Is there a shuttle to the arena from downtown after the show?")
    assert not same("Is there a fee to switch from a 12-month lease to month-to-month?",
                    "Is there a fee to switch to a 12-month lease from month-to-month?")
    assert not same("Can I port my phone number into your service?", "Can I port my phone number out of your service?")
    assert not same("Can my friend transfer her ticket to me?", "Can I transfer my ticket to my friend?")
    assert same("Can I add a second line to my plan?", "Can I add a second phone line to my current plan?")
    assert same("Is there a limit on the number of invoices?", "Is there a limit to the number of invoices?")
    assert same("How do I move money into my savings?", "How can I move money to my savings?")
    # who owns what
    assert not same("Can my landlord cancel my internet service?", "Can I cancel my landlord's internet service?")
    assert signature("Can I cancel my landlord's internet service?").possessors == {"landlord"}
    assert signature("Why is this month's bill higher?").possessors == signature("what's the limit?").possessors == set()
    assert same("What is the API rate limit?", "what's the API rate limit?")
    # a particle three words on; a prefix that makes another word
    assert not same("How do I check my cat in for boarding?", "How do I check my cat out of boarding?")
    assert not same("How do I list my tickets for resale?", "How do I delist my tickets from resale?")
    assert not same("How do I activate my modem?", "How do I reactivate my modem?")
    assert not same("Can I order the album?", "Can I pre-order the album?")
    assert same("How do I return an item?", "How can I return the item?")


def test_the_fourth_fresh_sets_near_misses():
    """Its first run, with the guard tuned on the first three sets, served 3 of 144; all three are here."""
    assert not same("What happens if the hotel cancels on me?", "What happens if I cancel on the hotel?")
    assert not same("When my colleague shares a file with me, does it count against my storage quota?",
                    "When I share a file with my colleague, does it count against my storage quota?")
    assert not same("Does my policy cover any driver of my car?", "Does my policy cover only me as the driver of my car?")
    assert same("Is there a limit on the number of invoices on the Starter plan?",
                "Is there a limit to the number of invoices on the Starter plan?")
    assert same("Can I pay with my card?", "Can I use my card to pay?")


def test_what_is_allowed_is_not_what_is_required():
    """The fifth set written apart (``near_miss_fresh5``), first run: 10 of its 13 modality pairs got through, each
    at 0.92-0.97 with MiniLM. "Can I" asks what is possible; "must I", "do I need", "do I have to" what is required."""
    assert not same("Can I pay my premium annually?", "Do I have to pay my premium annually?")
    assert not same("Can students take the final exam online?", "Must students take the final exam online?")
    assert not same("Can parents attend orientation?", "Are parents required to attend orientation?")
    assert not same("Can I get a referral to see a dermatologist?", "Do I need a referral to see a dermatologist?")
    assert not same("Does my son need a passport?", "Can my son get a passport?")
    assert same("Is renter's insurance mandatory for tenants?", "Do tenants have to carry renters insurance?")
    assert same("Can the driver leave my shopping on the porch if I'm not home?",
                "Is unattended doorstep drop-off possible when nobody's in?")
    assert same("I need to reset my password, how can I do it?", "How can I reset my password?")
    assert same("Do I have an account?", "Can I see whether I have an account?")  # "have" is possession here


def test_what_happened_is_not_what_will_happen():
    """The same set: 8 of its 13 tense pairs got through ("did my insurance cover" / "will my insurance cover")."""
    assert not same("Did my insurance cover the MRI?", "Will my insurance cover the MRI?")
    assert not same("Was I charged for the annual renewal?", "Will I be charged for the annual renewal?")
    assert not same("Has my deductible reset for the year?", "When will my deductible reset for the year?")
    assert not same("Did you already ship my replacement?", "Are you going to ship my replacement?")
    assert same("My parcel was shipped, when will it arrive?", "My parcel has been shipped. When will it arrive?")
    assert same("Why was my card declined?", "Why did my card get declined?")


def test_another_reason_condition_or_comparison_is_another_question():
    """The same words up to "because", "if" or "than", then another clause: found by the fifth and sixth sets
    written apart, too long a run for the one-span rule. Clauses that share a named thing are rewordings."""
    assert not same("Do you refund the shipping cost if I return an item because it's defective?",
                    "Do you refund the shipping cost if I return an item because I changed my mind?")
    assert not same("My food order was late because the restaurant was slow, can I get a refund?",
                    "My food order was late because I gave the wrong address, can I get a refund?")
    assert not same("Is the subscription cheaper than paying per-order fees?",
                    "Is the subscription cheaper than the rival app's subscription?")
    assert same("What should I do if I smell gas in my home?", "What should I do if there's a gas smell in my house?")


def test_a_possessive_added_on_one_side_is_another_owner():
    """"my bank account" / "my late father's bank account": the possessive ``'s`` made the added run three words,
    over the two the one-span rule allows."""
    assert not same("Can I close my bank account over the phone?",
                    "Can I close my late father's bank account over the phone?")
    assert same("Can I close my bank account over the phone?", "Can I close my bank account by phone?")


def test_a_different_action_on_the_same_thing_is_another_question():
    """Found on the real path (``workbench run`` against a loopback OpenAI-compatible server, in the final review):
    "Can I cancel order 2?" was served the answer of "Can I get a refund for order 2?". Actions are common words,
    which the run rule had left out; listed synonyms still pass."""
    assert not same("Can I get a refund for order 2?", "Can I cancel order 2?")
    assert not same("How do I cancel my order?", "How do I delete my order?")
    assert not same("How do I add my card?", "How do I update my card?")
    assert same("How do I change my email?", "How do I update my email?")
    assert same("How do I delete my account?", "How do I remove my account?")
    assert same("Where can I find my IBAN?", "Where do I see my IBAN?")


def test_words_whose_neighbours_undo_their_value():
    """"once" the conjunction is no number, a bare unit no period, "a new one" no number; "current" is "this"."""
    assert same("Can I change my delivery address after ordering?",
                "Is it possible to update the shipping address once the order is placed?")
    assert not same("Can I order it once a month?", "Can I order it twice a month?")
    assert not same("Can I change my address once the order is placed?", "Can I change my address?")  # a condition
    assert same("What are your opening hours?", "When are you open, what hours?")
    assert not same("Is delivery 3 days?", "Is delivery 5 days?")
    assert not same("Can I pause for a month?", "Can I pause for a week?")
    assert not same("How many days does delivery take?", "How many weeks does delivery take?")
    assert same("How do I replace a damaged SIM card?", "My SIM card is damaged, how do I replace it with a new one?")
    assert not same("Is there a one-year plan?", "Is there a two-year plan?")
    assert same("How much data have I used this month?", "How much data have I used in the current month?")
    assert not same("How much data did I use last month?", "How much data have I used in the current month?")


def _planted(rng, base: np.ndarray, lo: float, hi: float, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` queries, each at a cosine in [lo, hi) from a random row of ``base``; and those rows."""
    idx = rng.integers(0, len(base), m)
    cos = rng.uniform(lo, hi, m)
    noise = rng.standard_normal((m, base.shape[1]))
    noise -= (noise * base[idx]).sum(1, keepdims=True) * base[idx]
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    return idx, (cos[:, None] * base[idx] + np.sqrt(1 - cos ** 2)[:, None] * noise).astype(np.float32)


def _unit(rng, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _unit_of(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x)).astype(np.float32)


@pytest.mark.parametrize("threshold", [0.95, 0.8])
def test_index_lookup_finds_the_brute_force_best_entry(threshold):
    rng = np.random.default_rng(7)
    n, dim = 20_000, 128
    base = _unit(rng, n, dim)
    idx, queries = _planted(rng, base, threshold, 1.0, 300)
    names = ["entry " + "".join(chr(97 + i // 26 ** k % 26) for k in range(4)) for i in range(n)]
    table = {normalise_question(name): vec for name, vec in zip(names, base, strict=True)}
    cache = SemanticCache(":memory:", threshold, TableEmbedder(table), limits=SearchLimits(brute_force_max=1000))
    cache.put_many("s", [(name, {"i": i}) for i, name in enumerate(names[:-10])])
    assert cache.lookup("s", "anything", vector=base[0]).answer == {"i": 0}  # loads the scope, builds the index
    for i in range(n - 10, n):  # the last ones arrive one by one: they sit in the index's unsorted tail
        cache.put("s", names[i], {"i": i})
    state = cache._scopes["s"]
    assert state.index is not None and state.size == n and len(state.index) == n
    agree = expected = 0
    for q in queries:
        sims = base @ q
        best = int(np.argmax(sims))
        if sims[best] < threshold:
            continue
        expected += 1
        match = cache.lookup("s", "anything", vector=q)
        agree += match is not None and match.answer["i"] == best
    assert expected >= 290 and agree / expected >= 0.95, (agree, expected)
    # no neighbour above the threshold: never a hit
    _, far = _planted(rng, base, 0.0, threshold - 0.1, 100)
    assert all(cache.lookup("s", "anything", vector=q) is None for q in far if (base @ q).max() < threshold)


@pytest.mark.parametrize("threshold", [0.95, 0.8])
def test_sketch_index_recall_and_selectivity(threshold):
    rng = np.random.default_rng(3)
    base = _unit(rng, 30_000, 96)
    index = SketchIndex(96)
    for start in range(0, 29_000, 5_000):  # appended in batches, then one by one
        index.add(base[start:start + 5_000])
    for row in base[len(index):]:
        index.add(row[None])
    assert len(index) == 30_000
    idx, queries = _planted(rng, base, threshold, 1.0, 400)
    found = [index.candidates(q, threshold) for q in queries]
    assert sum(int(i) in set(f.tolist()) for i, f in zip(idx, found, strict=True)) / len(idx) >= 0.99
    assert np.median([len(f) for f in found]) <= 5  # random vectors: hardly anything else comes through
    assert all((np.diff(f) > 0).all() for f in found)


def test_max_distance_is_a_binomial_tail_bound():
    def tail(d: int, p: float) -> float:  # P(Binomial(BITS, p) > d)
        return sum(math.comb(BITS, k) * p ** k * (1 - p) ** (BITS - k) for k in range(d + 1, BITS + 1))

    for threshold in (0.99, 0.95, 0.8, 0.5):
        p, d = math.acos(threshold) / math.pi, max_distance(threshold)
        assert tail(d, p) <= 1e-3 < tail(d - 1, p), threshold
    assert max_distance(1.0) == 0 and max_distance(0.95) < max_distance(0.8) < max_distance(0.5)
    assert max_distance(0.8, 64) < max_distance(0.8, 128) < max_distance(0.8)


def test_the_index_keeps_the_closest_when_a_cluster_is_bigger_than_the_limit():
    rng = np.random.default_rng(5)
    centre = _unit(rng, 1, 64)[0]
    _, members = _planted(rng, centre[None], 0.97, 1.0, 3_000)
    index = SketchIndex(64)
    index.add(members)
    everything = index.candidates(centre, 0.9, limit=10**6)
    some = index.candidates(centre, 0.9, limit=500)
    assert len(everything) > 2_000 and len(some) == 500 and set(some) <= set(everything)
    q = index.sketch(centre)[:, 0]
    dist = sum(np.bitwise_count(index.sketch(members)[w] ^ q[w]) for w in range(4)).astype(int)
    assert dist[some].max() <= dist[np.setdiff1d(everything, some)].min()


def _clusters(rng, centres: int, size: int, dim: int, spread: tuple[float, float]) -> np.ndarray:
    """``centres × size`` unit vectors, each at a cosine in ``spread`` from its cluster's centre."""
    return np.concatenate([_planted(rng, c[None], *spread, size)[1] for c in _unit(rng, centres, dim)])


@pytest.mark.parametrize("threshold", [0.95, 0.8])
def test_index_lookups_agree_with_an_exact_scan_on_clustered_entries(tmp_path, threshold):
    """Templated questions cluster: the index lets more than ``max_candidates`` through and must still find the
    entry an exact scan finds (recall vs exact >= 0.98), and nothing the exact scan would not."""
    rng = np.random.default_rng(11)
    base = _clusters(rng, 4, 3_000, 64, (0.85, 0.98))
    names = ["entry " + "".join(chr(97 + i // 26 ** k % 26) for k in range(3)) for i in range(len(base))]
    table = {normalise_question(name): vec for name, vec in zip(names, base, strict=True)}
    path = tmp_path / "c.sqlite"
    SemanticCache(path, threshold, TableEmbedder(table)).put_many("s", [(n, {"i": i}) for i, n in enumerate(names)])
    ours = SemanticCache(path, threshold, TableEmbedder(table), limits=SearchLimits(brute_force_max=1_000))
    exact = SemanticCache(path, threshold, TableEmbedder(table), limits=EXACT_SCAN)
    _, queries = _planted(rng, base, threshold - 0.05, 1.0, 300)
    got = [ours.lookup("s", "a question", vector=q) for q in queries]
    want = [exact.lookup("s", "a question", vector=q) for q in queries]
    assert ours._scopes["s"].index is not None and exact._scopes["s"].index is None
    assert max(len(ours._scopes["s"].index.candidates(q, threshold, 10**9)) for q in queries) > 1_024
    hits = [w for w in want if w is not None]
    agree = sum(g is not None and w is not None and g.entry_id == w.entry_id for g, w in zip(got, want, strict=True))
    print(f"recall vs exact at {threshold}: {agree}/{len(hits)}")
    assert len(hits) >= 100 and agree / len(hits) >= 0.98, (agree, len(hits))
    assert not any(g is not None and w is None for g, w in zip(got, want, strict=True))


def test_a_dense_cluster_of_near_misses_answers_as_an_exact_scan_does(tmp_path):
    """Thousands of candidates that differ only in a number: the digests rule them out before any vector is
    gathered, and the one with the asked number still wins when it is among the best."""
    rng = np.random.default_rng(2)
    centre = _unit(rng, 1, 64)[0]
    names = [f"Is the fee for invoices {n} EUR on the Growth plan?" for n in range(1, 3_001)]
    _, vectors = _planted(rng, centre[None], 0.97, 0.995, len(names))
    table = {normalise_question(name): vec for name, vec in zip(names, vectors, strict=True)}
    path = tmp_path / "c.sqlite"
    SemanticCache(path, 0.9, TableEmbedder(table)).put_many("s", [(n, {"n": i + 1}) for i, n in enumerate(names)])
    ours = SemanticCache(path, 0.9, TableEmbedder(table), limits=SearchLimits(brute_force_max=500))
    exact = SemanticCache(path, 0.9, TableEmbedder(table), limits=EXACT_SCAN)
    assert ours.lookup("s", "warm up", vector=centre) is None
    for n in (7, 250, 2_999, 4_000, 12):
        question = f"What is the fee for invoices {n} EUR on the Growth plan?"
        q = table[normalise_question(names[n - 1])] if n <= len(names) else centre  # at, or amid, the cluster
        assert len(ours._scopes["s"].index.candidates(q, 0.9)) > _DIGESTS_FIRST
        got, want = ours.lookup("s", question, vector=q), exact.lookup("s", question, vector=q)
        assert (got and got.answer) == (want and want.answer) == ({"n": n} if n <= len(names) else None), question


def test_the_digest_never_rules_out_a_compatible_pair():
    """``may_be_compatible`` is a necessary condition of ``compatible``: the stored digest (made without
    entity_terms) against the asking question's (with them) too; and it alone rules out the value near misses."""
    questions = [q for p in PAIRS for q in (p["a"], p["b"])] + [
        "May I get a refund?", "Refunds issued in May 2024", "Is the limit 1,000 requests?", "Is it 1000 requests?",
        "Stripe webhooks fail", "Why do stripe webhooks fail", "Does it not renew?", "Can't I renew?"]
    terms_options = [(), ("Starter", "Growth", "Scale", "Enterprise"), ("stripe",)]
    compatible_pairs = 0
    for terms in terms_options:
        for a in questions:
            mine = signature(a, terms)
            for b in questions:
                if mine.compatible(signature(b, terms)):
                    compatible_pairs += 1
                    assert may_be_compatible(mine.digest, signature(b).digest), (a, b, terms)
    assert compatible_pairs > len(questions) * len(terms_options)  # more than each question with itself
    for pair in NEAR_MISSES:
        if pair["kind"] in ("number", "date", "currency", "negation", "number word", "period"):
            assert not may_be_compatible(signature(pair["a"]).digest, signature(pair["b"]).digest), pair


def test_a_file_from_before_digests_still_works(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE semantic_cache (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, embedder TEXT NOT
        NULL, norm TEXT NOT NULL, question TEXT NOT NULL, embedding BLOB NOT NULL, answer TEXT NOT NULL, created REAL
        NOT NULL, UNIQUE (scope, embedder, norm));""")
    embedder = HashingEmbedder()
    old = ["Can I get a refund after 30 days?", "What is the retry schedule for failed webhooks?"]
    for i, question in enumerate(old):
        norm = normalise_question(question)
        db.execute("INSERT INTO semantic_cache VALUES (?, 's', ?, ?, ?, ?, ?, 0)", (i + 1, embedder.name, norm,
                   question, embedder.embed([norm])[0].astype(np.float32).tobytes(), json.dumps({"i": i})))
    db.commit()
    db.close()
    cache = SemanticCache(path, 0.8, embedder)
    assert cache.get("s", "What retry schedule is used for failed webhooks?") == {"i": 1}
    assert cache.get("s", "Can I get a refund after 60 days?") is None  # no digest: the full guard decides
    assert (cache._scopes["s"].digests[:2] == 0).all()
    cache.put("s", "Can I get a refund after 90 days?", {"i": 2})
    assert cache._scopes["s"].digests[2, 0] != 0 and len(SemanticCache(path, 0.8, embedder)) == 3


def test_a_replaced_question_gets_its_new_digest():
    """Same key, another question ("may" the verb, then "May" the month): the digest in memory follows."""
    first, second, asked = "is it due in may", "Is it due in May?", "Was it due in May?"
    vector = _unit(np.random.default_rng(0), 1, 16)[0]
    cache = SemanticCache(":memory:", 0.9, TableEmbedder({normalise_question(asked): vector,
                                                          normalise_question(first): vector}))
    cache.put("s", first, {"answer": 1})
    assert cache.lookup("s", asked) is None  # "may" here is no date: the guard refuses
    cache.put("s", second, {"answer": 2})
    assert cache.get("s", asked) == {"answer": 2}


def test_normalised_keys_are_unchanged():
    """Keys are stored: normalisation must not drift (values computed before the fast path was added)."""
    assert normalise_question("What's the $10 fee, please?") == "what is $ 10 fee"
    assert normalise_question("I can't and won't pay 1,000 EUR (10%)!") == "i can not and will not pay 1,000 eur 10 %"
    assert normalise_question("Ｔｈｅ cannot-cancel plan’s limit") == "can not cancel plan s limit"
    assert normalise_question("  Hello   there  ") == "there"


def test_the_cache_imports_no_heavy_dependency():
    code = ("import sys, workbench.caches.semantic as m; m.SemanticCache(':memory:', 0.9).get('s', 'q');"
            "bad = [x for x in ('pandas', 'litellm', 'matplotlib', 'sqlalchemy', 'torch') if x in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def _scope_bytes(cache: SemanticCache) -> int:
    return sum(s.vectors.nbytes + s.ids.nbytes + s.digests.nbytes for s in cache._scopes.values())


def test_memory_stays_bounded_when_every_request_brings_new_documents(tmp_path):
    """One scope per document set: a runner answering over ever-new documents used to keep every scope in memory
    for good (64 vectors preallocated each, ~70 KB with a 256-dimension embedder: +222 MB over 3,000 requests).
    Now a scope is held only once it has entries, sized to them, and only the most recently used ones are kept;
    a dropped scope is read again from SQLite and still answers."""
    limits = SearchLimits(memory_scopes=5, memory_entries=1_000)
    cache = SemanticCache(tmp_path / "s.sqlite", 0.9, HashingEmbedder(), limits=limits)
    question = "How long do refunds take on the Growth plan?"
    assert cache.get("never-written", question) is None and len(cache._scopes) == 0
    for n in range(40):
        cache.put(f"docs-{n}", question, {"answer": n})
        assert cache.get(f"docs-{n}", question) == {"answer": n}
        assert len(cache._scopes) <= 5
    assert _scope_bytes(cache) <= 5 * (HashingEmbedder().dim * 4 + 8 + 24)  # one entry each, no preallocation
    assert cache.get("docs-0", question) == {"answer": 0}  # dropped long ago: read again from SQLite
    assert list(cache._scopes)[-1] == "docs-0"


def test_memory_entries_bound_drops_least_recently_used_scopes_first(tmp_path):
    cache = SemanticCache(tmp_path / "s.sqlite", 0.9, HashingEmbedder(), limits=SearchLimits(memory_entries=30))
    for scope in ("a", "b", "c"):
        cache.put_many(scope, [(f"What is the fee for invoice {i} in {scope}?", {"i": i}) for i in range(12)])
        cache.get(scope, "What is the fee for invoice 3?")
    assert list(cache._scopes) == ["b", "c"] and cache._held == 24  # "a" (least recently used) went first
    cache.get("b", "What is the fee for invoice 3?")
    cache.get("a", "What is the fee for invoice 3?")
    assert list(cache._scopes) == ["b", "a"] and cache._held == 24
    cache.clear("b")
    assert list(cache._scopes) == ["a"] and cache._held == 12


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it embeds."""

    def embed(self, texts):
        type(self).texts += len(texts)
        return super().embed(texts)


def test_a_miss_then_its_answer_embeds_the_question_once():
    """The runner looks a question up, the model answers, the answer is stored: the question used to be embedded
    twice (a model call per miss with a provider's embedder)."""
    CountingEmbedder.texts = 0
    cache = SemanticCache(":memory:", 0.9, CountingEmbedder())
    cache.put("docs", "How do I export invoices on the Growth plan?", {"answer": 1})
    assert CountingEmbedder.texts == 1
    question = "Which currencies can I bill customers in Japan in?"
    assert cache.get("docs", question) is None
    cache.put("docs", question, {"answer": 2})
    assert CountingEmbedder.texts == 2 and cache.get("docs", question) == {"answer": 2}
    cache.put_many("docs", [(f"What is the fee for invoice {i}?", {"i": i}) for i in range(100)])  # one batch
    assert CountingEmbedder.texts == 102


def test_threads_looking_up_and_storing_over_many_scopes_with_small_limits(tmp_path):
    """Eviction under concurrent use: 4 threads, 60 scopes, room for 3; every stored answer is found again by its
    own question, nothing raises, and the bookkeeping of entries held in memory stays exact."""
    import threading

    cache = SemanticCache(tmp_path / "s.sqlite", 0.9, HashingEmbedder(),
                          limits=SearchLimits(memory_scopes=3, memory_entries=20))
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(60):
                scope = f"docs-{(n * 7 + worker) % 60}"
                question = f"What is the fee for invoice {worker}-{n} in {scope}?"
                cache.put(scope, question, {"w": worker, "n": n})
                assert cache.get(scope, question) == {"w": worker, "n": n}
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(cache._scopes) <= 3
    assert cache._held == sum(s.size for s in cache._scopes.values())
    assert len(cache) == 240


def _rows(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM semantic_cache").fetchone()[0]


def test_write_behind_reads_its_own_writes_and_is_durable_within_its_bound(tmp_path):
    """With ``write_behind_seconds`` (the runner's setting) ``put`` returns before anything is written; a lookup of
    that scope in this process still finds the entry (it writes the scope's waiting entries first), and another
    process finds it within the bound without any flush."""
    import time

    path = tmp_path / "s.sqlite"
    question = "How long do refunds take on the Growth plan?"
    slow = SemanticCache(path, 0.9, HashingEmbedder(), write_behind_seconds=30)  # nothing written behind our back
    slow.put("docs-a", question, {"answer": "a"})
    assert _rows(path) == 0  # the request did not wait for SQLite
    assert slow.get("docs-a", question) == {"answer": "a"}  # read your own writes
    assert _rows(path) == 1
    slow.close()

    cache = SemanticCache(path, 0.9, HashingEmbedder(), write_behind_seconds=0.2)
    other = SemanticCache(path, 0.9, HashingEmbedder())
    cache.put("docs-b", question, {"answer": "b"})
    started = time.monotonic()
    while other.get("docs-b", question) is None and time.monotonic() - started < 5:
        time.sleep(0.02)
    assert other.get("docs-b", question) == {"answer": "b"}  # seen by another connection, no flush called
    cache.close()
    other.close()


def test_write_behind_failure_loses_only_the_entries_and_raises_nothing(tmp_path):
    cache = SemanticCache(tmp_path / "s.sqlite", 0.9, HashingEmbedder(), write_behind_seconds=0.05)
    cache._db.close()  # a store that fails every write from now on
    cache.put("docs", "How long do refunds take?", {"answer": 1})
    cache.flush()  # the background batch failed quietly, like a failed put (a cache is best effort)
    assert cache._pending == {}


def test_runner_flush_writes_the_semantic_cache_entries(tmp_path):
    from workbench.config import CacheConfig, Evidence, ProductionConfig, TrafficSplit
    from workbench.config.pipeline import PipelineConfig
    from workbench.runner.runner import Runner

    variant = PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                   cache=CacheConfig(exact=False, semantic=True))
    config = ProductionConfig(
        name="t", variants={"a": variant}, split=TrafficSplit(weights={"a": 1.0}),
        evidence=Evidence(experiment="t", evalset_name="x", evalset_hash="sha256:0", variant="a")).with_hash()
    runner = Runner.from_config(config, db_url=f"sqlite:///{tmp_path / 'log.db'}", cache_path=tmp_path / "caches")
    doc = {"id": "refunds.md", "text": "# Refunds\n\nRefunds are available within 30 days of the charge."}
    first = runner.run({"id": "1", "question": "How long do refunds take?", "documents": [doc]})
    assert first.status == "ok" and first.cache == "miss"
    runner.flush()
    assert _rows(tmp_path / "caches" / "semantic.sqlite") == 1
    runner.close()


@pytest.mark.parametrize("path", [":memory:", "file"])
def test_when_the_guard_refuses_the_closest_entry_no_farther_one_is_served(tmp_path, path):
    """The closest fresh entry decides. Refused by the guard, it means the question is about that entry's subject
    and differs from it: a farther entry that passes is more often another question ("How can I sign out
    everywhere?" was served "How do I set up single sign-on?" when "log out of all devices" was refused)."""
    asked = "How long is the refund window on the Starter plan?"
    closest, farther = "How long is the refund window on the Growth plan?", "Tell me about the Starter plan"
    rng = np.random.default_rng(3)
    base, noise = _unit(rng, 2, 16)
    table = {normalise_question(asked): base, normalise_question(closest): _unit_of(base + 0.1 * noise),
             normalise_question(farther): _unit_of(base + 0.6 * noise)}
    cache = SemanticCache(":memory:" if path == ":memory:" else tmp_path / "s.sqlite", 0.7, TableEmbedder(table))
    cache.put_many("s", [(closest, {"answer": "growth"}), (farther, {"answer": "starter overview"})])
    sims = {q: float(table[normalise_question(q)] @ base) for q in (closest, farther)}
    assert sims[closest] > sims[farther] >= 0.7  # both above the threshold, the refused one closer
    assert cache.get("s", asked) is None
    cache.clear("s")  # alone, the farther entry is served: the guard lets it through
    cache.put("s", farther, {"answer": "starter overview"})
    assert cache.get("s", asked) == {"answer": "starter overview"}


def test_an_expired_closest_entry_does_not_block_a_fresh_one(tmp_path):
    asked, stale, fresh = "How do I reset my password?", "how can i reset my password", "password reset steps"
    rng = np.random.default_rng(4)
    base, noise = _unit(rng, 2, 16)
    table = {normalise_question(asked): base, normalise_question(stale): _unit_of(base + 0.05 * noise),
             normalise_question(fresh): _unit_of(base + 0.3 * noise)}
    now = [1000.0]
    cache = SemanticCache(tmp_path / "s.sqlite", 0.7, TableEmbedder(table),
                          expiry=Expiry(ttl_seconds=60, clock=lambda: now[0]))
    cache.put("s", stale, {"answer": "old"})
    now[0] += 100
    cache.put("s", fresh, {"answer": "new"})
    assert cache.get("s", asked) == {"answer": "new"}


class SlowEmbedder:
    """The hashing embedder at a neural model's speed (MiniLM: ~9 ms a question), optionally held on a text."""

    def __init__(self, seconds: float = 0.02, hold: str | None = None):
        self.inner, self.seconds, self.hold = HashingEmbedder(), seconds, hold
        self.name, self.dim = self.inner.name, self.inner.dim
        self.release, self.holding = threading.Event(), threading.Event()

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.hold is not None and self.hold in texts:
            self.holding.set()
            assert self.release.wait(10)
        time.sleep(self.seconds * len(texts))
        return self.inner.embed(texts)


def test_entries_are_durable_within_the_bound_whatever_the_embedders_speed(tmp_path):
    """Rows first, vectors after: 30 entries at 20 ms of embedding each (0.6 s) are all in the file within the
    0.2 s bound (+ margin), before their vectors; once embedded, another process's lookups hit them."""
    path = tmp_path / "s.sqlite"
    cache = SemanticCache(path, 0.9, SlowEmbedder(0.02), write_behind_seconds=0.2)
    questions = [f"How long do refunds take for order {i}?" for i in range(30)]
    for i, q in enumerate(questions):
        cache.put(f"docs-{i}", q, {"answer": i})
    last = time.monotonic()
    reader = sqlite3.connect(path)
    while reader.execute("SELECT count(*) FROM semantic_cache").fetchone()[0] < 30 and time.monotonic() - last < 5:
        time.sleep(0.005)
    durable_after = time.monotonic() - last
    assert reader.execute("SELECT count(*) FROM semantic_cache").fetchone()[0] == 30
    assert durable_after < 0.35, durable_after
    cache.flush()
    assert reader.execute("SELECT count(*) FROM semantic_cache WHERE length(embedding) = 0").fetchone()[0] == 0
    other = SemanticCache(path, 0.9, HashingEmbedder())
    assert [other.get(f"docs-{i}", q) for i, q in enumerate(questions)] == [{"answer": i} for i in range(30)]
    cache.close()
    other.close()


def test_a_row_written_before_its_vector_is_embedded_by_its_reader(tmp_path):
    """A writer that stopped between the row and its vector (killed) leaves an empty embedding: a reader embeds
    the question itself, and a paraphrase hits."""
    path = tmp_path / "s.sqlite"
    writer = SemanticCache(path, 0.8, HashingEmbedder())
    question = "How long does the refund take on the Growth plan?"
    writer._db.execute("INSERT INTO semantic_cache (scope, embedder, norm, question, embedding, answer, created, "
                       "guard) VALUES ('docs', ?, ?, ?, x'', ?, ?, NULL)",
                       (writer.embedder.name, normalise_question(question), question, json.dumps({"answer": "5 days"}),
                        time.time()))
    reader = SemanticCache(path, 0.8, HashingEmbedder())
    assert reader.get("docs", "how long does the refund take on the growth plan") == {"answer": "5 days"}
    assert reader.get("docs", "How long does a refund take on the Growth plan?") == {"answer": "5 days"}
    assert reader.get("docs", "How long does the refund take on the Starter plan?") is None
    writer.close()
    reader.close()


def test_a_slow_embedding_does_not_hold_other_lookups(tmp_path):
    """The embedder runs outside the cache's lock: one lookup embedding for a long time (MiniLM: ~9 ms a question,
    much longer for a provider's embedder) does not stall the others."""
    held = "a question whose embedding takes long"
    embedder = SlowEmbedder(0.0, hold=normalise_question(held))
    cache = SemanticCache(tmp_path / "s.sqlite", 0.8, embedder)
    cache.put("a", "How long do refunds take?", {"answer": 1})
    cache.put("b", "Where is my invoice?", {"answer": 2})
    slow = threading.Thread(target=cache.get, args=("a", held))
    slow.start()
    assert embedder.holding.wait(5)
    started = time.monotonic()
    cache.get("b", "Where could my invoice be?")  # a question to embed, in another scope
    took = time.monotonic() - started
    embedder.release.set()
    slow.join(5)
    assert took < 1.0, took
    cache.close()


def test_recent_vectors_evicted_while_the_embedder_runs_are_still_returned(tmp_path):
    """The embedder runs outside the lock: other threads may push the vectors this call found in the recent set out
    of it meanwhile (64 kept). The call keeps what it found."""
    cache = SemanticCache(tmp_path / "s.sqlite", 0.8, HashingEmbedder())
    known, fresh = "how long do refunds take", "where is my invoice"
    expected = cache._embed([known])[0]
    inner = cache.embedder

    class Crowding:
        name, dim = inner.name, inner.dim

        def embed(self, texts):
            if fresh in texts:  # as if other lookups ran now, each with a question of its own
                cache._embed([f"question number {i}" for i in range(64)])
            return inner.embed(texts)

    cache.embedder = Crowding()
    vectors = cache._embed([known, fresh])
    assert np.array_equal(vectors[0], expected)
    assert vectors.shape == (2, inner.dim)
    cache.close()


@pytest.mark.parametrize("behind", [None, 0.05])
def test_a_lone_surrogate_is_refused_at_put_and_loses_nothing_else(tmp_path, behind):
    """SQLite stores UTF-8, which cannot carry a lone surrogate (a provider's JSON may hold ``\\ud800``). It used to
    raise deep inside SQLite, and written behind, it took its whole batch with it."""
    from workbench.errors import DataError

    cache = SemanticCache(tmp_path / "s.sqlite", 0.8, HashingEmbedder(), write_behind_seconds=behind)
    cache.put("s", "How long do refunds take?", {"answer": "5 days"})
    for question, answer in (("Where is \ud800 my invoice?", {"answer": "ok"}),
                             ("Where is my invoice?", {"answer": "in \udfff Billing"})):
        with pytest.raises(DataError) as caught:
            cache.put("s", question, answer)
        assert caught.value.code == "invalid_unicode"
    cache.put("s", "When does credit expire?", {"answer": "12 months"})
    cache.flush()
    assert cache.get("s", "How long do refunds take?") == {"answer": "5 days"}
    assert cache.get("s", "When does credit expire?") == {"answer": "12 months"} and len(cache) == 2
    cache.close()


def test_a_question_with_no_word_is_neither_stored_nor_matched(tmp_path):
    """Its key is empty, so it would be an exact hit for every other question without a word ("???" answered as
    "!!!" was)."""
    cache = SemanticCache(tmp_path / "s.sqlite", 0.8, HashingEmbedder())
    cache.put("s", "???", {"answer": "secret plan details"})
    assert cache.get("s", "!!!") is None and cache.get("s", "???") is None and len(cache) == 0
    assert cache.put_many("s", [("...", {"a": 1}), ("How long do refunds take?", {"a": 2})]) == 1
    cache.close()
