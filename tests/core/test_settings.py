from aihub_core.settings import Settings


def test_redis_settings_come_from_the_environment() -> None:
    assert (Settings.from_env({}).redis_url, Settings.from_env({}).redis_prefix) == (None, "aihub:")
    shared = Settings.from_env({"AIHUB_REDIS_URL": " redis://cache:6379/2 ", "AIHUB_REDIS_PREFIX": "gw2:"})
    assert (shared.redis_url, shared.redis_prefix) == ("redis://cache:6379/2", "gw2:")
