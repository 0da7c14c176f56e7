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

    # Move the developer to the professional plan: the gateway applies it at once.
    await page.get_by_label("Plan of dev@example.com").select_option("professional")
    await expect(page.get_by_text("dev@example.com is now on the professional plan")).to_be_visible()
    await expect(page.get_by_label("Plan of dev@example.com")).to_have_value("professional")
    async with httpx.AsyncClient(base_url=url) as client:
        quota = await client.get("/v1/developer/quota", headers=key)
    assert quota.json()["plan"] == "professional"
    await page.screenshot(path=shots / "admin.png", full_page=True)

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
