"""The web console in a real browser (Debian's chromium): a developer's whole visit, from sign-up
to log-out, against a real gateway with simulated upstreams. The pages it passes through are
photographed (docs/console/*.png when AIHUB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import base64
import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Browser, FilePayload, Page, expect

from tests.console.browser import screenshot_folder
from tests.console.conftest import Problems

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
# A 1x1 PNG, for the playground's image upload.
PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
# Counts how many times the answer's text changed while it streamed.
COUNT_CHANGES = """() => {
  window.answerChanges = 0;
  new MutationObserver(() => { window.answerChanges += 1; })
    .observe(document.getElementById('transcript'), {subtree: true, childList: true, characterData: true});
}"""


async def test_sign_up_key_chat_usage_delete_and_log_out(
    console_url: str, browser: Browser, tmp_path: Path
) -> None:
    shots = screenshot_folder(tmp_path)
    problems = Problems()
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    page = problems.watch(await context.new_page())
    await page.goto(console_url)

    # Sign up with the keyboard alone: the email field has the focus, Enter submits.
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.screenshot(path=shots / "login.png")
    await page.get_by_role("button", name="No account yet? Sign up").click()
    await page.locator("#email").focus()
    await page.keyboard.type(EMAIL)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    assert page.url.endswith("#/keys")

    # Create a key that expires in a month: the secret is shown once, with a copy button and a warning.
    expiry = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    await page.get_by_label("Name").fill("CI key")
    await page.get_by_label("Expires on (optional)").fill(expiry)
    await page.get_by_label("Budget in USD (optional)").fill("5")
    async with page.expect_request(re.compile(r"/v1/developer/api-keys$")) as created:
        await page.get_by_role("button", name="Create key").click()
    sent = json.loads((await created.value).post_data or "{}")
    assert sent["expires_at"] == f"{expiry}T23:59:59Z"
    assert sent["budget"] == {"limit_usd": 5, "period": "month"}
    secret = await page.locator("#new-secret").text_content()
    assert secret is not None and re.fullmatch(r"ai-hub-\S+", secret)
    await expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    await expect(page.locator("#copy-secret")).to_be_focused()
    row = page.locator("tr", has_text="CI key")
    await expect(row).to_contain_text("chat, models, usage")
    await expect(row.locator('td[data-label="Last used"]')).to_have_text("never")
    await expect(row.locator('td[data-label="Rotated"]')).to_have_text("never")
    await expect(row.locator('td[data-label="Expires"]')).to_contain_text(expiry[:4])
    await expect(row.locator('td[data-label="Budget"]')).to_have_text("$5 a month")
    await page.screenshot(path=shots / "keys.png")
    await page.get_by_role("button", name="I have saved it").click()
    assert secret not in await page.content()  # gone from the page once dismissed

    # The login token lives in memory only: no storage, no cookie holds it.
    stored = await page.evaluate("JSON.stringify([localStorage, sessionStorage, document.cookie])")
    assert "eyJ" not in stored and secret not in stored

    # Chat in the playground with the key just created; the answer streams in.
    await page.get_by_role("link", name="Playground").click()
    await expect(page.locator("#pg-key")).to_contain_text("CI key")
    await expect(page.locator("#pg-model option")).not_to_have_count(0)
    await page.locator("#pg-system").fill("You are terse.")
    await page.locator("#pg-message").fill("Hello from the console")
    await page.evaluate(COUNT_CHANGES)
    async with page.expect_response(re.compile(r"/v1/developer/chat/stream$")) as streamed:
        await page.locator("#pg-message").press("Control+Enter")
    assert (await streamed.value).headers["content-type"].startswith("text/event-stream")
    stats = page.locator(".turn .stats").first
    figures = re.compile(r"\d+ prompt \+ \d+ completion tokens · \$[\d.]+ · \d+ ms")
    await expect(stats).to_contain_text(figures)
    answer = await page.locator(".turn .answer").first.text_content()
    assert answer and len(answer) > 10
    assert await page.evaluate("window.answerChanges") > 2  # it grew piece by piece
    await expect(page.locator("#pg-session")).to_contain_text("Session ")

    # A second turn continues the same session.
    session = await page.locator("#pg-session").text_content()
    await page.locator("#pg-message").fill("And what is in this picture?")
    picture: FilePayload = {"name": "dot.png", "mimeType": "image/png", "buffer": base64.b64decode(PNG_1X1)}
    await page.locator("#pg-images").set_input_files(files=[picture])
    async with page.expect_request(re.compile(r"/v1/developer/chat/stream$")) as sent:
        await page.get_by_role("button", name="Send").click()
    body = json.loads((await sent.value).post_data or "{}")
    assert body["images"] == [PNG_1X1] and body["session_id"] and body["model"] == "x-ai/grok-beta"
    await expect(page.locator(".turn").nth(1)).to_contain_text("1 image(s)")
    await expect(page.locator(".turn .stats")).to_have_count(2)
    await expect(page.locator(".turn .stats").nth(1)).to_contain_text("ms")
    assert await page.locator("#pg-session").text_content() == session

    # Show code: the same call as curl, Python SDK and OpenAI SDK.
    await page.get_by_text("Show code").click()
    snippet = page.locator("#code-snippet")
    await expect(snippet).to_contain_text("/v1/developer/chat/stream")
    await expect(snippet).to_contain_text('"system_prompt": "You are terse."')
    await page.get_by_role("tab", name="Python SDK").click()
    await expect(snippet).to_contain_text("client.chat.stream(")
    await page.get_by_role("tab", name="OpenAI SDK").click()
    await expect(snippet).to_contain_text("client.chat.completions.create(")
    assert secret not in (await snippet.text_content() or "")

    # The other chat API: OpenAI-compatible, the conversation sent back as a message array.
    await page.get_by_label("Chat API").select_option("openai")
    await expect(page.locator(".turn")).to_have_count(0)  # a new conversation
    for turn, question in enumerate(("Hello over the OpenAI route", "And once more")):
        async with page.expect_request(re.compile(r"/v1/chat/completions$")) as sent:
            await page.locator("#pg-message").fill(question)
            await page.get_by_role("button", name="Send").click()
        messages = json.loads((await sent.value).post_data or "{}")["messages"]
        assert [m["role"] for m in messages] == ["system", *["user", "assistant"] * turn, "user"]
        await expect(page.locator(".turn .stats").nth(turn)).to_contain_text(figures)
    assert len(await page.locator(".turn .answer").nth(1).text_content() or "") > 10
    await expect(page.locator("#pg-session")).to_have_text("4 messages sent back each turn")
    await page.get_by_role("tab", name="curl").click()
    await expect(snippet).to_contain_text("/v1/chat/completions")
    await expect(snippet).to_contain_text('"role": "assistant"')

    await page.screenshot(path=shots / "playground.png", full_page=True)

    # The four calls appear in the usage figures and the day's bar of the chart.
    await page.get_by_role("link", name="Usage").click()
    await expect(page.locator("#total-requests strong")).to_have_text("4")
    today = page.locator("#chart-requests rect.bar").last
    await expect(today).to_have_attribute("data-value", "4")
    await expect(page.locator("#limits")).to_contain_text("Requests per minute")
    await expect(page.locator("#quota [role=meter]")).to_have_attribute("aria-valuenow", "4")
    await expect(page.locator("#live-quota")).to_have_text("4 / 1,000")

    # Live: a call made elsewhere (a program using the key) moves the figures without a reload.
    async with httpx.AsyncClient(base_url=console_url) as client:
        elsewhere = await client.post(
            "/v1/developer/chat",
            json={"message": "from a program"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert elsewhere.status_code == 200
    await expect(page.locator("#live-quota")).to_have_text("5 / 1,000")
    await expect(page.locator("#quota [role=meter]")).to_have_attribute("aria-valuenow", "5")
    await expect(page.locator("#live-status")).to_contain_text("live")

    await request_log_breakdown_and_csv(page, console_url, secret)
    await page.screenshot(path=shots / "usage.png", full_page=True)

    # The model catalog, filtered by service.
    await page.get_by_role("link", name="Models").click()
    await expect(page.locator("#models-table tbody tr").first).to_be_visible()
    await page.get_by_label("Service").select_option("gemini")
    await expect(page.locator("#models-table")).not_to_contain_text("openrouter")
    await expect(page.locator("#models-table tbody tr").first).to_contain_text("gemini")
    await page.get_by_label("Category").select_option("embedding")
    await expect(page.locator("#models-table tbody tr")).to_have_count(2)  # Gemini's two
    await expect(page.locator("#models-table tbody td:nth-child(3)")).to_have_text(["embedding", "embedding"])
    await page.get_by_label("Category").select_option("")
    await page.screenshot(path=shots / "models.png", full_page=True)

    # Rotate the key with no grace: a new secret shown once; the old one is refused at once.
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_role("button", name="Rotate the key CI key").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("The old secret keeps working").select_option("0")
    async with page.expect_response(re.compile(r"/rotate$")) as rotated:
        await dialog.get_by_role("button", name="Rotate").click()
    assert json.loads((await rotated.value).request.post_data or "{}") == {"grace_seconds": 0}
    new_secret = await page.locator("#new-secret").text_content()
    assert new_secret and new_secret.startswith("ai-hub-") and new_secret != secret
    await expect(page.locator("#old-secret-until")).to_contain_text("The old secret works until")
    row = page.locator("tr", has_text="CI key")
    await expect(row.locator('td[data-label="Rotated"]')).not_to_have_text("never")
    await expect(row.locator('td[data-label="Last used"]')).not_to_have_text("never")
    async with httpx.AsyncClient(base_url=console_url) as client:
        old = await client.get("/v1/developer/quota", headers={"Authorization": f"Bearer {secret}"})
        new = await client.get("/v1/developer/quota", headers={"Authorization": f"Bearer {new_secret}"})
    assert (old.status_code, new.status_code) == (401, 200)
    await page.get_by_role("button", name="I have saved it").click()
    secret = new_secret

    # Delete the key, after a confirmation; the gateway refuses it from then on.
    await page.get_by_role("button", name="Delete the key CI key").click()
    await expect(page.get_by_role("dialog")).to_contain_text("cannot be undone")
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page.locator("tr", has_text="CI key")).to_have_count(0)
    async with httpx.AsyncClient(base_url=console_url) as client:
        refused = await client.get("/v1/developer/quota", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401

    # Log out: back to the login form, and the pages are closed until the next login; the gateway
    # ended the login token too (POST /v1/auth/logout), so a copy of it is refused from then on.
    async with page.expect_response(re.compile(r"/v1/auth/logout$")) as logged_out:
        await page.get_by_role("button", name="Log out").click()
    ended = await logged_out.value
    assert ended.status == 200
    jwt = await ended.request.header_value("authorization")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    async with httpx.AsyncClient(base_url=console_url) as client:
        after = await client.get("/v1/developer/api-keys", headers={"Authorization": jwt or ""})
    assert after.status_code == 401 and after.json()["error"]["code"] == "token_revoked"
    await page.goto(f"{console_url}/#/keys")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    assert problems.seen == []
    await context.close()


async def request_log_breakdown_and_csv(page: Page, console_url: str, secret: str) -> None:
    """On the usage page, with five calls to grok-beta made: six more to another model appear in
    the breakdowns and the request log, which filters, pages and exports as CSV."""
    async with httpx.AsyncClient(base_url=console_url) as client:
        for n in range(6):
            more = await client.post(
                "/v1/developer/chat",
                json={"message": f"call {n}", "model": "openai/gpt-4o-mini"},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert more.status_code == 200, more.text
    # The breakdown is the server's (GET /usage/breakdown for the window /usage reported), not
    # summed in the page from the request log.
    async with page.expect_response(re.compile(r"/v1/developer/usage/breakdown\?")) as split:
        await page.get_by_role("button", name="Refresh").click()
    answer = await split.value
    assert answer.ok and sorted(parse_qs(urlsplit(answer.url).query)) == ["end_date", "start_date"]
    await expect(page.locator("#total-requests strong")).to_have_text("11")
    requests = {"openai/gpt-4o-mini": "6", "x-ai/grok-beta": "5"}
    for model, count in requests.items():
        cells = page.locator("#breakdown-model tr", has_text=model).locator("td")
        await expect(cells.nth(1)).to_have_text(count)
    await expect(page.locator("#breakdown-model tbody tr")).to_have_count(2)
    await expect(page.locator("#breakdown-key tbody tr")).to_have_count(1)
    await expect(page.locator("#breakdown-key tr", has_text="CI key").locator("td").nth(1)).to_have_text("11")

    # Eleven calls, ten to a page: the second page has the oldest one, the first playground turn.
    rows = page.locator("#log-table tbody tr")
    await page.get_by_label("Rows per page").select_option("10")
    await expect(rows).to_have_count(10)
    await expect(rows.first).to_contain_text("openai/gpt-4o-mini")
    await expect(rows.first).to_contain_text("CI key")
    await page.get_by_role("button", name="Older →").click()
    await expect(page.locator("#log-page")).to_have_text("Page 2")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("x-ai/grok-beta")
    await expect(page.get_by_role("button", name="Older →")).to_be_disabled()
    await page.get_by_role("button", name="← Newer").click()
    await expect(rows).to_have_count(10)

    # Filters: by status (none failed), by model.
    await page.get_by_label("Status").select_option("error")
    await expect(page.locator("#log-rows")).to_have_text("No calls in this range.")
    await page.get_by_label("Status").select_option("ok")
    await expect(rows).to_have_count(10)
    await page.locator("#log-model").fill("openai/gpt-4o-mini")
    await page.locator("#log-model").press("Tab")
    await expect(rows).to_have_count(6)
    await page.get_by_label("Key", exact=True).select_option(label="CI key")
    await expect(rows).to_have_count(6)

    # CSV export of the filtered rows: the token goes in a header, never in the address.
    async with page.expect_request(re.compile(r"format=csv")) as asked, page.expect_download() as saved:
        await page.get_by_role("button", name="Export CSV").click()
    request = await asked.value
    assert "eyJ" not in request.url and "token" not in request.url
    assert (await request.all_headers())["authorization"].startswith("Bearer eyJ")
    download = await saved.value
    assert re.fullmatch(r"aihub-logs-[\d-]+\.csv", download.suggested_filename)
    text = await asyncio.to_thread(Path.read_text, await download.path())
    table = list(csv.DictReader(text.splitlines()))
    assert len(table) == 6
    assert {(r["model"], r["status"], r["key_name"]) for r in table} == {
        ("openai/gpt-4o-mini", "ok", "CI key")
    }
    await page.locator("#log-model").fill("")
    await page.locator("#log-model").press("Tab")
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Key", exact=True).select_option("")
    await expect(rows).to_have_count(10)
    await page.locator("#log-csv").focus()
    await page.evaluate("window.scrollTo(0, 0)")


async def test_chinese_dark_and_phone(console_url: str, browser: Browser, tmp_path: Path) -> None:
    shots = screenshot_folder(tmp_path)
    problems = Problems()
    context = await browser.new_context(
        locale="zh-CN", color_scheme="dark", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = problems.watch(await context.new_page())
    await page.goto(console_url)
    # The language follows the browser.
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    await expect(page.locator("#lang")).to_have_value("zh")
    await page.get_by_role("button", name="还没有账户？注册").click()
    await page.get_by_label("邮箱").fill("lin@example.com")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="注册", exact=True).click()
    await expect(page.get_by_role("heading", name="API 密钥")).to_be_visible()
    # Readable on a phone: no page is wider than the screen.
    pages = {
        "模型": "#models-table",
        "试验场": "#pg-model option",
        "API 密钥": "#key-name",
        "告警": "#alert-form",
        "用量": "#live-quota",
    }
    for link, ready in pages.items():
        await page.get_by_role("link", name=link, exact=True).click()
        await expect(page.locator(ready).first).to_be_attached()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), link
    await expect(page.locator("#total-requests")).to_contain_text("请求数")
    await expect(page.locator("#request-log h2")).to_have_text("请求日志")
    await expect(page.locator("#breakdown-model h2")).to_have_text("按模型")
    await page.screenshot(path=shots / "usage-zh-phone-dark.png", full_page=True)
    # And switchable: English on the same page.
    await page.locator("#lang").select_option("en")
    await expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    assert problems.seen == []
    await context.close()


async def test_a_refused_login_token_returns_to_the_login_form(console_url: str, browser: Browser) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(console_url)
    await page.get_by_role("button", name="No account yet? Sign up").click()
    await page.get_by_label("Email").fill("grace@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up", exact=True).click()
    await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    # The gateway refuses the token from now on, as it does once a token expires.
    expired = {
        "error": {
            "type": "authentication_error",
            "code": "token_expired",
            "message": "The login token has expired",
        },
        "request_id": "req_0",
    }
    await page.route("**/v1/developer/usage*", lambda route: route.fulfill(status=401, json=expired))
    await page.get_by_role("link", name="Usage").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.locator("#session-ended")).to_contain_text("The login token has expired")
    await expect(page.get_by_role("link", name="API keys")).to_have_count(0)
    await context.close()
