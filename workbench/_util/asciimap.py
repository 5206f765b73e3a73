"""``ascii_table``: a ``bytes.translate`` table written as a function of one character, for the scans that run on
ASCII text as bytes (a byte table translates in C, several times faster than ``str.translate``): word splits and
the "shapes" that gate a regex (digits to ``1``, capitals to ``A``...)."""
from __future__ import annotations

from collections.abc import Callable


def ascii_table(of: Callable[[str], str]) -> bytes:
    """The 256-byte table mapping each ASCII byte ``c`` to ``of(chr(c))`` (one ASCII character) and every other byte
    to itself: for ASCII text only."""
    return bytes(ord(of(chr(c))) for c in range(128)) + bytes(range(128, 256))
