"""③ Versioned prompts: ``prompts/<id>/<version>.yaml``, loaded through pydantic, hashed, rendered in a sandbox.

    from workbench.prompts import load_prompt
    p = load_prompt("grounded_qa")                 # latest version
    messages = p.render({"question": "...", "context": "..."}, model="openai/gpt-4o-mini")

Rendering uses jinja2's ``SandboxedEnvironment`` with strict undefined. Variables are data: a value that contains
``{{ ... }}`` or ``{% ... %}`` is inserted as text and never evaluated. Missing, undeclared or mistyped variables
fail before any model call, naming the variable.
"""
from __future__ import annotations

import difflib
import fnmatch
import functools
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, DataError, PromptVariableError
from .hashing import content_hash

VarType = Literal["string", "number", "integer", "boolean", "list", "object"]
VARIABLE_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "integer": (int,),
                                          "boolean": (bool,), "list": (list, tuple), "object": (dict,)}


class Variable(BaseModel):
    """A declared template variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: VarType = "string"
    required: bool = True
    description: str = ""


class Sections(BaseModel):
    """The template text: ``system`` becomes the system message; ``context`` then ``user`` the user message."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    system: str | None = None
    context: str | None = None
    user: str


class Metadata(BaseModel):
    """Who owns a prompt, what it is for, how it should behave, and its changelog."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    owner: str = ""
    purpose: str = ""
    expected_behaviour: str = ""
    changelog: list[str] = Field(default_factory=list)


class Criterion(BaseModel):
    """A scorer and its pass threshold, e.g. ``{scorer: token_f1, threshold: 0.5}``; extra keys are its params."""

    model_config = ConfigDict(frozen=True, extra="allow")
    scorer: str
    threshold: float | None = None


class Variant(BaseModel):
    """Per-model wording: sections that replace the default ones for models matching ``match`` (fnmatch)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    match: str
    sections: Sections


class PromptTemplate(BaseModel):
    """One version of one prompt, as in ``prompts/<id>/<version>.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    version: int = Field(ge=1)
    description: str
    metadata: Metadata = Field(default_factory=Metadata)
    variables: dict[str, Variable] = Field(default_factory=dict)
    sections: Sections
    output_schema: dict[str, Any] | None = None
    criteria: list[Criterion] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)

    @property
    def hash(self) -> str:
        """Content hash of the whole template (``workbench.hashing`` rule)."""
        return content_hash(self.model_dump(mode="json"))

    @property
    def ref(self) -> str:
        """``<id>@v<version>``, e.g. ``grounded_qa@v2``."""
        return f"{self.id}@v{self.version}"

    def sections_for(self, model: str | None) -> Sections:
        """The sections a model gets: the first variant whose ``match`` fits it, else the defaults."""
        for v in self.variants:
            if model and fnmatch.fnmatchcase(model, v.match):
                return v.sections
        return self.sections

    def check_variables(self, values: dict[str, Any]) -> None:
        """Raise ``PromptVariableError`` naming every missing, undeclared or mistyped variable."""
        problems = [f"undeclared variable {k!r}" for k in values if k not in self.variables]
        for name, var in self.variables.items():
            if name not in values:
                if var.required:
                    problems.append(f"missing variable {name!r}")
                continue
            ok = VARIABLE_TYPES[var.type]
            if not isinstance(values[name], ok) or (var.type in ("number", "integer") and
                                                    isinstance(values[name], bool)):
                problems.append(f"variable {name!r} should be {var.type}, got {type(values[name]).__name__}")
        if problems:
            raise PromptVariableError(f"{self.ref}: " + "; ".join(problems),
                                      hint=f"declared variables: {', '.join(self.variables) or 'none'}")

    def render(self, values: dict[str, Any], model: str | None = None) -> list[dict[str, str]]:
        """Chat messages for ``values`` (and ``model``'s variant); variables are inserted as data."""
        self.check_variables(values)
        sections = self.sections_for(model)
        data = {name: values.get(name) for name in self.variables}
        user = "\n\n".join(_render(s, data) for s in (sections.context, sections.user) if s)
        messages = [{"role": "system", "content": _render(sections.system, data)}] if sections.system else []
        return [*messages, {"role": "user", "content": user}]

    def count_tokens(self, values: dict[str, Any], model: str) -> int:
        """Prompt tokens of the rendered messages with ``model``'s tokenizer."""
        from .models.tokens import tokenizer_for

        return tokenizer_for(model).count_messages(self.render(values, model))

    def costs(self, values: dict[str, Any], tiers: list[str] | None = None) -> list[dict[str, Any]]:
        """Input tokens and input cost of the rendered prompt for each tier's real model."""
        from .models.client import current_tiers
        from .models.pricing import price_for

        rows = []
        tier_set = current_tiers()
        for name in tiers or tier_set.names():
            model = tier_set.get(name).model
            tokens = self.count_tokens(values, model)
            price = price_for(model)
            rows.append({"tier": name, "model": model, "input_tokens": tokens,
                         "input_cost_usd": None if price is None else price.input_cost(tokens)})
        return rows


@functools.cache
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> Any:
    return _environment().from_string(source)


_PLAIN_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


@functools.lru_cache(maxsize=512)
def _plain_parts(source: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """``(texts, names)`` when the only template syntax in ``source`` is ``{{ name }}``: the text around the
    placeholders (one more than the names) and the names in order. Substituting ``str`` of each value renders it
    exactly as Jinja would (no autoescape), without building a Jinja context. None for any other syntax."""
    rest = _PLAIN_VARIABLE.sub("\0", source)  # a brace next to a placeholder ("{{{ a }}") is Jinja's to parse
    if any(mark in rest for mark in ("{{", "}}", "{%", "%}", "{#", "#}", "{\0", "\0}", "\r")):
        return None
    parts = _PLAIN_VARIABLE.split(source)  # text, name, text, name, ..., text
    return tuple(parts[0::2]), tuple(parts[1::2])


def _render(source: str, data: dict[str, Any]) -> str:
    plain = _plain_parts(source)
    if plain is not None and all(name in data for name in plain[1]):
        texts, names = plain
        out = [texts[0]]
        for name, text in zip(names, texts[1:], strict=True):  # the text after each placeholder
            out += (str(data[name]), text)
        return "".join(out).strip()
    from jinja2 import TemplateError

    try:
        return _compile(source).render(**data).strip()
    except TemplateError as e:
        raise PromptVariableError(f"template error: {e}") from e


def _read_yaml(path: Path) -> Any:
    from ._util.yamlfiles import read_yaml

    return read_yaml(path, "prompt file")


def load_prompt_file(path: str | Path) -> PromptTemplate:
    """Load one prompt version; errors name the file and the field."""
    path = Path(path)
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise DataError("a prompt file must be a YAML mapping", path=path)
    try:
        prompt = PromptTemplate(**raw)
    except ValidationError as e:
        err = e.errors()[0]
        raise DataError(err["msg"], path=path, field=".".join(map(str, err["loc"]))) from None
    if path.parent.name != prompt.id or path.stem != str(prompt.version):
        raise DataError(f"file name says {path.parent.name}/{path.stem} but the file says "
                        f"{prompt.id}/{prompt.version}", path=path, field="id")
    for section in (prompt.sections, *(v.sections for v in prompt.variants)):
        _check_template_names(section, prompt, path)
    return prompt


def _check_template_names(sections: Sections, prompt: PromptTemplate, path: Path) -> None:
    """Every name a template uses must be a declared variable (caught at load, not at render)."""
    from jinja2 import TemplateSyntaxError, meta

    for field in ("system", "context", "user"):
        source = getattr(sections, field)
        if not source:
            continue
        try:
            used = meta.find_undeclared_variables(_environment().parse(source))
        except TemplateSyntaxError as e:
            raise DataError(f"template syntax error: {e.message}", path=path, field=f"sections.{field}") from None
        unknown = sorted(used - set(prompt.variables))
        if unknown:
            raise DataError(f"uses undeclared variable(s) {', '.join(unknown)}", path=path,
                            field=f"sections.{field}")


def prompts_root(root: str | Path | None = None) -> Path:
    """``root``, else ``prompts/`` of the project around the cwd."""
    from ._util.paths import project_root

    if root:
        return Path(root)
    proj = project_root()
    return (proj or Path.cwd()) / "prompts"


def versions(prompt_id: str, root: str | Path | None = None) -> list[int]:
    """The versions of a prompt, ascending."""
    folder = prompts_root(root) / prompt_id
    return sorted(int(p.stem) for p in folder.glob("*.yaml") if re.fullmatch(r"\d+", p.stem))


def load_prompt(prompt_id: str, version: int | None = None, root: str | Path | None = None) -> PromptTemplate:
    """A prompt by id; the latest version unless ``version`` is given."""
    available = versions(prompt_id, root)
    if not available:
        raise ConfigError(f"no prompt {prompt_id!r} under {prompts_root(root)}",
                          hint=f"known prompts: {', '.join(list_prompts(root)) or 'none'}")
    if version is not None and version not in available:
        raise ConfigError(f"prompt {prompt_id!r} has no version {version}",
                          hint=f"versions: {', '.join(map(str, available))}")
    return load_prompt_file(prompts_root(root) / prompt_id / f"{version or available[-1]}.yaml")


def list_prompts(root: str | Path | None = None) -> list[str]:
    """The ids of the prompts under ``root`` (folders with at least one version file), sorted."""
    base = prompts_root(root)
    return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("*.yaml"))) if base.is_dir() else []


def diff(a: PromptTemplate, b: PromptTemplate) -> str:
    """A unified diff between two prompt versions (their YAML forms)."""
    import yaml

    def lines(p: PromptTemplate) -> list[str]:
        return yaml.safe_dump(p.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                              allow_unicode=True, width=100).splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(a), lines(b), fromfile=a.ref, tofile=b.ref))
