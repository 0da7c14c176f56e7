from pathlib import Path

import pytest

from aihub_core.app import Core
from aihub_core.providers.registry import Credentials
from aihub_core.settings import ConfigError, Settings
from aihub_core.store import Durability
from aihub_core.store.sqlite.store import SQLiteStore
from tests.conftest import isolated_settings


def test_redis_settings_come_from_the_environment() -> None:
    assert (Settings.from_env({}).redis_url, Settings.from_env({}).redis_prefix) == (None, "aihub:")
    shared = Settings.from_env({"AIHUB_REDIS_URL": " redis://cache:6379/2 ", "AIHUB_REDIS_PREFIX": "gw2:"})
    assert (shared.redis_url, shared.redis_prefix) == ("redis://cache:6379/2", "gw2:")


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


async def test_the_core_commits_its_ledger_as_configured(tmp_path: Path) -> None:
    core = await Core.start(isolated_settings(tmp_path, ledger_sync=Durability.DEFERRED))
    try:
        assert isinstance(core.store, SQLiteStore) and core.store.ledger_synchronous == "NORMAL"
    finally:
        await core.stop(grace=0)
