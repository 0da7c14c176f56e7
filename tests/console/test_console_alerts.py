"""The alerts page in a real browser: the alert body the form makes for each kind of threshold
(the page's own rules, run in the browser), and setting a threshold, seeing it listed with its
figure and removing it after a confirmation.

Until the alerts API (/v1/developer/alerts, ALERTS_CONTRACT) is in this branch, its three routes
are answered in the browser by `ContractAlerts`, a minimal fake of the contract; the rest of the
gateway is real."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Route, expect

from tests.console.browser import screenshot_folder
from tests.console.conftest import Problems

PASSWORD = "correct horse battery"


class ContractAlerts:
    """The alerts routes as the contract words them, kept in memory for one page."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.bodies: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def handle(self, route: Route) -> None:
        request = route.request
        if request.method == "POST":
            body = json.loads(request.post_data or "{}")
            self.bodies.append(body)
            relative = "threshold" in body
            alert = {
                "id": f"alert_{next(self._ids)}",
                "name": body.get("name", ""),
                "metric": body["metric"],
                "threshold": body.get("threshold", 0),
                "of": body.get("of", ""),
                "value": body.get("value", 0),
                "period": "month" if relative else body["period"],
                "created_at": "2026-12-03T10:00:00Z",
                "last_fired_at": None,
                "current": {"observed": 1.5, "limit": 10.0 if relative else body["value"]},
            }
            self.alerts.append(alert)
            await route.fulfill(status=201, json={"alert": alert})
        elif request.method == "DELETE":
            alert_id = request.url.rsplit("/", 1)[1]
            self.alerts = [a for a in self.alerts if a["id"] != alert_id]
            await route.fulfill(json={"deleted": True, "id": alert_id})
        else:
            await route.fulfill(json={"alerts": self.alerts})


async def test_set_see_and_remove_an_alert(console_url: str, browser: Browser, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=console_url) as client:
        registered = await client.post(
            "/v1/auth/register", json={"email": "al@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
    api = ContractAlerts()
    shots = screenshot_folder(tmp_path)
    problems = Problems()
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    page = problems.watch(await context.new_page())
    await page.route("**/v1/developer/alerts**", api.handle)
    await page.goto(console_url)
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
    await expect(page.get_by_role("alert")).to_have_text("Requests and tokens are whole numbers.")
    await page.get_by_label("Amount", exact=True).fill("50000")
    await page.get_by_label("Period").select_option("day")
    await page.get_by_role("button", name="Create alert").click()
    await expect(page.get_by_text("Alert set: 50,000 of tokens a day")).to_be_visible()
    assert api.bodies == [
        {"metric": "cost_usd", "name": "Budget warning", "threshold": 0.8, "of": "budget"},
        {"metric": "tokens", "value": 50000, "period": "day"},
    ]

    rows = page.locator("#alerts-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("Budget warning")
    await expect(rows.first.locator('td[data-label="This period"]')).to_have_text("$1.5 of $10 (15%)")
    await expect(rows.first.locator('td[data-label="Last fired"]')).to_have_text("never")
    await page.screenshot(path=shots / "alerts.png", full_page=True)

    # Removing asks first; cancelling keeps it, confirming removes it.
    delete = page.get_by_role("button", name="Delete the alert 80% of my budget (cost, a month)")
    await delete.click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(rows).to_have_count(2)
    await delete.click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("Alert deleted: 80% of my budget (cost, a month)")).to_be_visible()
    await expect(rows).to_have_count(1)
    assert [a["metric"] for a in api.alerts] == ["tokens"]
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
