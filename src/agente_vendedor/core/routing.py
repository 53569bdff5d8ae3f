"""Route class that runs a sync endpoint and its commit in one pool thread.

FastAPI serialises a plain `def` endpoint's response in a pool thread *before* the request's session
dependency exits (commits). Under load every pool thread can be waiting for a lock that a finished
request still holds, and that request cannot get a thread to serialise and commit: on SQLite the waiters
fail with "database is locked" after the busy timeout, on PostgreSQL row locks can wait forever.
Here the endpoint body runs in the pool from an `async` wrapper, so FastAPI serialises on the event loop,
and the same thread commits the request's session as soon as the body returns: a finished request never
needs a second pool thread to release its locks, and a read costs one thread hop instead of three.
Committing before serialisation is safe because sessions keep loaded attributes after commit
(`expire_on_commit=False`) and relationships are `lazy="raise"`; an endpoint that raises is rolled back by
`core.db.get_session`, as before.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool


def _run_and_commit(endpoint: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = endpoint(*args, **kwargs)
    for value in kwargs.values():
        if isinstance(value, Session) and value.in_transaction():
            value.commit()
    return result


def _threaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(_run_and_commit, endpoint, args, kwargs)

    return wrapper


class DbRoute(APIRoute):
    """An APIRoute whose sync endpoint (and its commit) runs in the pool while FastAPI's own work stays on the loop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _threaded(endpoint)
        super().__init__(path, endpoint, **kwargs)
