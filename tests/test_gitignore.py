"""What `aihub serve` writes into a checkout is never committed by a `git add -A`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WRITTEN = [
    "aihub.db",
    "aihub.db-wal",
    "aihub.db-shm",
    "aihub.db-journal",
    ".aihub-jwt-secret",
    ".aihub-jwt-secret.123.abcd.tmp",
    "aihub-catalog.json",
    ".aihub-catalog.json.tmp",
]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_database_the_jwt_secret_and_the_synced_catalog_are_ignored() -> None:
    checked = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *WRITTEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    not_ignored = [line.split("\t")[-1] for line in checked.stdout.splitlines() if line.startswith("::")]
    assert not_ignored == []
