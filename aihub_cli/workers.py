"""`aihub serve --workers N`: N gateway processes on one HTTP port and one gRPC port.

The supervisor does once what the workers must not race on (schema, recovery of an earlier run's
pending calls, the development JWT secret) and holds both ports; each worker listens on them with
sockets of its own (SO_REUSEPORT), over which the kernel spreads new connections. The supervisor
starts the workers and waits. It forwards SIGINT/SIGTERM as a graceful stop, settles the pending
calls of a worker that dies and restarts it if it had been serving, and gives up (stopping the
rest) when one dies before it ever served. Each worker holds the read end of a pipe the
supervisor never writes: if the supervisor is killed, the workers stop on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from aihub_cli.http_server import GRACEFUL_SECONDS
from aihub_cli.worker_link import READY, WorkerLink
from aihub_core.app import prepare_shared_state, settle_dead_worker
from aihub_core.errors import AIHubError, ConfigError
from aihub_core.ports import Port
from aihub_core.settings import Settings
from aihub_core.store import redacted_url
from aihub_core.store.sqlite.url import MEMORY, sqlite_path
from aihub_http.metrics import METRICS_DIR_ENV

log = logging.getLogger("aihub.workers")

# How long a worker may take to start serving.
START_SECONDS = 60
# A stopped worker that has not exited after the graceful period plus this is killed.
KILL_AFTER_SECONDS = GRACEFUL_SECONDS + 5
# Between a worker's death and its replacement, so a fault outside it cannot spin the CPU.
RESTART_DELAY_SECONDS = 1.0


def check_workers(settings: Settings, workers: int, only: str | None) -> None:
    """Refuse a worker count the configuration cannot keep its promises with."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if workers == 1 or only == "http":
        return  # shim workers hold no state of their own
    if not settings.redis_url:
        raise ConfigError(
            "--workers N runs N cores, and their limits and quotas hold together only through "
            "shared counters: set AIHUB_REDIS_URL (or run one worker)"
        )
    try:
        in_memory = sqlite_path(settings.database_url) == MEMORY
    except AIHubError:  # not a SQLite URL: open_store says what is wrong with it
        in_memory = False
    if in_memory:
        raise ConfigError("--workers needs a database the workers share, not an in-memory one")


def _hold_port(port: Port) -> socket.socket:
    """Hold the port (choosing one for port 0) for the workers' SO_REUSEPORT sockets while the
    supervisor runs, so that no other program takes it while a worker restarts.

    First a plain bind: another gateway's SO_REUSEPORT workers would let this one's join their
    group, and the kernel would then spread connections over both gateways."""
    port.check_free()
    return port.bind(reuse_port=True)


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    ready: asyncio.Task[bool]


@dataclass
class _Pool:
    """The running workers and what each new one is started with."""

    settings: Settings
    cores: bool  # the workers run cores (not only the shim): their pending calls are settled here
    command: list[str]
    env: dict[str, str]
    lifeline_fd: int
    workers: dict[int, _Worker] = field(default_factory=dict)

    async def start(self, index: int) -> _Worker:
        ready_read, ready_write = os.pipe()
        link = WorkerLink(ready_write, self.lifeline_fd)
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                "--worker-link",
                link.encode(),
                env=self.env,
                pass_fds=(ready_write, self.lifeline_fd),
                # Its own session: a terminal's Ctrl-C reaches the supervisor, which stops the
                # workers in order, rather than every process at once.
                start_new_session=True,
            )
        finally:
            os.close(ready_write)
        worker = _Worker(index, process, asyncio.create_task(_read_ready(ready_read)))
        self.workers[index] = worker
        return worker

    async def stop(self) -> list[int]:
        """SIGTERM to every worker, then SIGKILL to any still running after the grace period; the
        pids of those killed."""
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                worker.process.terminate()
        waits = [asyncio.create_task(w.process.wait()) for w in self.workers.values()]
        killed = []
        if waits:
            _, late = await asyncio.wait(waits, timeout=KILL_AFTER_SECONDS)
            for worker in self.workers.values():
                if worker.process.returncode is None:
                    log.warning("worker %d did not stop in time: killing it", worker.index)
                    killed.append(worker.process.pid)
                    with contextlib.suppress(ProcessLookupError):
                        worker.process.kill()
            if late:
                await asyncio.wait(late)
        for worker in self.workers.values():
            worker.ready.cancel()
        return killed


async def _read_ready(fd: int) -> bool:
    """Whether the worker reported ready before closing its end of the pipe (or dying)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    try:
        return await reader.readline() == READY
    finally:
        transport.close()


def worker_command(
    settings: Settings, only: str | None, core_address: str | None, http_port: int, grpc_port: int
) -> list[str]:
    """`aihub serve` for one worker, with every setting the flags can carry made explicit (the
    environment, inherited, carries the rest: the database URL too, which may hold a password
    that a command line would show to every user of the machine)."""
    command = [sys.executable, "-m", "aihub_cli", "serve"]
    command += ["--host", settings.host, "--http-port", str(http_port), "--grpc-port", str(grpc_port)]
    if only:
        command += ["--only", only]
    if core_address:
        command += ["--core", core_address]
    return command


async def supervise(
    settings: Settings,
    environ: Mapping[str, str],
    workers: int,
    *,
    only: str | None = None,
    core_address: str | None = None,
) -> int:
    """Run `workers` worker processes until SIGINT/SIGTERM; the exit status of the whole."""
    check_workers(settings, workers, only)
    if only != "http":
        await prepare_shared_state(settings, environ)
    # The ports, held (and chosen, for port 0) for the workers' own SO_REUSEPORT sockets.
    host = settings.host
    http = None if only == "grpc" else _hold_port(Port(host, settings.http_port, "HTTP", "--http-port"))
    grpc = None if only == "http" else _hold_port(Port(host, settings.grpc_port, "gRPC", "--grpc-port"))
    http_port = settings.http_port if http is None else int(http.getsockname()[1])
    grpc_port = settings.grpc_port if grpc is None else int(grpc.getsockname()[1])
    metrics_dir = tempfile.mkdtemp(prefix="aihub-metrics-")
    lifeline_read, lifeline_write = os.pipe()
    env = {**environ, METRICS_DIR_ENV: metrics_dir, "AIHUB_DATABASE_URL": settings.database_url}
    pool = _Pool(
        settings,
        only != "http",
        worker_command(settings, only, core_address, http_port, grpc_port),
        env,
        lifeline_read,
    )
    try:
        for index in range(workers):
            await pool.start(index)
        if not all(await _all_ready(pool)):
            print("aihub: a worker failed to start (its error is above)", file=sys.stderr, flush=True)
            return 1
        banner = _banner(settings, pool, None if http is None else http_port, grpc_port, only, core_address)
        print(banner, flush=True)
        return await _run_until_signal(pool)
    finally:
        killed = await pool.stop()
        if only != "http":
            for pid in killed:
                await settle_dead_worker(settings, pid)
        for sock in (http, grpc):
            if sock is not None:
                sock.close()
        os.close(lifeline_write)
        os.close(lifeline_read)
        shutil.rmtree(metrics_dir, ignore_errors=True)


async def _all_ready(pool: _Pool) -> list[bool]:
    waits = [asyncio.wait_for(asyncio.shield(w.ready), START_SECONDS) for w in pool.workers.values()]
    try:
        return list(await asyncio.gather(*waits))
    except TimeoutError:
        return [False]


def _banner(
    settings: Settings,
    pool: _Pool,
    http_port: int | None,
    grpc_port: int,
    only: str | None,
    core_address: str | None,
) -> str:
    pids = ", ".join(str(w.process.pid) for w in pool.workers.values())
    lines = [f"AI Hub is running: {len(pool.workers)} workers (pids {pids})"]
    if http_port is not None:
        base = f"http://{settings.host}:{http_port}"
        lines.append(f"  console    {base}/   (the web console: sign up, keys, usage, playground)")
        lines.append(f"  REST/SSE   {base}/v1/developer   (docs {base}/docs, health {base}/healthz)")
    if only == "http":
        lines.append(f"  gRPC       {core_address}   (the core)")
    else:
        lines.append(f"  gRPC       {settings.host}:{grpc_port}   (reflection and grpc.health.v1 enabled)")
        lines.append(f"  database   {redacted_url(settings.database_url)}")
        lines.append("  limits     shared through AIHUB_REDIS_URL")
    return "\n".join(lines)


async def _run_until_signal(pool: _Pool) -> int:
    """Wait for SIGINT/SIGTERM, replacing workers that die meanwhile; 0, or 1 if one could not
    be replaced."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopping = asyncio.create_task(stop.wait())
    try:
        while True:
            exits = {asyncio.create_task(w.process.wait()): w for w in pool.workers.values()}
            done, _ = await asyncio.wait({stopping, *exits}, return_when=asyncio.FIRST_COMPLETED)
            for task in exits:
                task.cancel()
            if stopping in done:
                return 0
            for task in done:
                dead = exits[task]
                log.error("worker %d (pid %d) exited with %s", dead.index, dead.process.pid, task.result())
                if pool.cores:
                    await settle_dead_worker(pool.settings, dead.process.pid)
                if not await _replace(pool, dead):
                    return 1
    finally:
        stopping.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _replace(pool: _Pool, dead: _Worker) -> bool:
    """Start a worker in place of a dead one; False if the dead one never served: a fault a new
    one would only repeat."""
    if not dead.ready.done() or not dead.ready.result():
        log.error("worker %d died before it ever served: stopping the others", dead.index)
        return False
    await asyncio.sleep(RESTART_DELAY_SECONDS)
    worker = await pool.start(dead.index)
    log.warning("worker %d restarted as pid %d", worker.index, worker.process.pid)
    return True
