"""The Python SDK against the real gateway: every resource, streaming and error mapping."""

from __future__ import annotations

import httpx
import pytest

from ai_hub import (
    AsyncAIHub,
    AuthenticationError,
    ContentEvent,
    InvalidRequestError,
    KeyBudget,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)


async def test_the_sdk_drives_every_endpoint(http: httpx.AsyncClient) -> None:
    base_url = str(http.base_url)
    async with AsyncAIHub(base_url=base_url) as client:
        info = await client.auth.register("sdk@example.com", "a-long-password")
        assert (await client.auth.login("sdk@example.com", "a-long-password")).user_id == info.user_id
        admin = client.with_token(info.token)
        created = await admin.api_keys.create("sdk", permissions=["chat", "models", "usage"])
        app = client.with_api_key(created.key)

        answer = await app.chat.create("Hello, world!", model="x-ai/grok-beta", max_tokens=150)
        assert answer.message and answer.model == "openrouter:x-ai/grok-beta"
        assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
        assert answer.rate_limit is not None and answer.rate_limit.limit == 20

        async with app.chat.stream("Tell me a story", session_id=answer.session_id) as stream:
            pieces = [e.content async for e in stream if isinstance(e, ContentEvent)]
        assert pieces and stream.session_id == answer.session_id and stream.usage is not None

        models = await app.models.list(service="gemini")
        assert models.total_count == len(models.models) > 0
        assert (await app.services.list()).default == "openrouter"
        report = await app.usage.get(period="day")
        assert report.total_requests == 2
        assert report.total_cost_usd == pytest.approx(
            answer.usage.estimated_cost_usd + stream.usage.estimated_cost_usd
        )
        assert (await app.quota.get()).quota_used == 2

        with pytest.raises(NotFoundError):
            await app.chat.create("hi", model="no/such-model")
        limited = await admin.api_keys.create("models only", permissions=["models"])
        with pytest.raises(PermissionDeniedError):
            await client.with_api_key(limited.key).chat.create("hi")

        listed = await admin.api_keys.list()
        assert {k.id for k in listed} == {created.id, limited.id}
        await admin.api_keys.delete(created.id)
        with pytest.raises(AuthenticationError):
            await app.quota.get()


async def test_the_sdk_creates_a_budgeted_key_and_reads_its_budget(http: httpx.AsyncClient) -> None:
    async with AsyncAIHub(base_url=str(http.base_url)) as client:
        info = await client.auth.register("budget@example.com", "a-long-password")
        admin = client.with_token(info.token)
        created = await admin.api_keys.create("capped", budget=KeyBudget(limit_usd=0.0002, period="day"))
        assert created.budget == KeyBudget(0.0002, "day")
        app = client.with_api_key(created.key)
        answer = await app.chat.create("hi", max_tokens=50)
        with pytest.raises(RateLimitError) as refused:
            await app.chat.create("hi", max_tokens=50)
        assert refused.value.code == "budget_exceeded"
        [budget] = (await app.quota.get()).budgets
        assert (budget.scope, budget.period, budget.limit_usd) == ("key", "day", 0.0002)
        assert (budget.spent_usd, budget.reserved_usd) == (answer.usage.estimated_cost_usd, 0.0)
        assert [k.budget for k in await admin.api_keys.list()] == [KeyBudget(0.0002, "day")]


async def test_the_sdk_sets_lists_and_deletes_usage_alerts(http: httpx.AsyncClient) -> None:
    async with AsyncAIHub(base_url=str(http.base_url)) as client:
        info = await client.auth.register("alerts@example.com", "a-long-password")
        admin = client.with_token(info.token)
        quota = (await admin.alerts.create("requests", threshold=0.5, of="quota", name="half")).alert
        assert quota.id.startswith("alert_") and quota.period == "month" and quota.current.limit == 500
        spend = (await admin.alerts.create("cost_usd", value=2.0, period="day")).alert
        assert (spend.value, spend.of, spend.last_fired_at) == (2.0, "", None)
        with pytest.raises(InvalidRequestError) as refused:
            await admin.alerts.create("tokens", threshold=0.5, of="quota")
        assert refused.value.details["parameter"] == "of"
        assert [a.id for a in await admin.alerts.list()] == [quota.id, spend.id]
        deleted = await admin.alerts.delete(quota.id)
        assert deleted.deleted and deleted.id == quota.id
        with pytest.raises(NotFoundError):
            await admin.alerts.delete(quota.id)
        assert len(await admin.alerts.list()) == 1


async def test_the_sdk_logs_out_one_login_token(http: httpx.AsyncClient) -> None:
    async with AsyncAIHub(base_url=str(http.base_url)) as client:
        info = await client.auth.register("logout@example.com", "a-long-password")
        other = await client.auth.login("logout@example.com", "a-long-password")
        session = client.with_token(info.token)
        key = await session.api_keys.create("kept")

        ended = await session.auth.logout()

        assert (ended.user_id, ended.expires_at) == (info.user_id, info.expires_at)
        with pytest.raises(AuthenticationError) as refused:
            await session.api_keys.list()
        assert (refused.value.status_code, refused.value.code) == (401, "token_revoked")
        # The account's other login token and its API keys go on.
        assert [k.id for k in await client.with_token(other.token).api_keys.list()] == [key.id]
        assert (await client.with_api_key(key.key).quota.get()).quota_used == 0
