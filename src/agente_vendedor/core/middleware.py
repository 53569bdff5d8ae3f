"""The one ASGI middleware every request goes through: request id, limits, hardening headers, access log, metrics.

One layer instead of five: each pure-ASGI layer costs a coroutine frame and a `send` wrapper per message, and
on a short request those layers were a measurable share of the time (`bench/RESULTS-http.md`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agente_vendedor.core.logging import AccessLog
from agente_vendedor.core.metrics import HttpSeries

_access_log = AccessLog("agente_vendedor.http")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _RequestIds:
    """32 hex characters: a random prefix per process and a counter (uuid4 costs a getrandom call per request)."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        """A new prefix, so a forked worker never repeats its parent's ids."""
        self._prefix = os.urandom(10).hex()
        self._counter = itertools.count(1)

    def new(self) -> str:
        """The next id."""
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


_request_ids = _RequestIds()


_TOO_LARGE_BODY = json.dumps(
    {"detail": "La petición es demasiado grande", "code": "peticion_demasiado_grande"}, ensure_ascii=False
).encode()


API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def _security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", csp.encode()),
    ]


_API_HEADERS = _security_headers(API_CSP)
_DOCS_HEADERS = _security_headers(DOCS_CSP)


class HttpMiddleware:
    """Per request, in one layer.

    - `X-Request-ID`: a sane incoming one is kept, otherwise one is made; it is bound to every log line of the
      request and returned on the response.
    - Bodies over `max_bytes` (per-path prefixes in `overrides`) get 413 before the app reads them, by
      `Content-Length` or while a chunked body streams in.
    - Hardening headers (nosniff, frame denial, no referrer, a CSP; the docs pages get one that lets Swagger UI
      run from our own files), unless the app set them.
    - One access line per request (`peticion`: method, path, status, duration, user) and the Prometheus
      count and latency by route template.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        overrides: dict[str, int] | None = None,
        docs_paths: tuple[str, ...] = ("/docs", "/static/"),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = tuple((overrides or {}).items())
        self.docs_paths = docs_paths
        self.metrics = HttpSeries()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = ""
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else -1
        request_id = incoming if incoming and _VALID_ID.match(incoming) else _request_ids.new()
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        extra = _DOCS_HEADERS if path.startswith(self.docs_paths) else _API_HEADERS
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in (id_header, *extra) if h[0] not in present)
                _vary_origin(headers, present)
                message["headers"] = headers
            await send(message)

        # bind/reset with the token (restores whatever was bound before): cheaper than `bound_contextvars`
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            limit = self._limit(path)
            if declared is not None and (declared < 0 or declared > limit):
                await self._reject(send_wrapper)
            elif declared is None and scope["method"] not in _NO_BODY:
                await self._streamed(scope, receive, send_wrapper, limit)
            else:  # the server enforces Content-Length, so a declared size is the real one
                await self.app(scope, receive, send_wrapper)
        finally:
            try:
                duration = time.perf_counter() - start
                self.metrics.observe(scope, status, duration)
                _access_log.info(
                    "peticion",
                    method=scope["method"],
                    path=path,
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                    usuario=scope["state"].get("usuario"),
                )
            finally:
                structlog.contextvars.reset_contextvars(**tokens)

    def _limit(self, path: str) -> int:
        for prefix, size in self.overrides:
            if path.startswith(prefix):
                return size
        return self.max_bytes

    @staticmethod
    async def _reject(send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_TOO_LARGE_BODY)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": _TOO_LARGE_BODY})

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A body without Content-Length: read it up to the limit before the app sees it, then replay it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._reject(send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _vary_origin(headers: list[tuple[bytes, bytes]], present: set[bytes]) -> None:
    """Every answer varies with `Origin` (the CORS headers depend on it), as Starlette's CORS middleware marks it."""
    if b"vary" not in present:
        headers.append((b"vary", b"Origin"))
        return
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower() and value.strip() != b"*":
                headers[index] = (name, value + b", Origin")
            return


class CrossOriginOnly:
    """Send only requests that carry an `Origin` header through the CORS layers `build` wraps around the app.

    A request without `Origin` (curl, a server, a same-origin page's GET) gets nothing from CORS but
    `Vary: Origin`, which `HttpMiddleware` adds to every answer; skipping the layers saved a tenth of the
    CPU of `/health/live` (`bench/RESULTS-http.md`). Preflights always carry `Origin`, so they still reach them.
    """

    def __init__(self, app: ASGIApp, *, build: Callable[[ASGIApp], ASGIApp]) -> None:
        self.app = app
        self.cors = build(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, _ in scope["headers"]:
                if name == b"origin":
                    await self.cors(scope, receive, send)
                    return
        await self.app(scope, receive, send)


_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
"""Methods whose requests carry no body in practice: without Content-Length there is nothing to read ahead."""
