"""Argument types that refuse impossible numbers at parse time (argparse: usage message, exit 2): a concurrency of
0 used to hang ``workbench gate`` for good, and ``--port 99999`` ended ``serve`` in a traceback."""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(convert: Callable[[str], float], ok: Callable[[float], bool], what: str) -> Callable[[str], float]:
    """An argparse type: ``convert(text)``, refused unless ``ok``; ``what`` names the kind in the error."""
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type by it in its messages
    return parse


positive_int = _number(int, lambda v: v >= 1, "a whole number at least 1")
"""An integer of at least 1 (concurrency, item counts)."""
port = _number(int, lambda v: 0 <= v <= 65535, "a port (0 to 65535)")
"""A TCP port: 0 (any free one) to 65535."""
positive_seconds = _number(float, lambda v: math.isfinite(v) and v > 0, "a number of seconds above 0")
"""A finite number of seconds above 0."""
days = _number(float, lambda v: math.isfinite(v) and v >= 0, "a number of days (0 or more)")
"""A finite number of days, 0 or more."""
