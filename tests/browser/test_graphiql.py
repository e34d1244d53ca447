"""GraphiQL at GET /graphql works with no Internet: a real browser against a real server.

Chromium runs headless with every host name but 127.0.0.1 unresolvable, so an asset fetched
from a CDN would fail to load; the test also checks every request the page made over CDP.
Skipped when no `chromium` binary is on PATH (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
import uvicorn

from regovar.domain.principal import Principal
from regovar.domain.projects import CreateProject
from regovar.graphql.app import STATIC, create_app
from tests.helpers import PASSWORD, bearer, new_user

QUERY = "{ projects { total items { id name } } }"
STATIC_DIR = Path(str(STATIC))
OWN_FILES = ("graphiql.html", "graphiql-regovar.js", "graphiql-regovar.css")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
            if name.startswith("on"):
                self.inline_handlers.append(f"<{tag} {name}>")


async def test_graphiql_page_is_self_contained(container):
    """Without a browser: the page only names files that /static really serves."""
    for name in OWN_FILES:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"https?:|//[a-z0-9]", text, re.I), f"external URL in {name}"
    page = _Assets()
    page.feed((STATIC_DIR / "graphiql.html").read_text(encoding="utf-8"))
    assert not page.inline_handlers
    assets = [u for u in page.urls if not u.startswith("data:")]
    assert {"/static/graphiql.min.js", "/static/graphiql.min.css",
            "/static/react.production.min.js", "/static/react-dom.production.min.js"} <= set(assets)

    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200
        assert ide.text == (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")
        for url in assets:
            served = await http.get(url)
            assert served.status_code == 200, url
            assert served.content == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()


@pytest.fixture
def chromium() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("no chromium binary on PATH")
    pytest.importorskip("websockets")
    return binary


@pytest.fixture
async def server(container) -> AsyncIterator[str]:
    """uvicorn on a free 127.0.0.1 port, on the test event loop.

    The same loop as the session's Container: its asyncpg connections are bound to the loop
    that opened them, so a server on another thread's loop would break the other tests.
    lifespan is off because the app's shutdown would close the shared Container.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(container), lifespan="off", log_level="warning",
                            access_log=False)
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not uv.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


CODEMIRROR_TEXT = (
    "(() => {{ const e = document.querySelector({selector});"
    " return e && e.CodeMirror ? e.CodeMirror.getValue() : ''; }})()"
)
QUERY_EDITOR = CODEMIRROR_TEXT.format(selector=json.dumps(".graphiql-query-editor .CodeMirror"))
RESULT_PANE = CODEMIRROR_TEXT.format(selector=json.dumps(".result-window .CodeMirror"))
RESULT_SHOWS_PROJECTS = (
    f"(() => {{ const t = {RESULT_PANE}; return t.includes('projects') ? t : ''; }})()"
)


RESULT_SHOWS_TOKEN = (
    f"(() => {{ const t = {RESULT_PANE}; return t.includes('token') ? t : ''; }})()"
)


async def _run_in_graphiql(page, server: str, query: str, shown: str) -> str:
    """Opens GraphiQL on a query, clicks ▶ and returns the result pane once ``shown`` holds."""
    loaded = page.expect("Page.loadEventFired")
    await page.send("Page.navigate", url=f"{server}/graphql?q={quote(query)}")
    await asyncio.wait_for(loaded, 15)
    await page.wait_for("!!document.querySelector('.graphiql-container')")
    assert await page.wait_for(QUERY_EDITOR) == query
    await page.click(".graphiql-execute-button")
    return str(await page.wait_for(shown))


async def test_graphiql_signs_in_and_runs_a_query_offline(chromium, container, server, tmp_path):
    from tests.browser.cdp import headless_chromium

    user = await new_user(container, "graphiql")
    project = await container.projects.create(
        Principal(user.id, user.login), CreateProject(f"graphiql-{user.login}")
    )
    sign_in = (
        f'mutation {{ signIn(login: "{user.login}", password: "{PASSWORD}") '
        "{ token user { login } } }"
    )
    async with asyncio.timeout(40), headless_chromium(chromium, tmp_path / "profile") as page:
        try:
            # Anonymous: refused, with its code in the result pane.
            refused = await _run_in_graphiql(page, server, QUERY, RESULT_SHOWS_PROJECTS)
            assert json.loads(refused)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            signed = json.loads(await _run_in_graphiql(page, server, sign_in, RESULT_SHOWS_TOKEN))
            token = signed["data"]["signIn"]["token"]
            # The tab kept the token: the same query now answers the user's projects.
            shown = await _run_in_graphiql(page, server, QUERY, RESULT_SHOWS_PROJECTS)
        finally:
            await page.screenshot(tmp_path / "graphiql.png")  # to look at when it fails

    async with httpx.AsyncClient(base_url=server, headers=bearer(token)) as http:
        expected = (await http.post("/graphql", json={"query": QUERY})).json()
    assert "errors" not in expected
    result = json.loads(shown)
    assert result == expected, "the result pane shows what the server answers"
    assert result["data"]["projects"]["items"] == [{"id": str(project.id), "name": project.name}]

    # Offline: every request stayed on the local server, none failed, no script error.
    assert not page.errors, page.errors
    assert not page.failed, page.failed
    hosts = {urlsplit(url).hostname for _, url in page.requests
             if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, page.requests
    fetched = {urlsplit(url).path for _, url in page.requests}
    assert {"/static/graphiql.min.js", "/static/graphiql.min.css",
            "/static/react.production.min.js", "/static/react-dom.production.min.js",
            "/static/graphiql-regovar.js"} <= fetched
    posts = [url for method, url in page.requests if method == "POST"]
    assert len(posts) >= 4 and all(urlsplit(u).path == "/graphql" for u in posts), posts
