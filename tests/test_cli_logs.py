"""AIHUB_LOG_LEVEL and AIHUB_LOG_FORMAT, and what the commands print on stderr."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aihub_cli.logs import configure_logging
from aihub_core.errors import ConfigError
from tests.test_cli import PORTS_0, aihub, clean_env, http_port_of, run_aihub, wait_for_banner


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "aiohttp.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.mark.usefixtures("restore_logging")
def test_level_and_format_come_from_the_environment() -> None:
    out = io.StringIO()
    configure_logging({"AIHUB_LOG_FORMAT": "json", "AIHUB_LOG_LEVEL": "warning"}, out)
    logging.getLogger("aihub.access").info("http request", extra={"fields": {"status": 200}})
    logging.getLogger("aihub.core").warning("careful")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["level"], x["logger"], x["message"]) for x in lines] == [("WARNING", "aihub.core", "careful")]

    configure_logging({}, out)  # the defaults: info, text
    logging.getLogger("aihub.access").info("http request", extra={"fields": {"status": 200}})
    logging.getLogger("httpx").info("HTTP Request: GET https://example.com")  # a library's chatter
    assert out.getvalue().splitlines()[-1].endswith("INFO aihub.access: http request status=200")

    configure_logging({"AIHUB_LOG_LEVEL": "DEBUG"}, out)
    assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize(("name", "value"), [("AIHUB_LOG_LEVEL", "loud"), ("AIHUB_LOG_FORMAT", "xml")])
def test_a_bad_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        configure_logging({name: value}, io.StringIO())


def test_commands_log_as_configured(tmp_path: Path) -> None:
    env = {**clean_env(), "AIHUB_JWT_SECRET": "s" * 32}
    synced = run_aihub(tmp_path, env, "models", "sync")
    assert synced.returncode == 0 and synced.stderr == ""  # no HTTP client chatter
    refused = run_aihub(tmp_path, {**env, "AIHUB_LOG_FORMAT": "yaml"}, "models", "sync")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1

    with subprocess.Popen(
        aihub("serve", *PORTS_0),
        cwd=tmp_path,
        env={**env, "AIHUB_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            http_port = http_port_of(wait_for_banner(process))
            answer = httpx.get(f"http://127.0.0.1:{http_port}/v1/developer/quota")
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines()]
    assert [(x["logger"], x["route"], x["status"]) for x in lines] == [
        ("aihub.access", "/v1/developer/quota", 401)
    ]
    assert lines[0]["request_id"] == answer.headers["x-request-id"]


def test_the_stderr_handler_writes_to_the_stderr_of_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A handler bound to the stderr of its configuration writes to a closed file once that stderr
    # is swapped and closed (a test's capture ending); ours follows sys.stderr.
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging({})
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("aihub.test").warning("still heard")
    assert "still heard" in second.getvalue()
