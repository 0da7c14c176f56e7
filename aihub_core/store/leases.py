"""Leases, the part every backend shares: how stores on one database tell a live store's pending
work from an abandoned one, and the task that keeps a store's lease.

Each open store holds a lease: a row naming it (`owner`), when it expires, and the machine and
process it runs in. A store renews its lease every third of its length; the reservations and
Idempotency-Key claims it leaves pending carry its name. A lease ends when its store closes, when
it expires (the process died or stalled on any host), or when a store on the same machine sees
that its process is gone (at once, with no wait: a crash and restart on one host, a dead worker
of `aihub serve --workers`). Whatever is pending under a name that holds no lease is abandoned,
and any live store recovers it (`Store.recover_abandoned`): each backend makes that exactly once
however many stores try together, and never touches a lease that is still held.

`machine` names one kernel's process table (its boot id and PID namespace), so two containers
sharing a hostname never judge each other's process ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from pathlib import Path

from aihub_core.store.protocols.leases import LeaseStore
from aihub_core.store.records import Recovered

log = logging.getLogger("aihub.store")


def new_owner() -> str:
    """A lease name no other store of any host takes: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def this_machine() -> str | None:
    """This process table's name (boot id and PID namespace), or None where it cannot be read:
    then leases of this machine end only when they expire."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return f"{boot_id}/{namespace}"


def process_gone(pid: int) -> bool:
    """Whether no process of this id runs on this machine (a reused id counts as running: the
    lease then ends when it expires, the safe way round)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def gone(local: Iterable[tuple[str, int | None]]) -> list[str]:
    """The owners, among this machine's leases (owner, pid), whose process is gone."""
    return [owner for owner, pid in local if pid is not None and process_gone(pid)]


def log_recovered(recovered: Recovered, logger: logging.Logger = log) -> None:
    """Say what a recovery settled and freed, if anything."""
    who = (
        f"ended leases ({', '.join(recovered.owners)})"
        if recovered.owners
        else "stores no longer running, or by calls the database was lost under"
    )
    if recovered.reservations:
        logger.warning(
            "settled %d usage reservation(s) left pending by %s as uncharged errors",
            recovered.reservations,
            who,
        )
    if recovered.claims:
        logger.warning("freed %d Idempotency-Key(s) whose calls %s left unfinished", recovered.claims, who)


class LeaseKeeper:
    """Renews a store's lease and recovers abandoned work every `every` seconds, until stopped.

    A failure (the database unreachable for a while) is logged and tried again next time: the
    lease is long enough to outlast a few missed renewals."""

    def __init__(self, store: LeaseStore, every: float) -> None:
        self._store = store
        self._every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin keeping the lease (on the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="aihub-lease")

    async def stop(self) -> None:
        """Stop keeping it; a renewal or recovery under way still finishes in the store."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self._store.renew_lease()
                log_recovered(await self._store.recover_abandoned())
            except Exception as exc:
                # One line, not a traceback every third of a lease while the database is away.
                log.warning("keeping the store's lease failed (%s); trying again in %.1f s", exc, self._every)
