from pathlib import Path

import pytest

from aihub_cli.http_protocol import DEFAULT_HEADER_TIMEOUT
from aihub_core.app import Core
from aihub_core.errors import ConfigError
from aihub_core.providers.registry import Credentials
from aihub_core.resilience import BreakerPolicy, RetryPolicy
from aihub_core.settings import Settings
from aihub_core.store import Durability
from aihub_core.store.sqlite.store import SQLiteStore
from aihub_http import ShimOptions
from tests.conftest import isolated_settings


def test_redis_settings_come_from_the_environment() -> None:
    assert (Settings.from_env({}).redis_url, Settings.from_env({}).redis_prefix) == (None, "aihub:")
    shared = Settings.from_env({"AIHUB_REDIS_URL": " redis://cache:6379/2 ", "AIHUB_REDIS_PREFIX": "gw2:"})
    assert (shared.redis_url, shared.redis_prefix) == ("redis://cache:6379/2", "gw2:")


def test_the_read_limit_comes_from_the_environment() -> None:
    assert Settings.from_env({}).read_rate_limit == 600
    assert Settings.from_env({"AIHUB_READ_RATE_LIMIT": "0"}).read_rate_limit == 0  # no limit
    assert Settings.from_env({"AIHUB_READ_RATE_LIMIT": "1200"}).read_rate_limit == 1200
    with pytest.raises(ConfigError, match="AIHUB_READ_RATE_LIMIT must be a whole number from 0"):
        Settings.from_env({"AIHUB_READ_RATE_LIMIT": "-1"})


def test_ledger_sync_comes_from_the_environment() -> None:
    assert Settings.from_env({}).ledger_sync == Durability.DURABLE
    assert Settings.from_env({"AIHUB_LEDGER_SYNC": "Normal"}).ledger_sync == Durability.DEFERRED
    assert Settings.from_env({"AIHUB_LEDGER_SYNC": "full"}).ledger_sync == Durability.DURABLE
    with pytest.raises(ConfigError, match="AIHUB_LEDGER_SYNC must be full or normal"):
        Settings.from_env({"AIHUB_LEDGER_SYNC": "off"})


def test_store_settings_come_from_the_environment() -> None:
    defaults = Settings.from_env({}).store_options()
    assert (defaults.lease_seconds, defaults.pool_size, defaults.statement_cache_size) == (30.0, 10, 100)
    env = {
        "AIHUB_LEASE_SECONDS": "12.5",
        "AIHUB_DATABASE_POOL_SIZE": "4",
        "AIHUB_DATABASE_STATEMENT_CACHE": "0",
        "AIHUB_LEDGER_SYNC": "normal",
    }
    options = Settings.from_env(env).store_options()
    assert (options.lease_seconds, options.pool_size, options.statement_cache_size) == (12.5, 4, 0)
    assert options.durability == Durability.DEFERRED and options.owner is None
    for name, value in (("AIHUB_DATABASE_POOL_SIZE", "0"), ("AIHUB_DATABASE_STATEMENT_CACHE", "-1")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
    with pytest.raises(ConfigError, match="AIHUB_LEASE_SECONDS must be positive"):
        Settings.from_env({"AIHUB_LEASE_SECONDS": "0"})


def test_provider_keys_and_urls_come_from_the_documented_variables() -> None:
    unset = Settings.from_env({})
    assert unset.credentials("openrouter") == Credentials("https://openrouter.ai/api/v1")
    assert unset.credentials("gemini") == Credentials("https://generativelanguage.googleapis.com/v1beta")
    assert unset.simulated("openrouter") and unset.simulated("gemini")
    assert Settings().credentials("gemini") == unset.credentials("gemini")  # built without an environment
    live = Settings.from_env(
        {
            "OPENROUTER_API_KEY": " sk-or-1 ",
            "OPENROUTER_BASE_URL": "http://proxy/api/v1/",
            "GEMINI_API_KEY": "g-1",
        }
    )
    assert live.credentials("openrouter") == Credentials("http://proxy/api/v1", "sk-or-1")
    assert live.credentials("gemini").api_key == "g-1"
    assert not live.simulated("openrouter") and not live.simulated("gemini")
    assert "sk-or-1" not in repr(live)
    forced = Settings.from_env({"OPENROUTER_API_KEY": "sk-or-1", "AIHUB_SIMULATE": "1"})
    assert forced.simulated("openrouter")
    with pytest.raises(KeyError):
        live.credentials("openai-compatible")  # a kind, not a built-in service


def test_retry_and_breaker_policies_come_from_the_environment() -> None:
    defaults = Settings.from_env({})
    assert (defaults.retry, defaults.breaker) == (RetryPolicy(), BreakerPolicy())
    assert (defaults.retry.max_retries, defaults.retry.base_delay, defaults.retry.max_delay) == (2, 0.25, 4.0)
    assert defaults.retry.max_retry_after == 10.0
    assert (defaults.breaker.failure_threshold, defaults.breaker.window, defaults.breaker.cooldown) == (
        5,
        60.0,
        30.0,
    )
    tuned = Settings.from_env(
        {
            "AIHUB_RETRY_MAX": "0",
            "AIHUB_RETRY_BACKOFF_BASE": "0",
            "AIHUB_RETRY_BACKOFF_CAP": "0",
            "AIHUB_RETRY_AFTER_MAX": " 2.5 ",
            "AIHUB_BREAKER_THRESHOLD": "1",
            "AIHUB_BREAKER_WINDOW": "5",
            "AIHUB_BREAKER_COOLDOWN": "0.5",
        }
    )
    assert tuned.retry == RetryPolicy(max_retries=0, base_delay=0.0, max_delay=0.0, max_retry_after=2.5)
    assert tuned.breaker == BreakerPolicy(failure_threshold=1, window=5.0, cooldown=0.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AIHUB_RETRY_MAX", "-1", "AIHUB_RETRY_MAX must be a whole number from 0, got '-1'"),
        ("AIHUB_RETRY_MAX", "2.5", "AIHUB_RETRY_MAX must be a whole number from 0"),
        ("AIHUB_BREAKER_THRESHOLD", "0", "AIHUB_BREAKER_THRESHOLD must be a whole number from 1"),
        ("AIHUB_BREAKER_THRESHOLD", "many", "AIHUB_BREAKER_THRESHOLD must be a whole number from 1"),
        ("AIHUB_RETRY_BACKOFF_BASE", "-0.1", "AIHUB_RETRY_BACKOFF_BASE must be 0 or more"),
        ("AIHUB_RETRY_AFTER_MAX", "soon", "AIHUB_RETRY_AFTER_MAX must be a number"),
        (
            "AIHUB_RETRY_BACKOFF_CAP",
            "0.1",
            r"AIHUB_RETRY_BACKOFF_CAP \(0.1\) must be at least AIHUB_RETRY_BACKOFF_BASE \(0.25\)",
        ),
        ("AIHUB_BREAKER_WINDOW", "0", "AIHUB_BREAKER_WINDOW must be positive"),
        ("AIHUB_BREAKER_COOLDOWN", "nan", "AIHUB_BREAKER_COOLDOWN must be positive"),
        ("AIHUB_UPSTREAM_IDLE_TIMEOUT", "0", "AIHUB_UPSTREAM_IDLE_TIMEOUT must be positive"),
    ],
)
def test_a_bad_retry_or_breaker_setting_is_a_config_error(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_the_metrics_token_comes_from_the_environment_and_stays_out_of_the_repr() -> None:
    assert Settings.from_env({}).metrics_token is None
    guarded = Settings.from_env({"AIHUB_METRICS_TOKEN": " scrape-me "})
    assert guarded.metrics_token == "scrape-me"
    assert "scrape-me" not in repr(guarded)


def test_the_bytes_of_bodies_in_flight_come_from_the_environment() -> None:
    assert (
        Settings.from_env({}).max_body_bytes_in_flight
        == 64 * 1024 * 1024
        == ShimOptions().max_body_bytes_in_flight
    )
    assert (
        Settings.from_env({"AIHUB_MAX_BODY_BYTES_IN_FLIGHT": "134217728"}).max_body_bytes_in_flight == 2**27
    )
    for bad in ("1000", "64MiB", "-5", "１２３４５６７８"):
        with pytest.raises(ConfigError, match="AIHUB_MAX_BODY_BYTES_IN_FLIGHT must be a number of bytes"):
            Settings.from_env({"AIHUB_MAX_BODY_BYTES_IN_FLIGHT": bad})


def test_the_http_timeouts_come_from_the_environment_at_most_30_seconds_by_default() -> None:
    defaults = Settings.from_env({})
    assert (defaults.http_header_timeout, defaults.http_body_timeout) == (10.0, 30.0)
    assert defaults.http_body_timeout == ShimOptions().body_timeout
    assert defaults.http_header_timeout == DEFAULT_HEADER_TIMEOUT
    short = Settings.from_env({"AIHUB_HTTP_HEADER_TIMEOUT": "0.5", "AIHUB_HTTP_BODY_TIMEOUT": "2"})
    assert (short.http_header_timeout, short.http_body_timeout) == (0.5, 2.0)
    with pytest.raises(ConfigError, match="AIHUB_HTTP_BODY_TIMEOUT must be positive"):
        Settings.from_env({"AIHUB_HTTP_BODY_TIMEOUT": "0"})


def test_registration_and_trusted_proxies_come_from_the_environment() -> None:
    defaults = Settings.from_env({})
    assert (defaults.registration_open, defaults.trusted_proxies) == (True, ())
    closed = Settings.from_env(
        {"AIHUB_REGISTRATION": "Closed", "AIHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 2001:db8::/32"}
    )
    assert closed.registration_open is False
    assert closed.trusted_proxies == ("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")
    with pytest.raises(ConfigError, match="AIHUB_REGISTRATION must be open or closed"):
        Settings.from_env({"AIHUB_REGISTRATION": "invite-only"})
    with pytest.raises(ConfigError, match=r"AIHUB_TRUSTED_PROXIES: 'lb\.internal' is not an IP address"):
        Settings.from_env({"AIHUB_TRUSTED_PROXIES": "10.0.0.1,lb.internal"})


async def test_the_core_commits_its_ledger_as_configured(tmp_path: Path) -> None:
    core = await Core.start(isolated_settings(tmp_path, ledger_sync=Durability.DEFERRED))
    try:
        assert isinstance(core.store, SQLiteStore) and core.store.ledger_synchronous == "NORMAL"
    finally:
        await core.stop(grace=0)


async def test_core_start_policies_replace_the_settings_ones(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, retry=RetryPolicy(max_retries=4))
    core = await Core.start(settings, retry=RetryPolicy(max_retries=0), breaker=BreakerPolicy(cooldown=5))
    try:
        assert core.router.retry == RetryPolicy(max_retries=0)
        assert core.router.breaker("openrouter", "x-ai/grok-beta")._policy == BreakerPolicy(cooldown=5)
    finally:
        await core.stop(grace=0)
    core = await Core.start(settings)
    try:
        assert core.router.retry == RetryPolicy(max_retries=4)
    finally:
        await core.stop(grace=0)


def test_the_default_input_limits_come_from_the_environment() -> None:
    defaults = Settings.from_env({})
    assert (defaults.max_input_chars, defaults.max_input_image_bytes) == (0, 0)
    set_ = Settings.from_env({"AIHUB_MAX_INPUT_CHARS": "100000", "AIHUB_MAX_INPUT_IMAGE_BYTES": "5242880"})
    assert (set_.max_input_chars, set_.max_input_image_bytes) == (100_000, 5_242_880)
    with pytest.raises(ConfigError, match="AIHUB_MAX_INPUT_CHARS must be a whole number from 0"):
        Settings.from_env({"AIHUB_MAX_INPUT_CHARS": "-1"})
