"""No credentials in a config: keys come from the environment, never from a file that is exported, committed or
copied into a run's manifest. Checked at export, when an exported config is loaded, and on tier parameters before
a run writes them anywhere."""
from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError

SECRET_KEYS = re.compile(r"(^|_)(api_key|api_secret|secret|password|passwd|token|access_key|credentials?)$",
                         re.IGNORECASE)
"""Field names that hold a credential."""
DEPLOY_URL = re.compile(r"\b(postgres(ql)?|mysql|mariadb|sqlite|redis|rediss|amqps?|kafka|mongodb(\+srv)?)"
                        r"(\+\w+)?://", re.IGNORECASE)
"""Database and queue URLs (deployment settings: flags or the environment)."""


def find_secret(data: Any) -> tuple[str, str] | None:
    """``(dotted path, "credential" | "url")`` of the first credential-like field or deployment URL in ``data``,
    else None. Iterative: any depth is fine."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if SECRET_KEYS.search(str(k)) and v not in (None, "", [], {}):
                    return f"{where}{k}", "credential"
                stack.append((v, f"{where}{k}."))
        elif isinstance(node, list):
            stack.extend((v, f"{where}{i}.") for i, v in enumerate(node))
        elif isinstance(node, str) and DEPLOY_URL.search(node):
            return where.rstrip("."), "url"
    return None


def check_no_secrets(data: Any, what: str = "the export") -> None:
    """``ConfigError`` if ``data`` holds a credential-like field or a database/queue URL."""
    found = find_secret(data)
    if found is None:
        return
    where, kind = found
    if kind == "credential":
        raise ConfigError(f"{what} holds a credential-like field {where}",
                          hint="keys come from the environment (e.g. OPENAI_API_KEY), never from a config file")
    raise ConfigError(f"{what} holds a database/queue URL at {where}",
                      hint="deployment settings come from flags or the environment (--db, --queue)")
