"""Runner metrics in the Prometheus text format, one registry per ``Metrics`` object (no global state).

With ``prometheus_client`` installed (the ``serve`` extra) the metrics are real ``prometheus_client`` objects in
a private ``CollectorRegistry``; without it a tiny in-process fallback keeps the same names, labels and text
format. Names:

    requests_total{status,variant,tier}   request_latency_seconds (histogram)   cost_usd_total
    cache_hits_total{kind}                errors_total{code}                    queue_depth (gauge)
    escalations_total                     log_errors_total

    m = Metrics(); m.observe(result)         # a finished request: a RunnerResult
    content_type, body = m.render()          # for GET /metrics
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import RunnerResult

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SPECS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # attribute, kind, help, labels  (the metric name is the attribute)
    ("requests_total", "counter", "Requests the runner finished, by status, variant and tier",
     ("status", "variant", "tier")),
    ("request_latency_seconds", "histogram", "Wall time of a request through the runner", ()),
    ("cost_usd_total", "counter", "USD paid for model calls (cache hits cost nothing)", ()),
    ("cache_hits_total", "counter", "Requests answered from a cache, by kind (exact, semantic)", ("kind",)),
    ("errors_total", "counter", "Requests that ended with an error code, by code", ("code",)),
    ("queue_depth", "gauge", "Items waiting in the queue (set by the queue module)", ()),
    ("escalations_total", "counter", "Items sent to a human (the escalation table)", ()),
    ("log_errors_total", "counter", "Requests whose log-store write failed (the result was still returned)", ()),
)


class Metrics:
    """The runner's metrics in a registry of their own. ``use_prometheus=None`` uses prometheus_client when
    it is installed."""

    def __init__(self, use_prometheus: bool | None = None):
        self.registry: Any = None
        backend = _prometheus_backend() if use_prometheus is not False else None
        if use_prometheus and backend is None:
            raise ImportError("prometheus_client is not installed: pip install 'workbench[serve]'")
        if backend is not None:
            self.registry = backend.CollectorRegistry(auto_describe=True)
            make = {"counter": backend.Counter, "gauge": backend.Gauge, "histogram": backend.Histogram}
        else:
            self.registry = _Registry()
            make = {"counter": _Counter, "gauge": _Gauge, "histogram": _Histogram}
        self.prometheus = backend is not None
        self._requests: dict[tuple[str, str, str], Any] = {}
        for name, kind, doc, labels in _SPECS:
            extra = {"buckets": LATENCY_BUCKETS} if kind == "histogram" else {}
            setattr(self, name, make[kind](_base_name(name, kind), doc, labels, registry=self.registry, **extra))

    def observe(self, result: RunnerResult) -> None:
        """Count one finished request: status, variant, tier, latency, cost, cache hit, error, escalation."""
        key = (result.status, result.variant or "", result.tier or "")
        counter = self._requests.get(key)
        if counter is None:  # labels() validates and locks on every call: each label set is looked up once
            counter = self._requests[key] = self.requests_total.labels(status=key[0], variant=key[1], tier=key[2])
        counter.inc()
        self.request_latency_seconds.observe(max(0.0, result.latency_ms / 1000.0))
        if result.cost_usd:
            self.cost_usd_total.inc(result.cost_usd)
        if result.cache != "miss":
            self.cache_hits_total.labels(kind=result.cache).inc()
        error_code = (result.error or {}).get("code")
        if error_code:
            self.errors_total.labels(code=error_code).inc()
        if result.status == "escalated":
            self.escalations_total.inc()

    def set_queue_depth(self, depth: int) -> None:
        """Set the ``queue_depth`` gauge (the queue module calls this)."""
        self.queue_depth.set(depth)

    def render(self) -> tuple[str, bytes]:
        """``(content_type, body)`` in the Prometheus text exposition format."""
        if self.prometheus:
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return CONTENT_TYPE_LATEST, generate_latest(self.registry)
        return TEXT_CONTENT_TYPE, self.registry.render().encode("utf-8")

    def value(self, name: str, **labels: str) -> float:
        """The current value of one sample (e.g. ``value("requests_total", status="ok", variant="a", tier="m")``),
        0.0 when it has not been recorded."""
        if self.prometheus:
            return self.registry.get_sample_value(name, labels) or 0.0
        return self.registry.sample(name, labels)


def render_metrics(source: Any) -> tuple[str, bytes]:
    """``(content_type, body)`` for ``GET /metrics`` from a ``Metrics`` or anything with a ``metrics`` one (a
    ``Runner``)."""
    metrics = source if isinstance(source, Metrics) else source.metrics
    return metrics.render()


def _prometheus_backend() -> Any:
    try:
        import prometheus_client
    except ImportError:
        return None
    return prometheus_client


def _base_name(name: str, kind: str) -> str:
    """prometheus_client adds ``_total`` to counters itself."""
    return name[: -len("_total")] if kind == "counter" and name.endswith("_total") else name


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


class _Registry:
    """The fallback registry: holds the metrics, renders them, reads samples."""

    def __init__(self) -> None:
        self.metrics: list[_Metric] = []
        self.lock = threading.Lock()

    def render(self) -> str:
        with self.lock:
            return "".join(m.render() for m in self.metrics)

    def sample(self, name: str, labels: dict[str, str]) -> float:
        with self.lock:
            for m in self.metrics:
                for sample_name, sample_labels, value in m.samples():
                    if sample_name == name and sample_labels == labels:
                        return value
        return 0.0


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, doc: str, labelnames: tuple[str, ...] = (), *, registry: _Registry,
                 _labels: dict[str, str] | None = None, **_: Any):
        self.name, self.doc, self.labelnames, self.registry = name, doc, tuple(labelnames), registry
        self._labels = _labels or {}
        self._children: dict[tuple[str, ...], _Metric] = {}
        self._value = 0.0
        if _labels is None:
            registry.metrics.append(self)

    def labels(self, **labels: str) -> _Metric:
        key = tuple(str(labels[n]) for n in self.labelnames)
        with self.registry.lock:
            child = self._children.get(key)
            if child is None:
                child = type(self)(self.name, self.doc, (), registry=self.registry,
                                   _labels=dict(zip(self.labelnames, key, strict=True)))
                self._children[key] = child
        return child

    def _own_samples(self) -> list[tuple[str, dict[str, str], float]]:
        return [(self.full_name, self._labels, self._value)]

    @property
    def full_name(self) -> str:
        return self.name + "_total" if self.kind == "counter" else self.name

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        if self.labelnames:
            return [s for child in self._children.values() for s in child._own_samples()]
        return self._own_samples()

    def render(self) -> str:
        head = f"# HELP {self.full_name} {self.doc}\n# TYPE {self.full_name} {self.kind}\n"
        return head + "".join(f"{n}{_labels_text(lab)} {float(v)!r}\n" for n, lab, v in self.samples())


class _Counter(_Metric):
    kind = "counter"

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        with self.registry.lock:
            self._value += amount


class _Gauge(_Metric):
    kind = "gauge"

    def set(self, value: float) -> None:
        with self.registry.lock:
            self._value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        with self.registry.lock:
            self._value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.inc(-amount)


class _Histogram(_Metric):
    kind = "histogram"

    def __init__(self, *args: Any, buckets: tuple[float, ...] = LATENCY_BUCKETS, **kw: Any):
        super().__init__(*args, **kw)
        self.buckets = tuple(buckets)
        self._counts = [0] * len(self.buckets)
        self._count = 0

    def observe(self, value: float) -> None:
        with self.registry.lock:
            self._count += 1
            self._value += value
            for i, edge in enumerate(self.buckets):
                if value <= edge:
                    self._counts[i] += 1

    def _own_samples(self) -> list[tuple[str, dict[str, str], float]]:
        out = [(f"{self.name}_bucket", {**self._labels, "le": repr(float(edge))}, float(n))
               for edge, n in zip(self.buckets, self._counts, strict=True)]
        out.append((f"{self.name}_bucket", {**self._labels, "le": "+Inf"}, float(self._count)))
        return out + [(f"{self.name}_count", self._labels, float(self._count)),
                      (f"{self.name}_sum", self._labels, self._value)]
