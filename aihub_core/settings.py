"""Process settings: flags, then environment, then defaults, frozen once at start-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aihub_core.errors import InvalidRequestError
from aihub_core.providers.registry import Credentials, builtin_services, provider_kind
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.store import Durability, StoreOptions
from aihub_core.store.sqlite.url import MEMORY, sqlite_path

DEFAULT_DATABASE_URL = "sqlite:///./aihub.db"
DEFAULT_REDIS_PREFIX = "aihub:"

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """The process configuration (flags, environment) is unusable; the message says why."""


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


def _count(environ: Mapping[str, str], name: str, default: int, least: int) -> int:
    """A whole number setting of at least `least`."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if value < least:
        raise ConfigError(f"{name} must be a whole number of at least {least}, got {raw!r}")
    return value


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
    config_path: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Read the documented AIHUB_* / provider variables; `overrides` (flags) win."""

        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        def number(name: str, default: float) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {raw!r}")
            return value

        base = UpstreamTimeouts()
        config = text("AIHUB_CONFIG")
        values: dict[str, object] = {
            "database_url": text("AIHUB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "redis_url": text("AIHUB_REDIS_URL"),
            "redis_prefix": text("AIHUB_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX,
            "ledger_sync": _ledger_sync(text("AIHUB_LEDGER_SYNC")),
            "lease_seconds": number("AIHUB_LEASE_SECONDS", 30.0),
            "database_pool_size": _count(environ, "AIHUB_DATABASE_POOL_SIZE", 10, least=1),
            "database_statement_cache": _count(environ, "AIHUB_DATABASE_STATEMENT_CACHE", 100, least=0),
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
                connect=number("AIHUB_UPSTREAM_CONNECT_TIMEOUT", base.connect),
                first_byte=number("AIHUB_UPSTREAM_FIRST_BYTE_TIMEOUT", base.first_byte),
                idle=number("AIHUB_UPSTREAM_IDLE_TIMEOUT", base.idle),
            ),
            "config_path": Path(config) if config else None,
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
