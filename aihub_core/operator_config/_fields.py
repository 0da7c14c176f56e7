"""Typed reads of one TOML table, each failure a ConfigError naming the file, table and key."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from yarl import URL

from aihub_core.errors import ConfigError


class Table:
    """One TOML table of the operator file; unknown keys are refused up front."""

    def __init__(self, source: str, where: str, data: object, allowed: Collection[str]) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: [{where}] must be a table, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.error(unknown[0], f"unknown key; allowed keys: {', '.join(sorted(allowed))}")

    def error(self, key: str, problem: str) -> ConfigError:
        """A ConfigError for `key` of this table."""
        return ConfigError(f"{self.source}: [{self.where}] {key}: {problem}")

    def has(self, key: str) -> bool:
        """Whether the key is present."""
        return key in self.data

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise self.error(key, "is required")
        return self.data[key]

    def text(self, key: str) -> str:
        """A required non-empty string."""
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def string(self, key: str) -> str:
        """A required string, possibly empty."""
        value = self._get(key)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        return value

    def integer(self, key: str, minimum: int = 0) -> int:
        """A required integer of at least `minimum` (booleans are not integers here)."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be an integer >= {minimum}, got {value!r}")
        return value

    def price(self, key: str) -> float:
        """A required non-negative finite number: USD per token."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, f"must be a number (USD per token), got {value!r}")
        if value < 0:
            raise self.error(key, f"must not be negative, got {value!r}")
        return float(value)

    def strings(self, key: str) -> tuple[str, ...]:
        """A required list of non-empty strings."""
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, f"must be a list of non-empty strings, got {value!r}")
        return tuple(v.strip() for v in value)

    def url(self, key: str) -> str:
        """A required absolute http(s) URL without query or fragment; trailing slashes dropped."""
        raw = self.text(key)
        try:
            parsed = URL(raw)  # yarl, as the upstream client (aiohttp) will read it
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise self.error(key, f"must be an absolute http:// or https:// URL, got {raw!r}")
        if parsed.query_string or parsed.fragment:
            raise self.error(key, f"must not carry a query or fragment, got {raw!r}")
        return raw.rstrip("/")

    def webhook_url(self, key: str) -> str:
        """A required absolute http(s) URL to POST to, kept exactly as written (its path, trailing
        slash and query are the receiver's: a Slack-style secret path, a `?token=`), with a host
        and without a fragment."""
        raw = self.text(key)
        try:
            parsed = URL(raw)
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise self.error(key, "must be an absolute http:// or https:// URL with a host")
        if parsed.fragment or "#" in raw:
            raise self.error(key, "must not carry a fragment (#...)")
        return raw

    def tables(self, key: str) -> list[Any]:
        """An optional array of tables (empty when absent)."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be an array of tables")
        return value

    def mapping(self, key: str) -> Mapping[str, Any]:
        """An optional table (empty when absent)."""
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return value
