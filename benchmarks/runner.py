"""What the runner adds per request, and how fast the semantic cache answers at 100k entries.

(a) **Runner overhead per request**: ``Runner.run(input)`` time minus the model's own time, with an instant
    in-process model (a ``Model`` answering a fixed ``Completion`` without litellm, injected with
    ``Runner.from_config(cfg, models={tier: model}, db_url=<sqlite file>)``), the exact cache on, ~1 KB inputs
    (every input distinct, question and document, so the exact cache misses) and log writes included. The yardstick
    is litellm's own per-call overhead against the same instant model: ``litellm.completion(model="instant/x")``
    through a ``CustomLLM`` registered as a custom provider, minus the handler's own time.
    Target: runner overhead <= 0.25 x litellm's, judged on each side's fastest repeat (load only adds time; a
    repeat where litellm ran slow made the ratio of medians read as a PASS). Also reported: the exact-cache hit
    path (the same input again) and the miss path with the semantic cache on. On a MISS (or with ``--profile``) the miss path is profiled
    with cProfile and the top costs are printed as file:line(function).
(b) **Semantic cache lookup at 100k entries**: ``SemanticCache.lookup`` with the query vector given (its
    embedding excluded) vs a brute-force numpy scan of the same entries (``matrix @ q`` then ``argmax``), medians
    over many queries, at the default threshold 0.95 and at 0.8. Entries are 100k distinct Northwind Ledger
    questions from templates (HashingEmbedder); queries are paraphrases of stored entries, near misses (one
    value changed: plan, number, currency, country, month, integration, negation) and unrelated questions.
    Target: >= 5x faster than the scan, recall vs an exact (brute-force) ``SemanticCache`` on the same file,
    and 0 false hits: on the generated near misses (ground truth from the template slots) and on
    ``tests/data/near_miss_pairs.jsonl`` with the pairs' first questions stored among the 100k. Also reported:
    the median lookup per query kind and the scope's memory. The target is set at 100k: with ``--quick`` (20k
    entries) the scan takes ~2.5 ms and a lookup's fixed costs (~0.5 ms) weigh more, so it reads ~4x there.

    python benchmarks/runner.py --quick
    python benchmarks/runner.py --json results/runner.json
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

import argparse
import cProfile
import io
import json
import platform
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.caches.guard import normalise_question  # noqa: E402
from workbench.caches.semantic import SearchLimits, SemanticCache  # noqa: E402
from workbench.models.embedders import HashingEmbedder  # noqa: E402
from workbench.models.records import Completion, Usage  # noqa: E402

OVERHEAD_TARGET = 0.25
SPEEDUP_TARGET = 5.0
REPLY = "Refunds are available within 30 days of the charge."
DOC = ("# Refunds\n\nRefunds are available within 30 days of the charge on every plan. Approved refunds take 5 to 10 "
       "business days to reach the original payment method. Refunds for annual plans are prorated by the unused "
       "months.\n\n## Credit\n\nAccount credit expires 12 months after it is issued and cannot be exchanged for "
       "cash. Credit is applied to the next invoice automatically.\n\n## Disputes\n\nA chargeback opened with the "
       "card issuer pauses any refund request until the dispute is closed. Ticket {i} was filed by workspace "
       "{i} and concerns invoice INV-{i}; support answers within two business days.\n")


@dataclass(frozen=True)
class Plan:
    runs: int = 400
    litellm_calls: int = 400
    repeats: int = 5  # interleaved; the fastest of five is seldom one that load slowed
    entries: int = 100_000
    queries: int = 600

    @classmethod
    def quick(cls) -> Plan:
        return cls(runs=80, litellm_calls=80, repeats=2, entries=20_000, queries=200)


# -- (a) runner overhead -------------------------------------------------------------------------------------
class InstantModel:
    """A ``Model`` that answers a fixed completion at once, and keeps the time spent inside it."""

    name = "instant/x"

    def __init__(self) -> None:
        self.spent = 0.0
        self.calls = 0

    def identity(self) -> dict[str, Any]:
        return {"model": self.name}

    def complete(self, messages: list[dict[str, Any]], **settings: Any) -> Completion:
        start = time.perf_counter()
        c = Completion(REPLY, self.name, Usage(250, 12), 0.0, "offline", 0.0, finish_reason="stop")
        self.calls += 1
        self.spent += time.perf_counter() - start
        return c

    async def acomplete(self, messages: list[dict[str, Any]], **settings: Any) -> Completion:
        return self.complete(messages, **settings)


def instant_litellm() -> tuple[Any, dict[str, float]]:
    """litellm with an ``instant`` custom provider; returns litellm and the handler's time box."""
    from workbench.models.litellm_env import import_litellm

    litellm = import_litellm()
    box = {"spent": 0.0}

    class InstantLLM(litellm.CustomLLM):
        def completion(self, *args: Any, model_response: Any = None, **kwargs: Any) -> Any:
            start = time.perf_counter()
            model_response.choices[0].message.content = REPLY
            model_response.choices[0].finish_reason = "stop"
            model_response.usage = litellm.Usage(prompt_tokens=250, completion_tokens=12, total_tokens=262)
            box["spent"] += time.perf_counter() - start
            return model_response

    if not any(e.get("provider") == "instant" for e in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": "instant", "custom_handler": InstantLLM()})
    return litellm, box


def make_input(i: int) -> dict[str, Any]:
    return {"id": f"req-{i}", "question": f"How long do refunds take for ticket {i} on invoice INV-{i}?",
            "documents": [{"id": f"refunds-{i}.md", "text": DOC.format(i=i)}]}


def make_runner(tmp: Path, semantic: bool = False) -> tuple[Any, InstantModel]:
    from workbench.config import CacheConfig, Evidence, ProductionConfig, TrafficSplit
    from workbench.config.pipeline import PipelineConfig
    from workbench.runner.runner import Runner

    variant = PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                   cache=CacheConfig(exact=True, semantic=semantic))
    config = ProductionConfig(
        name="bench", variants={"a": variant}, split=TrafficSplit(weights={"a": 1.0}),
        evidence=Evidence(experiment="bench", evalset_name="x", evalset_hash="sha256:0", variant="a")).with_hash()
    model = InstantModel()
    sub = tmp / ("semantic" if semantic else "exact")
    sub.mkdir(parents=True, exist_ok=True)
    runner = Runner.from_config(config, models={"medium": model}, db_url=f"sqlite:///{sub / 'runner.sqlite'}",
                                cache_path=sub / "cache")
    return runner, model


def time_runs(runner: Any, model: InstantModel, inputs: list[dict[str, Any]], expect: str) -> tuple[list[float], float]:
    """Per run: wall time minus the model's own time (seconds); and the whole batch's mean per run, including the
    wait for the background log writer to finish (``runner.flush()``), so no work is left out of the count."""
    out = []
    spent_before = model.spent
    batch_start = time.perf_counter()
    for inp in inputs:
        before = model.spent
        start = time.perf_counter()
        result = runner.run(inp)
        elapsed = time.perf_counter() - start
        if result.status != "ok" or result.cache != expect:
            raise RuntimeError(f"expected an ok {expect} result, got {result.status}/{result.cache}: {result.error}")
        out.append(elapsed - (model.spent - before))
    runner.flush()
    batch = (time.perf_counter() - batch_start - (model.spent - spent_before)) / len(inputs)
    return out, batch


def time_litellm(litellm: Any, box: dict[str, float], messages: list[dict[str, Any]], n: int) -> tuple[list[float], float]:
    out = []
    spent_before = box["spent"]
    batch_start = time.perf_counter()
    for _ in range(n):
        before = box["spent"]
        start = time.perf_counter()
        response = litellm.completion(model="instant/x", messages=messages, max_retries=0, num_retries=0)
        out.append(time.perf_counter() - start - (box["spent"] - before))
    batch = (time.perf_counter() - batch_start - (box["spent"] - spent_before)) / n
    assert response.choices[0].message.content == REPLY
    return out, batch


def measure_overhead(plan: Plan, tmp: Path, profile: bool) -> dict[str, Any]:
    litellm, box = instant_litellm()
    runner, model = make_runner(tmp)
    sem_runner, sem_model = make_runner(tmp, semantic=True)
    messages = runner.pipelines["a"].prepare(make_input(0)).messages
    sizes = {"input_chars": len(json.dumps(make_input(0))), "prompt_chars": sum(len(m["content"]) for m in messages)}
    time_litellm(litellm, box, messages, 20)  # warm up
    for warm in range(20):
        runner.run(make_input(10**6 + warm))
        sem_runner.run(make_input(10**6 + warm))
    med = statistics.median
    names = ("litellm", "runner miss", "runner exact hit", "runner miss, semantic on")
    rows: dict[str, list[float]] = {k: [] for k in names}     # per repeat: the median run
    batches: dict[str, list[float]] = {k: [] for k in names}  # per repeat: the batch mean, background writes included

    def record(name: str, timed: tuple[list[float], float]) -> None:
        rows[name].append(med(timed[0]))
        batches[name].append(timed[1])

    counter = 0
    for rep in range(plan.repeats):
        inputs = [make_input(counter + i) for i in range(plan.runs)]
        counter += plan.runs
        order = ["litellm", "runner"] if rep % 2 == 0 else ["runner", "litellm"]
        for who in order:
            if who == "litellm":
                record("litellm", time_litellm(litellm, box, messages, plan.litellm_calls))
            else:
                record("runner miss", time_runs(runner, model, inputs, "miss"))
                record("runner exact hit", time_runs(runner, model, inputs, "exact"))
                record("runner miss, semantic on", time_runs(
                    sem_runner, sem_model, [make_input(10**7 + i) for i in range(counter - plan.runs, counter)],
                    "miss"))
    summary = {k: med(v) for k, v in rows.items()}
    batch_summary = {k: med(v) for k, v in batches.items()}
    # the verdict compares each side's fastest repeat: load only ever adds time, and litellm's own cost swings
    # (1.7 to 3.3 ms between repeats on an idle machine), which made a loaded repeat read as a PASS
    fastest = {k: min(v) for k, v in batches.items()}
    ratio = fastest["runner miss"] / fastest["litellm"]
    out = {"sizes": sizes, "repeats_seconds": rows, "median_seconds": summary, "batch_repeats_seconds": batches,
           "batch_mean_seconds": batch_summary, "fastest_batch_seconds": fastest, "ratio": ratio,
           "median_ratio": batch_summary["runner miss"] / batch_summary["litellm"],
           "median_run_ratio": summary["runner miss"] / summary["litellm"],
           "status": "PASS" if ratio <= OVERHEAD_TARGET else "MISS",
           "model_calls": model.calls, "log_errors": runner.log_errors}
    if profile or out["status"] == "MISS":
        # inputs like the timed ones (numbers as short: a 9-digit one sends every text through the PII number scan,
        # which the timed inputs never reach, and the profile then blamed it for a fifth of the time)
        out["profile"] = profile_runs(runner, [make_input(counter + i) for i in range(max(200, plan.runs))])
    runner.close()
    sem_runner.close()
    return out


def profile_runs(runner: Any, inputs: list[dict[str, Any]], top: int = 25) -> dict[str, list[dict[str, Any]]]:
    """cProfile of the miss path: the functions with the most own time, and their cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    for inp in inputs:
        runner.run(inp)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"where": f"{_short_path(file)}:{line}({func})", "calls_per_run": nc / len(inputs),
                     "own_us_per_run": tt / len(inputs) * 1e6, "cum_us_per_run": ct / len(inputs) * 1e6})
    own = sorted(rows, key=lambda r: -r["own_us_per_run"])[:top]
    ours = [r for r in rows if r["where"].startswith("workbench/") and "(run)" not in r["where"]]
    return {"by_own_time": own, "workbench_by_cumulative": sorted(ours, key=lambda r: -r["cum_us_per_run"])[:top]}


def _short_path(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# -- (b) semantic cache --------------------------------------------------------------------------------------
PLANS = ["Starter", "Growth", "Scale", "Enterprise"]
CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK"]
COUNTRIES = ["Germany", "France", "Spain", "Italy", "Canada", "Japan", "Brazil", "India", "Sweden", "Norway",
             "Ireland", "Poland", "Mexico", "Australia", "Austria", "Belgium"]
INTEGRATIONS = ["Stripe", "PayPal", "QuickBooks", "Xero", "Salesforce", "HubSpot", "Slack", "Zapier", "Shopify",
                "NetSuite", "Okta", "Adyen"]
MONTHS = ["January", "February", "March", "April", "June", "July", "August", "September", "October", "November"]
OBJECTS = ["invoices", "credit notes", "recurring invoices", "draft invoices", "customer records", "webhooks",
           "API keys", "refunds", "payouts", "tax exemptions", "payment links", "quotes", "subscriptions",
           "usage records", "late fees", "discount codes", "purchase orders", "expense reports", "ledger entries",
           "bank feeds", "audit logs", "team members", "custom fields", "invoice templates", "reminder emails",
           "partial payments", "dunning emails", "tax reports", "price lists", "sandbox accounts"]
VERBS = ["create", "archive", "export", "import", "duplicate", "schedule", "approve", "void", "edit", "merge",
         "filter", "tag"]
FEATURES = ["SSO", "SAML", "audit logs", "custom domains", "priority support", "multi-currency", "role-based access",
            "API access", "webhooks", "data residency", "SCIM provisioning", "usage-based billing"]
TEMPLATES = [
    "How do I {verb} {object} on the {plan} plan?",
    "What is the API rate limit for {object} on the {plan} plan?",
    "Can I get a refund for {object} after {n} days?",
    "How are tax rates calculated for {object} in {country}?",
    "Can I issue {object} in {currency} for customers in {country}?",
    "How do I connect {integration} to sync {object}?",
    "Why did the webhook for {object} fail in {month}?",
    "Does the {plan} plan include {feature} for {object}?",
    "How many {object} can I {verb} per month on the {plan} plan?",
    "Is the fee for {object} {n} {currency} on the {plan} plan?",
    "Why was invoice INV-{n} for {object} marked overdue?",
    "Can I {verb} more than {n} {object} at once with {integration}?",
    "How long are {object} kept for workspaces in {country}?",
    "Does {integration} support {feature} on the {plan} plan?",
]
SLOTS = {"plan": PLANS, "currency": CURRENCIES, "country": COUNTRIES, "integration": INTEGRATIONS, "month": MONTHS,
         "object": OBJECTS, "verb": VERBS, "feature": FEATURES}
VALUE_SLOTS = ("plan", "currency", "country", "integration", "month", "n", "negated")
PARAPHRASES = [("How do I ", "How can I "), ("What is ", "What's "), ("Can I ", "Am I able to "), ("?", ""),
               (" on the ", " for the "), ("Does ", "Do you know if "), ("How many ", "What number of "),
               ("Why did ", "Why would "), ("Is the ", "Could you tell me if the ")]


def fill(rng: np.random.Generator, t: int, slots: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    template = TEMPLATES[t]
    values = dict(slots or {})
    for name, options in SLOTS.items():
        if "{" + name + "}" in template and name not in values:
            values[name] = options[rng.integers(len(options))]
    if "{n}" in template and "n" not in values:
        values["n"] = int(rng.integers(1, 5000))
    text = template.format(**values)
    if values.get("negated"):
        negated = text.replace(" include ", " not include ").replace(" support ", " not support ") \
            .replace("Can I ", "Can't I ").replace(" are ", " are not ").replace(" is ", " is not ")
        values["negated"] = negated != text  # templates with no verb to negate stay positive
        text = negated
    return text, {"t": t, **{k: values.get(k) for k in (*SLOTS, "n", "negated")}}


def generate_entries(rng: np.random.Generator, count: int) -> list[tuple[str, dict[str, Any]]]:
    seen: set[str] = set()
    out = []
    while len(out) < count:
        text, slots = fill(rng, int(rng.integers(len(TEMPLATES))), {"negated": bool(rng.random() < 0.1)})
        key = normalise_question(text)
        if key not in seen:
            seen.add(key)
            out.append((text, slots))
    return out


def make_queries(rng: np.random.Generator, entries: list[tuple[str, dict[str, Any]]], n: int) -> list[dict]:
    """Paraphrases (the entry is the right answer), near misses (one value changed) and unrelated questions."""
    out = []
    for k in range(n):
        text, slots = entries[int(rng.integers(len(entries)))]
        kind = ("paraphrase", "near miss", "unrelated")[k % 3]
        if kind == "paraphrase":
            q = text
            for _ in range(int(rng.integers(1, 3))):
                a, b = PARAPHRASES[int(rng.integers(len(PARAPHRASES)))]
                q = q.replace(a, b, 1)
            q = q.lower() if rng.random() < 0.3 else q
            out.append({"kind": kind, "question": q, "slots": slots})
        elif kind == "near miss":
            changed = dict(slots)
            given = {k: v for k, v in slots.items() if v is not None}
            negatable = fill(rng, slots["t"], {**given, "negated": True})[1]["negated"]
            options = [s for s in VALUE_SLOTS if (s == "negated" and negatable) or
                       (s != "negated" and changed.get(s) is not None)]
            which = options[int(rng.integers(len(options)))]
            if which == "negated":
                changed["negated"] = not changed["negated"]
            elif which == "n":
                changed["n"] = changed["n"] + int(rng.integers(1, 50))
            else:
                changed[which] = next(v for v in SLOTS[which][int(rng.integers(len(SLOTS[which]))):] +
                                      SLOTS[which] if v != changed[which])
            q, _ = fill(rng, slots["t"], {k: v for k, v in changed.items() if v is not None})
            out.append({"kind": kind, "question": q, "slots": changed})
        else:
            out.append({"kind": kind, "question": f"What colour is the {OBJECTS[k % len(OBJECTS)]} icon in the "
                                                  f"mobile app version {k}?", "slots": None})
    return out


class Precomputed:
    """The hashing embedder, with the benchmark's vectors computed once (same name: the rows are compatible)."""

    def __init__(self, base: HashingEmbedder, table: dict[str, np.ndarray]):
        self.base, self.table, self.name, self.dim = base, table, base.name, base.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.table]
        if missing:
            self.table.update(zip(missing, self.base.embed(missing), strict=True))
        return np.stack([self.table[t] for t in texts])


def measure_semantic(plan: Plan, tmp: Path, rng: np.random.Generator) -> dict[str, Any]:
    pairs = [json.loads(line) for line in (ROOT / "tests/data/near_miss_pairs.jsonl").read_text().splitlines()
             if line]
    near_pairs = [p for p in pairs if not p["same"] and not p.get("entity_terms")]
    start = time.perf_counter()
    entries = generate_entries(rng, plan.entries - len(near_pairs))
    stored = [(t, {"i": i, "slots": s}) for i, (t, s) in enumerate(entries)]
    stored += [(p["a"], {"pair": j}) for j, p in enumerate(near_pairs)]
    embedder = HashingEmbedder()
    keys = [normalise_question(t) for t, _ in stored]
    table = dict(zip(keys, embedder.embed(keys), strict=True))
    matrix = np.stack([table[k] for k in keys])
    queries = make_queries(rng, entries, plan.queries)
    qvecs = embedder.embed([normalise_question(q["question"]) for q in queries])
    embed_s = time.perf_counter() - start
    path = tmp / "semantic.sqlite"
    SemanticCache(path, 0.95, Precomputed(embedder, table)).put_many("bench", stored)
    out: dict[str, Any] = {"entries": len(stored), "queries": len(queries), "embedding_seconds": embed_s}
    for threshold in (0.95, 0.8):
        out[str(threshold)] = run_threshold(path, threshold, Precomputed(embedder, table), matrix, queries, qvecs,
                                            near_pairs, embedder)
    return out


def run_threshold(path: Path, threshold: float, embedder: Any, matrix: np.ndarray, queries: list[dict],
                  qvecs: np.ndarray, near_pairs: list[dict], hashing: HashingEmbedder) -> dict[str, Any]:
    ours = SemanticCache(path, threshold, embedder)
    exact = SemanticCache(path, threshold, embedder, limits=SearchLimits(brute_force_max=10**9))
    load_start = time.perf_counter()
    ours.lookup("bench", "warm up", vector=qvecs[0])
    load_s = time.perf_counter() - load_start
    exact.lookup("bench", "warm up", vector=qvecs[0])
    t_ours, t_brute, t_einsum, stats = [], [], [], {"hits": {}, "false_hits": 0, "other_topic_hits": 0, "exact_hits": 0,
                                      "agree": 0, "extra": 0, "examples": []}
    stored_keys = set(embedder.table)
    t_vector = []  # lookups that went past the exact-key check to the vector search
    by_kind: dict[str, list[float]] = {}
    for q, v in zip(queries, qvecs, strict=True):
        start = time.perf_counter()
        m = ours.lookup("bench", q["question"], vector=v)
        t_ours.append(time.perf_counter() - start)
        if normalise_question(q["question"]) not in stored_keys:
            t_vector.append(t_ours[-1])
            by_kind.setdefault(q["kind"], []).append(t_ours[-1])
        start = time.perf_counter()
        int(np.argmax(matrix @ v))
        t_brute.append(time.perf_counter() - start)
        start = time.perf_counter()
        int(np.argmax(np.einsum("ij,j->i", matrix, v)))
        t_einsum.append(time.perf_counter() - start)
        e = exact.lookup("bench", q["question"], vector=v)
        stats["hits"][q["kind"]] = stats["hits"].get(q["kind"], 0) + (m is not None)
        stats["exact_hits"] += e is not None
        stats["agree"] += e is not None and m is not None and m.entry_id == e.entry_id
        stats["extra"] += m is not None and e is None
        if m is not None and q["slots"] is not None and "slots" in m.answer:
            got, want = m.answer["slots"], q["slots"]
            value_differs = any(got.get(s) != want.get(s) for s in VALUE_SLOTS if s != "negated") \
                or bool(got.get("negated")) != bool(want.get("negated"))
            stats["false_hits"] += value_differs  # the guard's job: must be 0
            if value_differs and len(stats["examples"]) < 5:
                stats["examples"].append((q["question"], m.question))
            stats["other_topic_hits"] += not value_differs and any(got.get(s) != want.get(s) for s in
                                                                   ("t", "object", "verb", "feature"))
        elif m is not None:
            stats["false_hits"] += 1
    pair_false = sum(ours.get("bench", p["b"]) == {"pair": j} for j, p in enumerate(near_pairs))
    med_ours, med_blas, med_einsum = (statistics.median(t) for t in (t_ours, t_brute, t_einsum))
    med_brute = min(med_blas, med_einsum)  # the faster scan: BLAS threads can lose to one core on a busy machine
    recall = stats["agree"] / stats["exact_hits"] if stats["exact_hits"] else 1.0
    state = ours._scopes["bench"]
    med_vector = statistics.median(t_vector)
    speedup = med_brute / med_vector  # the vector-search lookups only: exact-key hits would flatter the median
    ok = speedup >= SPEEDUP_TARGET and stats["false_hits"] == 0 and pair_false == 0
    return {"lookup_ms": med_ours * 1e3, "vector_lookup_ms": med_vector * 1e3, "vector_lookups": len(t_vector), "lookup_p90_ms": float(np.percentile(t_ours, 90)) * 1e3,
            "brute_ms": med_brute * 1e3, "brute_blas_ms": med_blas * 1e3,
            "brute_einsum_ms": med_einsum * 1e3, "speedup": speedup, "recall_vs_exact": recall, **stats,
            "near_miss_pair_false_hits": pair_false, "near_miss_pairs": len(near_pairs),
            "scope_load_seconds": load_s, "index": state.index is not None,
            "vector_lookup_ms_by_kind": {k: statistics.median(t) * 1e3 for k, t in by_kind.items()},
            "memory_mb": scope_megabytes(state), "status": "PASS" if ok else "MISS"}


def scope_megabytes(state: Any) -> dict[str, float]:
    """What one scope keeps in memory: its vectors, and what the cache adds (ids, digests, index, key hashes)."""
    extra = state.ids.nbytes + state.digests.nbytes + (state.index.nbytes if state.index is not None else 0) \
        + sys.getsizeof(state.keys) + 32 * len(state.keys)  # the set's table and its int objects
    return {"vectors": state.vectors.nbytes / 2**20, "index_and_rest": extra / 2**20}


# -- report --------------------------------------------------------------------------------------------------
def report_overhead(a: dict[str, Any]) -> None:
    print(f"(a) runner overhead per request  (input {a['sizes']['input_chars']} chars, prompt "
          f"{a['sizes']['prompt_chars']} chars; {len(a['repeats_seconds']['litellm'])} interleaved repeats; "
          "batch mean = the whole batch incl. the wait for background log writes / runs; median run alongside)")
    base, base_run = a["batch_mean_seconds"]["litellm"], a["median_seconds"]["litellm"]
    for name, value in a["batch_mean_seconds"].items():
        spread = " ".join(f"{x * 1e3:.3f}" for x in a["batch_repeats_seconds"][name])
        run = a["median_seconds"][name]
        print(f"  {name:<28} {value * 1e3:8.3f} ms   x litellm {value / base:.3f}   repeats: {spread}   "
              f"(median run {run * 1e3:.3f} ms, x {run / base_run:.3f})")
    fast = a["fastest_batch_seconds"]
    print(f"  target: runner overhead <= {OVERHEAD_TARGET} x litellm's, fastest repeat of each (the least disturbed "
          f"by load): runner miss {fast['runner miss'] * 1e3:.3f} ms / litellm {fast['litellm'] * 1e3:.3f} ms = "
          f"ratio {a['ratio']:.3f}: {a['status']}  (medians of the repeats: {a['median_ratio']:.3f})")
    for title, key in (("top own time per run (cProfile adds its own cost)", "by_own_time"),
                       ("workbench functions by cumulative time per run", "workbench_by_cumulative")):
        if "profile" in a:
            print(f"  {title}:")
        for row in a.get("profile", {}).get(key, [])[:15]:
            print(f"    {row['own_us_per_run']:8.1f} us own {row['cum_us_per_run']:9.1f} us cum "
                  f"{row['calls_per_run']:7.1f} calls  {row['where']}")


def report_semantic(b: dict[str, Any]) -> None:
    print(f"\n(b) semantic cache lookup at {b['entries']} entries, {b['queries']} queries "
          f"(embedding them all took {b['embedding_seconds']:.0f} s, excluded)")
    for threshold in ("0.95", "0.8"):
        r = b[threshold]
        print(f"  threshold {threshold}: lookup {r['vector_lookup_ms']:.3f} ms over the {r['vector_lookups']} that "
              f"searched vectors ({r['lookup_ms']:.3f} over all, p90 {r['lookup_p90_ms']:.3f}) vs brute-force "
              f"scan {r['brute_ms']:.3f} ms (matrix @ q {r['brute_blas_ms']:.3f}, einsum {r['brute_einsum_ms']:.3f}): "
              f"{r['speedup']:.1f}x; recall vs exact {r['recall_vs_exact']:.3f} "
              f"({r['agree']}/{r['exact_hits']}, extra {r['extra']}); hits {r['hits']}; false hits "
              f"{r['false_hits']} (other-topic hits {r['other_topic_hits']}); near-miss pairs {r['near_miss_pair_false_hits']}/{r['near_miss_pairs']}: "
              f"{r['status']}")
        kinds = ", ".join(f"{k} {v:.3f}" for k, v in r["vector_lookup_ms_by_kind"].items())
        print(f"    median ms by query kind: {kinds}; memory: vectors {r['memory_mb']['vectors']:.0f} MB + "
              f"{r['memory_mb']['index_and_rest']:.1f} MB (ids, digests, sketches, key hashes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 20k cache entries (smoke run)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON here")
    parser.add_argument("--profile", action="store_true", help="profile the runner's miss path even on a PASS")
    parser.add_argument("--only", choices=("overhead", "semantic"), help="run one part")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    data: dict[str, Any] = {"plan": plan.__dict__, "environment": {
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load": os.getloadavg()}}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "semantic":
            data["overhead"] = measure_overhead(plan, Path(tmp), args.profile)
            report_overhead(data["overhead"])
        if args.only != "overhead":
            data["semantic"] = measure_semantic(plan, Path(tmp), np.random.default_rng(0))
            report_semantic(data["semantic"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
