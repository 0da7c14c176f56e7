"""The CLI with AIHUB_CONFIG and the synced catalog: `users set-plan` with an operator plan, `models sync`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from aihub_cli.main import main
from aihub_cli.models_sync import sync_models
from aihub_core.app import Core
from aihub_core.auth.tokens import TokenIssuer
from aihub_core.catalog.sync import Source, SyncError, sync_catalog
from aihub_core.errors import UpstreamAuthError
from aihub_core.limits.plans import Plans
from aihub_core.providers._http import upstream_session
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.listings import gemini_page
from aihub_core.providers.registry import Credentials
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.services.accounts import Accounts
from aihub_core.settings import Settings
from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator
from aihub_core.simulators.models import SimModel
from aihub_core.store import open_store
from tests import conftest

PLANS = """
[plans.internal]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""


async def register(database_url: str, email: str) -> None:
    store = open_store(database_url)
    await store.open()
    try:
        await Accounts(store, TokenIssuer(conftest.TEST_JWT_SECRET, 60), Plans()).register(email, "pass-word")
    finally:
        await store.close()


async def plan_of(database_url: str, email: str) -> str:
    store = open_store(database_url)
    await store.open()
    try:
        user = await store.get_user_by_email(email)
        assert user is not None
        return user.plan
    finally:
        await store.close()


def test_set_plan_accepts_a_plan_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database_url = f"sqlite:///{tmp_path / 'aihub.db'}"
    asyncio.run(register(database_url, "ops@example.com"))
    config = tmp_path / "aihub.toml"
    config.write_text(PLANS, encoding="utf-8")
    args = ["users", "set-plan", "--db", str(tmp_path / "aihub.db"), "ops@example.com", "internal"]

    assert main(args, environ={}) == 2
    assert "Unknown plan 'internal'" in capsys.readouterr().err
    assert main(args, environ={"AIHUB_CONFIG": str(config)}) == 0
    assert "plan set to internal" in capsys.readouterr().out
    assert asyncio.run(plan_of(database_url, "ops@example.com")) == "internal"

    config.write_text("[plans.internal]\nburst = 1\n", encoding="utf-8")
    assert main(args, environ={"AIHUB_CONFIG": str(config)}) == 2
    assert f"{config}: [plans.internal] burst: unknown key" in capsys.readouterr().err


async def test_sync_follows_every_page_skips_pseudo_models_and_keeps_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with (
        OpenRouterSimulator(chunk_delay_ms=0, api_key="or-key") as router,
        GeminiSimulator(chunk_delay_ms=0, api_key="g-key") as gemini,
    ):
        router.models["x-ai/grok-beta"] = SimModel(
            "x-ai/grok-beta", "xAI: Grok", 131072, 16384, "0.000004", "0.000008"
        )
        router.models["openrouter/auto"] = SimModel(
            "openrouter/auto", "Auto Router", prompt_price="-1", completion_price="-1"
        )
        del router.models["cohere/command-r-plus"]
        gemini.models["gemini-3.0-flash"] = SimModel("gemini-3.0-flash", "Gemini 3.0 Flash", 2097152, 65536)
        environ = {
            "OPENROUTER_API_KEY": "or-key",
            "OPENROUTER_BASE_URL": router.base_url,
            "GEMINI_API_KEY": "g-key",
            "GEMINI_BASE_URL": gemini.base_url,
        }
        settings = conftest.isolated_settings(tmp_path, **vars_from(environ))
        assert await sync_models(settings, environ) == 0
        tokens = [r.query.get("pageToken") for r in gemini.requests if r.path.endswith("/models")]
        # OpenRouter lists its text-output models only (its embedding models are not in this list).
        priced = sum(m.chat and not m.prompt_price.startswith("-") for m in router.models.values())
        chats = sum(m.chat for m in gemini.models.values())
        router_url, gemini_url = router.base_url, gemini.base_url
    out = capsys.readouterr().out
    assert "simulator" not in out
    first = out.split("\n")[0]
    assert first.startswith(f"openrouter: {priced} models from {router_url}: 0 added")
    assert "1 removed" in first and "skipped openrouter/auto: router pseudo-model" in out
    assert f"gemini: {chats} models from {gemini_url}: 1 added" in out
    assert "warning: gemini: gemini-3.0-flash is new and its list has no prices" in out
    assert len(tokens) >= 3 and tokens[0] is None and all(tokens[1:])  # every page was fetched
    synced = json.loads((tmp_path / "aihub-catalog.json").read_text(encoding="utf-8"))
    assert synced["format"] == 1 and set(synced["services"]) == {"openrouter", "gemini"}

    config = tmp_path / "aihub.toml"
    config.write_text(
        '[model_overrides."openrouter:x-ai/grok-beta"]\nprompt_price = 0.00009\n', encoding="utf-8"
    )
    core = await Core.start(conftest.isolated_settings(tmp_path, config_path=config), environ={})
    try:
        catalog = core.catalog
        grok = catalog.resolve("x-ai/grok-beta", "openrouter")
        assert (grok.prompt_price, grok.completion_price, grok.name) == (0.00009, 0.000008, "xAI: Grok")
        new = catalog.resolve("gemini-3.0-flash", "gemini")
        assert (new.prompt_price, new.completion_price, new.context_length) == (0.0, 0.0, 2097152)
        flash = catalog.resolve("gemini-2.5-flash", "gemini")
        assert flash.prompt_price > 0  # Gemini lists no prices: the local ones are kept
        ids = {m.id for m in catalog.models()}
        assert "openrouter/auto" not in ids and "cohere/command-r-plus" not in ids
        assert "text-embedding-004" in ids  # not a chat model: the chat-model list never carries it
    finally:
        await core.stop(grace=0)


def vars_from(environ: dict[str, str]) -> dict[str, object]:
    return {"providers": Settings.from_env(environ).providers}


async def test_sync_without_keys_uses_fresh_simulators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await sync_models(conftest.isolated_settings(tmp_path), {}) == 0
    out = capsys.readouterr().out
    assert "openrouter: no OPENROUTER_API_KEY: syncing from a fresh built-in simulator" in out
    assert "gemini: no GEMINI_API_KEY" in out and "0 removed" in out
    synced = json.loads((tmp_path / "aihub-catalog.json").read_text(encoding="utf-8"))
    assert synced["services"]["gemini"]["simulated"] is True


async def test_an_upstream_error_fails_the_sync_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with GeminiSimulator(chunk_delay_ms=0, api_key="g-key") as gemini:
        settings = conftest.isolated_settings(
            tmp_path, providers={"gemini": Credentials(gemini.base_url, "wrong-key")}
        )
        assert await sync_models(settings, {}) == 1
    err = capsys.readouterr().err
    assert "models sync failed: gemini: GET" in err and "the catalog was not changed" in err
    assert "wrong-key" not in err
    assert not (tmp_path / "aihub-catalog.json").exists()


async def test_a_refused_key_fails_the_sync_with_the_error_a_chat_call_gets(tmp_path: Path) -> None:
    async with GeminiSimulator(chunk_delay_ms=0, api_key="g-key") as gemini, upstream_session() as client:
        lister = GeminiProvider("gemini", gemini.base_url, "wrong-key", client, UpstreamTimeouts())
        source = Source("gemini", gemini.base_url, lister, gemini_page)
        with pytest.raises(SyncError) as failed:
            await sync_catalog([source], tmp_path / "aihub-catalog.json")
        url = gemini.base_url
    assert isinstance(failed.value.__cause__, UpstreamAuthError)  # Gemini says 400 API_KEY_INVALID
    assert str(failed.value).startswith(f"gemini: GET {url}/models failed: gemini refused")
    assert not (tmp_path / "aihub-catalog.json").exists()
