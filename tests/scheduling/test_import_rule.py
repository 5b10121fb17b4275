"""The scheduling core imports only the standard library and itself.

The check is static (``ast``), so it also sees imports hidden in functions, ``try`` blocks and
``if TYPE_CHECKING:`` branches, and calls to ``__import__`` / ``importlib.import_module``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = "clinic.scheduling"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / "clinic" / "scheduling"


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or module == PACKAGE or module.startswith(PACKAGE + ".")


def _resolve_relative(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name of ``from <level dots><module> import ...`` inside ``importer``."""
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return "<beyond top-level package>"
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def import_violations(source: str, importer: str, is_package: bool = False) -> list[str]:
    """Every import in ``source`` (a module named ``importer``) that breaks the rule."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bad.extend(alias.name for alias in node.names if not _allowed(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                module = _resolve_relative(node.module, node.level, importer, is_package)
            else:
                module = node.module or ""
            if not _allowed(module):
                bad.append(module)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in ("__import__", "import_module"):
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    if not _allowed(arg.value):
                        bad.append(arg.value)
                else:
                    bad.append(f"<dynamic import at line {node.lineno}>")
    return bad


def _package_modules() -> list[tuple[Path, str, bool]]:
    modules = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).with_suffix("")
        is_package = rel.name == "__init__"
        parts = list(rel.parts[:-1]) if is_package else list(rel.parts)
        modules.append((path, ".".join([PACKAGE, *parts]), is_package))
    return modules


def test_the_walk_finds_the_core_modules():
    names = {name for _, name, _ in _package_modules()}
    assert {
        "clinic.scheduling",
        "clinic.scheduling.ranges",
        "clinic.scheduling.wallclock",
        "clinic.scheduling.slots",
    } <= names


@pytest.mark.parametrize(
    ("path", "importer", "is_package"),
    _package_modules(),
    ids=lambda value: value.name if isinstance(value, Path) else None,
)
def test_core_imports_only_stdlib_and_itself(path: Path, importer: str, is_package: bool):
    assert import_violations(path.read_text(encoding="utf-8"), importer, is_package) == []


@pytest.mark.parametrize(
    "source",
    [
        "import flask",
        "import os, flask.json",
        "from flask import Flask",
        "from sqlalchemy.orm import Session",
        "import hypothesis",
        "from clinic import models",
        "from clinic.models import Consult",
        "import clinic",
        "from clinic import scheduling",  # runs clinic/__init__.py, which imports Flask
        "from .. import models",
        "from ..models import Consult",
        "from ... import config",
        "def f():\n    import flask\n",
        "try:\n    import flask\nexcept ImportError:\n    pass\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from flask import Flask\n",
        "__import__('flask')",
        "import importlib\nimportlib.import_module('sqlalchemy')",
        "import importlib\nname = 'flask'\nimportlib.import_module(name)",
    ],
)
def test_checker_rejects_foreign_imports(source: str):
    assert import_violations(source, "clinic.scheduling.slots") != []


@pytest.mark.parametrize(
    "source",
    [
        "import datetime",
        "from __future__ import annotations",
        "import zoneinfo, bisect, collections.abc",
        "from dataclasses import dataclass",
        "from datetime import UTC, datetime",
        "import clinic.scheduling.ranges",
        "from clinic.scheduling import ranges",
        "from clinic.scheduling.wallclock import wall_range",
        "from . import ranges",
        "from .ranges import Interval",
        "import importlib\nimportlib.import_module('json')",
    ],
)
def test_checker_accepts_stdlib_and_own_imports(source: str):
    assert import_violations(source, "clinic.scheduling.slots") == []


def test_relative_imports_resolve_from_the_package_init():
    # In clinic/scheduling/__init__.py, "." is clinic.scheduling and ".." is clinic.
    assert import_violations("from .ranges import merge", "clinic.scheduling", True) == []
    assert import_violations("from ..models import Consult", "clinic.scheduling", True) == [
        "clinic.models"
    ]
