"""Route class that runs a sync endpoint and its commit in one pool thread.

FastAPI serialises a plain `def` endpoint's response in a pool thread *before* the request's session
dependency exits (commits). Under load every pool thread can be waiting for a lock that a finished
request still holds, and that request cannot get a thread to serialise and commit: on SQLite the waiters
fail with "database is locked" after the busy timeout, on PostgreSQL row locks can wait forever.
Here the endpoint body runs in the pool from an `async` wrapper, so FastAPI serialises on the event loop,
and the same thread commits the request's session as soon as the body returns: a finished request never
needs a second pool thread to release its locks, and a read costs one thread hop instead of three.
Committing before serialisation is safe because sessions keep loaded attributes after commit
(`expire_on_commit=False`) and relationships are `lazy="raise"`; an endpoint that raises is rolled back in
the same thread, and the route closes the request's session (or finishes one a dependency left open).

The hop itself goes through the event loop's `run_in_executor` on a pool of our own rather than anyio's
`to_thread` (capacity limiter, cancel scope and backend lookups on every call): under wrk's 16 connections
that is less than half the CPU per hop (`bench/RESULTS-http.md`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import Scope

from agente_vendedor.core.db import finish_sessions

T = TypeVar("T")

POOL_THREADS = 40
"""As many as anyio's default: endpoints that wait on the network (an LLM, WhatsApp) hold a thread meanwhile."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="endpoint")
    return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None  # a forked worker starts with no threads: it makes its own pool


os.register_at_fork(after_in_child=_forget_pool)


async def run_sync(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in the endpoint pool, with the caller's context (the request id of its log lines).

    If the awaiting task is cancelled (the client went away), the call still runs to its end before the
    cancellation goes on: the thread may hold the request's session, whose exit must not overlap it.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    future = loop.run_in_executor(_executor(), functools.partial(context.run, function, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.wait([future])
            except asyncio.CancelledError:
                continue
        raise


def _run_and_commit(endpoint: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    sessions = [value for value in kwargs.values() if isinstance(value, Session)]
    try:
        result = endpoint(*args, **kwargs)
    except BaseException:
        for session in sessions:  # in this thread, at once: its locks go before the error is rendered
            if session.in_transaction():
                session.rollback()
        raise
    for session in sessions:
        if session.in_transaction():
            session.commit()
    return result


def _threaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run_sync(_run_and_commit, endpoint, args, kwargs)

    return wrapper


class DbRoute(APIRoute):
    """An APIRoute whose sync endpoint (and its commit) runs in the pool while FastAPI's own work stays on the loop.

    It also finishes the request's session (`core.db.get_session`): committed when the handler succeeds,
    rolled back when anything raises (a dependency, validation, the endpoint), closed either way, before the
    response is sent.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _threaded(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, followed by the commit or rollback of the request's session."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except BaseException:
                await finish_sessions(request.scope, commit=False)
                raise
            await finish_sessions(request.scope, commit=True)
            return response

        return handle


class PrefixedRouter(APIRouter):
    """An APIRouter that declines at once a path that does not contain its prefix.

    FastAPI tries every route of every included router, in order, for each request (twice: to choose and to
    handle), matching one regular expression per route: a request to the third router paid for the routes of
    the first two (the largest single item in yappi's profile of `GET /clientes/{id}`, `bench/RESULTS-http.md`).
    Every path this router can match contains its literal prefix (whatever prefix it is included under), so a
    path without it cannot match any of its routes: answering `NONE` at once changes no routing decision.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """`NONE` without trying the routes when the path lacks the prefix; FastAPI's matching otherwise."""
        if self._literal_prefix and self.prefix not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)

    @property
    def _literal_prefix(self) -> bool:
        return bool(self.prefix) and "{" not in self.prefix
