"""What the modules of ``clinic`` import, read statically (``ast``): imports inside functions,
``try`` blocks and ``if TYPE_CHECKING:`` branches count too."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def source(self) -> str:
        return self.path.read_text()

    @property
    def package(self) -> str:
        """The second part of the name (``clinic.booking.services`` -> ``booking``)."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted((ROOT / "clinic").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        found[name] = Module(name, path, is_package)
    return found


def _absolute(node: ast.ImportFrom, importer: Module) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.name.split(".")
    if not importer.is_package:
        parts = parts[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@dataclass(frozen=True)
class Import:
    module: str  # the module imported (a submodule when ``from package import module``)
    names: tuple[str, ...]  # the names taken (empty for ``import x``)


def imports_of(module: Module) -> list[Import]:
    """Every import in ``module`` of the ``clinic`` package, as absolute module names."""
    known = modules()
    found: list[Import] = []
    for node in ast.walk(ast.parse(module.source)):
        if isinstance(node, ast.Import):
            found.extend(Import(a.name, ()) for a in node.names if a.name.startswith("clinic"))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module)
            if base != "clinic" and not base.startswith("clinic."):
                continue
            plain = [a.name for a in node.names if f"{base}.{a.name}" not in known]
            if plain:
                found.append(Import(base, tuple(plain)))
            found.extend(
                Import(f"{base}.{a.name}", ()) for a in node.names if f"{base}.{a.name}" in known
            )
    return found


def names_imported_from(module: Module, source: str) -> set[str]:
    """The names ``module`` takes with ``from <source> import ...``."""
    return {n for i in imports_of(module) if i.module == source for n in i.names}
