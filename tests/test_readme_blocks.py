"""Every code block of the READMEs runs as written, against a real gateway this test starts.

bash blocks run one after the other in one shell (so the curl steps' variables carry over),
python blocks as scripts, each with `AI_HUB_API_KEY` and `AI_HUB_BASE_URL` set; the gateway's
addresses replace the documented `127.0.0.1:8000` and `127.0.0.1:50051`. TOML blocks are parsed
and loaded as `AIHUB_CONFIG`. A block that cannot run as it is says so in an HTML comment just
before it: `<!-- readme-test: skip: REASON -->` (not run) or `<!-- readme-test: fragment: REASON
-->` (a piece of a larger program: compiled, JavaScript checked by `node --check`). `text` blocks
are not code.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aihub_cli.http_server import start_http
from aihub_core.app import Core, configure
from aihub_http.app import create_app
from tests.conftest import isolated_settings

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "sdk/python/README.md", "sdk/js/README.md")
RUNS = frozenset({"bash", "python", "toml"})
FRAGMENT_CHECKS = frozenset({"python", "javascript"})
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<kind>skip|fragment): (?P<reason>[^>]+?) -->\n)?"
    r"^```(?P<lang>\w*)\n(?P<code>.*?)^```$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    file: str
    line: int
    lang: str
    code: str
    kind: str  # "run", "skip" or "fragment"

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.lang})"


def blocks(file: str) -> list[Block]:
    text = (ROOT / file).read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(Block(file, line, match["lang"], match["code"], match["kind"] or "run"))
    return found


ALL = [block for file in READMES for block in blocks(file)]


def test_every_block_is_code_this_test_runs_or_says_why_not() -> None:
    assert len(ALL) > 20
    for block in ALL:
        assert block.lang, f"{block}: give the block a language (`text` for what is not code)"
        if block.kind == "run" and block.lang != "text":
            assert block.lang in RUNS, f"{block}: no {block.lang} runs; mark it skip or fragment, with why"
        if block.kind == "fragment":
            assert block.lang in FRAGMENT_CHECKS, f"{block}: no check for a {block.lang} fragment"


@pytest.mark.parametrize("block", [b for b in ALL if b.kind == "fragment"], ids=str)
async def test_fragments_are_valid_code(block: Block, tmp_path: Path) -> None:
    if block.lang == "python":
        compile(block.code, str(block), "exec")
        return
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    script = tmp_path / "fragment.mjs"
    script.write_text(block.code)
    process = await asyncio.create_subprocess_exec(
        node, "--check", str(script), stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, f"{block}: {err.decode()}"


@pytest.mark.parametrize("block", [b for b in ALL if b.lang == "toml" and b.kind == "run"], ids=str)
def test_config_blocks_load_as_aihub_config(block: Block, tmp_path: Path) -> None:
    tomllib.loads(block.code)
    path = tmp_path / "aihub.toml"
    path.write_text(block.code)
    names = re.findall(r'api_key_env = "(\w+)"', block.code)
    environ = {name: "sk-test" for name in names}
    environ.update({name: "whsec-" + "0" * 32 for name in re.findall(r'secret_env = "(\w+)"', block.code)})
    configured = configure(isolated_settings(tmp_path, config_path=path), environ)
    assert configured.catalog.services


@dataclass(frozen=True)
class Gateway:
    http: str
    grpc: str


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    core = await Core.start(isolated_settings(tmp_path))
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        yield Gateway(f"127.0.0.1:{server.port}", core.address)
    finally:
        await server.stop()
        await core.stop(grace=0)


async def _run(*command: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def _local(code: str, gateway: Gateway) -> str:
    return code.replace("127.0.0.1:8000", gateway.http).replace("127.0.0.1:50051", gateway.grpc)


async def test_the_runnable_blocks_run_against_a_gateway(gateway: Gateway, tmp_path: Path) -> None:
    runnable = [b for b in ALL if b.kind == "run" and b.lang in ("bash", "python")]
    bash = [b for b in runnable if b.lang == "bash"]
    # The bash steps in order, then the key they created goes to the Python blocks.
    script = "set -euo pipefail\n" + "\n".join(_local(b.code, gateway) for b in bash)
    script += '\nprintf "\\nKEY=%s\\n" "$KEY"\n'
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    status, out = await _run("bash", "-c", script, env=env, cwd=tmp_path)
    assert status == 0, out
    assert '"error"' not in out, out
    assert "% Total" not in out, "curl's progress meter: use -s"
    assert '"type":"done"' in out and '"plan":"free"' in out
    key = re.findall(r"^KEY=(ai-hub-\w+)$", out, re.M)
    assert key, out
    env |= {"AI_HUB_API_KEY": key[-1], "AI_HUB_BASE_URL": f"http://{gateway.http}"}
    for block in (b for b in runnable if b.lang == "python"):
        path = tmp_path / "block.py"
        path.write_text(_local(block.code, gateway))
        status, out = await _run(sys.executable, str(path), env=env, cwd=tmp_path)
        assert status == 0, f"{block}:\n{out}"
