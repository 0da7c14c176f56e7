"""The layering, enforced: the README's rule (Layout) holds because this test reads every import.

    "Dependencies point one way: `aihub_http` imports only the generated stubs and itself;
    `aihub_core` never imports Starlette; `aihub_cli` wires them together."

Each clause is a Rule below, checked against every import of every module (`tests/layering.py`
reads them with ast: inside functions and under TYPE_CHECKING too); no package's parts import
each other in a circle. The checker's own tests, on small packages written to tmp_path, show
that each kind of breach is caught, so the rules cannot pass by reading nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layering import Cycle, Import, Module, Rule, breaches, cycles, imports_of, modules_of

ROOT = Path(__file__).resolve().parents[1]
# This repository's top-level packages (what ruff calls first-party), and where each lives.
PACKAGES = {
    "aihub": ROOT / "generated" / "aihub",  # the generated stubs
    "aihub_core": ROOT / "aihub_core",
    "aihub_http": ROOT / "aihub_http",
    "aihub_cli": ROOT / "aihub_cli",
    "ai_hub": ROOT / "sdk" / "python" / "ai_hub",  # the Python SDK, its own distribution
    "tests": ROOT / "tests",
}
OURS = frozenset(PACKAGES)
WEB_SERVING = frozenset({"starlette", "uvicorn"})

CORE = Rule("aihub_core", OURS, frozenset({"aihub", "aihub_core"}), banned=WEB_SERVING)
SHIM = Rule("aihub_http", OURS, frozenset({"aihub", "aihub_http"}))
STUBS = Rule("aihub", OURS, frozenset({"aihub"}))
SDK = Rule("ai_hub", OURS, frozenset({"ai_hub"}))
# A transport knows grpc.aio, not AI Hub: the rest of the core depends on it, never the reverse.
INPROCESS = Rule("aihub_core.inprocess", OURS, frozenset({"aihub", "aihub_core.inprocess"}))
RULES = (CORE, SHIM, STUBS, SDK, INPROCESS)


def _scan() -> tuple[list[Module], list[Import]]:
    modules = [
        module for name, folder in PACKAGES.items() if name != "tests" for module in modules_of(folder, name)
    ]
    return modules, imports_of(modules)


MODULES, IMPORTS = _scan()


def _describe(found: list[Import]) -> str:
    return "\n".join(f"{i.importer} imports {i.target}: {i.where()}" for i in found)


# -- the rules on this repository ------------------------------------------------------------------


def test_the_scan_reads_every_package_and_its_imports() -> None:
    by_package = {name: [m for m in MODULES if m.name.split(".")[0] == name] for name in PACKAGES}
    for name in ("aihub", "aihub_core", "aihub_http", "aihub_cli", "ai_hub"):
        assert len(by_package[name]) >= 5, name
    targets = {(i.importer.split(".")[0], i.target.split(".")[0]) for i in IMPORTS}
    # What the rules look for is visible where it is allowed: the scan would see it elsewhere.
    assert {("aihub_http", "starlette"), ("aihub_cli", "uvicorn"), ("aihub_cli", "aihub_core")} <= targets


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.package)
def test_each_package_imports_only_what_its_rule_allows(rule: Rule) -> None:
    found = breaches(IMPORTS, rule)
    if found:
        allowed = ", ".join(sorted(rule.allowed_ours))
        banned = f", nor {', '.join(sorted(rule.banned))}" if rule.banned else ""
        pytest.fail(f"{rule.package} may import of ours only {allowed}{banned}:\n{_describe(found)}")


def test_no_package_has_parts_that_import_each_other_in_a_circle() -> None:
    found = _all_cycles()
    if found:
        pytest.fail("parts that import each other in a circle:\n" + "\n".join(c.describe() for c in found))


def _all_cycles() -> list[Cycle]:
    packages = sorted(module.name for module in MODULES if module.is_package)
    return [cycle for package in packages for cycle in cycles(IMPORTS, package)]


# -- the checker itself, on small packages ---------------------------------------------------------


TYPE_CHECKING_BLOCK = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _imports(folder: Path, package: str) -> list[Import]:
    return imports_of(modules_of(folder, package))


def test_imports_inside_functions_and_under_type_checking_are_read(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "aihub_core",
        {
            "__init__.py": "",
            "late.py": "def serve():\n    import uvicorn\n    return uvicorn\n",
            "typed.py": TYPE_CHECKING_BLOCK + "    from starlette.requests import Request\n",
        },
    )
    found = breaches(_imports(folder, "aihub_core"), CORE)
    assert [(i.importer, i.target, i.line, i.text) for i in found] == [
        ("aihub_core.late", "uvicorn", 2, "import uvicorn"),
        ("aihub_core.typed", "starlette.requests", 3, "from starlette.requests import Request"),
    ]


def test_the_shim_importing_the_core_or_the_cli_is_caught(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "aihub_http",
        {
            "__init__.py": "from aihub.v1 import chat_service_pb2\nimport starlette\n",
            "calls.py": "def f():\n    from aihub_core.errors import AIHubError\n",
            "main.py": "import aihub_cli.main\nfrom . import calls\n",
        },
    )
    found = breaches(_imports(folder, "aihub_http"), SHIM)
    assert [(i.importer, i.target) for i in found] == [
        ("aihub_http.calls", "aihub_core.errors"),
        ("aihub_http.main", "aihub_cli.main"),
    ]


def test_stubs_importing_our_packages_are_caught(tmp_path: Path) -> None:
    folder = _write(tmp_path / "aihub", {"v1/x_pb2.py": "from aihub.v1 import y_pb2\nimport aihub_core\n"})
    assert [i.target for i in breaches(_imports(folder, "aihub"), STUBS)] == ["aihub_core"]


def test_a_subpackage_rule_allows_only_that_subpackage(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "aihub_core",
        {
            "inprocess/__init__.py": "",
            "inprocess/channel.py": "from aihub_core.inprocess.calls import Call\nimport grpc\n",
            "inprocess/calls.py": "from aihub_core.errors import AIHubError\n",
        },
    )
    found = breaches(_imports(folder, "aihub_core"), INPROCESS)
    assert [(i.importer, i.target) for i in found] == [("aihub_core.inprocess.calls", "aihub_core.errors")]


def test_relative_imports_resolve_to_the_modules_they_name(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "from . import a\n",
            "a.py": "from .sub import b\nfrom .sub.b import thing\n",
            "sub/__init__.py": "from .. import a\n",
            "sub/b.py": "from ..a import value\nfrom . import c\n",
            "sub/c.py": "",
        },
    )
    assert {(i.importer, i.target) for i in _imports(folder, "pkg")} == {
        ("pkg", "pkg.a"),
        ("pkg.a", "pkg.sub.b"),
        ("pkg.sub", "pkg.a"),
        ("pkg.sub.b", "pkg.a"),
        ("pkg.sub.b", "pkg.sub.c"),
    }


def test_a_circle_is_found_with_its_parts_and_import_lines(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "tokens.py": "import os\n\ndef estimate():\n    from pkg.providers.base import Message\n",
            "providers/__init__.py": "",
            "providers/base.py": TYPE_CHECKING_BLOCK + "    from pkg import tokens\n",
            "leaf.py": "from pkg import tokens\n",
        },
    )
    found = cycles(_imports(folder, "pkg"), "pkg")
    assert [cycle.parts for cycle in found] == [frozenset({"pkg.providers", "pkg.tokens"})]
    text = found[0].describe()
    assert text.splitlines()[0] == "pkg.providers <-> pkg.tokens"
    assert "  pkg.providers -> pkg.tokens: " in text and "providers/base.py:3: from pkg import tokens" in text
    assert "  pkg.tokens -> pkg.providers: " in text
    assert "tokens.py:4: from pkg.providers.base import Message" in text
    assert "leaf" not in text


def test_circles_are_found_between_the_parts_of_a_subpackage_and_not_above_it(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "store/__init__.py": "from pkg.store.b import B\n",  # a package's __init__ is no part
            "store/a.py": "from pkg.store import b\n",
            "store/b.py": "from pkg.store.c import C\n",
            "store/c.py": "import pkg.store.a\n",
            "other.py": "import pkg.store\n",
        },
    )
    imports = _imports(folder, "pkg")
    assert cycles(imports, "pkg") == []
    found = cycles(imports, "pkg.store")
    assert [cycle.parts for cycle in found] == [frozenset({"pkg.store.a", "pkg.store.b", "pkg.store.c"})]
    assert [(link.source, link.target) for link in found[0].links] == [
        ("pkg.store.a", "pkg.store.b"),
        ("pkg.store.b", "pkg.store.c"),
        ("pkg.store.c", "pkg.store.a"),
    ]


def test_one_way_dependencies_are_no_circle(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "pkg",
        {"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "import pkg.c\n", "c.py": "import json\n"},
    )
    assert cycles(_imports(folder, "pkg"), "pkg") == []
