"""The alerts page in a real browser against the real alerts API: setting thresholds (a share of
the budget, an amount of tokens a day), seeing them listed with this period's figure, removing
one after a confirmation; and the request bodies the form makes (the page's own rules, run in
the browser)."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from aihub_core.app import Core
from tests.console.browser import screenshot_folder
from tests.console.conftest import Problems

PASSWORD = "correct horse battery"


async def test_set_see_and_remove_an_alert(
    console_gateway: tuple[str, Core], browser: Browser, tmp_path: Path
) -> None:
    url, core = console_gateway
    async with httpx.AsyncClient(base_url=url) as client:
        registered = await client.post(
            "/v1/auth/register", json={"email": "al@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
    # A share of the budget needs a budget: 10 USD a month, as `aihub users set-budget` gives.
    assert await core.store.set_user_budget("al@example.com", 10 * 10**12, "month")
    shots = screenshot_folder(tmp_path)
    problems = Problems()
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    page = problems.watch(await context.new_page())
    await page.goto(url)
    await page.get_by_label("Email").fill("al@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await page.get_by_role("link", name="Alerts").click()
    await expect(page.get_by_role("heading", name="Usage alerts")).to_be_visible()
    await expect(page.locator("#no-alerts")).to_be_visible()

    # 80% of the budget: the default kind for cost.
    await page.get_by_label("Name").fill("Budget warning")
    await page.get_by_label("Share", exact=True).fill("80")
    await page.get_by_role("button", name="Create alert").click()
    await expect(page.get_by_text("Alert set: 80% of my budget (cost, a month)")).to_be_visible()
    # Tokens can only be an amount per period: the share is not offered.
    await page.get_by_label("Metric").select_option("tokens")
    await expect(page.get_by_label("a share of my budget or quota is used")).to_be_disabled()
    await page.get_by_label("Amount", exact=True).fill("1.5")
    await page.get_by_role("button", name="Create alert").click()
    await expect(page.locator("#alert-form").get_by_role("alert")).to_have_text(
        "Requests and tokens are whole numbers."
    )
    await page.get_by_label("Amount", exact=True).fill("50000")
    await page.get_by_label("Period").select_option("day")
    await page.get_by_role("button", name="Create alert").click()
    await expect(page.get_by_text("Alert set: 50,000 of tokens a day")).to_be_visible()
    # Requests may be a share of the monthly quota (never of the budget: the form offers the quota).
    await page.get_by_label("Metric").select_option("requests")
    await page.get_by_label("a share of my budget or quota is used").check()
    await expect(page.get_by_label("Of", exact=True)).to_have_value("quota")
    await page.get_by_label("Share", exact=True).fill("100")
    await page.get_by_role("button", name="Create alert").click()

    rows = page.locator("#alerts-table tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text("Budget warning")
    await expect(rows.first.locator('td[data-label="This period"]')).to_have_text("$0 of $8 (0%)")
    await expect(rows.nth(1).locator('td[data-label="This period"]')).to_have_text("0 of 50,000 (0%)")
    await expect(rows.nth(2)).to_contain_text("100% of my monthly quota (requests, a month)")
    await expect(rows.first.locator('td[data-label="Last fired"]')).to_have_text("never")
    async with httpx.AsyncClient(base_url=url) as client:
        login = await client.post("/v1/auth/login", json={"email": "al@example.com", "password": PASSWORD})
        listed = await client.get(
            "/v1/developer/alerts", headers={"Authorization": f"Bearer {login.json()['token']}"}
        )
    stored = [
        (a["name"], a["metric"], a["threshold"], a["of"], a["value"], a["period"])
        for a in listed.json()["alerts"]
    ]
    assert stored == [
        ("Budget warning", "cost_usd", 0.8, "budget", 0, "month"),
        ("", "tokens", 0, "", 50000, "day"),
        ("", "requests", 1.0, "quota", 0, "month"),
    ]
    await page.screenshot(path=shots / "alerts.png", full_page=True)

    # Removing asks first; cancelling keeps it, confirming removes it.
    delete = page.get_by_role("button", name="Delete the alert 80% of my budget (cost, a month)")
    await delete.click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(rows).to_have_count(3)
    await delete.click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("Alert deleted: 80% of my budget (cost, a month)")).to_be_visible()
    await expect(rows).to_have_count(2)
    assert problems.seen == []
    await context.close()


async def test_a_crossing_shows_on_the_usage_pages_live_figures(console_url: str, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=console_url) as client:
        registered = await client.post(
            "/v1/auth/register", json={"email": "cr@example.com", "password": PASSWORD}
        )
        jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
        made = await client.post(
            "/v1/developer/alerts", json={"metric": "requests", "value": 1, "period": "day"}, headers=jwt
        )
        assert made.status_code == 201, made.text
        key = await client.post("/v1/developer/api-keys", json={"name": "app"}, headers=jwt)
        problems = Problems()
        context = await browser.new_context(locale="en-US")
        page = problems.watch(await context.new_page())
        await page.goto(console_url)
        await page.get_by_label("Email").fill("cr@example.com")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in", exact=True).click()
        await page.get_by_role("link", name="Usage").click()
        await expect(page.locator("#live-status")).to_contain_text("live")
        await expect(page.locator("#live-alerts")).to_be_hidden()
        chat = await client.post(
            "/v1/developer/chat",
            json={"message": "hi"},
            headers={"Authorization": f"Bearer {key.json()['key']}"},
        )
        assert chat.status_code == 200, chat.text
    fired = page.locator(f'#live-alerts li[data-alert-id="{made.json()["alert"]["id"]}"]')
    await expect(fired).to_have_text("Alert: 1 of requests reached 1 (a day)")
    await expect(page.locator("#toast")).to_contain_text("Alert: 1 of requests reached 1 (a day)")
    assert problems.seen == []
    await context.close()


async def test_the_alert_rules_of_the_page(console_url: str, browser: Browser) -> None:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(console_url)
    cases = await page.evaluate(
        """async () => {
          const rules = await import("/console/pages/alerts_rules.js");
          const base = { name: "", period: "month", percent: "", of: "", value: "" };
          const body = (values) => rules.alertBody({ ...base, ...values });
          const zh = (await import("/console/i18n.js"));
          zh.setLocale("zh");
          return {
            share: body({ metric: "requests", kind: "relative", percent: "90", of: "quota" }),
            oddShare: body({ metric: "cost_usd", kind: "relative", percent: "33.3", of: "budget" }),
            wrongOf: body({ metric: "requests", kind: "relative", percent: "50", of: "budget" }),
            tooMuch: body({ metric: "cost_usd", kind: "relative", percent: "120", of: "budget" }),
            usd: body({ metric: "cost_usd", kind: "absolute", value: "2.5", period: "day", name: " day " }),
            nothing: body({ metric: "requests", kind: "absolute", value: "0" }),
            tokensOf: rules.relativeOf("tokens"),
            zh: rules.describe({ metric: "cost_usd", of: "budget", threshold: 0.8, period: "month" }, zh.t),
          };
        }"""
    )
    assert cases == {
        "share": {"metric": "requests", "threshold": 0.9, "of": "quota"},
        "oddShare": {"metric": "cost_usd", "threshold": 0.333, "of": "budget"},
        "wrongOf": {"error": "alerts.badOf"},
        "tooMuch": {"error": "alerts.badPercent"},
        "usd": {"metric": "cost_usd", "name": "day", "value": 2.5, "period": "day"},
        "nothing": {"error": "alerts.badValue"},
        "tokensOf": [],
        "zh": "我的预算的 80%（费用，每月）",
    }
    await context.close()
