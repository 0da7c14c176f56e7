"""Accounts: register, login, and turning bearer credentials into a Caller."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aihub_core.auth import api_keys, credentials
from aihub_core.auth.passwords import hash_password_async, verify_password_async
from aihub_core.auth.tokens import AccessToken, TokenIssuer
from aihub_core.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError
from aihub_core.identity import Caller
from aihub_core.limits.logins import InProcessLoginCounters, LoginThrottle
from aihub_core.limits.plans import DEFAULT_PLAN, Plans
from aihub_core.services.keys import key_budget, user_budget
from aihub_core.store.base import Store, UserRecord

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# last_used is written at most this often per key, so authentication stays a read.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_CONCURRENT_HASHES = 2
# Callers kept by the auth cache (keys and JWT users together), least recently used dropped first.
AUTH_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Login:
    """A user and a fresh JWT."""

    user: UserRecord
    token: str
    expires_at: datetime


def _email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidRequestError("email must be a valid email address", code="invalid_email", param="email")
    return email


def new_user(email: str, plan: str, created_at: datetime, password_hash: str) -> UserRecord:
    """The record of a new account (its email normalised; the caller hashed the checked password)."""
    return UserRecord(
        id=f"user_{secrets.token_hex(12)}",
        email=_email(email),
        password_hash=password_hash,
        plan=plan,
        created_at=created_at,
    )


def check_new_account(email: str, password: str) -> None:
    """The 400 for an email or password an account cannot have (register and `aihub users create`)."""
    _email(email)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequestError(
            f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            code="invalid_password",
            param="password",
        )


def _bad_login() -> AuthenticationError:
    return AuthenticationError("Incorrect email or password", code="invalid_credentials", param="password")


@dataclass
class CachedCaller:
    """A cached caller; for a key, also when its last_used was last written (or read), and when
    the secret stops working: the key's expiry, or a rotated-out secret's end of grace (a time,
    checked at each use, so the cache needs no invalidation when it passes)."""

    caller: Caller
    touched: datetime | None = None
    expires_at: datetime | None = None
    rotated_out: bool = False


class AuthCache:
    """Callers by key hash or user id, all read under one auth generation of the store.

    Exact because entries are only ever read under the generation they were loaded under: each
    request first `sync`s to the store's current generation (which drops everything if it moved),
    and a lookup stores what it loaded only if no newer generation was seen meanwhile. A lookup
    reads the generation before the records, so its records are at least that new; a write that
    commits after that read moves the generation, and the next request drops the entry.
    """

    def __init__(self, capacity: int = AUTH_CACHE_SIZE) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._generation: int | None = None
        self._entries: OrderedDict[tuple[str, str], CachedCaller] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def sync(self, generation: int) -> None:
        """Move to the store's current generation, dropping every entry if it changed."""
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation

    def get(self, kind: str, ident: str) -> CachedCaller | None:
        seen = self._entries.get((kind, ident))
        if seen is not None:
            self._entries.move_to_end((kind, ident))
        return seen

    def put(self, generation: int, kind: str, ident: str, seen: CachedCaller) -> None:
        """Keep what a lookup loaded after reading `generation`, unless a newer one was seen since."""
        if generation != self._generation:
            return
        self._entries[(kind, ident)] = seen
        self._entries.move_to_end((kind, ident))
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


class LiveTokens:
    """The ids of login tokens found not logged out, kept under one value of the store's log-out
    counter (`Store.revocations`) and dropped when it moves: exact as `AuthCache` is."""

    def __init__(self, capacity: int = AUTH_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._count: int | None = None
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, token_id: str) -> bool:
        return token_id in self._ids

    def sync(self, count: int) -> None:
        if count != self._count:
            self._ids.clear()
            self._count = count

    def add(self, count: int, token_id: str) -> None:
        """Keep a token found live after reading `count`, unless the counter has moved since."""
        if count != self._count:
            return
        self._ids[token_id] = None
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


class Accounts:
    """Registration, login and credential checks."""

    def __init__(
        self,
        store: Store,
        tokens: TokenIssuer,
        plans: Plans,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_size: int = AUTH_CACHE_SIZE,
        *,
        throttle: LoginThrottle | None = None,
        registration_open: bool = True,
    ) -> None:
        self._store = store
        self._throttle = throttle or LoginThrottle(InProcessLoginCounters())
        self._registration_open = registration_open
        self._tokens = tokens
        self._plans = plans
        self._now = now
        # A key or user already seen costs one auth_generation read, not two store reads.
        self._cache = AuthCache(cache_size)
        self._live_tokens = LiveTokens(cache_size)
        # argon2 takes ~100 ms and 64 MiB per hash: a flood of logins must not take every
        # worker thread (and all memory) from the rest of the gateway.
        self._hashing = asyncio.Semaphore(MAX_CONCURRENT_HASHES)

    async def register(self, email: str, password: str) -> Login:
        """Create an account on the free plan (409 if the email is taken; 403 when registration
        is closed, and the operator creates accounts with `aihub users create`)."""
        if not self._registration_open:
            raise PermissionDeniedError(
                "Registration is closed on this gateway: its operator creates the accounts",
                code="registration_closed",
                suggestion="Ask the gateway's operator for an account",
            )
        check_new_account(email, password)
        user = new_user(email, DEFAULT_PLAN, self._now(), await self._hash(password))
        await self._store.create_user(user)
        return self._login(user)

    async def login(self, email: str, password: str, client_address: str = "") -> Login:
        """Check the password and issue a fresh JWT; failures are throttled per client address and
        account (`limits.logins`), and a throttled attempt is refused before any hashing."""
        if not email.strip() or not password:
            raise InvalidRequestError(
                "email and password are required",
                code="missing_parameter",
                param="email" if not email.strip() else "password",
            )
        address = email.strip().lower()
        await self._throttle.check(address, client_address)
        user = await self._store.get_user_by_email(address)
        # Verify even for unknown emails (against a dummy hash) so timing does not reveal accounts.
        async with self._hashing:
            ok = await verify_password_async(user.password_hash if user else None, password)
        if user is None or not ok:
            await self._throttle.failed(address, client_address)
            raise _bad_login()
        await self._throttle.succeeded(address, client_address)
        return self._login(user)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await hash_password_async(password)

    def _login(self, user: UserRecord) -> Login:
        token = self._tokens.issue(user.id)
        return Login(user, token.token, token.expires_at)

    def is_api_key(self, secret: str) -> bool:
        """Whether a bearer credential has the shape of an API key."""
        return api_keys.looks_like_api_key(secret)

    async def logout(self, token: str) -> AccessToken:
        """End a login token before its expiry: every store sharing the database refuses it from
        now on (`token_revoked`); logging out twice is harmless."""
        claims = self._tokens.verify(token)
        await self._store.revoke_token(claims.token_id, claims.user_id, claims.expires_at, self._now())
        return claims

    async def from_jwt(self, token: str) -> Caller:
        """The caller of a valid JWT that no log-out ended and whose user still exists. The
        revocation read is the login token's alone: API keys never pay it."""
        claims = self._tokens.verify(token)
        await self._refuse_revoked(claims.token_id)
        generation = await self._store.auth_generation()
        self._cache.sync(generation)
        seen = self._cache.get("user", claims.user_id)
        if seen is not None:
            return seen.caller
        user = await self._store.get_user(claims.user_id)
        if user is None:
            raise credentials.account_gone()
        caller = Caller(
            user.id,
            self._plans.get(user.plan),
            permissions=frozenset(api_keys.PERMISSIONS),
            user_budget=user_budget(user),
            has_alerts=user.alert_count > 0,
        )
        self._cache.put(generation, "user", user.id, CachedCaller(caller))
        return caller

    async def _refuse_revoked(self, token_id: str) -> None:
        """Refuse a logged-out token. A token found live stays so, without a store read, until the
        store's log-out counter moves (read first, as the auth generation is: exact likewise)."""
        revocations = await self._store.revocations()
        self._live_tokens.sync(revocations)
        if token_id in self._live_tokens:
            return
        if await self._store.token_revoked(token_id):
            raise credentials.token_revoked()
        self._live_tokens.add(revocations, token_id)

    async def from_api_key(self, secret: str) -> Caller:
        """The caller of a live API key; a deleted key fails at once (and so does a key whose
        deletion committed while this lookup ran, from the next request on)."""
        key_hash = api_keys.hash_api_key(secret)
        generation = await self._store.auth_generation()
        self._cache.sync(generation)
        seen = self._cache.get("key", key_hash)
        if seen is None:
            seen = await self._load_key(generation, key_hash)
        now = self._now()
        if seen.expires_at is not None and now >= seen.expires_at:
            raise credentials.api_key_expired(seen.expires_at, seen.rotated_out)
        key_id = seen.caller.key_id
        if key_id is not None and (seen.touched is None or now - seen.touched >= TOUCH_INTERVAL):
            seen.touched = now  # before the await: concurrent calls write it once
            await self._store.touch_api_key(key_id, now)
        return seen.caller

    async def _load_key(self, generation: int, key_hash: str) -> CachedCaller:
        key = await self._store.get_api_key_by_hash(key_hash)
        user = await self._store.get_user(key.user_id) if key else None
        if key is None or user is None:
            raise credentials.unknown_api_key()
        caller = Caller(
            user_id=user.id,
            plan=self._plans.get(user.plan),
            key_id=key.id,
            permissions=frozenset(key.permissions),
            key_requests_per_minute=key.requests_per_minute,
            key_budget=key_budget(key),
            user_budget=user_budget(user),
            has_alerts=user.alert_count > 0,
        )
        ends = [t for t in (key.expires_at, key.secret_expires_at) if t is not None]
        rotated_out = key.secret_expires_at is not None and (
            key.expires_at is None or key.secret_expires_at <= key.expires_at
        )
        seen = CachedCaller(caller, key.last_used, min(ends, default=None), rotated_out)
        self._cache.put(generation, "key", key_hash, seen)
        return seen
