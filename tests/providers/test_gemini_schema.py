"""JSON Schema -> Gemini's Schema: what is kept, mapped, inlined, dropped and refused."""

from __future__ import annotations

from typing import Any

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.providers.gemini_schema import to_gemini_schema

PARAM = "tools[0].function.parameters"


def convert(schema: dict[str, Any], **kwargs: bool) -> dict[str, Any]:
    return to_gemini_schema(schema, PARAM, **kwargs)


def test_types_upper_case_unknown_keywords_dropped_required_kept() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "city": {"type": "string", "description": "The city", "minLength": 1, "examples": ["Oslo"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14, "exclusiveMaximum": 15},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3, "uniqueItems": True},
        },
        "required": ["city", "ghost"],
    }
    assert convert(schema) == {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "The city", "minLength": 1},
            "days": {"type": "INTEGER", "minimum": 1, "maximum": 14},
            "tags": {"type": "ARRAY", "maxItems": 3, "items": {"type": "STRING"}},
        },
        "required": ["city"],
    }


def test_nullable_type_lists_one_of_and_several_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "note": {"type": ["string", "null"]},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "id": {"type": ["string", "integer"]},
        },
    }
    assert convert(schema)["properties"] == {
        "note": {"type": "STRING", "nullable": True},
        "either": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
        "id": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
    }


def test_enums_and_const_strings_kept_other_values_noted() -> None:
    schema = {
        "type": "object",
        "properties": {
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "kind": {"const": "metric"},
            "level": {"type": "integer", "enum": [1, 2, 3], "description": "How loud."},
            "flag": {"enum": [True, None]},
        },
    }
    assert convert(schema)["properties"] == {
        "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
        "kind": {"type": "STRING", "enum": ["metric"]},
        "level": {"type": "INTEGER", "description": "How loud. Allowed values: 1, 2, 3."},
        "flag": {"description": "Allowed values: true, null."},
    }


def test_formats_only_where_gemini_has_them() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "count": {"type": "integer", "format": "int64"},
            "ratio": {"type": "number", "format": "int32"},
        },
    }
    assert convert(schema)["properties"] == {
        "when": {"type": "STRING", "format": "date-time"},
        "mail": {"type": "STRING"},
        "count": {"type": "INTEGER", "format": "int64"},
        "ratio": {"type": "NUMBER"},
    }


def test_local_refs_are_inlined_and_all_of_merged_as_pydantic_writes_them() -> None:
    schema = {
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"street": {"type": "string"}},
                "required": ["street"],
            }
        },
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address", "description": "Where they live"},
            "work": {"allOf": [{"$ref": "#/$defs/Address"}], "description": "Where they work"},
        },
    }
    address = {"type": "OBJECT", "properties": {"street": {"type": "STRING"}}, "required": ["street"]}
    assert convert(schema)["properties"] == {
        "home": {**address, "description": "Where they live"},
        "work": {**address, "description": "Where they work"},
    }


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        (
            {
                "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
                "$ref": "#/$defs/Node",
            },
            "recursive",
        ),
        ({"$ref": "https://example.com/schema.json"}, "only local references"),
        ({"$ref": "#/$defs/Missing"}, "points at nothing"),
        ({"type": "object", "properties": {"x": {"type": "decimal"}}}, "unknown JSON Schema type"),
    ],
)
def test_what_gemini_cannot_take_is_a_400_naming_the_parameter(schema: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        convert(schema)
    assert says in raised.value.message and raised.value.details["parameter"] == PARAM


def test_response_schemas_keep_the_order_of_their_properties() -> None:
    schema = {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "string"}}}
    assert convert(schema, ordered=True)["propertyOrdering"] == ["zeta", "alpha"]
    assert "propertyOrdering" not in convert(schema)
