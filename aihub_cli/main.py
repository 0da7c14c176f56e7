"""`aihub serve`, `aihub users create|set-plan|set-role|set-budget`, `aihub alerts outbox|retry`,
`aihub models sync`: argument parsing and process wiring."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from aihub_cli.alerts import retry, show_outbox
from aihub_cli.logs import configure_logging
from aihub_cli.loop import run_fast
from aihub_cli.models_sync import sync_models
from aihub_cli.serve import serve
from aihub_cli.users import PasswordUnavailableError, create_user, opened_store, read_password, set_role
from aihub_cli.worker_link import WorkerLink
from aihub_cli.workers import supervise
from aihub_core.errors import AIHubError, ConfigError
from aihub_core.limits.plans import BUILTIN_PLANS, DEFAULT_PLAN, Plans
from aihub_core.limits.spend import BUDGET_PERIODS
from aihub_core.operator_config import load_operator_config
from aihub_core.services.keys import budget_pico_usd
from aihub_core.settings import Settings
from aihub_core.store.base import ROLES
from aihub_core.store.outbox import MAX_OUTBOX_LIST


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aihub", description="AI Hub: one gateway in front of many AI models."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db", help="database path or URL (default: AIHUB_DATABASE_URL or sqlite:///./aihub.db)"
        )

    run = commands.add_parser("serve", help="run the gRPC core and the REST/SSE shim")
    common(run)
    run.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    run.add_argument("--http-port", type=int, default=None, help="REST/SSE port (default 8000)")
    run.add_argument("--grpc-port", type=int, default=None, help="gRPC port (default 50051)")
    run.add_argument("--only", choices=("grpc", "http"), help="run only the core or only the shim")
    run.add_argument("--core", help="with --only http: the core's gRPC address host:port")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes to serve with (default 1); more than one core needs AIHUB_REDIS_URL",
    )
    run.add_argument("--worker-link", help=argparse.SUPPRESS)  # set by the supervisor of --workers

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser(
        "create", help="create an account (asks for its password; the way in when registration is closed)"
    )
    common(create)
    create.add_argument("email")
    create.add_argument("--plan", default=DEFAULT_PLAN, help=f"its plan (default {DEFAULT_PLAN})")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input's first line"
    )
    set_plan = users.add_parser("set-plan", help="change a user's plan")
    common(set_plan)
    set_plan.add_argument("email")
    set_plan.add_argument("plan", help=f"one of {', '.join(BUILTIN_PLANS)} or a plan from AIHUB_CONFIG")
    role = users.add_parser("set-role", help="change a user's role (admin: an operator)")
    common(role)
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)

    set_budget = users.add_parser("set-budget", help="set (or, with 0, remove) a user's budget in USD")
    common(set_budget)
    set_budget.add_argument("email")
    set_budget.add_argument(
        "usd", type=float, help="the most the user may spend a period, in USD; 0 removes it"
    )
    set_budget.add_argument("--period", choices=BUDGET_PERIODS, default="month", help="day or month (UTC)")

    _alerts_parser(commands, common)

    models = commands.add_parser("models", help="manage the model catalog").add_subparsers(
        dest="models_command", required=True
    )
    sync = models.add_parser(
        "sync", help="refresh the catalog from the providers' model lists (simulators when no key is set)"
    )
    common(sync)
    return parser


def _alerts_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    alerts = commands.add_parser("alerts", help="the usage alerts' webhook outbox").add_subparsers(
        dest="alerts_command", required=True
    )
    outbox = alerts.add_parser(
        "outbox", help="list the events owed to the webhook or given up (oldest first)"
    )
    common(outbox)
    outbox.add_argument(
        "--all", action="store_true", help="the most recent events, delivered ones too (newest first)"
    )
    outbox.add_argument(
        "--limit", type=int, default=100, help=f"at most this many (1 to {MAX_OUTBOX_LIST}, default 100)"
    )
    again = alerts.add_parser(
        "retry", help="make owed or given-up events due now (after fixing the receiver)"
    )
    common(again)
    again.add_argument("event_ids", nargs="*", metavar="EVENT_ID", help="the events to retry")
    again.add_argument("--all", action="store_true", help="every owed or given-up event")


def _alerts(args: argparse.Namespace, settings: Settings) -> int:
    if args.alerts_command == "outbox":
        if not 1 <= args.limit <= MAX_OUTBOX_LIST:
            print(f"aihub: --limit must be 1 to {MAX_OUTBOX_LIST}", file=sys.stderr)
            return 2
        return asyncio.run(show_outbox(settings, args.all, args.limit, sys.stdout))
    if args.all == bool(args.event_ids):
        print("aihub: name the events to retry, or give --all (not both)", file=sys.stderr)
        return 2
    return asyncio.run(retry(settings, None if args.all else args.event_ids, sys.stdout))


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    def database_url(value: str | None) -> str | None:
        if value and "://" not in value:
            return f"sqlite:///{value}"
        return value

    return Settings.from_env(
        environ,
        host=getattr(args, "host", None),
        http_port=getattr(args, "http_port", None),
        grpc_port=getattr(args, "grpc_port", None),
        database_url=database_url(args.db),
    )


async def _set_plan(settings: Settings, environ: Mapping[str, str], email: str, plan: str) -> int:
    path = settings.config_path
    Plans(extra=load_operator_config(path, environ).plans if path else None).require(plan)
    async with opened_store(settings) as store:
        if not await store.set_plan(email.strip().lower(), plan):
            print(f"aihub: no user with email {email}", file=sys.stderr)
            return 1
    print(f"{email}: plan set to {plan}")
    return 0


async def _set_budget(settings: Settings, email: str, usd: float, period: str) -> int:
    limit, kept = (None, None) if usd == 0 else budget_pico_usd(usd, period)
    async with opened_store(settings) as store:
        if not await store.set_user_budget(email.strip().lower(), limit, kept):
            print(f"aihub: no user with email {email}", file=sys.stderr)
            return 1
    print(f"{email}: budget removed" if limit is None else f"{email}: budget set to {usd} USD a {period}")
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the `aihub` console script."""
    args = _parser().parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        configure_logging(env)
        settings = _settings(args, env)
        if args.command == "serve":
            if args.only == "http" and not args.core:
                print("aihub: --only http needs --core HOST:PORT", file=sys.stderr)
                return 2
            if args.worker_link:
                link = WorkerLink.parse(args.worker_link)
                return run_fast(serve(settings, env, only=args.only, core_address=args.core, link=link))
            if args.workers != 1:
                workers = supervise(settings, env, args.workers, only=args.only, core_address=args.core)
                return run_fast(workers)
            return run_fast(serve(settings, env, only=args.only, core_address=args.core))
        if args.command == "alerts":
            return _alerts(args, settings)
        if args.command == "models":
            return asyncio.run(sync_models(settings, env))
        if args.users_command == "create":
            password = read_password(args.password_stdin, sys.stdin)
            return asyncio.run(create_user(settings, env, args.email, args.plan, password))
        if args.users_command == "set-budget":
            return asyncio.run(_set_budget(settings, args.email, args.usd, args.period))
        if args.users_command == "set-role":
            return asyncio.run(set_role(settings, args.email, args.role))
        return asyncio.run(_set_plan(settings, env, args.email, args.plan))
    except AIHubError as err:
        print(f"aihub: {err.message}", file=sys.stderr)
        return 2
    except (ConfigError, PasswordUnavailableError) as err:
        print(f"aihub: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
