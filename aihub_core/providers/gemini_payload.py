"""generateContent request bodies (upstream-protocols §3.2, §3.10): the conversation, tools and
parameters mapped into Gemini's form.

- system and developer messages: `systemInstruction`, joined;
- user turns: `user` contents with text, `inlineData` (images) and `fileData` (a Gemini file URI);
- assistant turns: `model` contents with text and `functionCall` parts (arguments as an object);
- tool results: `functionResponse` parts of a `user` content, named after the call they answer
  (looked up by its id); a result that is not a JSON object is wrapped as `{"result": ...}`;
- consecutive contents of one role are merged (parallel calls' results go back together);
- tools: `functionDeclarations` with Gemini's schema (`gemini_schema`); tool_choice:
  `toolConfig.functionCallingConfig` (AUTO, NONE, ANY, ANY + allowedFunctionNames);
- response_format: `responseMimeType` and `responseSchema`; stop: `stopSequences`; the rest of
  the sampling parameters under Gemini's names. `parallel_tool_calls` and `user` have no Gemini
  counterpart and are not sent.

Whatever cannot be mapped (an image URL Gemini cannot fetch, a tool result answering no call,
arguments that are not a JSON object, a recursive schema) is an InvalidRequestError naming the
parameter, raised by `generate_payload` (and so by the adapter's `check`, before any call).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aihub_core.errors import InvalidRequestError
from aihub_core.messages import Image, JsonSchemaFormat, Message, NamedTool, ProviderRequest
from aihub_core.providers.gemini_schema import to_gemini_schema

# A file uploaded with Gemini's Files API: the only kind of URL Gemini reads an image from.
_FILE_URI = re.compile(r"^https://generativelanguage\.googleapis\.com/v1\w*/files/[\w-]+$")
_CHOICE = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
_SAMPLING = (
    ("max_tokens", "maxOutputTokens"),
    ("temperature", "temperature"),
    ("top_p", "topP"),
    ("seed", "seed"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
)


def generate_payload(request: ProviderRequest, base_url: str) -> dict[str, Any]:
    """The body of `:generateContent` and `:streamGenerateContent`; `base_url` is the service's own
    (file URIs under it are Gemini's too)."""
    payload: dict[str, Any] = {"contents": _contents(request.messages, base_url)}
    system = [m.text for m in request.messages if m.role in ("system", "developer")]
    if system:
        payload["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config = _generation_config(request)
    if config:
        payload["generationConfig"] = config
    if request.tools:
        declarations = []
        for index, tool in enumerate(request.tools):
            declaration: dict[str, Any] = {"name": tool.name}
            if tool.description:
                declaration["description"] = tool.description
            parameters = tool.parameters
            if parameters and parameters.get("properties"):  # Gemini refuses an OBJECT without properties
                param = f"tools[{index}].function.parameters"
                declaration["parameters"] = to_gemini_schema(parameters, param)
            declarations.append(declaration)
        payload["tools"] = [{"functionDeclarations": declarations}]
    choice = request.tool_choice
    if choice is not None:
        config = (
            {"mode": "ANY", "allowedFunctionNames": [choice.name]}
            if isinstance(choice, NamedTool)
            else {"mode": _CHOICE[choice]}
        )
        payload["toolConfig"] = {"functionCallingConfig": config}
    return payload


def _generation_config(request: ProviderRequest) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for ours, theirs in _SAMPLING:
        value = getattr(request, ours)
        if value is not None:
            config[theirs] = value
    if request.stop:
        config["stopSequences"] = list(request.stop)
    form = request.response_format
    if form == "json_object":
        config["responseMimeType"] = "application/json"
    elif isinstance(form, JsonSchemaFormat):
        config["responseMimeType"] = "application/json"
        config["responseSchema"] = to_gemini_schema(
            form.schema, "response_format.json_schema.schema", ordered=True
        )
    return config


def _contents(messages: tuple[Message, ...], base_url: str) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool call id -> the function called
    contents: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            continue
        if message.role == "tool":
            parts = [_function_response(message, index, names)]
        else:
            parts = _parts(message, index, base_url)
            for call_index, call in enumerate(message.tool_calls):
                names[call.id] = call.name
                args = _arguments(
                    call.arguments, f"messages[{index}].tool_calls[{call_index}].function.arguments"
                )
                parts.append({"functionCall": {"name": call.name, "args": args}})
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)  # Gemini wants one content per turn
        else:
            contents.append({"role": role, "parts": parts or [{"text": ""}]})
    for content in contents:
        if len(content["parts"]) > 1:  # an empty text beside other parts is refused
            content["parts"] = [p for p in content["parts"] if p != {"text": ""}] or [{"text": ""}]
    return contents


def _parts(message: Message, index: int, base_url: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for position, part in enumerate(message.parts):
        if isinstance(part, str):
            if part:  # Gemini rejects an empty text part beside an image
                parts.append({"text": part})
        elif isinstance(part, Image):
            parts.append({"inlineData": {"mimeType": part.mime_type, "data": part.data_b64}})
        elif _FILE_URI.match(part.url) or part.url.startswith(f"{base_url}/files/"):
            data = {"fileUri": part.url, **({"mimeType": part.mime_type} if part.mime_type else {})}
            parts.append({"fileData": data})
        else:
            param = f"messages[{index}].content[{position}].image.url"
            raise InvalidRequestError(
                f"{param}: Gemini needs an image's bytes and cannot fetch URLs (nor does the gateway); "
                "send the image as data (a data: URI) or as a Gemini Files API URI",
                code="image_url_not_supported",
                param=param,
            )
    return parts


def _function_response(message: Message, index: int, names: dict[str, str]) -> dict[str, Any]:
    name = names.get(message.tool_call_id) or message.name
    if not name:
        param = f"messages[{index}].tool_call_id"
        raise InvalidRequestError(
            f"{param}: {message.tool_call_id!r} answers no tool call of an earlier assistant message",
            param=param,
        )
    text = message.text
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    response = value if isinstance(value, dict) else {"result": value}
    return {"functionResponse": {"name": name, "response": response}}


def _arguments(text: str, param: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{param}: Gemini takes a call's arguments as a JSON object", param=param)
    return value
