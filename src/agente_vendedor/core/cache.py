"""A small key-value cache with TTL and namespace versions: in process by default, Redis when REDIS_URL is set.

Invalidation bumps a namespace's version; keys embed the version, so every old entry is skipped at once,
in every worker that shares the store.

With Redis, each worker also keeps the values it has read or written lately (`RedisCache`'s near copy): a key
embeds its namespace's version, so what is stored under it is never replaced by something newer under the same key,
and a copy is as good as Redis's own until Redis would have expired it. Only the version is asked of Redis per read.

Redis down (policy): the cache is bypassed (every read goes to the database; a per-process copy would serve
other workers' stale data), a warning is logged once per outage and Redis is tried again every few seconds.
A bump that could not reach Redis is replayed before the next operation that does.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

logger = logging.getLogger("agente_vendedor.cache")
T = TypeVar("T")
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_RETRY_SECONDS = 3.0
NEAR_COPY_BYTES = 4 * 1024 * 1024
"""Per worker, at most this many bytes of values read from or written to Redis are kept in process."""
_unique = itertools.count(1)


class Cache(Protocol):
    """What the services need from a cache."""

    local: bool
    """True when every call is answered in process (no I/O): it may then be made on the event loop."""

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds. A key holds one value for its life: build it with the namespace's
        `version` (a worker may answer a key from its own copy until the entry expires)."""

    def version(self, namespace: str) -> int:
        """The namespace's current version."""

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace."""


class MemoryCache:
    """Per-process cache; enough for one worker."""

    local = True

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._data[key]
                return None
            return item[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds (the whole store is dropped when it grows past its bound)."""
        with self._lock:
            if len(self._data) >= self._max_entries:
                self._data.clear()
            self._data[key] = (time.monotonic() + ttl, value)

    def version(self, namespace: str) -> int:
        """The namespace's current version."""
        return self._versions.get(namespace, 0)

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace."""
        with self._lock:
            self._versions[namespace] = self._versions.get(namespace, 0) + 1
            stale = f"{namespace}:"
            for key in [k for k in self._data if k.startswith(stale)]:
                del self._data[key]


class RedisCache:
    """Cache shared by every worker through Redis; while Redis is unreachable it caches nothing and never raises.

    A version is a fresh nanosecond stamp rather than a counter: after Redis restarts empty, a counter would start
    again at 0 and reach numbers whose keys an in-flight request could have written before the restart.
    """

    local = False

    def __init__(self, url: str, prefix: str = "agente-vendedor:cache") -> None:
        import redis  # only with REDIS_URL: a worker without Redis does not carry the client (about 7 MB)

        self._errors = redis.RedisError
        self._redis = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._prefix = prefix
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._pending_bumps: set[str] = set()
        self._near: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # key -> (monotonic expiry, value)
        self._near_bytes = 0

    def _call(self, action: Callable[[], T], fallback: T) -> T:
        """Run a Redis command; on failure log (once per outage), skip Redis for a few seconds, return `fallback`."""
        if time.monotonic() < self._down_until:
            return fallback
        try:
            self._replay_bumps()
            result = action()
        except self._errors as exc:
            with self._lock:
                self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
                if not self._down:
                    self._down = True
                    logger.warning("Redis no responde: la caché se omite (lecturas a la base de datos): %s", exc)
            return fallback
        if self._down:
            with self._lock:
                self._down = False
            logger.warning("Redis vuelve a responder: caché compartida reactivada")
        return result

    def _replay_bumps(self) -> None:
        with self._lock:
            pending = sorted(self._pending_bumps)
        for namespace in pending:
            self._redis.set(self._version_key(namespace), time.time_ns())
            with self._lock:
                self._pending_bumps.discard(namespace)

    def _version_key(self, namespace: str) -> str:
        return f"{self._prefix}:{namespace}:version"

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent, expired or Redis is unreachable.

        From this worker's near copy when it has one that Redis would still hold; otherwise from Redis, with the
        time Redis will keep it (one round trip), and then remembered until then.
        """
        now = time.monotonic()
        with self._lock:
            near = self._near.get(key)
            if near is not None:
                if near[0] > now:
                    self._near.move_to_end(key)
                    return near[1]
                self._forget(key)
        full_key = f"{self._prefix}:{key}"

        def fetch() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(full_key)
            pipe.pttl(full_key)
            return pipe.execute()

        value, milliseconds = self._call(fetch, [None, -2])
        if not isinstance(value, bytes):
            return None
        if isinstance(milliseconds, int) and milliseconds > 0:
            self._remember(key, value, now + milliseconds / 1000)
        return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds (dropped while Redis is unreachable)."""
        expires = time.monotonic() + ttl
        if self._call(lambda: self._redis.set(f"{self._prefix}:{key}", value, ex=ttl), None):
            self._remember(key, value, expires)

    def _remember(self, key: str, value: bytes, expires: float) -> None:
        if len(value) > NEAR_COPY_BYTES // 8:
            return
        with self._lock:
            self._forget(key)
            self._near[key] = (expires, value)
            self._near_bytes += len(value)
            while self._near_bytes > NEAR_COPY_BYTES:
                _key, (_expires, dropped) = self._near.popitem(last=False)
                self._near_bytes -= len(dropped)

    def _forget(self, key: str) -> None:
        """Drop `key` from the near copy (the caller holds the lock)."""
        item = self._near.pop(key, None)
        if item is not None:
            self._near_bytes -= len(item[1])

    def version(self, namespace: str) -> int:
        """The namespace's current version (created on first use); a never-repeated one while Redis is unreachable."""

        def read() -> int:
            key = self._version_key(namespace)
            value = self._redis.get(key)
            if value is None:
                self._redis.set(key, time.time_ns(), nx=True)
                value = self._redis.get(key)
            return int(value) if isinstance(value, bytes) else 0

        # A negative, per-call version: no key built with it can be found, so an outage never serves an old entry.
        return self._call(read, -next(_unique))

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace (old keys expire on their own); replayed later if Redis is down."""
        with self._lock:
            self._pending_bumps.add(namespace)
        self._call(lambda: None, None)  # replays the pending bump now, or on the next call that reaches Redis


def create_cache(redis_url: str | None, *, namespace: str = "") -> Cache:
    """Redis when configured (keys scoped to `namespace`, e.g. the database URL), memory otherwise."""
    if not redis_url:
        return MemoryCache()
    scope = hashlib.sha256(namespace.encode()).hexdigest()[:12]
    return RedisCache(redis_url, prefix=f"agente-vendedor:cache:{scope}")


def _changed_key(namespace: str) -> str:
    return f"{namespace}_modificado"


def mark_written(session: Session, namespace: str) -> None:
    """Tell `bump_on_write` that this session wrote to `namespace`'s table by a path its events do not see
    (`core.dbapi.Write`): the version is bumped after COMMIT, and not at all if the transaction rolls back."""
    session.info[_changed_key(namespace)] = True


def bump_on_write(factory: sessionmaker[Session], cache: Cache, *, model: type[Any], namespace: str) -> None:
    """Watch every session of `factory`: a committed write to `model`'s table bumps `namespace` after COMMIT.

    ORM changes, bulk `UPDATE`/`DELETE`/`INSERT` statements and raw SQL run through the sessions all count; a rolled
    back transaction bumps nothing.
    """
    table: str = model.__tablename__
    changed = _changed_key(namespace)
    sql_write = re.compile(rf"^\s*(update|insert\s+into|delete\s+from)\s+{table}\b", re.IGNORECASE)

    def touches(state: ORMExecuteState) -> bool:
        if state.is_update or state.is_delete or state.is_insert:
            mapper = state.bind_mapper
            if mapper is not None and mapper.class_ is model:
                return True
            return getattr(getattr(state.statement, "table", None), "name", None) == table
        return isinstance(state.statement, TextClause) and bool(sql_write.match(state.statement.text))

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        if any(isinstance(obj, model) for obj in (*session.new, *session.dirty, *session.deleted)):
            session.info[changed] = True

    @event.listens_for(factory, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> None:
        if touches(state):
            state.session.info[changed] = True

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(changed, False):
            cache.bump(namespace)

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(changed, None)
