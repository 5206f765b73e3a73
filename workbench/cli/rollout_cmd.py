"""``workbench rollout add|list|promote|split|rollback``: configs by hash, and the active pointer workers follow."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..release.rollout import ConfigStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollout", help="store exported configs by hash; promote, split traffic, roll back",
                       description="add C.yaml (verify and store as <hash>.yaml); list; promote HASH (the active "
                                   "config; the previous one is kept); split HASH_A=0.9 HASH_B=0.1 (store and "
                                   "promote a config whose split spans both); rollback (the previous active config). "
                                   "HASH may be a unique prefix.")
    p.add_argument("action", choices=["add", "list", "promote", "split", "rollback"],
                   help="what to do with the stored configs (see above)")
    p.add_argument("args", nargs="*", help="add: config files; promote: HASH; split: HASH=WEIGHT ...")
    p.add_argument("--store", help="store folder (default: $WORKBENCH_HOME/configs)")
    p.add_argument("--no-promote", action="store_true", help="with split: store the config but do not promote it")
    p.add_argument("--format", choices=["text", "json"], default="text", help="with list")
    p.set_defaults(run=run)


def _weights(pairs: list[str]) -> dict[str, float]:
    from ..errors import UsageError

    out: dict[str, float] = {}
    for pair in pairs:
        ref, sep, weight = pair.partition("=")
        try:
            out[ref] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UsageError(f"bad split part {pair!r}", hint="write HASH=WEIGHT, e.g. 3f2a=0.9 81bc=0.1")
    return out


def _add(store: ConfigStore, args: argparse.Namespace) -> None:
    from ..errors import UsageError

    if not args.args:
        raise UsageError("rollout add needs one or more config files")
    for path in args.args:
        config = store.add(path)
        print(f"{config.config_hash}  {config.name}  ({path})")


def _list(store: ConfigStore, args: argparse.Namespace) -> None:
    rows = store.list()
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    for r in rows if args.format == "text" else []:
        weights = " ".join(f"{k}={v:g}" for k, v in (r["weights"] or {}).items())
        print(f"{'*' if r['active'] else ' '} {r['config_hash'][:19]}  {r['name'] or '-':<24} {r['kind']:<7} "
              f"{r['added'] or '-':<25} {weights}")
    if not rows:
        print(f"no configs in {store.root}", file=sys.stderr)


def _promote(store: ConfigStore, args: argparse.Namespace) -> None:
    from ..errors import UsageError

    if len(args.args) != 1:
        raise UsageError("rollout promote needs one HASH")
    print(f"active: {store.promote(args.args[0])}")


def _split(store: ConfigStore, args: argparse.Namespace) -> None:
    config = store.split(_weights(args.args))
    print(f"{config.config_hash}  split {json.dumps(config.split.weights)}")
    if not args.no_promote:
        print(f"active: {store.promote(config.config_hash)}")


def _rollback(store: ConfigStore, args: argparse.Namespace) -> None:
    print(f"active: {store.rollback()}")


_ACTIONS = {"add": _add, "list": _list, "promote": _promote, "split": _split, "rollback": _rollback}


def run(args: argparse.Namespace) -> int:
    from ..release.rollout import ConfigStore

    _ACTIONS[args.action](ConfigStore(args.store), args)
    return 0
