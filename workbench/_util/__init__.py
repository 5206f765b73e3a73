"""Plumbing shared by every package: lazy exports, background batch writing, the workspace folder, YAML loading
and lexical helpers. Private: nothing here is part of the public API, and it imports nothing else of workbench
but ``errors``."""
