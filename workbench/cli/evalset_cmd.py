"""``workbench evalset check PATH``: validate an eval set; print ``{"total", "by_category"}`` as JSON.
``workbench evalset import SOURCE --question COL ... --out PATH``: an eval set from a Hugging Face dataset folder,
CSV, Parquet or JSONL, mapped column by column (``workbench.evalsets.importing``)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evalset", help="check eval sets, or import one from data you have",
                       description="Check an eval set file, or import one from a Hugging Face dataset folder, CSV, "
                                   "Parquet or JSONL by naming which column holds what.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    c = verbs.add_parser("check", help="validate a file; exit 1 naming file, line and field on any error")
    c.add_argument("path", help="the eval set's JSONL file")
    c.set_defaults(run=run_check)
    i = verbs.add_parser("import", help="an eval set from a dataset folder, CSV, Parquet or JSONL",
                         description="Map the source's columns to a sample's parts and write <out> and its card. "
                                     "Without --category, a true --unanswerable column or no expected answer makes "
                                     "a sample 'unanswerable', the rest are 'normal'.")
    i.add_argument("source", help="a folder written by datasets' save_to_disk, or a .csv, .parquet or .jsonl file")
    i.add_argument("--question", default="question", help="the column holding the question (default: question)")
    i.add_argument("--documents", help="the column holding the documents or the context: a text, a list of texts "
                                       "or of {id, text} objects")
    i.add_argument("--expected", help="the column holding the acceptable answers: a text or a list of texts")
    i.add_argument("--category", help="the column holding the category (normal, edge, adversarial, unanswerable)")
    i.add_argument("--unanswerable", help="a true/false column marking unanswerable questions (e.g. is_impossible)")
    i.add_argument("--id", dest="id_column", help="the column holding sample ids (default: <name>-<row>)")
    i.add_argument("--name", required=True, help="the eval set's name")
    i.add_argument("--out", required=True, type=Path, help="where to write the JSONL (its card goes beside it)")
    i.set_defaults(run=run_import)


def run_check(args: argparse.Namespace) -> int:
    from ..evalsets.evalset import load_evalset

    es = load_evalset(args.path)
    print(json.dumps({"name": es.name, "version": es.version, "total": len(es), "by_category": es.by_category(),
                      "hash": es.hash}))
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..evalsets.importing import ColumnMapping, import_evalset

    mapping = ColumnMapping(question=args.question, documents=args.documents, expected=args.expected,
                            category=args.category, unanswerable=args.unanswerable, id=args.id_column)
    es = import_evalset(args.source, mapping, name=args.name)
    path = es.save(args.out)
    print(json.dumps({"name": es.name, "total": len(es), "by_category": es.by_category(), "path": str(path),
                      "hash": es.hash}))
    return 0
