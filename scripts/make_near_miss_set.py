"""Write ``tests/data/near_miss_adversarial.jsonl``: question pairs for the semantic cache's near-miss guard.

Near misses (``same: false``) differ in one thing that changes the answer, in 12 kinds (25+ pairs each): swapped
directions (cities, currencies, lower-case units), plan/tier words, editions, before/after, numbers, negation,
roles, months, comparisons, platforms. Paraphrases (``same: true``) ask the same thing in other words. Each pair's
``split`` (``tune`` or ``heldout``, a third) is fixed by a hash of its text, decided before any guard change, so
the held-out third measures the guard on pairs it was never tuned on. Deterministic:

    python scripts/make_near_miss_set.py
"""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "near_miss_adversarial.jsonl"
CITIES = ["Paris", "Berlin", "Madrid", "Lisbon", "Warsaw", "Vienna", "Dublin", "Oslo"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD"]
UNITS = [("celsius", "fahrenheit"), ("miles", "kilometers"), ("pounds", "kilograms"), ("inches", "centimeters"),
         ("liters", "gallons"), ("feet", "meters")]
PLANS = ["starter", "basic", "pro", "team", "business", "enterprise", "free", "premium"]
FEATURES = ["single sign-on", "audit logs", "API access", "priority support", "custom domains"]
ORDINALS = ["first", "second", "third", "fourth", "fifth"]
BOOKS = ["Rust book", "style guide", "API handbook", "admin manual", "user guide"]
ROLES = [("sender", "recipient"), ("buyer", "seller"), ("owner", "guest"), ("admin", "member"),
         ("landlord", "tenant"), ("employer", "employee")]
MONTHS = ["January", "March", "April", "June", "September", "November"]
PLATFORMS = ["Windows", "macOS", "Linux", "Android", "iOS"]


def near_misses() -> list[tuple[str, str, str]]:
    out = []
    for a, b in itertools.islice(itertools.permutations(CITIES, 2), 26):
        out.append((f"How long does shipping take from {a} to {b}?", f"How long does shipping take from {b} to {a}?",
                    "direction_cities"))
    for a, b in itertools.islice(itertools.permutations(CURRENCIES, 2), 26):
        out.append((f"What fee applies when converting {a} to {b}?", f"What fee applies when converting {b} to {a}?",
                    "direction_currency"))
    for (a, b), verb in itertools.product(UNITS, ["convert", "change", "turn", "translate", "go from"]):
        link = "to" if verb == "go from" else "into"
        out.append((f"How do I {verb} {a} {link} {b}?", f"How do I {verb} {b} {link} {a}?", "direction_units"))
    for (p, q), f in itertools.islice(itertools.product(itertools.combinations(PLANS, 2), FEATURES), 0, 140, 5):
        out.append((f"Does the {p} plan include {f}?", f"Does the {q} plan include {f}?", "plan_tier"))
    for (o, p), b in itertools.islice(itertools.product(itertools.permutations(ORDINALS, 2), BOOKS), 0, 100, 4):
        out.append((f"What changed in the {o} edition of the {b}?", f"What changed in the {p} edition of the {b}?",
                    "edition"))
    for thing, verb in itertools.product(["the renewal date", "the trial ends", "the invoice is issued",
                                           "the upgrade", "the migration"], ["cancel", "get a refund", "change plans",
                                                                             "switch billing", "add seats"]):
        out.append((f"Can I {verb} before {thing}?", f"Can I {verb} after {thing}?", "before_after"))
    for n, m in itertools.islice(itertools.permutations([7, 14, 30, 45, 60, 90], 2), 26):
        out.append((f"Can I still get a refund {n} days after the charge?",
                    f"Can I still get a refund {m} days after the charge?", "numbers"))
    for p, f in itertools.islice(itertools.product(PLANS, FEATURES), 26):
        out.append((f"Does the {p} plan include {f}?", f"Does the {p} plan not include {f}?", "negation"))
    for (r, s), act in itertools.product(ROLES, ["cancel the transfer", "see the invoice", "pay the fee",
                                                 "change the address", "approve the request"]):
        out.append((f"Can the {r} {act}?", f"Can the {s} {act}?", "roles"))
    for (m, n), what in itertools.islice(itertools.product(itertools.permutations(MONTHS, 2),
                                                           ["invoices", "renewals", "payouts"]), 0, 90, 3):
        out.append((f"When are {what} sent in {m}?", f"When are {what} sent in {n}?", "months"))
    for (p, q), what in itertools.islice(itertools.product(itertools.permutations(PLANS, 2), ["cheaper", "faster",
                                                                                            "more secure"]), 0, 84, 3):
        out.append((f"Is the {p} plan {what} than the {q} plan?", f"Is the {q} plan {what} than the {p} plan?",
                    "comparison"))
    for (p, q), what in itertools.product(itertools.permutations(PLATFORMS, 2), ["install the app", "export data"]):
        if len(out) and sum(k == "platform" for *_, k in out) >= 26:
            break
        out.append((f"How do I {what} on {p}?", f"How do I {what} on {q}?", "platform"))
    return out


def paraphrases() -> list[tuple[str, str, str]]:
    out = []
    for p, f in itertools.islice(itertools.product(PLANS, FEATURES), 25):
        out.append((f"Does the {p} plan include {f}?", f"does the {p} plan include {f}", "punctuation_case"))
    for a, b in itertools.islice(itertools.permutations(CITIES, 2), 25):
        out.append((f"How long does shipping take from {a} to {b}?",
                    f"How long does it take to ship from {a} to {b}?", "reworded"))
    for n in [7, 14, 30, 45, 60, 90, 10, 20, 25, 40, 50, 75, 100, 120, 180, 3, 5, 15, 21, 28, 35, 70, 80, 95, 365]:
        out.append((f"Can I still get a refund {n} days after the charge?",
                    f"Is a refund still possible {n} days after the charge?", "reworded"))
    for (r, _), act in itertools.islice(itertools.product(ROLES, ["cancel the transfer", "see the invoice",
                                                                  "pay the fee", "change the address"]), 25):
        out.append((f"Can the {r} {act}?", f"Is the {r} able to {act}?", "reworded"))
    return out


def split_of(a: str, b: str) -> str:
    return "heldout" if int(hashlib.sha256(f"{a}\n{b}".encode()).hexdigest(), 16) % 3 == 0 else "tune"


def main() -> None:
    rows = [{"a": a, "b": b, "same": False, "kind": k} for a, b, k in near_misses()]
    rows += [{"a": a, "b": b, "same": True, "kind": k} for a, b, k in paraphrases()]
    for r in rows:
        r["split"] = split_of(r["a"], r["b"])
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    kinds = sorted({r["kind"] for r in rows if not r["same"]})
    print(f"{OUT}: {sum(not r['same'] for r in rows)} near misses in {len(kinds)} kinds, "
          f"{sum(r['same'] for r in rows)} paraphrases; held out: {sum(r['split'] == 'heldout' for r in rows)}")


if __name__ == "__main__":
    main()
