"""``workbench serve``: the runner over HTTP (POST /v1/run, GET /healthz, GET /metrics)."""
from __future__ import annotations

import argparse
import sys

from .argtypes import port
from .run_cmd import add_evidence_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the production runner over HTTP",
                       description="POST /v1/run (one input -> its result line; SSE with \"stream\": true or "
                                   "Accept: text/event-stream), GET /healthz, GET /metrics. Without --config (or "
                                   "with --config active) it follows the rollout store's active config.")
    p.add_argument("--config", help="exported config file, or `active` (default) to follow `workbench rollout`")
    p.add_argument("--store", help="rollout store folder (default: $WORKBENCH_HOME/configs)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs a bearer token: --token-file or "
                        "WORKBENCH_API_TOKEN)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--db", help="log store URL (default: $WORKBENCH_DB_URL)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="the server's log level (default info)")
    p.add_argument("--token-file", help="file holding the bearer token clients must send (default: "
                                        "$WORKBENCH_API_TOKEN); required to bind a non-loopback --host")
    add_evidence_flag(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._util.heap import freeze_startup_heap
    from ..runner.http import serve
    from ..runner.http_guard import check_bind, resolve_token
    from ..runner.source import ConfigSource

    token = resolve_token(args.token_file)
    check_bind(args.host, token)  # before anything loads: a public bind without a token is refused
    source = ConfigSource.from_args(args.config, args.store, args.db, args.allow_stand_in_evidence)
    config, runner = source.current()  # fail early on a bad config
    if hasattr(runner, "check_log_store"):
        runner.check_log_store()  # a --db that cannot be opened: exit 2 now, not a lost row per request
    if hasattr(runner, "warm_up"):
        runner.warm_up()  # the model library and tokenizers load now, not during the first request
    freeze_startup_heap()  # a full garbage collection no longer walks litellm's ~400k objects (0.22 s, GIL held)
    auth = "bearer token required" if token else "no authentication (loopback only)"
    print(f"serving {config.name} {config.config_hash[:19]} on http://{args.host}:{args.port} ({auth})",
          file=sys.stderr)
    serve(source, host=args.host, port=args.port, log_level=args.log_level, token=token)
    return 0
