"""The Starlette application: /graphql (with an offline GraphiQL) and /health."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from regovar.bootstrap import Container
from regovar.domain.errors import Unauthenticated
from regovar.domain.principal import ANONYMOUS, Principal
from regovar.graphql.context import Context
from regovar.graphql.schema import schema

STATIC = resources.files("regovar.graphql") / "static"


class RegovarGraphQL(GraphQL[Context, None]):
    def __init__(self, container: Container) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.container = container

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(
            container=self.container,
            principal=await self._principal(request),
            request=request,
            response=response,
        )

    async def _principal(self, request: Any) -> Principal:
        """The caller of an `Authorization: Bearer` token; anonymous without one. An invalid
        token also means anonymous: every operation but signIn then answers UNAUTHENTICATED."""
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ANONYMOUS
        try:
            return await self.container.users.authenticate(token.strip())
        except Unauthenticated as exc:
            return dataclasses.replace(ANONYMOUS, problem=exc.message)

    def decode_json(self, data: str | bytes) -> object:
        """A request is a JSON object (or a list, refused as batching); anything else, or JSON
        nested too deep to decode, is a bad request, not a server error."""
        try:
            decoded = json.loads(data)
        except RecursionError as exc:
            raise json.JSONDecodeError("nested too deeply", str(data)[:20], 0) from exc
        if not isinstance(decoded, dict | list):
            raise json.JSONDecodeError("not a JSON object", str(data)[:20], 0)
        return decoded

    async def render_graphql_ide(self, request: Any) -> Response:
        """GraphiQL from the package's own files: a hospital LAN has no CDN."""
        page = STATIC / "graphiql.html"
        if page.is_file():
            # Never inside another site's frame (a click on ▶ there would run its query).
            return HTMLResponse(
                page.read_text(encoding="utf-8"),
                headers={
                    "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "frame-ancestors 'none'",
                    "X-Content-Type-Options": "nosniff",
                },
            )
        return await super().render_graphql_ide(request)


def create_app(container: Container) -> Starlette:
    graphql = RegovarGraphQL(container)

    async def health(request: Request) -> Response:
        # For outside monitors, without signing in: up or not, nothing more (no versions,
        # paths or thresholds). Administrators read the details in serverStatus.
        if await container.monitoring.alive():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await container.aclose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health),
            Mount(
                "/static", app=StaticFiles(directory=str(STATIC), check_dir=False), name="static"
            ),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(BodyLimit, limit=container.settings.max_request_kb * 1024),
            *_cors(container.settings.cors_origins),
        ],
    )


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes (413) before they are read whole: a query is
    a few kilobytes, and an anonymous caller must not make the server parse 100 MB of JSON."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = (
            b'{"errors":[{"message":"the request body is over '
            + str(self.limit).encode()
            + b' bytes","extensions":{"code":"REQUEST_TOO_LARGE"}}]}'
        )
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    """Browsers only let the origins configured in REGOVAR_CORS_ORIGINS call the API from
    another site's pages; by default none (GraphiQL is served from the same origin). Tokens
    travel in a header, never in a cookie, so another site cannot forge a signed-in request."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    ]
