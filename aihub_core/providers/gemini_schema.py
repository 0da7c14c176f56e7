"""JSON Schema (what OpenAI-style callers write for tool parameters and response formats) as
Gemini's `Schema`, the OpenAPI 3.0 subset its `parameters` and `responseSchema` take.

Gemini refuses a request with any field its Schema lacks (`additionalProperties`, `$schema`,
`$defs`, `const`, `oneOf`, ...), and takes types in upper case. So: local `$ref`s are inlined
(a cycle cannot be: 400); `allOf` is merged; `oneOf` becomes `anyOf`; a type list with `null`
becomes the type and `nullable`; `const` and non-string `enum` values, which Gemini's enums
(strings only) cannot hold, become a string enum or a note in the description; formats Gemini
lacks are dropped; `required` keeps only names in `properties`; every other keyword is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aihub_core.errors import InvalidRequestError

_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
    "null": "NULL",
}
# Copied as they are (after `type`, `properties`, `items`, `anyOf`, `required`, `enum`, `format`).
_KEPT = (
    "title",
    "description",
    "nullable",
    "default",
    "example",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minProperties",
    "maxProperties",
)
_FORMATS = {"STRING": ("enum", "date-time"), "INTEGER": ("int32", "int64"), "NUMBER": ("float", "double")}
_MAX_DEPTH = 64


def to_gemini_schema(schema: Mapping[str, Any], param: str, *, ordered: bool = False) -> dict[str, Any]:
    """`schema` in Gemini's form; `ordered` adds `propertyOrdering` (for responseSchema: Gemini
    would otherwise write an answer's keys in alphabetical order, not the schema's)."""
    return _Converter(schema, param, ordered).convert(schema, (), 0)


class _Converter:
    def __init__(self, root: Mapping[str, Any], param: str, ordered: bool) -> None:
        self._root = root
        self._param = param
        self._ordered = ordered

    def _error(self, message: str) -> InvalidRequestError:
        return InvalidRequestError(f"{self._param}: {message}", param=self._param)

    def convert(self, node: Mapping[str, Any], refs: tuple[str, ...], depth: int) -> dict[str, Any]:
        if depth > _MAX_DEPTH:
            raise self._error(f"the schema nests deeper than {_MAX_DEPTH} levels")
        node, refs = self._resolve(node, refs)
        node = self._merge_all_of(node, refs)
        out: dict[str, Any] = {}
        types = node.get("type")
        names = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
        nullable = "null" in names and len(names) > 1
        names = [n for n in names if n != "null"] if nullable else names
        for name in names:
            if name not in _TYPES:
                raise self._error(f"unknown JSON Schema type {name!r}")
        if len(names) > 1:  # several types: one alternative each
            node = {k: v for k, v in node.items() if k != "type"}
            out["anyOf"] = [self.convert({**node, "type": n}, refs, depth + 1) for n in names]
        elif names:
            out["type"] = _TYPES[names[0]]
        for key in _KEPT:
            if key in node:
                out[key] = node[key]
        if nullable:
            out["nullable"] = True
        self._values(node, out)
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS.get(out.get("type", ""), ()):
            out["format"] = fmt
        alternatives = node.get("anyOf", node.get("oneOf"))
        if isinstance(alternatives, list) and "anyOf" not in out:
            out["anyOf"] = [self.convert(a, refs, depth + 1) for a in alternatives if isinstance(a, Mapping)]
        properties = node.get("properties")
        if isinstance(properties, Mapping) and properties:
            out["properties"] = {
                str(k): self.convert(v, refs, depth + 1)
                for k, v in properties.items()
                if isinstance(v, Mapping)
            }
            required = node.get("required")
            if isinstance(required, list):
                out["required"] = [r for r in required if r in out["properties"]]
            if self._ordered:
                out["propertyOrdering"] = list(out["properties"])
        items = node.get("items")
        if isinstance(items, Mapping):
            out["items"] = self.convert(items, refs, depth + 1)
        return out

    def _values(self, node: Mapping[str, Any], out: dict[str, Any]) -> None:
        """`enum` and `const` as Gemini's string enums, or, for other values, a note for the model."""
        values = [node["const"]] if "const" in node else node.get("enum")
        if not isinstance(values, list) or not values:
            return
        if all(isinstance(v, str) for v in values):
            out["enum"] = values
            out.setdefault("type", "STRING")
            return
        note = "Allowed values: " + ", ".join(_literal(v) for v in values) + "."
        out["description"] = f"{out['description']} {note}" if out.get("description") else note

    def _resolve(
        self, node: Mapping[str, Any], refs: tuple[str, ...]
    ) -> tuple[Mapping[str, Any], tuple[str, ...]]:
        """Follow `$ref` to `#/$defs/...` or `#/definitions/...`; its siblings win over the target's."""
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node, refs
        if ref in refs:
            raise self._error(f"the schema is recursive ({ref} refers to itself), which Gemini cannot take")
        target: Any = self._root
        if not ref.startswith("#/"):
            raise self._error(f"only local references (#/$defs/...) can be resolved, not {ref!r}")
        for step in ref[2:].split("/"):
            target = (
                target.get(step.replace("~1", "/").replace("~0", "~"))
                if isinstance(target, Mapping)
                else None
            )
        if not isinstance(target, Mapping):
            raise self._error(f"{ref} points at nothing")
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return self._resolve({**target, **siblings}, (*refs, ref))

    def _merge_all_of(self, node: Mapping[str, Any], refs: tuple[str, ...]) -> Mapping[str, Any]:
        parts = node.get("allOf")
        if not isinstance(parts, list):
            return node
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in parts:
            if not isinstance(part, Mapping):
                continue
            part, _ = self._resolve(part, refs)
            part = self._merge_all_of(part, refs)
            for key, value in part.items():
                if key == "properties" and isinstance(value, Mapping):
                    merged["properties"] = {**value, **merged.get("properties", {})}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return merged


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
