"""The gateway as several replicas (`--replicas N`) on PostgreSQL (`--postgres [URL]`) and Redis:
a database of the run's own (created, then dropped at exit), N `aihub serve` processes started by
one shell (so that the CPU and memory of the whole tree, Redis included, count as the gateway's),
and nginx in front with the configuration of docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shlex
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from processes import PROCS, ROOT, free_port, http_ok, say, wait_until

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
MARKER = "<!-- nginx: the multi-replica test"


def database_url(admin_url: str, name: str) -> str:
    """`admin_url` with its database replaced by `name`."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(admin_url: str) -> str:
    """A new database for the run (its pg_stat_database row is the run's alone); its name."""
    name = f"aihub_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin_url, f"CREATE DATABASE {name}"))
    return name


def drop_database(admin_url: str, name: str) -> None:
    """Drop the run's database (its replicas stopped first)."""
    asyncio.run(_admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def replicas_argv(argv: list[str], ports: list[tuple[int, int]], redis: list[str] | None) -> list[str]:
    """One shell that starts Redis (if given, and waits for it), then one `aihub serve` per
    (HTTP, gRPC) port pair (argv with `{http}` and `{grpc}` in place of its ports), and waits."""
    steps = []
    if redis:
        port = redis[redis.index("--port") + 1]
        steps.append(f"{shlex.join(redis)} &")
        ping = f"redis-cli -p {port} ping >/dev/null 2>&1"
        steps.append(f"for _ in $(seq 200); do {ping} && break; sleep 0.05; done;")
    for http, grpc in ports:
        one = [part.replace("{http}", str(http)).replace("{grpc}", str(grpc)) for part in argv]
        steps.append(f"{shlex.join(one)} &")
    steps.append("wait")
    return ["sh", "-c", " ".join(steps)]


def balancer_config(work: Path, ports: list[int], listen: int) -> Path:
    """nginx in front of the replicas: docs/deploy.md's config, its servers and port replaced."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", text[text.index(MARKER) :], re.DOTALL)
    if block is None:
        raise RuntimeError("docs/deploy.md has no nginx config after its marker")
    lines, done = [], False
    for line in block.group(1).splitlines():
        server = re.match(r"^(\s*server )\S+:\d+(.*)$", line)
        if server:
            lines += [] if done else [f"{server.group(1)}127.0.0.1:{p}{server.group(2)}" for p in ports]
            done = True
        else:
            lines.append(re.sub(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{listen};", line))
    folder = work / "balancer"
    folder.mkdir()
    (folder / "aihub.conf").write_text("\n".join(lines))
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{k}_temp_path {folder / k};" for k in kinds)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        f"events {{ worker_connections 16384; }}\n"
        f"http {{ access_log off; {temp} include {folder / 'aihub.conf'}; }}\n"
    )
    return conf


def start_balancer(work: Path, ports: list[int]) -> tuple[str, int]:
    """nginx (one worker) in front of the replicas: its base URL and pid."""
    listen = free_port()
    conf = balancer_config(work, ports, listen)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    log = work / "balancer.log"
    pid = PROCS.start("balancer", [nginx, "-p", str(conf.parent), "-c", str(conf)], log)
    base = f"http://127.0.0.1:{listen}"
    wait_until("nginx in front of the replicas", lambda: http_ok(f"{base}/healthz"), 15, log)
    say(f"nginx (docs/deploy.md's config) on {base} in front of {len(ports)} replicas")
    return base, pid
