"""The web console's files as the shim serves them: the page at `/`, its modules under
`/console/`, a strict same-origin policy, every import resolvable, no address elsewhere, and the
two languages complete."""

from __future__ import annotations

import re

import httpx

from aihub_http.console import SECURITY_HEADERS, console_assets

# `import ... from "./x.js"`, `import("./pages/x.js")` and `href`/`src` of the page.
_IMPORT = re.compile(r"""(?:from\s+|import\s*\(\s*)["'](\.{1,2}/[^"']+)["']""")
_PAGE_LINK = re.compile(r"""(?:href|src)="/console/([^"]+)\"""")
_MESSAGE = re.compile(r"""^\s*"([a-zA-Z]+\.[a-zA-Z.]+)":""", re.MULTILINE)
_USED = re.compile(
    r"""\bt\(\s*"([a-zA-Z]+\.[a-zA-Z.]+)"|"((?:nav|keys|usage|models|playground|auth|theme|common)\.[a-zA-Z.]+)\""""
)


async def test_the_page_and_its_files_with_a_same_origin_policy(api: httpx.AsyncClient) -> None:
    page = await api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/app.js">' in page.text
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = await api.get("/console/pages/playground.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert (await api.get("/console/console.css")).headers["content-type"].startswith("text/css")
    missing = await api.get("/console/pages/nothing.js")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_every_import_and_link_names_a_shipped_file() -> None:
    assets = console_assets()
    for name, body in assets.items():
        text = body.decode()
        folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for target in _IMPORT.findall(text):
            resolved = _resolve(folder, target)
            assert resolved in assets, f"{name} imports {target}"
    for target in _PAGE_LINK.findall(assets["index.html"].decode()):
        assert target in assets, f"index.html links {target}"


def test_nothing_is_fetched_from_another_origin() -> None:
    for name, body in console_assets().items():
        addresses = set(re.findall(r"https?://[^\s\"'`)]+", body.decode()))
        assert addresses <= {"http://www.w3.org/2000/svg"}, (name, addresses)


def test_english_and_chinese_have_every_message_the_pages_use() -> None:
    assets = console_assets()
    english, chinese = assets["locales/en.js"].decode(), assets["locales/zh.js"].decode()
    en_keys, zh_keys = set(_MESSAGE.findall(english)), set(_MESSAGE.findall(chinese))
    assert en_keys and en_keys == zh_keys, en_keys ^ zh_keys
    used = {
        key
        for name, body in assets.items()
        if name.endswith(".js") and not name.startswith("locales/")
        for pair in _USED.findall(body.decode())
        for key in pair
        if key
    }
    assert used and used <= en_keys, used - en_keys


def _resolve(folder: str, target: str) -> str:
    parts = (folder + target).split("/")
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part not in (".", ""):
            out.append(part)
    return "/".join(out)
