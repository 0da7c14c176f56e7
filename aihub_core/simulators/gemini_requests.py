"""generateContent request bodies read and validated as Google does: contents with text,
inlineData, fileData, functionCall and functionResponse parts; tools (functionDeclarations with
Gemini's Schema: an unknown field is a 400, as on the real API), toolConfig and generationConfig
(responseMimeType, responseSchema). Anything malformed is a ValueError, answered as a 400."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aihub_core.simulators.tools import Asked, Offer

_SNAKE = re.compile(r"_([a-z])")
# Values kept as sent: Struct fields (call arguments, function responses, examples) and enums.
_VERBATIM = ("args", "response", "example", "default", "enum")
_SCHEMA_FIELDS = frozenset(
    [
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    ]
)
_TYPES = ("STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")
_MODES = {"AUTO": "auto", "NONE": "none", "ANY": "required", "VALIDATED": "auto"}


@dataclass(frozen=True)
class GenerateBody:
    """What the simulator needs of a request: the prompt's texts and images, maxOutputTokens,
    and what it asks."""

    texts: list[str]
    images: int
    max_tokens: int | None
    asked: Asked


def camel(value: Any) -> Any:
    """snake_case keys to lowerCamelCase, recursively, as Google's JSON parser accepts both; the
    names of a schema's properties and the contents of Struct fields are left as they are."""
    if isinstance(value, list):
        return [camel(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _SNAKE.sub(lambda m: m[1].upper(), key)
        if name in _VERBATIM:
            out[name] = item
        elif name == "properties" and isinstance(item, dict):
            out[name] = {k: camel(v) for k, v in item.items()}
        else:
            out[name] = camel(item)
    return out


def read_request(body: Any) -> GenerateBody:
    """The contents, tools and configuration of a generateContent body, validated as Google does."""
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list) or not body["contents"]:
        raise ValueError("* GenerateContentRequest.contents: contents is not specified")
    texts: list[str] = []
    images = 0
    system = body.get("systemInstruction")
    contents = [*([system] if isinstance(system, dict) else []), *body["contents"]]
    for index, content in enumerate(contents):
        if (
            not isinstance(content, dict)
            or not isinstance(content.get("parts"), list)
            or not content["parts"]
        ):
            raise ValueError("* GenerateContentRequest.contents.parts: contents.parts must not be empty.")
        role = content.get("role", "user")
        if content is not system and role not in ("user", "model"):
            raise ValueError("Please use a valid role: user, model.")
        for part in content["parts"]:
            images += _read_part(part, role, index, texts)
    offer = _read_tools(body, texts)
    config = body.get("generationConfig") or {}
    config = config if isinstance(config, dict) else {}
    max_tokens = config.get("maxOutputTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValueError("* GenerateContentRequest.generation_config.max_output_tokens: must be positive")
    schema = config.get("responseSchema")
    json_mode = config.get("responseMimeType") == "application/json"
    if schema is not None:
        if not json_mode:
            raise ValueError(
                "* GenerateContentRequest.generation_config.response_schema: "
                "requires response_mime_type application/json"
            )
        _check_schema(schema, "generation_config.response_schema")
    last = body["contents"][-1]
    parts = [p for p in last["parts"] if isinstance(p, dict)]
    results = tuple(
        (p["functionResponse"]["name"], json.dumps(p["functionResponse"]["response"], ensure_ascii=False))
        for p in parts
        if "functionResponse" in p
    )
    user_text = "".join(p.get("text", "") for p in parts) if last.get("role", "user") == "user" else None
    asked = Asked(offer, None if results else user_text, results, json_mode, schema)
    return GenerateBody(texts, images, max_tokens, asked)


def _read_part(part: Any, role: str, index: int, texts: list[str]) -> int:
    """Take one part's text; return 1 for an image."""
    where = f"* GenerateContentRequest.contents[{index}].parts"
    if not isinstance(part, dict):
        raise ValueError(f"{where}: unsupported part")
    if isinstance(part.get("text"), str):
        texts.append(part["text"])
        return 0
    if isinstance(part.get("inlineData"), dict):
        _check_inline(part["inlineData"])
        return 1
    if isinstance(part.get("fileData"), dict):
        if not isinstance(part["fileData"].get("fileUri"), str):
            raise ValueError(f"{where}.file_data.file_uri: required")
        return 1
    call = part.get("functionCall")
    if isinstance(call, dict):
        if (
            role != "model"
            or not isinstance(call.get("name"), str)
            or not isinstance(call.get("args", {}), dict)
        ):
            raise ValueError(f"{where}.function_call: a model turn's call needs a name and object args")
        texts.append(call["name"] + json.dumps(call.get("args", {})))
        return 0
    response = part.get("functionResponse")
    if isinstance(response, dict):
        if (
            role != "user"
            or not isinstance(response.get("name"), str)
            or not isinstance(response.get("response"), dict)
        ):
            raise ValueError(f"{where}.function_response: a user turn's response needs a name and an object")
        texts.append(response["name"] + json.dumps(response["response"]))
        return 0
    raise ValueError(f"{where}: unsupported part")


def _read_tools(body: dict[str, Any], texts: list[str]) -> Offer | None:
    declared: dict[str, Mapping[str, Any]] = {}
    for t, tool in enumerate(body.get("tools") or []):
        for d, declaration in enumerate(
            tool.get("functionDeclarations") or [] if isinstance(tool, dict) else []
        ):
            where = f"tools[{t}].function_declarations[{d}]"
            if not isinstance(declaration, dict) or not isinstance(declaration.get("name"), str):
                raise ValueError(f"* GenerateContentRequest.{where}.name: Name cannot be empty.")
            parameters = declaration.get("parameters")
            if parameters is not None:
                _check_schema(parameters, f"{where}.parameters")
            declared[declaration["name"]] = parameters or {}
            texts.append(json.dumps(declaration))
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = str(config.get("mode", "AUTO"))
    allowed = config.get("allowedFunctionNames")
    if mode not in _MODES:
        raise ValueError(f"Invalid value at 'tool_config.function_calling_config.mode' ({mode})")
    if allowed is not None and (mode != "ANY" or not all(name in declared for name in allowed)):
        raise ValueError(
            "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
            "only with mode ANY, naming declared functions"
        )
    if not declared:
        return None
    only = allowed[0] if isinstance(allowed, list) and len(allowed) == 1 else None
    return Offer(tuple(declared.items()), _MODES[mode], only)


def _check_schema(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        raise ValueError(f"Invalid JSON payload received. '{where}' must be an object.")
    for key in schema:
        if key not in _SCHEMA_FIELDS:
            raise ValueError(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
            )
    kind = str(schema.get("type", "")).upper()
    if kind and kind not in _TYPES:
        raise ValueError(f"Invalid value at '{where}.type' ({schema['type']})")
    properties = schema.get("properties")
    if kind == "OBJECT" and where.endswith(".parameters") and not properties:
        raise ValueError(f"* GenerateContentRequest.{where}.properties: should be non-empty for OBJECT type")
    for name, sub in (properties or {}).items():
        _check_schema(sub, f"{where}.properties[{name}].value")
    if "items" in schema:
        _check_schema(schema["items"], f"{where}.items")
    for n, sub in enumerate(schema.get("anyOf") or []):
        _check_schema(sub, f"{where}.any_of[{n}]")


def _check_inline(blob: dict[str, Any]) -> None:
    if not str(blob.get("mimeType", "")).startswith("image/"):
        raise ValueError(
            "* GenerateContentRequest.contents.parts.inline_data.mime_type: unsupported MIME type"
        )
    try:
        base64.b64decode(str(blob.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
        ) from None
