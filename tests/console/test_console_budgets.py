"""The Usage page's budget gauges in a real browser: the account's budget in USD (as `aihub users
set-budget` gives it) drawn against its limit, moved live by a call's settlement through the quota
stream; and the live card's minute window reset shown, not left blank."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from aihub_core.app import Core
from tests.console.conftest import Problems

PASSWORD = "correct horse battery"


async def test_the_budget_gauge_shows_and_follows_the_spend(
    console_gateway: tuple[str, Core], browser: Browser
) -> None:
    url, core = console_gateway
    async with httpx.AsyncClient(base_url=url) as client:
        registered = await client.post(
            "/v1/auth/register", json={"email": "bu@example.com", "password": PASSWORD}
        )
        jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
        key = (await client.post("/v1/developer/api-keys", json={"name": "app"}, headers=jwt)).json()["key"]
        assert await core.store.set_user_budget("bu@example.com", 2 * 10**12, "month")
        problems = Problems()
        context = await browser.new_context(locale="en-US")
        page = problems.watch(await context.new_page())
        await page.goto(url)
        await page.get_by_label("Email").fill("bu@example.com")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in", exact=True).click()
        await page.get_by_role("link", name="Usage").click()
        gauge = page.locator('#budgets .budget[data-scope="user"] [role=meter]')
        await expect(gauge).to_have_attribute("aria-label", "Account budget per month")
        await expect(gauge).to_have_attribute("aria-valuetext", "$0 / $2")
        await expect(page.locator("#live-status")).to_contain_text("live")
        # The free plan has a minute window: its reset is a time, not a dash.
        await expect(page.locator("#live-figures dd").last).not_to_have_text("–")

        # A call settles 0.00011 USD (55 tokens at 0.000002): the quota stream moves the gauge.
        chat = await client.post(
            "/v1/developer/chat",
            json={"message": "hi", "max_tokens": 50},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert chat.status_code == 200, chat.text
    await expect(gauge).to_have_attribute("aria-valuetext", "$0.00011 / $2")
    await expect(page.locator('#budgets .budget[data-scope="user"]')).to_contain_text(
        "$0.00011 spent, $0 held by calls in flight"
    )
    assert problems.seen == []
    await context.close()


async def test_an_account_without_a_budget_says_so(console_url: str, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=console_url) as client:
        registered = await client.post(
            "/v1/auth/register", json={"email": "nb@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
    problems = Problems()
    context = await browser.new_context(locale="zh-CN")
    page = problems.watch(await context.new_page())
    await page.goto(console_url)
    await page.get_by_label("邮箱").fill("nb@example.com")
    await page.get_by_label("密码（注册时至少 8 个字符）").fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await page.get_by_role("link", name="用量").click()
    await expect(page.locator("#budgets")).to_contain_text("此账户没有美元预算。")
    assert problems.seen == []
    await context.close()
