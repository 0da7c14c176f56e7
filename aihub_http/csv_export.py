"""An export stream as CSV: a header row of the exported message's field names, then one line per
row, written as each batch arrives from the core, so a range of any size streams in constant
memory. Which rows field is exported is read from the stream message's descriptor (its one
repeated message field), so the shim knows no column by name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from aihub_http.disconnect import ClientGone, until_disconnect
from aihub_http.jsonmap import message_to_json, message_type

ExportCall = grpc.aio.UnaryStreamCall[Any, Message]
FORMATS = ("json", "csv")


def rows_field(descriptor: Descriptor) -> FieldDescriptor:
    """The repeated message field an export message carries its rows in."""
    (field,) = (f for f in descriptor.fields if f.is_repeated and f.message_type is not None)
    return field


def header(field: FieldDescriptor) -> list[str]:
    """The CSV columns: the row message's fields, in their order."""
    return [f.name for f in message_type(field).fields]


def encode_rows(rows: Iterable[Sequence[object]]) -> bytes:
    """CSV lines (RFC 4180: CRLF ends, quotes where needed) as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue().encode()


def _cells(row: Message, columns: Sequence[str]) -> list[object]:
    values = message_to_json(row)
    return [_cell(values.get(name)) for name in columns]


def _cell(value: object) -> object:
    # csv writes a float by repr: the shortest text that reads back as the same double.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class CsvResponse(Response):
    """Streams an export call whose first message (or end) has already arrived: the status line
    goes out only after it, so a refused call gets the ordinary JSON error. A failure later cuts
    the body short without its final chunk, which a client sees as an incomplete transfer. The
    gRPC call is cancelled however this ends, including a client disconnect."""

    def __init__(
        self,
        call: ExportCall,
        first: Message | None,
        output: Descriptor,
        headers: Mapping[str, str],
        filename: str,
    ) -> None:
        self.status_code = 200
        self._field = rows_field(output)
        self.background = None
        self._call = call
        self._first = first
        self.raw_headers = [
            (b"content-type", b"text/csv; charset=utf-8"),
            (b"content-disposition", f'attachment; filename="{filename}"'.encode("latin-1")),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await until_disconnect(receive, self._stream(send))
        except ClientGone:
            pass
        finally:
            self._call.cancel()

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        message = self._first
        field = self._field
        columns = header(field)  # also when no row matched
        await send({"type": "http.response.body", "body": encode_rows([columns]), "more_body": True})
        while message is not None:
            rows = getattr(message, field.name)
            body = encode_rows(_cells(row, columns) for row in rows)
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            received = await self._call.read()  # an error here ends the body without its last chunk
            message = received if isinstance(received, Message) else None
        await send({"type": "http.response.body", "body": b""})
