"""The public API is curated and light: pinned names, no heavy import on `import workbench`."""
import subprocess
import sys

import workbench
import workbench.models


def test_import_workbench_pulls_in_no_heavy_dependency():
    code = ("import sys, workbench, workbench.models, workbench.errors, workbench.hashing; "
            "print(' '.join(m for m in ('litellm', 'pandas', 'sqlalchemy', 'jinja2', 'numpy', 'openai') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_exported_members_are_pinned():
    assert set(workbench.__all__) == {
        "WorkbenchError", "__version__", "complete", "acomplete", "build_model", "Completion", "tokenizer_for",
        "register_offline", "content_hash", "canonical_json", "workspace"}
    for name in workbench.__all__:
        assert getattr(workbench, name) is not None


PACKAGES = ["workbench.models", "workbench.inputs", "workbench.chunking", "workbench.scoring",
            "workbench.experiments", "workbench.stats", "workbench.costs", "workbench.runner",
            "workbench.testing"]


def test_every_lazy_export_resolves():
    import importlib

    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"


def test_subpackages_import_light():
    code = ("import sys, " + ", ".join(PACKAGES) + "; "
            "print(' '.join(m for m in ('litellm', 'pandas', 'sqlalchemy', 'matplotlib', 'scipy', 'ragas') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError):
        workbench.no_such_thing
