"""`aihub users create`: the operator makes an account (the way in when registration is closed);
`aihub users set-role`: the operator makes an account an admin (or a user again).

The password is asked for on the terminal (twice, not echoed) or read from standard input with
`--password-stdin`; it is never an argument, where `ps` and the shell's history would show it.
"""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import TextIO

from aihub_core.auth.passwords import hash_password_async
from aihub_core.errors import ConflictError
from aihub_core.limits.plans import Plans
from aihub_core.operator_config import load_operator_config
from aihub_core.services.accounts import check_new_account, new_user
from aihub_core.settings import Settings
from aihub_core.store import open_store
from aihub_core.store.base import Store


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The settings' store, open for the block (the admin commands' one connection)."""
    store = open_store(settings.database_url, settings.store_options())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


class PasswordUnavailableError(Exception):
    """No password could be read: the message says how to give one."""


def read_password(from_stdin: bool, stdin: TextIO, ask: Callable[[str], str] = getpass.getpass) -> str:
    """The new account's password: standard input's first line with `from_stdin`, else asked for
    twice on the terminal."""
    if from_stdin:
        return stdin.readline().removesuffix("\n").removesuffix("\r")
    if not stdin.isatty():
        raise PasswordUnavailableError(
            "no terminal to ask for the password on: give it on standard input with --password-stdin"
        )
    first = ask("Password: ")
    if ask("The same password again: ") != first:
        raise PasswordUnavailableError("the two passwords differ; nothing was created")
    return first


async def create_user(
    settings: Settings, environ: Mapping[str, str], email: str, plan: str, password: str
) -> int:
    """Create the account; 0 when done, 1 when the email has an account already (a bad email,
    password or plan raises the error that says so)."""
    path = settings.config_path
    Plans(extra=load_operator_config(path, environ).plans if path else None).require(plan)
    check_new_account(email, password)
    user = new_user(email, plan, datetime.now(UTC), await hash_password_async(password))
    try:
        async with opened_store(settings) as store:
            await store.create_user(user)
    except ConflictError:
        print(f"aihub: {user.email} has an account already", file=sys.stderr)
        return 1
    print(f"{user.email}: account {user.id} created on the {plan} plan")
    return 0


async def set_role(settings: Settings, email: str, role: str) -> int:
    """Give the account `role` (argparse checked it is one of `ROLES`); 0 when done, 1 when no
    account has this email."""
    async with opened_store(settings) as store:
        if not await store.set_role(email, role):
            print(f"aihub: no user with email {email}", file=sys.stderr)
            return 1
    print(f"{email.strip().lower()}: role set to {role}")
    return 0
