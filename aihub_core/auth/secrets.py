"""The JWT signing secret: the configured one, or a generated one kept beside the database.

A generated secret is persisted so tokens survive a restart, and is reported so the caller can
warn: every replica of a deployment needs the same configured AIHUB_JWT_SECRET instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from aihub_core.auth.tokens import MIN_SECRET_BYTES

SECRET_FILE_NAME = ".aihub-jwt-secret"


def load_or_create_jwt_secret(configured: str | None, directory: Path) -> tuple[str, bool]:
    """The secret to sign with, and whether it is the generated development one (warn if so)."""
    if configured:
        return configured, False
    path = directory / SECRET_FILE_NAME
    existing = _read(path)
    if existing is not None:
        return existing, True
    return _create(path), True


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    if len(text.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds no usable JWT secret: delete it to have a new one generated")
    return text


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)  # 256 bits
    # Written in full under a private name, then linked into place: a second process starting at
    # the same moment either wins the link or reads the complete secret of the first.
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secret + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            existing = _read(path)
            if existing is None:
                raise
            return existing
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return secret
