"""Every error code is the contract's: the ErrorReason enum lists each once with its type and
HTTP status, the core and the shim raise only those, and the README's table is the enum's.

The source of aihub_core and aihub_http is read (ast) for every place that states a code: a
`code=` argument, a class's `default_code`, the code argument of the shim's `ApiError` and
`invalid_request` and of the limits' `Broken`, a `(status, type, code)` tuple, and constants
named `*_CODE` or `*_CODES`. Where the place also states the type or status (the class raised,
the tuple, the arguments), they must be the contract's too. Codes passed through variables are
checked when the error is built (`AIHubError.__init__`).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aihub.v1 import error_reason_pb2
from aihub_core.errors import CODES, REASON_PREFIX, all_error_classes

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "aihub_core", ROOT / "aihub_http")
# The simulators speak the providers' wire protocols: the codes in them are OpenAI's and Gemini's.
FOREIGN = (ROOT / "aihub_core" / "simulators",)
ERROR_CLASSES = {cls.__name__: cls for cls in all_error_classes()}
# Callables that take a code as a positional argument, and its position.
CODE_ARGUMENT = {"invalid_request": 0, "ApiError": 2, "Broken": 2}
SPEC_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
TYPES = {*SPEC_TYPES.values(), "invalid_request_error", "api_error"}


def spec_type(status: int) -> str:
    """The error type the spec gives a status: 5xx api_error, other 4xx invalid_request_error."""
    if status >= 500:
        return "api_error"
    return SPEC_TYPES.get(status, "invalid_request_error")


@dataclass(frozen=True)
class Site:
    """One place in the source that states a code, and what it says of its type and status."""

    where: str
    rule: str
    code: str
    error_type: str | None = None
    http_status: int | None = None

    def disagrees(self) -> bool:
        """Whether the type or status stated here differs from the contract's."""
        listed_type, listed_status = CODES[self.code]
        return self.error_type not in (None, listed_type) or self.http_status not in (None, listed_status)


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _number(node: ast.expr | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _call_sites(call: ast.Call, where: str) -> Iterator[Site]:
    name = _callee(call)
    cls = ERROR_CLASSES.get(name)
    for keyword in call.keywords:
        code = _text(keyword.value) if keyword.arg == "code" else None
        if code is not None and cls is not None:
            yield Site(where, "code=", code, cls.error_type, cls.http_status)
        elif code is not None:
            yield Site(where, "code=", code)
    position = CODE_ARGUMENT.get(name)
    code = _text(call.args[position]) if position is not None and len(call.args) > position else None
    if code is None:
        return
    if name == "invalid_request":
        status = next((_number(k.value) for k in call.keywords if k.arg == "status_code"), 400)
        yield Site(where, name, code, "invalid_request_error", status)
    elif name == "ApiError":
        yield Site(where, name, code, _text(call.args[1]), _number(call.args[0]))
    else:
        yield Site(where, name, code)


def _constant_sites(value: ast.expr, where: str) -> Iterator[Site]:
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):  # {status: code}
            for key, item in zip(node.keys, node.values, strict=True):
                code, status = _text(item), _number(key)
                if code is not None and status is not None:
                    yield Site(where, "*_CODES", code, http_status=status)
        elif isinstance(node, ast.expr) and (code := _text(node)) is not None:
            yield Site(where, "*_CODE", code)


def _sites_in(tree: ast.Module, where: str) -> Iterator[Site]:
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            yield from _call_sites(node, line)
        elif isinstance(node, ast.ClassDef) and node.name in ERROR_CLASSES:
            cls = ERROR_CLASSES[node.name]
            for statement in node.body:
                if isinstance(statement, ast.Assign | ast.AnnAssign):
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    code = _text(statement.value)
                    if code is not None and any(getattr(t, "id", "") == "default_code" for t in targets):
                        yield Site(
                            f"{where}:{statement.lineno}",
                            "default_code",
                            code,
                            cls.error_type,
                            cls.http_status,
                        )
        elif isinstance(node, ast.Tuple) and len(node.elts) == 3:  # (status, type, code)
            status, error_type, code = _number(node.elts[0]), _text(node.elts[1]), _text(node.elts[2])
            if status is not None and error_type in TYPES and code is not None:
                yield Site(line, "tuple", code, error_type, status)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith(("_CODE", "_CODES")) for t in node.targets
        ):
            yield from _constant_sites(node.value, line)


@pytest.fixture(scope="module")
def trees() -> list[tuple[str, ast.Module]]:
    """The parsed source of aihub_core and aihub_http, by path, the simulators left out."""
    paths = [path for root in SOURCES for path in sorted(root.rglob("*.py"))]
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text()))
        for path in paths
        if not any(path.is_relative_to(foreign) for foreign in FOREIGN)
    ]


@pytest.fixture(scope="module")
def sites(trees: list[tuple[str, ast.Module]]) -> list[Site]:
    """Every place in that source that states an error code."""
    return [site for where, tree in trees for site in _sites_in(tree, where)]


def test_the_contract_gives_every_reason_a_status_and_the_spec_type_of_that_status() -> None:
    values = [v for v in error_reason_pb2.ErrorReason.DESCRIPTOR.values if v.number]
    assert len(values) == len(CODES) >= 50
    for value in values:
        assert re.fullmatch(f"{REASON_PREFIX}[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", value.name), value.name
        options = value.GetOptions()
        status = options.Extensions[error_reason_pb2.http_status]
        assert 400 <= status <= 599, value.name
        assert options.Extensions[error_reason_pb2.error_type] == spec_type(status), value.name


def test_every_code_the_source_states_is_in_the_contract(sites: list[Site]) -> None:
    unlisted = [f"{s.where}: {s.code!r} ({s.rule})" for s in sites if s.code not in CODES]
    assert not unlisted, "add them to proto/aihub/v1/error_reason.proto or use a listed code"


def test_where_the_source_states_a_type_or_status_it_is_the_contracts(sites: list[Site]) -> None:
    wrong = [
        f"{s.where}: {s.code!r} as {s.http_status} {s.error_type}, the contract says {CODES[s.code]}"
        for s in sites
        if s.code in CODES and s.disagrees()
    ]
    assert not wrong


def test_the_walk_sees_every_kind_of_place_a_code_is_stated(sites: list[Site]) -> None:
    rules = {s.rule for s in sites}
    assert rules == {"code=", "default_code", *CODE_ARGUMENT, "tuple", "*_CODE", "*_CODES"}
    assert len(sites) >= 60
    assert sum(s.error_type is not None for s in sites) >= 50  # most say the type and status too


def test_every_code_in_the_contract_is_used(trees: list[tuple[str, ast.Module]]) -> None:
    strings = {
        node.value
        for _, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert sorted(set(CODES) - strings) == []


def test_the_readme_table_is_the_contracts() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_error_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    rows = re.findall(r"^\| `([a-z_]+)` \| `([a-z_]+)` \| (\d{3}) \|", _readme(), re.MULTILINE)
    assert {code: (error_type, int(status)) for code, error_type, status in rows} == dict(CODES)
    assert len(rows) == len(CODES)


def test_readme_and_contract_state_the_grpc_code_of_each_status_as_the_core_maps_it() -> None:
    mapped = {cls.http_status: cls.grpc_code.name for cls in all_error_classes()}
    proto = (ROOT / "proto" / "aihub" / "v1" / "error_reason.proto").read_text().replace("//", "")
    for text in (_readme(), proto):
        stated: dict[int, str] = {}
        pairs = re.findall(r"(\d{3})(?: and (\d{3}))? `?([A-Z][A-Z_]+)\b", " ".join(text.split()))
        for first, second, name in pairs:
            stated |= {int(status): name for status in (first, second) if status}
        assert stated == mapped


def test_docs_name_codes_and_types_with_their_status() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in docs:
        for status, word in re.findall(r"\b(\d{3}) `([a-z_]+)`", path.read_text()):
            if word in CODES:
                assert CODES[word][1] == int(status), f"{path.name}: {status} {word}"
            else:
                assert spec_type(int(status)) == word, f"{path.name}: {status} {word}"


def _readme() -> str:
    return (ROOT / "README.md").read_text()
