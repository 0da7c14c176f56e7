"""The JWT secret: configured, or generated once and reused beside the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aihub_core.auth.secrets import SECRET_FILE_NAME, load_or_create_jwt_secret
from aihub_core.auth.tokens import TokenIssuer


def test_a_configured_secret_wins(tmp_path: Path) -> None:
    assert load_or_create_jwt_secret("c" * 40, tmp_path) == ("c" * 40, False)
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_a_generated_secret_is_private_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "not" / "yet"
    secret, generated = load_or_create_jwt_secret(None, directory)
    assert generated
    path = directory / SECRET_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == secret
    assert len(secret) >= 43  # 256 bits, url-safe base64
    assert load_or_create_jwt_secret("", directory) == (secret, True)
    assert [p.name for p in directory.iterdir()] == [SECRET_FILE_NAME]
    TokenIssuer(secret, ttl_seconds=60)  # long enough to sign with


def test_different_directories_get_different_secrets(tmp_path: Path) -> None:
    first, _ = load_or_create_jwt_secret(None, tmp_path / "a")
    second, _ = load_or_create_jwt_secret(None, tmp_path / "b")
    assert first != second


def test_an_unusable_secret_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE_NAME).write_text("short\n")
    with pytest.raises(ValueError, match="delete it"):
        load_or_create_jwt_secret(None, tmp_path)
