"""docs/architecture.md is the one statement of the layering, and this test keeps it true: the package map lists
every package, every import in the package (module level or inside a function) follows the allowed arrows, and
every "where it lives" entry names something that exists."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import workbench

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = Path(workbench.__file__).resolve().parent


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/architecture.md has no '## {title}' section"
    return match.group(1)


def _table(title: str) -> list[list[str]]:
    rows = []
    for line in _section(title).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(line) <= set("|- ") and cells[0] not in ("package", "concept"):
            rows.append(cells)
    return rows


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([\w.]+)`", cell))


def allowed() -> dict[str, set[str]]:
    return {_names(pkg).pop(): _names(targets) for pkg, targets in _table("Allowed arrows")}


def unit_of(module: str) -> str:
    """The package (or top-level module) a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "workbench"


def imports_of(path: Path) -> list[tuple[str, int, list[str]]]:
    """``(target module, line, names)`` for every workbench import in a file, function-level ones included."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = ".".join(rel if path.name == "__init__.py" else rel[:-1])
    if path.name == "__init__.py":
        package = ".".join(rel[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "workbench" or target.startswith("workbench."):
                found.append((target, node.lineno, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno, []) for a in node.names if a.name.startswith("workbench")]
    return found


def test_the_package_map_lists_every_package():
    on_disk = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    on_disk |= {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    mapped = {_names(row[0]).pop() for row in _table("Package map")}
    assert mapped == on_disk
    assert set(allowed()) == on_disk


def test_every_import_follows_the_allowed_arrows():
    rules, wrong = allowed(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).parts
        source = rel[0].removesuffix(".py") if len(rel) > 1 or rel[0] not in ("__init__.py", "__main__.py") \
            else "workbench"
        for target, line, names in imports_of(path):
            unit = unit_of(target)
            if unit == "workbench":  # the root: only its version may be imported from inside
                if source != "workbench" and set(names) - {"__version__"}:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {names} from the root package")
                continue
            if source == "workbench":
                ok = unit in {"_util", "errors", "cli"}  # __init__ (lazy names only) and __main__ (the CLI)
            else:
                ok = unit == source or "every package" in rules.get(source, set()) or unit in rules.get(source, set())
            if source == "cli":
                ok = True
            if not ok:
                wrong.append(f"{path.relative_to(ROOT)}:{line} {source} -> {unit} ({target})")
    assert wrong == [], "imports that break docs/architecture.md's allowed arrows:\n" + "\n".join(wrong)


def test_the_allowed_arrows_have_no_cycle():
    rules = allowed()
    seen: dict[str, int] = {}

    def visit(node: str, stack: tuple[str, ...]) -> None:
        if node in stack:
            pytest.fail(f"cycle in the allowed arrows: {' -> '.join((*stack, node))}")
        for nxt in sorted(rules.get(node, set()) - {node}):
            visit(nxt, (*stack, node))

    for package in rules:
        if package != "cli":
            visit(package, ())
        seen[package] = 1


@pytest.mark.parametrize("concept,where", [tuple(row[:2]) for row in _table("Where each concept lives")])
def test_where_each_concept_lives_exists(concept, where):
    dotted = _names(where).pop()
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return
    pytest.fail(f"{concept}: {dotted} does not exist")
