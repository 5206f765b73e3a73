"""What a provider's API key looks like: one pattern per shape, shared by the config's credential check
(``_util.secrets``, which refuses a config holding one) and redaction (``inputs.pii``, which hides one)."""
from __future__ import annotations

import re

OPENAI = re.compile(r"\bsk-(?:proj-|ant-|live_|test_)?(?:[A-Za-z0-9_\-]{20,}|(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{8,})")
"""``sk-…`` (OpenAI, Anthropic ``sk-ant-``...): 20 characters, or 8 with a digit."""
AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])|(?<![A-Za-z0-9])(?:akia|asia)[0-9a-z]{16}"
                 r"(?![0-9a-z])")
"""An AWS access key id, also glued to lower-case words (``keyAKIA…``) or typed in lower case."""
GITHUB = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")
SLACK = re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")
GOOGLE = re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")
JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")
STRIPE = re.compile(r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{10,}")

KEY_SHAPES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    ("an API key (sk-…)", ("sk-",), OPENAI),
    ("an AWS access key id (AKIA…)", ("akia", "asia"), AWS),
    ("a GitHub token (ghp_…)", ("gh",), GITHUB),
    ("a Slack token (xox…)", ("xox",), SLACK),
    ("a Google API key (AIza…)", ("aiza",), GOOGLE),
    ("a JSON Web Token (eyJ…)", ("eyj",), JWT),
    ("a Stripe key (sk_live_…)", ("k_live_", "k_test_"), STRIPE),
)
"""(description, literals one of which the lower-cased text must hold for a match, pattern)."""
