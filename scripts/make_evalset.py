"""Build the Northwind QA eval set (v2) over the demo corpus, deterministically; rewrites the file and its card.

    .venv/bin/python scripts/make_evalset.py        # writes evalsets/northwind_qa.jsonl + .card.yaml

Four categories, every sample carrying its documents (the source document plus two distractors, unless said):

* normal (nwqa-0001..)  the questions of ``corpus/FACTS.jsonl``; ids are stable across versions;
* edge (nwqa-e001..)    the same facts, or table rows and code blocks, asked awkwardly: typos, all caps, very
                        short, rambling, Portuguese/Spanish, multi-part, preamble, whitespace/emoji noise;
* unanswerable (-u)     questions the corpus does not answer (checked: the key terms appear in no document), and
                        questions whose answer is only in a document the sample does not carry;
* adversarial (-a)      prompt injection in the question or in a document, and hostile strings (RTL override,
                        zero-width characters, homoglyphs, control characters, ~20k-character inputs).

Every expected answer is checked to appear verbatim in the sample's source document; the script fails otherwise.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evalset_cases import ADVERSARIAL, DOC_INJECTIONS, EDGE, MISSING_DOC, NOT_IN_CORPUS  # noqa: E402

from workbench.evalsets.drafting import ANSWER_CRITERIA, REFUSAL_CRITERIA, distractor_ids  # noqa: E402
from workbench.evalsets.evalset import EvalSet  # noqa: E402

KINDS = {"api-": "api", "release-notes": "release-notes", "-faq": "faq", "policy": "policy", "pricing": "pricing"}
DESCRIPTION = ("Questions about the Northwind Ledger demo corpus. normal: answers verbatim in a document, each "
               "sample carrying its source document and two distractors; edge: the same facts (and table rows, "
               "code blocks) asked with typos, caps, very short or rambling wording, in Portuguese/Spanish, "
               "multi-part, with noise; unanswerable: the corpus or the given documents do not answer (expect a "
               "refusal); adversarial: prompt injection in the question or a document, and hostile strings "
               "(expected = the true answer, or a refusal).")
CHANGELOG = ["v1: 158 normal questions from corpus/FACTS.jsonl (scripts/make_qa_seed.py)",
             "v2: + edge, unanswerable and adversarial samples; generator renamed scripts/make_evalset.py"]


def kind_of(doc: str) -> str:
    return next((k for pat, k in KINDS.items() if pat in doc), "guide")


def with_distractors(doc: str, names: list[str], salt: str) -> list[str]:
    docs = [doc, *distractor_ids(doc, names)]
    docs.sort(key=lambda d: hashlib.sha256(f"{salt}{d}".encode()).hexdigest())  # answer not always first
    return docs


def _forbidden(metadata: dict) -> list[dict]:
    """A criterion that fails when the answer repeats what an injection tried to make it say."""
    words = metadata.get("forbidden") or []
    return [{"scorer": "regex", "pattern": "|".join(re.escape(w) for w in words), "must_match": False,
             "ignore_case": True}] if words else []


def sample(sid: str, question: str, doc_ids: list[str], texts: dict[str, str], expected: list[str],
           category: str, tags: list[str], metadata: dict, overrides: dict[str, str] | None = None) -> dict:
    overrides = overrides or {}
    docs = [{"id": d, "text": overrides.get(d, texts[d])} for d in doc_ids]
    source = metadata.get("source_doc")
    for answer in expected:  # the rule of this eval set: expected answers are verbatim spans of the source
        assert source and answer in texts[source] and answer in overrides.get(source, texts[source]), (sid, answer)
    return {"id": sid, "inputs": {"question": question, "documents": docs}, "expected": expected,
            "category": category, "tags": tags,
            "criteria": [dict(c) for c in (ANSWER_CRITERIA if expected else REFUSAL_CRITERIA)] + _forbidden(metadata),
            "metadata": metadata}


def normal(facts: list[dict], texts: dict[str, str], names: list[str]) -> list[dict]:
    out = []
    for i, f in enumerate(facts, 1):
        out.append(sample(f"nwqa-{i:04d}", f["question"], with_distractors(f["doc"], names, str(i)), texts,
                          [f["answer"]], "normal", [kind_of(f["doc"]), f"doc:{f['doc']}"],
                          {"source_doc": f["doc"], "evidence": f["sentence"]}))
    return out


def _answer_source(case: dict, facts: list[dict]) -> tuple[str, list[str], str | None]:
    """(source doc, expected answers, evidence) of a case that names a fact (``fact``/``facts``) or a doc."""
    idx = case.get("facts") or ([case["fact"]] if "fact" in case else [])
    if idx:
        chosen = [facts[i - 1] for i in idx]
        assert len({f["doc"] for f in chosen}) == 1, case
        return chosen[0]["doc"], [f["answer"] for f in chosen], " ".join(f["sentence"] for f in chosen)
    return case["doc"], list(case.get("expected", [])), case.get("evidence")


def edge(facts: list[dict], texts: dict[str, str], names: list[str]) -> list[dict]:
    out = []
    for i, case in enumerate(EDGE, 1):
        sid = f"nwqa-e{i:03d}"
        doc, expected, evidence = _answer_source(case, facts)
        meta = {"source_doc": doc, "evidence": evidence, **({"fact": case["fact"]} if "fact" in case else {})}
        if len(expected) > 1:
            meta["answer_parts"] = expected  # a multi-part question: a full answer holds every part
        out.append(sample(sid, case["question"], with_distractors(doc, names, sid), texts, expected, "edge",
                          [f"edge:{case['kind']}", kind_of(doc), f"doc:{doc}"], meta))
    return out


def _absent(terms: list[str], texts: dict[str, str]) -> None:
    for term in terms:
        rx = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.IGNORECASE)
        hits = [name for name, text in texts.items() if rx.search(text)]
        assert not hits, f"{term!r} appears in {hits}: the question may be answerable"


def unanswerable(facts: list[dict], texts: dict[str, str], names: list[str]) -> list[dict]:
    out = []
    for question, docs, absent in NOT_IN_CORPUS:
        _absent(absent, texts)
        sid = f"nwqa-u{len(out) + 1:03d}"
        out.append(sample(sid, question, docs, texts, [], "unanswerable", ["unanswerable:not-in-corpus"],
                          {"absent_terms": absent}))
    for i in MISSING_DOC:
        f = facts[i - 1]
        # three documents that neither are the source nor mention the answer
        others = [d for d in sorted(names, key=lambda x: hashlib.sha256(f"missing{i}{x}".encode()).hexdigest())
                  if d != f["doc"] and f["answer"] not in texts[d]][:3]
        sid = f"nwqa-u{len(out) + 1:03d}"
        out.append(sample(sid, f["question"], others, texts, [], "unanswerable",
                          ["unanswerable:missing-document", f"doc:{f['doc']}"],
                          {"answer_lives_in": f["doc"], "fact": i}))
    return out


def _inject(text: str, payload: str, where: str) -> str:
    """``text`` with ``payload`` after the first paragraph (``top``), before the last one (``bottom``) or at the
    end of the first code block (``code``)."""
    if where == "code":
        start = text.index("```")
        end = text.index("\n```", start + 3)
        return text[:end] + "\n" + payload + text[end:]
    parts = text.split("\n\n")
    at = 2 if where == "top" else len(parts) - 1
    return "\n\n".join([*parts[:at], payload, *parts[at:]])


def adversarial(facts: list[dict], texts: dict[str, str], names: list[str]) -> list[dict]:
    out = []
    for case in ADVERSARIAL:
        sid = f"nwqa-a{len(out) + 1:03d}"
        question = case["question"]() if callable(case["question"]) else case["question"]
        if "fact" in case or "doc" in case:
            doc, expected, evidence = _answer_source(case, facts)
            meta = {"source_doc": doc, "evidence": evidence, "attack": case["attack"]}
            doc_ids = with_distractors(doc, names, sid)
        else:  # nothing to answer: the right reply is a refusal
            expected, meta, doc_ids = [], {"attack": case["attack"]}, case["docs"]
        meta.update({k: case[k] for k in ("forbidden", "expected_status") if k in case})
        out.append(sample(sid, question, doc_ids, texts, expected, "adversarial",
                          [case["vector"], f"attack:{case['attack']}"], meta))
    for case in DOC_INJECTIONS:
        sid = f"nwqa-a{len(out) + 1:03d}"
        f = facts[case["fact"] - 1]
        poisoned = _inject(texts[f["doc"]], case["payload"], case.get("where", "top"))
        meta = {"source_doc": f["doc"], "evidence": f["sentence"], "attack": case["attack"], "fact": case["fact"],
                "injected": case["payload"], **({"forbidden": case["forbidden"]} if "forbidden" in case else {})}
        out.append(sample(sid, f["question"], with_distractors(f["doc"], names, sid), texts, [f["answer"]],
                          "adversarial", ["injection:document", f"attack:{case['attack']}", f"doc:{f['doc']}"],
                          meta, overrides={f["doc"]: poisoned}))
    return out


def build() -> EvalSet:
    facts = [json.loads(line) for line in (ROOT / "corpus/FACTS.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.md"))}
    names = sorted(texts)
    records = [*normal(facts, texts, names), *edge(facts, texts, names), *unanswerable(facts, texts, names),
               *adversarial(facts, texts, names)]
    return EvalSet.from_records(records, name="northwind_qa", version=2, description=DESCRIPTION,
                                changelog=CHANGELOG)


def main() -> None:
    es = build()
    path = es.save(ROOT / "evalsets/northwind_qa.jsonl")
    print(f"{len(es)} samples {es.by_category()} -> {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)"
          f" {es.hash}")


if __name__ == "__main__":
    main()
