"""Build the first QA eval set over the demo corpus from ``corpus/FACTS.jsonl`` (deterministic).

Each sample holds the question, the document that answers it plus two distractor documents (so context
selection matters), the answer text as it appears in the document, and its criteria.

    .venv/bin/python scripts/make_qa_seed.py            # writes evalsets/northwind_qa.jsonl
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"api-": "api", "release-notes": "release-notes", "-faq": "faq", "policy": "policy", "pricing": "pricing"}


def kind_of(doc: str) -> str:
    return next((k for pat, k in KINDS.items() if pat in doc), "guide")


def distractors(doc: str, names: list[str], n: int = 2) -> list[str]:
    others = sorted((n_ for n_ in names if n_ != doc), key=lambda x: hashlib.sha256((doc + x).encode()).hexdigest())
    return others[:n]


def main() -> None:
    facts = [json.loads(line) for line in (ROOT / "corpus/FACTS.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.md"))}
    names = sorted(texts)
    out = []
    for i, f in enumerate(facts, 1):
        assert f["answer"] in texts[f["doc"]], f
        docs = [f["doc"], *distractors(f["doc"], names)]
        docs.sort(key=lambda d: hashlib.sha256(f"{i}{d}".encode()).hexdigest())  # answer not always first
        out.append({
            "id": f"nwqa-{i:04d}",
            "inputs": {"question": f["question"], "documents": [{"id": d, "text": texts[d]} for d in docs]},
            "expected": [f["answer"]],
            "category": "normal",
            "tags": [kind_of(f["doc"]), f"doc:{f['doc']}"],
            "criteria": [{"scorer": "contains_any"}, {"scorer": "token_f1", "threshold": 0.5}],
            "metadata": {"source_doc": f["doc"], "evidence": f["sentence"]},
        })
    path = ROOT / "evalsets/northwind_qa.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in out), encoding="utf-8")
    print(f"{len(out)} samples -> {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
