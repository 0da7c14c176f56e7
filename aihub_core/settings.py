"""Process settings: flags, then environment, then defaults, frozen once at start-up."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aihub_core.errors import ConfigError, InvalidRequestError
from aihub_core.limits.rules import DEFAULT_READ_LIMIT
from aihub_core.providers.registry import Credentials, builtin_services, provider_kind
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.resilience import BreakerPolicy, RetryPolicy
from aihub_core.store import Durability, StoreOptions
from aihub_core.store.sqlite.url import MEMORY, sqlite_path

DEFAULT_DATABASE_URL = "sqlite:///./aihub.db"
DEFAULT_REDIS_PREFIX = "aihub:"
# The HTTP server's and the shim's (aihub_cli.http_protocol, aihub_http.ShimOptions), repeated
# here: the core imports neither.
DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024
DEFAULT_HTTP_HEADER_TIMEOUT = 10.0
DEFAULT_HTTP_BODY_TIMEOUT = 30.0

_TRUE = {"1", "true", "yes", "on"}

# Reads one environment variable: its stripped value, None when unset or blank.
Env = Callable[[str], str | None]


def _ledger_sync(raw: str | None) -> Durability:
    """AIHUB_LEDGER_SYNC: how a settled call's ledger commit reaches the disk (`full`: fsynced,
    `normal`: left to the OS)."""
    value = (raw or "full").lower()
    if value == "full":
        return Durability.DURABLE
    if value == "normal":
        return Durability.DEFERRED
    raise ConfigError(f"AIHUB_LEDGER_SYNC must be full or normal, got {raw!r}")


def _delay_ms(raw: str | None) -> int:
    """AIHUB_SIMULATOR_CHUNK_DELAY_MS: milliseconds from 0 to a minute."""
    if raw is None:
        return 20
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60_000:
        raise ConfigError(f"AIHUB_SIMULATOR_CHUNK_DELAY_MS must be 0 to 60000, got {raw!r}")
    return round(value)


def _seconds(env: Env, name: str, default: float, *, zero: bool = False) -> float:
    """A number of seconds: positive, or 0 too when `zero` (no wait at all)."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not (value >= 0 if zero else value > 0):
        raise ConfigError(f"{name} must be {'0 or more' if zero else 'positive'}, got {raw!r}")
    return value


def _count(env: Env, name: str, default: int, least: int) -> int:
    """A whole number from `least`."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if value < least:
        raise ConfigError(f"{name} must be a whole number from {least}, got {raw!r}")
    return value


def _retry_policy(env: Env) -> RetryPolicy:
    """AIHUB_RETRY_*: how often and how patiently an upstream is retried before the first byte."""
    default = RetryPolicy()
    base = _seconds(env, "AIHUB_RETRY_BACKOFF_BASE", default.base_delay, zero=True)
    cap = _seconds(env, "AIHUB_RETRY_BACKOFF_CAP", default.max_delay, zero=True)
    if cap < base:
        raise ConfigError(
            f"AIHUB_RETRY_BACKOFF_CAP ({cap:g}) must be at least AIHUB_RETRY_BACKOFF_BASE ({base:g})"
        )
    return RetryPolicy(
        max_retries=_count(env, "AIHUB_RETRY_MAX", default.max_retries, 0),
        base_delay=base,
        max_delay=cap,
        max_retry_after=_seconds(env, "AIHUB_RETRY_AFTER_MAX", default.max_retry_after, zero=True),
    )


def _breaker_policy(env: Env) -> BreakerPolicy:
    """AIHUB_BREAKER_*: when a failing service's circuit breaker opens, and for how long."""
    default = BreakerPolicy()
    return BreakerPolicy(
        failure_threshold=_count(env, "AIHUB_BREAKER_THRESHOLD", default.failure_threshold, 1),
        window=_seconds(env, "AIHUB_BREAKER_WINDOW", default.window),
        cooldown=_seconds(env, "AIHUB_BREAKER_COOLDOWN", default.cooldown),
    )


def _registration_open(raw: str | None) -> bool:
    """AIHUB_REGISTRATION: `open` (anyone may register) or `closed` (the operator creates accounts)."""
    value = (raw or "open").lower()
    if value not in ("open", "closed"):
        raise ConfigError(f"AIHUB_REGISTRATION must be open or closed, got {raw!r}")
    return value == "open"


def _trusted_proxies(raw: str) -> tuple[str, ...]:
    """AIHUB_TRUSTED_PROXIES: addresses or networks (`10.0.0.0/8`), separated by commas or spaces."""
    found = []
    for item in raw.replace(",", " ").split():
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"AIHUB_TRUSTED_PROXIES: {item!r} is not an IP address or network (such as 10.0.0.0/8)"
            ) from None
    return tuple(found)


def _byte_count(name: str, raw: str | None) -> int:
    """A number of bytes, at least 1 MiB (a chat with images needs tens of them)."""
    if raw is None:
        return DEFAULT_MAX_BODY_BYTES_IN_FLIGHT
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1024 * 1024:
        raise ConfigError(f"{name} must be a number of bytes, at least 1048576 (1 MiB), got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know, built from an injectable environment."""

    host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 50051
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    ledger_sync: Durability = Durability.DURABLE
    # AIHUB_LEASE_SECONDS: how long a dead process's pending calls may wait for recovery.
    lease_seconds: float = 30.0
    database_pool_size: int = 10
    database_statement_cache: int = 100
    jwt_secret: str | None = None
    jwt_ttl_seconds: int = 24 * 3600
    # Built-in service name -> its key and URL (see `credentials`: absent means unset, the default URL).
    providers: Mapping[str, Credentials] = dataclasses.field(default_factory=dict)
    simulate: bool = False
    simulator_chunk_delay_ms: int = 20
    timeouts: UpstreamTimeouts = dataclasses.field(default_factory=UpstreamTimeouts)
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = dataclasses.field(default_factory=BreakerPolicy)
    config_path: Path | None = None
    # The REST/SSE shim's own guards (aihub_http.ShimOptions).
    metrics_token: str | None = dataclasses.field(default=None, repr=False)
    max_body_bytes_in_flight: int = DEFAULT_MAX_BODY_BYTES_IN_FLIGHT
    http_header_timeout: float = DEFAULT_HTTP_HEADER_TIMEOUT
    http_body_timeout: float = DEFAULT_HTTP_BODY_TIMEOUT
    # Who may create accounts: anyone (POST /register), or only the operator (`aihub users create`).
    registration_open: bool = True
    # Proxies whose X-Forwarded-For (x-forwarded-for metadata) names the client: addresses or networks.
    trusted_proxies: tuple[str, ...] = ()
    # AIHUB_READ_RATE_LIMIT: calls other than model calls per minute, per API key (per user with a
    # login token); apart from the plan's limits and the monthly quota. 0: no limit.
    read_rate_limit: int = DEFAULT_READ_LIMIT
    # The input limits of plans that set none (AIHUB_MAX_INPUT_CHARS, AIHUB_MAX_INPUT_IMAGE_BYTES); 0: none.
    max_input_chars: int = 0
    max_input_image_bytes: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Read the documented AIHUB_* / provider variables; `overrides` (flags) win."""

        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        base = UpstreamTimeouts()
        config = text("AIHUB_CONFIG")
        values: dict[str, object] = {
            "database_url": text("AIHUB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "redis_url": text("AIHUB_REDIS_URL"),
            "redis_prefix": text("AIHUB_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX,
            "ledger_sync": _ledger_sync(text("AIHUB_LEDGER_SYNC")),
            "lease_seconds": _seconds(text, "AIHUB_LEASE_SECONDS", 30.0),
            "database_pool_size": _count(text, "AIHUB_DATABASE_POOL_SIZE", 10, 1),
            "database_statement_cache": _count(text, "AIHUB_DATABASE_STATEMENT_CACHE", 100, 0),
            "jwt_secret": text("AIHUB_JWT_SECRET"),
            "providers": {
                kind.name: Credentials(
                    (text(builtin.base_url_env) or builtin.default_base_url).rstrip("/"),
                    text(builtin.api_key_env),
                )
                for kind, builtin in builtin_services()
            },
            "simulate": (text("AIHUB_SIMULATE") or "").lower() in _TRUE,
            "simulator_chunk_delay_ms": _delay_ms(text("AIHUB_SIMULATOR_CHUNK_DELAY_MS")),
            "timeouts": UpstreamTimeouts(
                connect=_seconds(text, "AIHUB_UPSTREAM_CONNECT_TIMEOUT", base.connect),
                first_byte=_seconds(text, "AIHUB_UPSTREAM_FIRST_BYTE_TIMEOUT", base.first_byte),
                idle=_seconds(text, "AIHUB_UPSTREAM_IDLE_TIMEOUT", base.idle),
            ),
            "retry": _retry_policy(text),
            "breaker": _breaker_policy(text),
            "config_path": Path(config) if config else None,
            "metrics_token": text("AIHUB_METRICS_TOKEN"),
            "max_body_bytes_in_flight": _byte_count(
                "AIHUB_MAX_BODY_BYTES_IN_FLIGHT", text("AIHUB_MAX_BODY_BYTES_IN_FLIGHT")
            ),
            "http_header_timeout": _seconds(text, "AIHUB_HTTP_HEADER_TIMEOUT", DEFAULT_HTTP_HEADER_TIMEOUT),
            "http_body_timeout": _seconds(text, "AIHUB_HTTP_BODY_TIMEOUT", DEFAULT_HTTP_BODY_TIMEOUT),
            "registration_open": _registration_open(text("AIHUB_REGISTRATION")),
            "trusted_proxies": _trusted_proxies(text("AIHUB_TRUSTED_PROXIES") or ""),
            "read_rate_limit": _count(text, "AIHUB_READ_RATE_LIMIT", DEFAULT_READ_LIMIT, 0),
            "max_input_chars": _count(text, "AIHUB_MAX_INPUT_CHARS", 0, 0),
            "max_input_image_bytes": _count(text, "AIHUB_MAX_INPUT_IMAGE_BYTES", 0, 0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def store_options(self) -> StoreOptions:
        """How this process opens its store."""
        return StoreOptions(
            durability=self.ledger_sync,
            lease_seconds=self.lease_seconds,
            pool_size=self.database_pool_size,
            statement_cache_size=self.database_statement_cache,
        )

    @property
    def data_dir(self) -> Path:
        """Where files beside the database live (the dev JWT secret, the synced catalog): the
        SQLite file's folder, or the working directory for an in-memory or non-SQLite database."""
        try:
            path = sqlite_path(self.database_url)
        except InvalidRequestError:  # not a SQLite URL
            return Path.cwd()
        return Path.cwd() if path == MEMORY else Path(path).resolve().parent

    @property
    def synced_catalog_path(self) -> Path:
        """The file `aihub models sync` writes and the core reads at start."""
        return self.data_dir / "aihub-catalog.json"

    def credentials(self, service: str) -> Credentials:
        """A built-in service's URL and key: as configured, else its default URL and no key."""
        found = self.providers.get(service)
        if found is not None:
            return found
        builtin = provider_kind(service).builtin
        if builtin is None:
            raise KeyError(f"{service} is not a built-in service")
        return Credentials(builtin.default_base_url)

    def simulated(self, service: str) -> bool:
        """Whether a built-in service is answered by its simulator."""
        return self.simulate or not self.credentials(service).api_key
