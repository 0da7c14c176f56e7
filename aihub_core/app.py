"""The composition root of the core: builds every part from Settings, starts and stops them."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp

from aihub_core.alerts.checker import AlertChecker
from aihub_core.alerts.manager import AlertManager
from aihub_core.alerts.metrics import AlertMetrics
from aihub_core.alerts.webhook import WebhookDelivery
from aihub_core.auth.secrets import load_or_create_jwt_secret
from aihub_core.auth.tokens import TokenIssuer
from aihub_core.catalog import Catalog
from aihub_core.catalog.synced import load_catalog
from aihub_core.chat.calls import ChatCalls
from aihub_core.chat.engine import ChatEngine
from aihub_core.chat.idempotency import Idempotency
from aihub_core.chat.routing import Router
from aihub_core.clock import Clock, SystemClock
from aihub_core.grpc_api.client_address import ClientAddresses
from aihub_core.grpc_api.gate import Gate
from aihub_core.grpc_api.server import RunningServer, Servicers, start_server
from aihub_core.grpc_api.servicers.admin import AdminServicer
from aihub_core.grpc_api.servicers.auth import AuthServicer
from aihub_core.grpc_api.servicers.chat import ChatServicer
from aihub_core.grpc_api.servicers.embeddings import EmbeddingServicer
from aihub_core.grpc_api.servicers.keys import KeyServicer
from aihub_core.grpc_api.servicers.models import ModelServicer
from aihub_core.grpc_api.servicers.usage import UsageServicer
from aihub_core.inprocess.channel import LocalChannel
from aihub_core.limits.admitter import Admitter
from aihub_core.limits.factory import start_admitter, start_login_throttle
from aihub_core.limits.input_size import InputLimits
from aihub_core.limits.plans import Plans
from aihub_core.limits.quota_watch import QuotaWatch
from aihub_core.operator_config import (
    OperatorConfig,
    apply_to_catalog,
    load_operator_config,
    resolve_fallbacks,
)
from aihub_core.providers._http import upstream_session
from aihub_core.providers.base import Provider
from aihub_core.providers.registry import builtin_services, provider_kind
from aihub_core.resilience import BreakerPolicy, RetryPolicy
from aihub_core.services.accounts import Accounts
from aihub_core.services.admin import Admin
from aihub_core.services.keys import KeyManager
from aihub_core.services.usage import UsageReporter
from aihub_core.services.usage_logs import UsageLogs
from aihub_core.settings import Settings
from aihub_core.simulators import Simulator
from aihub_core.store import open_store
from aihub_core.store.base import Store
from aihub_core.store.leases import log_recovered

log = logging.getLogger("aihub.core")


@dataclass(frozen=True)
class Upstreams:
    """The providers by service name, and which of them are simulated."""

    providers: dict[str, Provider]
    simulated: dict[str, bool]
    simulators: dict[str, Simulator]


@dataclass(frozen=True)
class Configured:
    """What the operator file and the synced catalog decide before anything starts."""

    config: OperatorConfig
    catalog: Catalog
    plans: Plans
    fallbacks: Mapping[str, tuple[str, ...]]


def configure(settings: Settings, environ: Mapping[str, str]) -> Configured:
    """Read AIHUB_CONFIG (if set) and the synced catalog; every problem is a ConfigError."""
    path = settings.config_path
    config = load_operator_config(path, environ) if path is not None else OperatorConfig()
    catalog = apply_to_catalog(config, load_catalog(settings.synced_catalog_path))
    fallbacks = resolve_fallbacks(config, catalog)
    if path is not None:
        log.info(
            "AIHUB_CONFIG %s: %d services, %d plans, %d fallback lists",
            path,
            len(config.services),
            len(config.plans),
            len(fallbacks),
        )
    return Configured(config, catalog, Plans(extra=config.plans), fallbacks)


async def _start_upstreams(
    settings: Settings,
    configured: Configured,
    client: aiohttp.ClientSession,
    stack: AsyncExitStack,
) -> Upstreams:
    """One provider per service; a simulator stands in for a built-in one without a key."""
    upstreams = Upstreams({}, {}, {})
    for kind, builtin in builtin_services():
        service = kind.name
        sim = settings.simulated(service)
        credentials = settings.credentials(service)
        if sim:
            served = [m.id for m in configured.catalog.models(service)]
            simulator, credentials = await builtin.simulate(
                stack, chunk_delay_ms=settings.simulator_chunk_delay_ms, models=served
            )
            upstreams.simulators[service] = simulator
        upstreams.providers[service] = kind.adapter(
            name=service,
            base_url=credentials.base_url,
            api_key=credentials.api_key,
            client=client,
            timeouts=settings.timeouts,
            simulated=sim,
        )
        upstreams.simulated[service] = sim
    for operator in configured.config.services:
        upstreams.providers[operator.name] = provider_kind(operator.kind).adapter(
            name=operator.name,
            base_url=operator.base_url,
            api_key=operator.api_key,
            client=client,
            timeouts=settings.timeouts,
            simulated=False,
        )
        upstreams.simulated[operator.name] = False
    return upstreams


@dataclass(frozen=True)
class Alerts:
    """Usage alerts: the checker the chat calls tell of settlements, and the owners' manager."""

    checker: AlertChecker
    manager: AlertManager
    metrics: AlertMetrics


async def _start_alerts(
    configured: Configured, store: Store, admitter: Admitter, stack: AsyncExitStack, clock: Clock
) -> Alerts:
    """The checker and manager, and with a webhook (`[alerts]` in AIHUB_CONFIG) this process's
    delivery loop, stopped with the core (after the checks under way have recorded their events)."""
    webhook = configured.config.alerts
    metrics = AlertMetrics(store, now=clock.now)
    delivery: WebhookDelivery | None = None
    if webhook is not None:
        session = upstream_session(max_connections=20)
        stack.push_async_callback(session.close)
        delivery = WebhookDelivery(store, webhook, session, now=clock.now, metrics=metrics)
        delivery.start()
        stack.push_async_callback(delivery.stop)
        log.info("usage alerts are POSTed to %s (path not shown)", webhook.origin)

    async def fired(user_id: str) -> None:
        if delivery is not None:
            delivery.wake()
        await admitter.notify(user_id)

    checker = AlertChecker(store, deliver=webhook is not None, fired=fired, now=clock.now, metrics=metrics)
    stack.push_async_callback(checker.stop)
    return Alerts(checker, AlertManager(store, checker, now=clock.now), metrics)


async def _recover_abandoned(store: Store) -> None:
    """Settle the reservations and free the Idempotency-Keys that processes no longer running left
    pending (a killed worker, an earlier run, a replica whose lease expired), before any call is
    taken: a call cut by a crash is not charged (docs/accounting.md), and no reservation hangs.
    Live stores' work, on this host or another, is left alone: they hold their leases."""
    log_recovered(await store.recover_abandoned(), log)


async def settle_dead_worker(settings: Settings, pid: int) -> None:
    """A worker core (process `pid`) died: settle its pending calls and free its Idempotency-Keys
    at once (its process is gone from this machine, so its lease ends), leaving the other
    workers' live calls alone."""
    log.info("worker pid %d is gone: recovering what it left pending", pid)
    store = open_store(settings.database_url, settings.store_options())
    await store.open()
    try:
        await _recover_abandoned(store)
    finally:
        await store.close()


def _jwt_secret(settings: Settings, *, warn: bool = True) -> str:
    secret_dir = settings.data_dir
    secret, generated = load_or_create_jwt_secret(settings.jwt_secret, secret_dir)
    if generated and warn:
        log.warning(
            "AIHUB_JWT_SECRET is not set: using a generated development secret stored in %s; "
            "set AIHUB_JWT_SECRET in production",
            secret_dir,
        )
    return secret


async def prepare_shared_state(settings: Settings, environ: Mapping[str, str]) -> None:
    """Before several worker cores start on one store: check the configuration, migrate the schema,
    settle what an earlier run left pending and create the development JWT secret, once, so the
    workers neither race on these nor settle each other's live calls."""
    configure(settings, environ)
    store = open_store(settings.database_url, settings.store_options())
    await store.open()
    try:
        await _recover_abandoned(store)
    finally:
        await store.close()
    _jwt_secret(settings)


class Core:
    """A running gRPC core. Build with `await Core.start(settings)`, end with `await core.stop()`."""

    def __init__(
        self,
        settings: Settings,
        server: RunningServer,
        store: Store,
        upstreams: Upstreams,
        stack: AsyncExitStack,
        configured: Configured,
        router: Router,
        alert_metrics: AlertMetrics,
    ) -> None:
        self.settings = settings
        self.store = store
        self.upstreams = upstreams
        # The retry policy and the services' circuit breakers, shared by every chat call.
        self.router = router
        self.catalog = configured.catalog
        self.fallbacks = configured.fallbacks
        # The usage alerts' figures, for the /metrics of the shim running in this process.
        self.alert_metrics = alert_metrics
        self._server = server
        self._stack = stack

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def address(self) -> str:
        """host:port for a gRPC channel."""
        return f"{self.settings.host}:{self.port}"

    def local_channel(self) -> LocalChannel:
        """A grpc.aio channel to this core that calls its servicers in process (no sockets)."""
        return self._server.local_channel()

    @classmethod
    async def start(
        cls,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        *,
        worker: bool = False,
        clock: Clock | None = None,
        jitter: random.Random | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
    ) -> Core:
        """Read the configuration, open the store, start simulators where no key is set, serve gRPC.

        `environ` supplies the API keys AIHUB_CONFIG names (`api_key_env`); default `os.environ`.
        `worker`: one of several cores sharing the store and the gRPC port (`aihub serve
        --workers`); `prepare_shared_state` has run, and the others' pending calls are live.
        `clock` is where every part reads time and waits (default: the real one); `jitter` draws
        the retries' backoff (default: a fresh `random.Random`). `retry` and `breaker` replace
        the policies the settings give (`settings.retry`, `settings.breaker`: AIHUB_RETRY_*,
        AIHUB_BREAKER_*).
        """
        clock = clock or SystemClock()
        jitter = jitter or random.Random()
        configured = configure(settings, os.environ if environ is None else environ)
        stack = AsyncExitStack()
        try:
            store = open_store(settings.database_url, settings.store_options())
            await store.open()
            stack.push_async_callback(store.close)
            if not worker:
                await _recover_abandoned(store)
            secret = _jwt_secret(settings, warn=not worker)  # with workers, the supervisor warns
            client = upstream_session(max_connections=1000)
            stack.push_async_callback(client.close)
            upstreams = await _start_upstreams(settings, configured, client, stack)
            catalog = configured.catalog
            issuer = TokenIssuer(secret, settings.jwt_ttl_seconds, clock=clock.now)
            accounts = Accounts(
                store,
                issuer,
                configured.plans,
                now=clock.now,
                throttle=await start_login_throttle(settings.redis_url, stack, prefix=settings.redis_prefix),
                registration_open=settings.registration_open,
            )
            admitter = await start_admitter(
                settings.redis_url,
                store,
                stack,
                prefix=settings.redis_prefix,
                clock=clock.time,
                read_limit=settings.read_rate_limit,
            )
            gate = Gate(accounts, admitter)
            router = Router(
                retry or settings.retry,
                breaker or settings.breaker,
                clock.monotonic,
                clock.sleep,
                jitter.random,
            )
            engine = ChatEngine(
                store,
                catalog,
                upstreams.providers,
                monotonic=clock.monotonic,
                now=clock.now,
                fallbacks=configured.fallbacks,
                router=router,
            )
            input_limits = InputLimits(settings.max_input_chars, settings.max_input_image_bytes)
            alerts = await _start_alerts(configured, store, admitter, stack, clock)
            calls = ChatCalls(
                engine,
                admitter,
                Idempotency(store, now=clock.now),
                input_limits,
                settled=alerts.checker.notice,
            )
            servicers = Servicers(
                auth=AuthServicer(gate, accounts, ClientAddresses(settings.trusted_proxies)),
                chat=ChatServicer(gate, calls),
                models=ModelServicer(gate, catalog, upstreams.simulated),
                usage=UsageServicer(
                    gate,
                    UsageReporter(store, now=clock.now),
                    QuotaWatch(store, admitter, now=clock.now),
                    UsageLogs(store),
                    alerts.manager,
                    now=clock.now,
                ),
                keys=KeyServicer(gate, KeyManager(store, now=clock.now)),
                embeddings=EmbeddingServicer(gate, calls),
                admin=AdminServicer(
                    gate,
                    Admin(store, configured.plans, now=clock.now, breakers=router.breakers),
                    catalog,
                    upstreams.simulated,
                ),
            )
            server = await start_server(servicers, settings.host, settings.grpc_port, reuse_port=worker)
        except BaseException:
            await stack.aclose()
            raise
        return cls(settings, server, store, upstreams, stack, configured, router, alerts.metrics)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls, let in-flight ones finish, then close upstreams and the store."""
        await self._server.stop(grace)
        await self._stack.aclose()

    def describe_upstreams(self) -> str:
        """One line per service for the start-up banner."""
        return ", ".join(
            f"{name}: {'simulated' if sim else 'live'}" for name, sim in self.upstreams.simulated.items()
        )
