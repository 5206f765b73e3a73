"""A simulated production stream for notebook 06 and the tests: requests built from an eval set's questions,
spread over several simulated days with a daily traffic cycle, with optional planted changes
(``PlantedChanges``):

- **drift** (from ``drift_at`` of the way through): a share of the questions become long, rambling questions in
  German or Spanish about other subjects (shipping, payroll, recipes...), still sent with the product documents;
- **cost spike** (``spike``: day, hour, hours): a generation loop — the model repeats its answer
  (``RunawayModel``), so output tokens and cost blow up for a few hours;
- **retry loop** (``retry_loop``: day, hour, count): one client re-sends the same request ``count`` times within
  an hour.

``run_stream`` sends the stream **through the runner** (``workbench.runner.Runner``) with an injected clock, so
the log store holds what production would log; ``write_rows`` writes statistically similar rows straight into the
log-store schema (fast, for tests). Same seed, same stream.

    stream = simulate_stream(evalset, n=600, days=6, seed=1)
    quiet = simulate_stream(evalset, n=600, days=6, seed=2, planted=PlantedChanges.none())
    run_stream(stream, config, db_url)                       # or write_rows(stream, db_url, config)
"""
from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DAY = 86400.0
START = 1_767_225_600.0
"""2026-01-01T00:00:00Z: the default start of a simulated stream."""
_TOPICS = {
    "de": ["die Lieferung meiner Bestellung aus dem Lager in Hamburg", "die Lohnabrechnung meiner Mitarbeiter im März",
           "das Rezept für den Apfelkuchen meiner Großmutter", "die Reparatur der Heizung in unserem Büro",
           "die Kündigung meines Mietvertrags für die Garage"],
    "es": ["el envío de mi pedido desde el almacén de Valencia", "la nómina de mis empleados del mes pasado",
           "la receta de la paella que preparamos en la oficina", "la reparación del aire acondicionado de la tienda",
           "el seguro de mi coche que vence la semana que viene"],
}
_RAMBLE = {
    "de": ["Hallo, ich hoffe, Sie können mir helfen, denn ich habe eine Frage zu {t}.",
           "Ich habe schon mehrmals versucht, das selbst herauszufinden, aber es ist mir nicht gelungen.",
           "Mein Kollege meinte, dass es dafür eine einfache Lösung gibt, aber er wusste auch nicht genau welche.",
           "Können Sie mir bitte ausführlich erklären, wie ich dabei vorgehen soll und was ich beachten muss?",
           "Vielen Dank im Voraus für Ihre Geduld und Ihre Hilfe, ich warte auf Ihre Antwort."],
    "es": ["Hola, espero que me puedan ayudar porque tengo una pregunta sobre {t}.",
           "Ya lo he intentado varias veces por mi cuenta, pero no he conseguido entender cómo funciona.",
           "Mi compañera me dijo que había una solución sencilla, pero tampoco sabía exactamente cuál era.",
           "¿Me pueden explicar con detalle qué tengo que hacer y qué debo tener en cuenta en este caso?",
           "Muchas gracias de antemano por su paciencia y por su ayuda, quedo a la espera de su respuesta."],
}


@dataclass(frozen=True)
class PlantedChanges:
    """The changes planted in a simulated stream (see the module docstring); ``None`` leaves one out."""

    drift_at: float | None = 0.5
    """Drift starts this far through the stream (0 to 1)."""
    drift_share: float = 0.7
    """Share of the questions after ``drift_at`` that drift."""
    spike: tuple[int, int, int] | None = (4, 10, 6)
    """A cost spike: (day, hour, hours)."""
    retry_loop: tuple[int, int, int] | None = (5, 9, 30)
    """A retry loop: (day, hour, count of identical requests)."""

    @classmethod
    def none(cls) -> PlantedChanges:
        """A stream with no planted change."""
        return cls(drift_at=None, spike=None, retry_loop=None)


@dataclass(frozen=True)
class SimRequest:
    """One simulated request."""

    ts: float
    """When it arrives (epoch seconds; the runner's clock is set to it)."""
    inputs: dict[str, Any]
    """What the runner receives: ``id``, ``question``, ``documents``."""
    phase: str = "normal"
    """``normal``, ``drift``, ``spike`` or ``retry_loop``: what was planted (for plots and checks)."""
    sample: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The eval sample it was built from (``expected``, ``category``) — used only by ``write_rows``."""


def drifted_question(rng: random.Random) -> str:
    """A long, rambling question in German or Spanish about something the documents do not cover."""
    lang = rng.choice(sorted(_TOPICS))
    topic = rng.choice(_TOPICS[lang])
    parts = _RAMBLE[lang]
    return " ".join([parts[0].format(t=topic), *rng.sample(parts[1:4], rng.randint(2, 3)), parts[4]])


def _hour_weights() -> list[float]:
    """Daily traffic cycle: busy around 14:00 UTC, quiet at night."""
    return [1.0 + 0.8 * math.sin(2 * math.pi * (h - 8) / 24) for h in range(24)]


def simulate_stream(evalset: Iterable[Any], *, n: int = 600, days: int = 6, seed: int = 0, start: float = START,
                    planted: PlantedChanges | None = None) -> list[SimRequest]:
    """``n`` requests over ``days`` days from ``evalset``'s samples (``Sample`` objects or dicts), with the
    ``planted`` changes (default ``PlantedChanges()``: all three; ``PlantedChanges.none()``: none)."""
    planted = planted or PlantedChanges()
    drift_at, drift_share = planted.drift_at, planted.drift_share
    spike, retry_loop = planted.spike, planted.retry_loop
    rng = random.Random(seed)
    samples = [s.to_json() if hasattr(s, "to_json") else dict(s) for s in evalset]
    weights = _hour_weights()
    times = sorted(start + rng.randrange(days) * DAY + rng.choices(range(24), weights)[0] * 3600 + rng.random() * 3600
                   for _ in range(n))
    drift_from = None if drift_at is None else start + drift_at * days * DAY
    out = []
    for i, ts in enumerate(times):
        sample = rng.choice(samples)
        inputs = {"id": f"req-{seed}-{i:05d}", **sample["inputs"]}
        phase = "normal"
        if drift_from is not None and ts >= drift_from and rng.random() < drift_share:
            inputs["question"], phase = drifted_question(rng), "drift"
        if spike is not None:
            s0 = start + spike[0] * DAY + spike[1] * 3600
            if s0 <= ts < s0 + spike[2] * 3600:
                phase = "spike" if phase == "normal" else phase + "+spike"
        out.append(SimRequest(ts, inputs, phase, sample))
    if retry_loop is not None:
        t0 = start + retry_loop[0] * DAY + retry_loop[1] * 3600
        sample = rng.choice(samples)
        inputs = {"id": f"req-{seed}-retry", **sample["inputs"]}
        out += [SimRequest(t0 + 60 + k * 3300 / retry_loop[2], inputs, "retry_loop", sample)
                for k in range(retry_loop[2])]
        out.sort(key=lambda r: r.ts)
    return out


def simulate_ab_rows(seed: int, n: int, *, pass_rates: tuple[float, float], share: float = 0.49,
                     error_rate: float = 0.02) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """``n`` log rows of a live A/B (variants ``ctrl`` and ``cand``, the candidate taking ``share`` of the traffic),
    every output scored: ``(rows, scores)`` as ``monitoring.ab.ab`` reads them. ``pass_rates``: (control,
    candidate). For checking the sequential A/B by simulation (``benchmarks/decisions.py``, the tests)."""
    import numpy as np

    from .quality import RowScore

    rng = np.random.default_rng(seed)
    arm = rng.random(n) < share
    passed = np.where(arm, rng.random(n) < pass_rates[1], rng.random(n) < pass_rates[0])
    failed = rng.random(n) < error_rate
    cost = 1e-4 * (1 + 0.3 * rng.standard_normal(n))
    rows = [{"id": i, "variant": "cand" if arm[i] else "ctrl", "status": "failed" if failed[i] else "ok",
             "cost_usd": float(cost[i]), "latency_ms": 10.0, "ts": float(i)} for i in range(n)]
    return rows, {i: RowScore(bool(passed[i])) for i in range(n)}


# ---- through the runner ----------------------------------------------------------------------------------------
class RunawayModel:
    """A model stuck in a generation loop: the wrapped model's answer repeated ``repeats`` times, with the output
    tokens multiplied and the cost re-priced from the real price (a stand-in for a runaway generation)."""

    def __init__(self, inner: Any, repeats: int = 100, max_chars: int = 3800):
        self.inner, self.repeats, self.max_chars = inner, repeats, max_chars

    @property
    def name(self) -> str:
        """The wrapped model's name (the runaway looks like it in the logs)."""
        return self.inner.name

    def identity(self) -> dict[str, Any]:
        """The wrapped model's identity plus the repeat count (a separate cache key)."""
        return {"runaway": self.repeats, "inner": self.inner.identity()}

    def _loop(self, c: Any) -> Any:
        from ..models.pricing import price_for
        from ..models.records import Usage

        reps = max(1, min(self.repeats, self.max_chars // max(len(c.text) + 1, 1)))
        usage = Usage(c.usage.input_tokens, c.usage.output_tokens * reps, c.usage.cached_input_tokens)
        price = price_for(c.priced_as or c.model)
        cost = price.cost(usage) if price is not None and c.cost_basis != "offline" else c.cost_usd
        return c.replace(text=" ".join([c.text] * reps), usage=usage, cost_usd=cost, cached=False)

    def complete(self, messages: list[Any], **settings: Any) -> Any:
        """The wrapped model's answer, repeated and re-priced."""
        return self._loop(self.inner.complete(messages, **settings))

    async def acomplete(self, messages: list[Any], **settings: Any) -> Any:
        """Async twin of ``complete``."""
        return self._loop(await self.inner.acomplete(messages, **settings))


def run_stream(stream: list[SimRequest], config: Any, db_url: str, *, cache_dir: str | Path | None = None,
               repeats: int = 100, progress: bool = False) -> dict[str, int]:
    """Send every request through ``Runner`` with the clock set to its ``ts``; ``spike`` requests go through a
    runner whose models loop (``RunawayModel``). Returns the count of results per status."""
    from collections import Counter

    from ..runner import Runner

    now = [stream[0].ts if stream else START]

    def clock() -> float:
        return now[0]

    cache_dir = Path(cache_dir or tempfile.mkdtemp(prefix="wb-sim-"))
    normal = Runner.from_config(config, db_url=db_url, cache_path=cache_dir, clock=clock)
    first = next(iter(normal.pipelines.values()))
    tiers = {t for cfg in normal.config.variants.values() for t in cfg.tiers}
    looping = Runner.from_config(config, db_url=db_url, cache_path=cache_dir / "runaway", clock=clock,
                                 models={t: RunawayModel(first.model(t), repeats) for t in tiers})
    statuses: Counter[str] = Counter()
    try:
        for i, req in enumerate(stream):
            now[0] = req.ts
            runner = looping if "spike" in req.phase else normal
            statuses[runner.run(req.inputs).status] += 1
            if progress and i % 100 == 0:
                print(f"{i}/{len(stream)} requests", flush=True)
    finally:
        normal.close()
        looping.close()
    return dict(statuses)


# ---- straight into the log store (tests) -----------------------------------------------------------------------
REFUSAL = "The answer is not in the context."


def _row(req: SimRequest, rng: random.Random, seen: set[str], config: Any, capture_rate: float) -> dict[str, Any]:
    from ..store.rows import captured, input_hash, raw_json, text_chars
    from .drift import input_classes

    ihash = input_hash(req.inputs)
    hit = ihash in seen and "spike" not in req.phase
    seen.add(ihash)
    policy = next(iter(config.variants.values())).input_policy if config is not None else None
    classes = input_classes(req.inputs, policy)
    refuse = req.sample.get("category") == "unanswerable" or ("drift" in req.phase and rng.random() < 0.8)
    answer = REFUSAL if refuse or not req.sample.get("expected") else req.sample["expected"][0]
    reps = max(1, 3800 // (len(answer) + 1)) if "spike" in req.phase else 1
    out_tokens = max(4, int(len(answer) / 4 * rng.uniform(0.8, 1.2))) * reps
    in_tokens = int(700 + len(req.inputs["question"]) / 4 + rng.gauss(0, 80))
    cost = 0.0 if hit else (in_tokens * 0.15 + out_tokens * 0.6) / 1e6
    keep = captured(ihash, capture_rate)
    variant = config.split.assign_input(req.inputs) if config is not None else "current"
    return {"ts": req.ts, "item_id": req.inputs["id"], "input_hash": ihash, "input_chars": text_chars(req.inputs),
            "language": classes["language"], "length_class": classes["length"],
            "content_type": classes["content_type"], "variant": variant, "config_hash": None,
            "model": "local/extractive", "tier": "medium", "input_tokens": in_tokens, "output_tokens": out_tokens,
            "cost_usd": cost, "cost_basis": "simulated", "cache": "exact" if hit else "miss",
            "latency_ms": 4.0 if hit else rng.lognormvariate(math.log(700), 0.3), "status": "ok",
            "error_code": None, "output_hash": None, "fallback": False, "degraded": False, "escalated": False,
            "raw_input": raw_json(req.inputs) if keep else None,
            "raw_output": " ".join([answer] * reps) if keep else None}


def write_rows(stream: list[SimRequest], db_url: str, config: Any = None, *, seed: int = 0,
               capture_rate: float = 0.5) -> int:
    """Write log rows for the stream straight into the log store (no model calls): real input hashes, lengths,
    classes and captured text; answers from the samples' expected answers (refusals for unanswerable and most
    drifted questions); tokens, prices and latencies drawn around what the offline tier logs. Returns the count."""
    from ..store.logstore import REQUESTS, LogStore

    rng, seen = random.Random(seed), set()
    rows = [_row(req, rng, seen, config, capture_rate) for req in stream]
    store = LogStore(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(REQUESTS.insert(), rows)
    finally:
        store.close()
    return len(rows)
