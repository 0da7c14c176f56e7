"""Reading a package's imports from its source (ast), for the layering rules in test_layering.

Every import statement counts wherever it stands: at the top, inside a function, under
`if TYPE_CHECKING:`. A dependency a module defers is still a dependency of its design.

    modules_of(folder, package)     the modules of a package, by dotted name
    imports_of(modules)             every import they make, resolved to what it names
    breaches(imports, rule)         the imports a Rule forbids
    cycles(imports, package)        the circles between a package's parts (subpackages and
                                    top-level modules), each with the import lines that make it
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Module:
    """One source file (`.py` or `.pyi`) of a package."""

    name: str  # dotted: `aihub_core.grpc_api.server`, a package's `__init__` by the package's name
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Import:
    """One imported name: who imports what, and where it says so."""

    importer: str
    target: str  # the module imported, resolved (`from a import b` names `a.b` when it is a module)
    path: Path
    line: int
    text: str  # the statement's first source line

    def where(self) -> str:
        """`path:line: text`, for a failure message (the path relative to the working folder)."""
        return f"{os.path.relpath(self.path)}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Rule:
    """What the modules under `package` may import.

    `ours`: the top-level names of this repository's packages; of what they hold only modules
    within `allowed_ours` (dotted names: a package or one of its subpackages) may be imported.
    `banned`: top-level names of other libraries that may not be imported either."""

    package: str
    ours: frozenset[str]
    allowed_ours: frozenset[str]
    banned: frozenset[str] = frozenset()

    def forbids(self, target: str) -> bool:
        """Whether this rule forbids importing the module `target`."""
        top = target.split(".")[0]
        if top in self.banned:
            return True
        return top in self.ours and not any(_within(target, allowed) for allowed in self.allowed_ours)


@dataclass(frozen=True)
class Link:
    """One part of a package importing another: the imports that do it."""

    source: str
    target: str
    imports: tuple[Import, ...]


@dataclass(frozen=True)
class Cycle:
    """Parts of a package that import each other in a circle, and the links between them."""

    parts: frozenset[str]
    links: tuple[Link, ...]

    def describe(self) -> str:
        """The parts, then each link between two of them with its first import line."""
        lines = [" <-> ".join(sorted(self.parts))]
        for link in self.links:
            more = len(link.imports) - 1
            also = f" (and {more} more)" if more else ""
            lines.append(f"  {link.source} -> {link.target}: {link.imports[0].where()}{also}")
        return "\n".join(lines)


def modules_of(folder: Path, package: str) -> list[Module]:
    """Every `.py` and `.pyi` file of the package that lives at `folder`."""
    found = []
    for path in sorted([*folder.rglob("*.py"), *folder.rglob("*.pyi")]):
        parts = path.relative_to(folder).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        dotted = [package, *(parts[:-1] if is_package else parts)]
        found.append(Module(".".join(dotted), path, is_package))
    return found


def imports_of(modules: Iterable[Module]) -> list[Import]:
    """Every import the modules make, anywhere in their source."""
    modules = list(modules)
    known = {module.name for module in modules}
    found: list[Import] = []
    for module in modules:
        source = module.path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source, filename=str(module.path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = _from_targets(module, node, known)
            else:
                continue
            text = lines[node.lineno - 1].strip()
            found += [Import(module.name, target, module.path, node.lineno, text) for target in targets]
    return found


def breaches(imports: Iterable[Import], rule: Rule) -> list[Import]:
    """The imports made under `rule.package` that the rule forbids."""
    return [i for i in imports if _within(i.importer, rule.package) and rule.forbids(i.target)]


def cycles(imports: Iterable[Import], package: str) -> list[Cycle]:
    """The circles between the parts of `package` (its subpackages and top-level modules).

    Each strongly connected group of two or more parts is one Cycle, with every link between
    two of its parts."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for item in imports:
        source, target = part_of(item.importer, package), part_of(item.target, package)
        if source is not None and target is not None and source != target:
            edges.setdefault((source, target), []).append(item)
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    found = []
    for group in _strongly_connected(graph):
        if len(group) > 1:
            links = [
                Link(source, target, tuple(items))
                for (source, target), items in sorted(edges.items())
                if source in group and target in group
            ]
            found.append(Cycle(frozenset(group), tuple(links)))
    return sorted(found, key=lambda cycle: sorted(cycle.parts))


def part_of(module: str, package: str) -> str | None:
    """The part of `package` that `module` belongs to (`package.x` for `package.x.y`); None for a
    module outside it or the package's own `__init__`."""
    names = module.split(".")
    prefix = package.split(".")
    if names[: len(prefix)] != prefix or len(names) == len(prefix):
        return None
    return ".".join(names[: len(prefix) + 1])


def _from_targets(module: Module, node: ast.ImportFrom, known: set[str]) -> list[str]:
    """`from base import a, b`: `base.a` for each name that is a module, else `base` itself."""
    if node.level:
        # Relative to the importer's package: a module's is its parent, a package's is itself.
        anchor = module.name.split(".")
        if not module.is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, node.module] if node.module else anchor)
    else:
        base = node.module or ""
    targets = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        targets.append(candidate if candidate in known else base)
    return list(dict.fromkeys(targets))


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: the strongly connected groups of `graph`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
