"""``workbench prompt``: list, render and diff versioned prompts (``prompts/<id>/<version>.yaml``)."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prompt", help="list, render and diff versioned prompts")
    p.add_argument("--root", help="prompts folder (default: prompts/ of the project)")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    verbs.add_parser("list", help="prompt ids with their versions and hashes").set_defaults(run=run_list)
    r = verbs.add_parser("render", help="print the rendered messages as JSON")
    r.add_argument("prompt_id", help="the prompt's id (a folder under prompts/)")
    r.add_argument("--version", type=int, help="which version (default: the latest)")
    r.add_argument("--vars", default="{}", help="a JSON object of variable values")
    r.add_argument("--model", help="render the variant for this model")
    r.set_defaults(run=run_render)
    d = verbs.add_parser("diff", help="unified diff between two versions")
    d.add_argument("prompt_id", help="the prompt's id (a folder under prompts/)")
    d.add_argument("a", type=int, help="the older version")
    d.add_argument("b", type=int, help="the newer version")
    d.set_defaults(run=run_diff)


def run_list(args: argparse.Namespace) -> int:
    from ..prompts import list_prompts, load_prompt, versions

    for pid in list_prompts(args.root):
        latest = load_prompt(pid, root=args.root)
        print(f"{pid:<24} versions {','.join(map(str, versions(pid, args.root))):<8} latest {latest.hash[:19]}  "
              f"{latest.description}")
    return 0


def run_render(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..prompts import load_prompt

    try:
        values = json.loads(args.vars)
    except json.JSONDecodeError as e:
        raise UsageError(f"--vars is not valid JSON: {e}") from None
    if not isinstance(values, dict):
        raise UsageError("--vars must be a JSON object")
    messages = load_prompt(args.prompt_id, args.version, args.root).render(values, model=args.model)
    print(json.dumps(messages, ensure_ascii=False, indent=2))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from ..prompts import diff, load_prompt

    print(diff(load_prompt(args.prompt_id, args.a, args.root), load_prompt(args.prompt_id, args.b, args.root)),
          end="")
    return 0
