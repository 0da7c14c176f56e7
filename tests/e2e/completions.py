"""Helpers for the message-array chat over gRPC: requests, streams reassembled, the ledger."""

from __future__ import annotations

import sqlite3
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import conversation_pb2 as conv_pb
from aihub_core.app import Core
from aihub_core.store.sqlite.url import sqlite_path
from tests.e2e.test_grpc import bearer

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def weather_tool() -> conv_pb.Tool:
    return conv_pb.Tool(
        function=conv_pb.FunctionDeclaration(
            name="get_weather", description="The weather in a city", parameters=struct(WEATHER_SCHEMA)
        )
    )


def user(text: str, *images: conv_pb.ImageContent) -> conv_pb.ChatMessage:
    parts = [conv_pb.ContentPart(text=text), *(conv_pb.ContentPart(image=i) for i in images)]
    return conv_pb.ChatMessage(role=conv_pb.ROLE_USER, content=parts)


def text_of(message: conv_pb.ChatMessage) -> str:
    return "".join(part.text for part in message.content)


async def streamed(
    channel: grpc.aio.Channel, key: str, request: chat_pb.StreamChatCompletionRequest, **metadata: str
) -> tuple[str, list[tuple[str, str, str]], chat_pb.UsageEvent, list[str]]:
    """A whole stream: its text, its calls (id, name, arguments) rebuilt from the pieces, its usage
    event, and the kinds of its events; checking the pieces' form on the way."""
    stub = chat_grpc.ChatServiceStub(channel)
    call = stub.StreamChatCompletion(request, metadata=(*bearer(key), *metadata.items()))
    text: list[str] = []
    calls: list[tuple[str, str, list[str]]] = []
    kinds: list[str] = []
    usage = chat_pb.UsageEvent()
    async for event in call:
        kind = event.WhichOneof("event")
        assert kind is not None
        kinds.append(kind)
        if kind == "delta":
            text.append(event.delta.content)
            for piece in event.delta.tool_calls:
                if piece.index == len(calls):
                    assert piece.id and piece.name
                    calls.append((piece.id, piece.name, [piece.arguments]))
                else:
                    assert not piece.id and not piece.name
                    calls[piece.index][2].append(piece.arguments)
        elif kind == "usage":
            usage = event.usage
    return "".join(text), [(i, n, "".join(a)) for i, n, a in calls], usage, kinds


def ledger(core: Core) -> list[dict[str, Any]]:
    """Every usage row, oldest first."""
    with sqlite3.connect(sqlite_path(core.settings.database_url)) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM usage_records ORDER BY rowid").fetchall()
    return [dict(row) for row in rows]
