"""A headless Chromium driven over the Chrome DevTools Protocol, in plain asyncio.

Just enough of CDP for the browser tests: start Chromium with every host except 127.0.0.1
resolving to nothing, open a page target, send commands, record network requests, evaluate
JavaScript, click, and take screenshots. Needs the `websockets` package and a `chromium` binary.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Any host name other than 127.0.0.1 fails to resolve: an asset fetched from a CDN cannot load.
OFFLINE_RULES = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


class CDPError(RuntimeError):
    pass


@dataclass
class Page:
    """One page target: commands, events, and what the page did on the network."""

    ws: Any
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url)
    failed: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _next_id: int = 0
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _waiters: list[tuple[str, asyncio.Future[dict[str, Any]]]] = field(default_factory=list)
    _urls: dict[str, str] = field(default_factory=dict)

    async def read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is None or future.done():
                    continue
                if "error" in message:
                    future.set_exception(CDPError(str(message["error"])))
                else:
                    future.set_result(message.get("result", {}))
            else:
                self._event(message["method"], message.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CDPError("DevTools connection closed"))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.requests.append((params["request"]["method"], params["request"]["url"]))
            self._urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed":
            url = self._urls.get(params["requestId"], "?")
            self.failed.append((url, params.get("errorText", "")))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description")
                               or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")
        for waiter in list(self._waiters):
            name, future = waiter
            if name == method and not future.done():
                future.set_result(params)
                self._waiters.remove(waiter)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self.ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 15)

    def expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        """A future for the next `method` event: create it before the command that causes it."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, future))
        return future

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in result:
            raise CDPError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout}s: {expression}")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """A real mouse click (press and release) in the middle of the element."""
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"],
                            button="left", clickCount=1)

    async def screenshot(self, path: Path) -> Path:
        data = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))
        return path


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    """Chromium started with --remote-debugging-port=0 writes its port into the profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CDPError(f"chromium exited with {process.returncode}")
        if marker.is_file():
            lines = marker.read_text().splitlines()
            if lines and lines[0].isdigit():
                return int(lines[0])
        time.sleep(0.05)
    raise CDPError("chromium did not open its DevTools port")


@contextlib.asynccontextmanager
async def headless_chromium(binary: str, profile: Path, *, width: int = 1280,
                            height: int = 800) -> AsyncIterator[Page]:
    """Yields a blank page in an offline headless Chromium; kills the browser afterwards."""
    args = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-first-run",
        "--no-default-browser-check", "--mute-audio", f"--window-size={width},{height}",
        f"--host-resolver-rules={OFFLINE_RULES}", f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
    ]
    import websockets  # here, so that a test module can importorskip it first

    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader = None
    try:
        port = await asyncio.to_thread(_devtools_port, profile, process, 15.0)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            targets = json.load(r)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with websockets.connect(url, max_size=None, open_timeout=10) as ws:
            page = Page(ws)
            reader = asyncio.create_task(page.read())
            for domain in ("Page", "Network", "Runtime", "Log"):
                await page.send(f"{domain}.enable")
            yield page
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
