"""Route class that keeps the thread pool from starving the commit.

FastAPI serialises a plain `def` endpoint's response in a pool thread *before* the request's session
dependency exits (commits). Under load every pool thread can be waiting for a lock that a finished
request still holds, and that request cannot get a thread to serialise and commit: on SQLite the waiters
fail with "database is locked" after the busy timeout, on PostgreSQL row locks can wait forever.
Running the sync endpoint body in the pool from an `async` wrapper makes FastAPI serialise on the event
loop, so a finished request never needs a pool thread to reach its commit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def _threaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return wrapper


class DbRoute(APIRoute):
    """An APIRoute whose sync endpoint runs in the pool while FastAPI's own work stays on the event loop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _threaded(endpoint)
        super().__init__(path, endpoint, **kwargs)
