"""The process's logging: `AIHUB_LOG_LEVEL` and `AIHUB_LOG_FORMAT`, one handler on stderr.

Text lines read `TIME LEVEL LOGGER: MESSAGE key=value ...`; JSON lines are one object each, with
`time`, `level`, `logger`, `message` and the same keys. A record's structured keys travel in
`extra={"fields": {...}}` (the access log's request id, route, status, latency, model, tokens and
cost). Libraries' own INFO chatter (HTTP clients, the servers' access logs) is left out unless the
level is `debug`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import IO, Any

from aihub_core.errors import ConfigError

LEVELS: Mapping[str, int] = MappingProxyType(
    {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
)
FORMATS = ("text", "json")
DEFAULT_LEVEL = "info"
DEFAULT_FORMAT = "text"
# Loggers of libraries that say something per request or connection at INFO.
_CHATTY = ("httpx", "httpcore", "aiohttp.access", "aiohttp.client", "uvicorn.access", "hpack")


def _stamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER: MESSAGE key=value ...`, a traceback on the following lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_stamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields: Mapping[str, Any] | None = getattr(record, "fields", None)
        if fields:
            line += "".join(f" {key}={value}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's fields, and the
    traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _stamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields: Mapping[str, Any] | None = getattr(record, "fields", None)
        if fields:
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[IO[str]]):
    """Writes to whatever `sys.stderr` is when a record is emitted, not when the handler was made
    (as the standard library's last-resort handler does): a caller that swaps stderr (a test
    capturing it, a daemon redirecting it) never leaves the handler writing to a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


def configure_logging(environ: Mapping[str, str], stream: IO[str] | None = None) -> None:
    """Send every logger's records at the configured level to `stream` (stderr) in the configured
    format; ConfigError for a value that is neither."""
    level_name = environ.get("AIHUB_LOG_LEVEL", DEFAULT_LEVEL).strip().lower()
    form = environ.get("AIHUB_LOG_FORMAT", DEFAULT_FORMAT).strip().lower()
    if level_name not in LEVELS:
        raise ConfigError(f"AIHUB_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level_name!r}")
    if form not in FORMATS:
        raise ConfigError(f"AIHUB_LOG_FORMAT must be text or json, not {form!r}")
    # The logging HOWTO's "Optimization": no caller lookup (a stack walk per record), thread or
    # process names, which no line here prints. The access log writes a record per request.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = LEVELS[level_name]
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else max(level, logging.WARNING))
