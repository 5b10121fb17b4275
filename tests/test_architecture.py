"""The import rules of ARCHITECTURE.md, one test each (rule 1, the scheduling core's, is
tests/scheduling/test_import_rule.py). Each test names the modules that break its rule."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.support.imports import ROOT, Module, imports_of, modules, names_imported_from

VIEW_PACKAGES = {"staff", "api", "public", "devtools"}
VIEW_MODULES = {"routes", "manage", "pages", "forms"}
APP = {"clinic", "clinic.cli", "clinic.demo"}
# Content rather than code: allowed past the length limit.
LONG_CONTENT = {"clinic.intake.questionnaire"}
MAX_LINES = 300

# What each package's service modules may import, besides themselves (ARCHITECTURE.md).
MAY_IMPORT = {
    "core": set(),
    "outbound": set(),
    "web": {"core"},
    "accounts": {"core"},
    "availability": {"core", "scheduling", "accounts"},
    "booking": {
        "core",
        "scheduling",
        "availability",
        "calendar",
        "notify",
        "accounts",
        "own_calendars",
    },
    "calendar": {"core", "notify"},
    "notify": {"core", "calendar"},
    "intake": {"core", "scheduling", "booking", "notify"},
    "setup": {"core", "availability"},
    "privacy": {"core", "booking", "intake", "notify"},
    "own_calendars": {
        "core",
        "outbound",
        "scheduling",
        "availability",
        "calendar",
        "notify",
        "accounts",
    },
}


def is_view(module: Module) -> bool:
    return module.package in VIEW_PACKAGES or module.name.split(".")[-1] in VIEW_MODULES


def is_service(module: Module) -> bool:
    return module.name not in APP and module.package != "scheduling" and not is_view(module)


def package_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def declares_routes(module: Module) -> bool:
    for node in ast.walk(ast.parse(module.source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in {"get", "post", "route"}:
                    target = call.value
                    if isinstance(target, ast.Name) and target.id == "bp":
                        return True
    return False


def _breaking(rule) -> list[str]:
    return sorted(
        f"{module.name} imports {found.module}"
        for module in modules().values()
        for found in imports_of(module)
        if rule(module, found.module)
    )


def test_the_walk_sees_every_layer():
    names = set(modules())
    assert {"clinic", "clinic.core.models", "clinic.web.headers", "clinic.staff"} <= names
    assert {"clinic.booking.lifecycle", "clinic.booking.routes", "clinic.privacy.erasure"} <= names
    assert is_view(modules()["clinic.booking.routes"])
    assert is_service(modules()["clinic.booking.lifecycle"])
    views = [m.name for m in modules().values() if declares_routes(m)]
    assert {"clinic.booking.routes", "clinic.staff.consults.actions"} <= set(views)


def test_rule_2_core_imports_nothing_else_of_clinic():
    assert _breaking(lambda m, d: m.package == "core" and package_of(d) != "core") == []


def test_rule_3_web_imports_only_core():
    assert _breaking(lambda m, d: m.package == "web" and package_of(d) not in {"web", "core"}) == []


def test_rule_4_services_import_no_views_web_or_app():
    def breaks(module: Module, imported: str) -> bool:
        if not is_service(module) or module.package == "web":
            return False
        target = modules().get(imported)
        view = target is not None and is_view(target)
        return view or package_of(imported) in {"web", *VIEW_PACKAGES} or imported in APP

    assert _breaking(breaks) == []


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_packages_services_import_only_the_packages_listed(package):
    allowed = MAY_IMPORT[package] | {package}
    assert (
        _breaking(
            lambda m, d: m.package == package and is_service(m) and package_of(d) not in allowed
        )
        == []
    )


def test_rule_5_only_create_app_imports_the_view_packages():
    def breaks(module: Module, imported: str) -> bool:
        if module.name == "clinic" or package_of(imported) not in VIEW_PACKAGES:
            return False
        return module.package != package_of(imported)

    assert _breaking(breaks) == []


def test_rule_6_route_modules_are_imported_only_to_register_them_or_take_bp():
    routed = {m.name for m in modules().values() if declares_routes(m)}
    problems = []
    for module in modules().values():
        for found in imports_of(module):
            if found.module in routed and not found.names:
                registering = module.name == "clinic" or (
                    module.is_package and found.module.startswith(module.name + ".")
                )
                if not registering:
                    problems.append(f"{module.name} imports the module {found.module}")
        for name in routed:
            taken = names_imported_from(module, name) - {"bp"}
            if taken:
                problems.append(f"{module.name} takes {sorted(taken)} from {name}")
    assert problems == []


def test_rule_7_privacy_is_imported_only_by_its_commands():
    def breaks(module: Module, imported: str) -> bool:
        return (
            package_of(imported) == "privacy"
            and module.package != "privacy"
            and (module.name != "clinic.cli")
        )

    assert _breaking(breaks) == []


def test_rule_8_only_views_and_web_read_the_request():
    readers = sorted(
        m.name
        for m in modules().values()
        if not is_view(m) and m.package != "web" and _reads_request(m)
    )
    assert readers == []


def _reads_request(module: Module) -> bool:
    for node in ast.walk(ast.parse(module.source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "flask"
            and any(a.name in {"request", "g"} for a in node.names)
        ):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "request"
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
        ):
            return True
    return False


def test_rule_9_importing_the_code_attaches_no_listener_and_create_app_does():
    program = """
import importlib, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
import clinic
names = sys.argv[1:]
for name in names:
    importlib.import_module(name)
from clinic.availability import schedule_version
from clinic.web import kept_answers
listeners = [*schedule_version._LISTENERS, *kept_answers._LISTENERS]
before = [event.contains(Session, n, f) for n, f in listeners]
from clinic import create_app
from config import TestingConfig
create_app(TestingConfig)
after = [event.contains(Session, n, f) for n, f in listeners]
print(any(before), all(after), len(listeners))
"""
    result = subprocess.run(
        [sys.executable, "-c", program, *sorted(modules())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    attached_on_import, attached_by_app, count = result.stdout.split()
    assert (attached_on_import, attached_by_app) == ("False", "True")
    assert int(count) >= 6


def test_rule_10_no_module_is_over_300_lines_but_content():
    long = sorted(
        f"{m.name}: {len(m.source.splitlines())} lines"
        for m in modules().values()
        if len(m.source.splitlines()) > MAX_LINES and m.name not in LONG_CONTENT
    )
    assert long == []


def test_the_rules_catch_what_they_are_for():
    """Each rule's check, shown a module that breaks it."""
    fake = Module("clinic.core.fake", ROOT / "clinic" / "core" / "fake.py", False)
    assert not is_view(fake) and is_service(fake)
    routes = Module("clinic.booking.routes", ROOT / "clinic/booking/routes.py", False)
    assert declares_routes(routes) and is_view(routes)
    lifecycle = modules()["clinic.booking.lifecycle"]
    assert not declares_routes(lifecycle)
    assert _reads_request(modules()["clinic.web.client_address"])
    assert not _reads_request(lifecycle)


# --- the tests' own layout ---

TESTS = ROOT / "tests"


def _test_modules():
    return sorted(p for p in TESTS.rglob("test_*.py"))


def test_no_test_module_imports_another():
    problems = []
    for path in _test_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.startswith("tests.") and n.split(".")[-1].startswith("test_") for n in names):
                problems.append(f"{path.relative_to(ROOT)} imports {node.module or names}")
    assert problems == []


def test_conftest_holds_fixtures_and_hooks_only():
    tree = ast.parse((TESTS / "conftest.py").read_text())
    others = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            fixture = any(
                "fixture" in ast.unparse(d) for d in node.decorator_list
            ) or node.name.startswith("pytest_")
            if not fixture:
                others.append(node.name)
        elif isinstance(node, ast.ClassDef | ast.Assign | ast.AnnAssign):
            others.append(ast.unparse(node).splitlines()[0])
    assert others == []


def test_the_test_packages_mirror_the_code():
    """Every folder of tests/ is a package of clinic/, a cross-cutting suite, or support."""
    code = {p.name for p in (ROOT / "clinic").iterdir() if (p / "__init__.py").exists()}
    code |= {"staff/" + p.name for p in (ROOT / "clinic" / "staff").iterdir() if p.is_dir()}
    allowed = code | {"browser", "system", "support", "migrations"} - {"__pycache__"}
    folders = {
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("*")
        if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    }
    assert folders - allowed == set()
