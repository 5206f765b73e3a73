"""Reading YAML config files with errors that name the file and the field (one helper for every config kind)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError

M = TypeVar("M", bound=BaseModel)


MAX_BYTES = 8 * 1024 * 1024
"""Largest YAML file read (a config, policy, prompt or spec is kilobytes; an exported config with evidence, tens)."""
MAX_ALIASES = 64
"""Most alias references (``*name``) a YAML file may use: our own files use none, and an alias bomb ("billion
laughs": a few KB expanding to gigabytes when copied, validated or hashed) needs many."""
MAX_ALIAS_EXPANSION = 100_000
"""Most nodes that aliases may add once expanded, beyond the nodes written in the file. Counting aliases does not
bound a bomb: ``d1: &d1 [*d0, *d0]`` doubling 31 times is 62 aliases and 2**31 leaves for whatever walks the data
(the secrets check, validation, hashing). So the composed node graph is measured, each node once, before anything
is built from it."""


def read_text(path: str | Path, what: str, *, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of ``path``; ``ConfigError`` (exit 2) for an unreadable, oversized or non-UTF-8 file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{path}: {size:,} bytes, over the {max_bytes:,} a {what} may have")
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})",
                          hint=f"save the {what} as UTF-8") from None


def _check_expansion(root: Any, where: str, max_expansion: int) -> None:
    """``ConfigError`` when the YAML node graph under ``root`` expands (every alias copied out) to more than
    ``max_expansion`` nodes beyond its distinct ones, or refers to itself. Each node's expanded size is computed
    once (memoised), so this is linear in the nodes written, however far they would expand."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.SequenceNode):
            return node.value
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        return []

    sizes: dict[int, int] = {}  # id(node) -> its expanded size
    open_: set[int] = set()  # the nodes being measured: the current node's ancestors
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children(node))
            if sizes[key] - len(sizes) > max_expansion:
                raise ConfigError(f"{where}: its YAML aliases (*name) expand to more than {max_expansion:,} "
                                  "nodes beyond the file's own: refused before building anything, as an alias "
                                  "bomb", hint="write the values out; exported configs use no aliases")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise ConfigError(f"{where}: a YAML alias (*name) refers to the node that contains it (a recursive "
                              "structure, endless once walked)", hint="write the values out; exported configs "
                                                                     "use no aliases")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node))


def safe_yaml(text: str, where: str, *, max_aliases: int = MAX_ALIASES, max_bytes: int = MAX_BYTES,
              max_expansion: int = MAX_ALIAS_EXPANSION) -> Any:
    """``yaml.safe_load(text)`` within limits checked before anything is built: its size, at most ``max_aliases``
    alias references (counted while composing, so a bomb is refused in milliseconds), and at most
    ``max_expansion`` nodes added by expanding them, with no alias inside its own anchor (measured on the composed
    node graph, before anything is constructed or walked)."""
    import yaml

    if len(text) > max_bytes:
        raise ConfigError(f"{where}: {len(text):,} characters of YAML, over the limit of {max_bytes:,}")

    class _Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > max_aliases:
                    raise ConfigError(f"{where}: more than {max_aliases} YAML aliases (*name): refused before "
                                      "parsing further, as an alias bomb would expand without bound",
                                      hint="write the values out; exported configs use no aliases")
            return super().compose_node(parent, index)

        def compose_document(self) -> Any:
            node = super().compose_document()
            if self.aliases:  # without aliases, every node is written in the file: nothing to expand
                _check_expansion(node, where, max_expansion)
            return node

    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{line}: not valid YAML: {e}") from None


def read_yaml(path: str | Path, what: str) -> Any:
    """The YAML value in ``path``, read with ``read_text`` and ``safe_yaml``'s limits."""
    return safe_yaml(read_text(path, what), str(path))


def read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The YAML mapping in ``path``; ``ConfigError`` for an unreadable, oversized or non-UTF-8 file, bad YAML, an
    alias bomb or a non-mapping."""
    raw = read_yaml(path, what)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a {what} must be a YAML mapping, not {type(raw).__name__}")
    return raw


def field_error(e: ValidationError) -> str:
    """``field a.b: message`` for the first error of a pydantic validation."""
    err = e.errors()[0]
    where = ".".join(map(str, err["loc"]))
    return f"field {where}: {err['msg']}" if where else err["msg"]


def build(model: type[M], raw: dict[str, Any], path: str | Path, hint: str | None = None) -> M:
    """``model(**raw)``, with a validation error turned into a ``ConfigError`` naming the file and field."""
    try:
        return model(**raw)
    except ValidationError as e:
        raise ConfigError(f"{path}: {field_error(e)}", hint=hint) from None
