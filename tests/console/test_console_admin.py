"""The operators' page in a real browser: an admin (made with the store's set_role, as `aihub users
set-role` does) sees every account with this month's figures and moves one to another plan; a
developer sees no such page."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from aihub_core.app import Core
from tests.console.browser import screenshot_folder
from tests.console.conftest import Problems

PASSWORD = "correct horse battery"


async def account(client: httpx.AsyncClient, email: str) -> str:
    """Register over REST; the login token."""
    registered = await client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    return str(registered.json()["token"])


async def test_an_admin_changes_a_users_plan(
    console_gateway: tuple[str, Core], browser: Browser, tmp_path: Path
) -> None:
    url, core = console_gateway
    async with httpx.AsyncClient(base_url=url) as client:
        await account(client, "ops@example.com")
        dev = await account(client, "dev@example.com")
        made = await client.post(
            "/v1/developer/api-keys", json={"name": "app"}, headers={"Authorization": f"Bearer {dev}"}
        )
        key = {"Authorization": f"Bearer {made.json()['key']}"}
        assert (
            await client.post("/v1/developer/chat", json={"message": "hi"}, headers=key)
        ).status_code == 200
    assert await core.store.set_role("ops@example.com", "admin")

    shots = screenshot_folder(tmp_path)
    problems = Problems()
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    page = problems.watch(await context.new_page())
    await page.goto(url)
    await page.get_by_label("Email").fill("ops@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await page.get_by_role("link", name="Operators").click()
    await expect(page.get_by_role("heading", name="Operators")).to_be_visible()

    rows = page.locator("#admin-table tbody tr")
    await expect(rows).to_have_count(2)
    developer = page.locator("#admin-table tr", has_text="dev@example.com")
    await expect(developer.locator('td[data-label="Requests this month"]')).to_have_text("1")
    await expect(developer.locator('td[data-label="Cost this month"]')).not_to_have_text("$0")
    await expect(page.locator("#admin-table tr", has_text="ops@example.com")).to_contain_text("admin")
    await expect(page.locator("#admin-service-list")).to_contain_text("openrouter")
    await expect(page.locator("#admin-service-list")).to_contain_text("simulated")
    # The gateway's figures: the developer's call, on today's bar and among the top models.
    await expect(page.locator("#admin-total-requests strong")).to_have_text("1")
    await expect(page.locator("#admin-chart-cost .bar")).to_have_count(30)
    await expect(page.locator("#admin-top-models tbody tr")).to_have_count(1)
    await expect(page.locator("#admin-top-models")).to_contain_text("x-ai/grok-beta")
    # The model it called has a closed breaker in this process; one opened shows as down.
    openrouter = page.locator('#admin-service-list li[data-service="openrouter"]')
    await expect(openrouter.locator('li[data-model="x-ai/grok-beta"]')).to_contain_text("closed")
    await expect(openrouter).to_contain_text("healthy")
    for _ in range(core.settings.breaker.failure_threshold):
        core.router.breaker("gemini", "gemini-2.5-pro").record_failure()
    await page.get_by_label("Range").select_option("7")
    await expect(page.locator("#admin-chart-cost .bar")).to_have_count(7)

    # Move the developer to the professional plan: the gateway applies it at once.
    await page.get_by_label("Plan of dev@example.com").select_option("professional")
    await expect(page.get_by_text("dev@example.com is now on the professional plan")).to_be_visible()
    await expect(page.get_by_label("Plan of dev@example.com")).to_have_value("professional")
    async with httpx.AsyncClient(base_url=url) as client:
        quota = await client.get("/v1/developer/quota", headers=key)
    assert quota.json()["plan"] == "professional"

    # Give the developer a budget of 2.50 USD a day, then take it away again.
    await page.get_by_role("button", name="Budget of dev@example.com").click()
    dialog = page.get_by_role("dialog", name="Budget of dev@example.com")
    await dialog.get_by_role("button", name="Save budget").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Enter an amount above 0, or remove the budget.")
    await dialog.get_by_label("Budget in USD").fill("2.5")
    await dialog.get_by_label("Budget period").select_option("day")
    await dialog.get_by_role("button", name="Save budget").click()
    await expect(page.get_by_text("dev@example.com: budget set to $2.5 a day")).to_be_visible()
    await expect(developer.locator('td[data-label="Budget"] .budget-value')).to_have_text("$2.5 a day")
    dev_record = await core.store.get_user_by_email("dev@example.com")
    assert dev_record is not None and (dev_record.budget_pico_usd, dev_record.budget_period) == (
        2_500_000_000_000,
        "day",
    )
    await page.reload()  # the login token is in memory only: log in again for the services' fresh view
    await page.get_by_label("Email").fill("ops@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await page.get_by_role("link", name="Operators").click()
    gemini = page.locator('#admin-service-list li[data-service="gemini"]')
    await expect(gemini).to_contain_text("down")
    await expect(gemini.locator('li[data-model="gemini-2.5-pro"]')).to_contain_text("open")
    await expect(page.locator("#admin-service-list").locator("..")).to_contain_text("per core process")
    await page.screenshot(path=shots / "admin.png", full_page=True)

    await page.get_by_role("button", name="Budget of dev@example.com").click()
    await page.get_by_role("dialog").get_by_role("button", name="Remove budget").click()
    await expect(page.get_by_text("dev@example.com: budget removed")).to_be_visible()
    await expect(developer.locator('td[data-label="Budget"] .budget-value')).to_have_text("none")

    # A developer has no such page, and the gateway refuses its calls to them.
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_label("Email").fill("dev@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await expect(page.get_by_role("link", name="Usage")).to_be_visible()
    await expect(page.get_by_role("link", name="Operators")).to_have_count(0)
    await page.goto(f"{url}/#/admin")
    await expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    await expect(page.get_by_role("heading", name="Operators")).to_have_count(0)
    assert problems.seen == []
    await context.close()


async def test_the_operators_page_in_chinese_on_a_phone(
    console_gateway: tuple[str, Core], browser: Browser, tmp_path: Path
) -> None:
    url, core = console_gateway
    async with httpx.AsyncClient(base_url=url) as client:
        await account(client, "ops@example.com")
    assert await core.store.set_role("ops@example.com", "admin")
    problems = Problems()
    context = await browser.new_context(
        locale="zh-CN", color_scheme="dark", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = problems.watch(await context.new_page())
    await page.goto(url)
    await page.get_by_label("邮箱").fill("ops@example.com")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await page.get_by_role("link", name="运营管理").click()
    await expect(page.get_by_role("heading", name="全网关概览")).to_be_visible()
    await expect(page.locator("#admin-top-models")).to_contain_text("此范围内没有计费调用")
    await expect(page.locator("#admin-service-list")).to_contain_text("健康")
    await expect(page.get_by_role("button", name="ops@example.com 的预算")).to_be_visible()
    # Readable on a phone: the page is no wider than the screen.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Keyboard: the budget dialog opens from the keyboard, takes the focus and closes with Escape.
    await page.get_by_role("button", name="ops@example.com 的预算").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="ops@example.com 的预算")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="取消")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    assert problems.seen == []
    await context.close()
