from pathlib import Path

import pytest

from aihub_core.app import Core
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


async def test_the_core_commits_its_ledger_as_configured(tmp_path: Path) -> None:
    core = await Core.start(isolated_settings(tmp_path, ledger_sync=Durability.DEFERRED))
    try:
        assert isinstance(core.store, SQLiteStore) and core.store.ledger_synchronous == "NORMAL"
    finally:
        await core.stop(grace=0)
