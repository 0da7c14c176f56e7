"""`[alerts]` in AIHUB_CONFIG: the webhook's URL and secret variable, refused with clear errors."""

from __future__ import annotations

import tomllib

import pytest

from aihub_core.errors import ConfigError
from aihub_core.operator_config import parse_operator_config

SECRET = "whsec-0123456789abcdef"


def test_the_webhook_is_read_with_its_secret_from_the_environment() -> None:
    text = '[alerts]\nurl = "https://hooks.example.com/aihub/"\nsecret_env = "HOOK_SECRET"\n'
    text += "retry_seconds = 0.5\n"
    config = parse_operator_config(tomllib.loads(text), "/etc/aihub.toml", {"HOOK_SECRET": SECRET}).alerts
    assert config is not None
    assert (config.url, config.secret, config.secret_env) == (
        "https://hooks.example.com/aihub/",  # the receiver's path, kept exactly
        SECRET,
        "HOOK_SECRET",
    )
    assert (config.retry_seconds, config.max_retry_seconds) == (0.5, 3600.0)
    assert config.give_up_after_hours is None  # retried without end unless the operator says
    text += "give_up_after_hours = 72\n"
    config = parse_operator_config(tomllib.loads(text), "/etc/aihub.toml", {"HOOK_SECRET": SECRET}).alerts
    assert config is not None and config.give_up_after_hours == 72.0
    assert SECRET not in repr(config)
    assert parse_operator_config({}, "/etc/aihub.toml", {}).alerts is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[alerts]\nsecret_env = "HOOK_SECRET"', "[alerts] url: is required"),
        ('[alerts]\nurl = "ftp://x"\nsecret_env = "HOOK_SECRET"', "[alerts] url: must be an absolute http"),
        ('[alerts]\nurl = "https://x.example"', "[alerts] secret_env: is required"),
        (
            '[alerts]\nurl = "https://x.example/hook#frag"\nsecret_env = "HOOK_SECRET"',
            "url: must not carry a fragment",
        ),
        ('[alerts]\nurl = "https:///hook"\nsecret_env = "HOOK_SECRET"', "url: must be an absolute http"),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "UNSET"',
            "the environment variable UNSET is not set",
        ),
        ('[alerts]\nurl = "https://x.example"\nsecret_env = "SHORT"', "too short"),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "HOOK_SECRET"\nretry_seconds = 0',
            "retry_seconds",
        ),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "HOOK_SECRET"\n'
            "retry_seconds = 10\nmax_retry_seconds = 5",
            "max_retry_seconds: must not be below",
        ),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "HOOK_SECRET"\nsecret = "x"',
            "[alerts] secret: unknown key",
        ),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "HOOK_SECRET"\ngive_up_after_hours = 0',
            "give_up_after_hours: must be a number of hours above 0",
        ),
        (
            '[alerts]\nurl = "https://x.example"\nsecret_env = "HOOK_SECRET"\ngive_up_after_hours = "1d"',
            "give_up_after_hours: must be a number of hours",
        ),
    ],
)
def test_bad_webhook_settings_are_refused_naming_the_key(text: str, named: str) -> None:
    environ = {"HOOK_SECRET": SECRET, "SHORT": "abc"}
    with pytest.raises(ConfigError) as info:
        parse_operator_config(tomllib.loads(text), "/etc/aihub.toml", environ)
    assert named in str(info.value) and "/etc/aihub.toml" in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
        "https://hooks.example.com/aihub/?token=s3cret&x=1",
        "http://user:pa55@127.0.0.1:8080/hook/",
    ],
)
def test_a_webhook_url_is_kept_as_written_and_only_its_origin_is_shown(url: str) -> None:
    text = f'[alerts]\nurl = "{url}"\nsecret_env = "HOOK_SECRET"\n'
    config = parse_operator_config(tomllib.loads(text), "/etc/aihub.toml", {"HOOK_SECRET": SECRET}).alerts
    assert config is not None and config.url == url
    shown = config.origin
    assert shown in {"https://hooks.slack.com", "https://hooks.example.com", "http://127.0.0.1:8080"}
    for secret in ("SECRET", "s3cret", "pa55", "user"):
        assert secret not in shown
