"""A small key-value cache with TTL and namespace versions: in process by default, Redis when REDIS_URL is set.

Invalidation bumps a namespace's version; keys embed the version, so every old entry is skipped at once,
in every worker that shares the store.

With Redis, each worker also keeps the values it has read or written lately (`RedisCache`'s near copy): a key
embeds its namespace's version, so what is stored under it is never replaced by something newer under the same key,
and a copy is as good as Redis's own until Redis would have expired it. Versions are not asked of Redis on every read
either: a bump announces its namespace on a Redis channel, every worker listens, and a worker trusts a version it
read until a notice names its namespace (`_VersionNotices`). A steady catalog page or user check then costs no
round trip to Redis.

Redis down (policy): the cache is bypassed (every read goes to the database; a per-process copy would serve
other workers' stale data), a warning is logged once per outage and Redis is tried again every few seconds.
A bump that could not reach Redis is replayed before the next operation that does.
"""

from __future__ import annotations

import functools
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
VERSION_CONFIRM_SECONDS = 1.0
"""A version no notice has named is still read again from Redis after this long (a silently dead subscription)."""
NEAR_COPY_BYTES = 4 * 1024 * 1024
"""Per worker, at most this many bytes of values read from or written to Redis are kept in process."""
_unique = itertools.count(1)


class Cache(Protocol):
    """What the services need from a cache."""

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds. A key holds one value for its life: build it with the namespace's
        `version` (a worker may answer a key from its own copy until the entry expires)."""

    def version(self, namespace: str) -> int:
        """The namespace's current version."""

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace."""

    def known_version(self, namespace: str) -> int | None:
        """The namespace's current version when this process can tell it without waiting on the network (it may
        then be asked on the event loop); None when only `version` can."""

    def peek(self, key: str) -> bytes | None:
        """The stored value when this process holds it (no network, no waiting); None otherwise."""


class MemoryCache:
    """Per-process cache; enough for one worker."""

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

    def known_version(self, namespace: str) -> int | None:
        """Always known: it is this process's own."""
        return self.version(namespace)

    def peek(self, key: str) -> bytes | None:
        """As `get`: every value is in process."""
        return self.get(key)


class _VersionNotices:
    """The namespace versions a worker may use without asking Redis: each one read since the last notice naming it.

    `RedisCache.bump` sets the namespace's new version and publishes its name on a channel in one pipeline. Redis
    queues the notice for every subscriber before it answers the publisher and writes them all in the same pass of
    its event loop, so a request that reaches any worker after the bump's has returned finds the notice on that
    worker's subscription (every look at a version reads the pending notices first) and reads the version again.
    Nothing is trusted while the subscription is not up (before the first `version`, after any error, after the
    client reconnected by itself and may have missed notices), and no version longer than VERSION_CONFIRM_SECONDS
    (a connection that died without a word delivers no notices and raises no error).
    """

    def __init__(self, client: Any, channel: str, errors: type[Exception]) -> None:
        self._client = client
        self._channel = channel
        self._errors = errors
        self._subscription: Any = None
        self._connections = 0
        self._known: dict[str, tuple[int, float]] = {}  # namespace -> (version, monotonic time to read it again)
        self._epoch = 0  # bumped by every notice: a version read before one may be stale
        self._lock = threading.Lock()

    def subscribe(self) -> None:
        """Listen for notices, if not yet (blocks up to Redis's timeout: never from the event loop)."""
        with self._lock:
            if self._subscription is not None:
                return
            subscription = _subscription_class()(self._client.connection_pool)
            try:
                subscription.subscribe(self._channel)
                confirmed = subscription.get_message(timeout=REDIS_TIMEOUT_SECONDS)
            except self._errors:
                subscription.close()
                raise
            if confirmed is None or confirmed.get("type") != "subscribe":
                subscription.close()
                return
            self._subscription = subscription
            self._connections = subscription.connections
            self._forget_all()

    def known(self, namespace: str, *, wait: bool = True) -> tuple[int | None, int]:
        """The version to trust (None: read it from Redis) and the epoch to give `read` with what Redis says.

        Reads pending notices first; never waits on the network. With `wait=False` it does not wait for the lock
        either (another thread is reading the subscription) and answers None instead.
        """
        if not self._lock.acquire(blocking=wait):
            return None, -1
        try:
            if not self._drain():
                return None, self._epoch
            item = self._known.get(namespace)
            if item is not None and time.monotonic() < item[1]:
                return item[0], self._epoch
            return None, self._epoch
        finally:
            self._lock.release()

    def read(self, namespace: str, version: int, epoch: int) -> None:
        """Trust `version`, just read from Redis, unless a notice arrived since `known` handed out `epoch`."""
        with self._lock:
            if self._subscription is not None and epoch == self._epoch and self._drain() and epoch == self._epoch:
                self._known[namespace] = (version, time.monotonic() + VERSION_CONFIRM_SECONDS)

    def announce(self, namespace: str, version_key: str, version: int) -> None:
        """Set the namespace's new version and publish its name, in one round trip; forget it here before and after
        (a read that started before the write may have trusted the old version in between)."""
        self._forget(namespace)
        pipe = self._client.pipeline(transaction=False)
        pipe.set(version_key, version)
        pipe.publish(self._channel, namespace.encode())
        pipe.execute()
        self._forget(namespace)

    def _forget(self, namespace: str) -> None:
        with self._lock:
            self._known.pop(namespace, None)
            self._epoch += 1

    def _drain(self) -> bool:
        """Apply the notices waiting on the subscription; False when there is none to trust (lock held)."""
        subscription = self._subscription
        if subscription is None:
            return False
        try:
            while (message := subscription.get_message(timeout=0.0)) is not None:
                self._apply(message)
        except self._errors:
            self._drop()
            return False
        if subscription.connections != self._connections:  # reconnected by the client: notices may be lost
            self._connections = subscription.connections
            self._forget_all()
        return True

    def _apply(self, message: dict[str, Any]) -> None:
        if message.get("type") == "message" and isinstance(message.get("data"), bytes):
            namespace = message["data"].decode()
            self._known.pop(namespace, None)
            self._epoch += 1

    def _forget_all(self) -> None:
        self._known.clear()
        self._epoch += 1

    def _drop(self) -> None:
        subscription, self._subscription = self._subscription, None
        self._forget_all()
        if subscription is not None:
            try:
                subscription.close()
            except self._errors:
                pass


@functools.cache
def _subscription_class() -> type:
    """redis-py's PubSub, counting its connections: it reconnects and subscribes again on its own after an error,
    and notices published in between are lost."""
    from redis.client import PubSub

    class CountedPubSub(PubSub):
        connections = 0

        def on_connect(self, connection: Any) -> None:
            self.connections += 1
            super().on_connect(connection)

    return CountedPubSub


class RedisCache:
    """Cache shared by every worker through Redis; while Redis is unreachable it caches nothing and never raises.

    A version is a fresh nanosecond stamp rather than a counter: after Redis restarts empty, a counter would start
    again at 0 and reach numbers whose keys an in-flight request could have written before the restart.
    """

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
        self._notices = _VersionNotices(self._redis, f"{prefix}:versiones", redis.RedisError)

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
            self._notices.announce(namespace, self._version_key(namespace), time.time_ns())
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
        near = self.peek(key)
        if near is not None:
            return near
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
            self._drop_near(key)
            self._near[key] = (expires, value)
            self._near_bytes += len(value)
            while self._near_bytes > NEAR_COPY_BYTES:
                _key, (_expires, dropped) = self._near.popitem(last=False)
                self._near_bytes -= len(dropped)

    def _drop_near(self, key: str) -> None:
        """Drop `key` from the near copy (the caller holds the lock)."""
        item = self._near.pop(key, None)
        if item is not None:
            self._near_bytes -= len(item[1])

    def version(self, namespace: str) -> int:
        """The namespace's current version (created on first use); a never-repeated one while Redis is unreachable.

        The one this worker read last, as long as no notice has named the namespace since (`_VersionNotices`);
        otherwise read from Redis.
        """

        def read() -> int:
            self._notices.subscribe()
            known, epoch = self._notices.known(namespace)
            if known is not None:
                return known
            key = self._version_key(namespace)
            value = self._redis.get(key)
            if value is None:
                self._redis.set(key, time.time_ns(), nx=True)
                value = self._redis.get(key)
            version = int(value) if isinstance(value, bytes) else 0
            self._notices.read(namespace, version, epoch)
            return version

        # A negative, per-call version: no key built with it can be found, so an outage never serves an old entry.
        return self._call(read, -next(_unique))

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace (old keys expire on their own); replayed later if Redis is down."""
        with self._lock:
            self._pending_bumps.add(namespace)
        self._call(lambda: None, None)  # replays the pending bump now, or on the next call that reaches Redis

    def known_version(self, namespace: str) -> int | None:
        """The version this worker read and no notice has named since; None when Redis must be asked (or is down)."""
        if time.monotonic() < self._down_until or self._pending_bumps:
            return None
        return self._notices.known(namespace, wait=False)[0]

    def peek(self, key: str) -> bytes | None:
        """The value from this worker's near copy, while Redis would still hold it; None otherwise."""
        with self._lock:
            near = self._near.get(key)
            if near is None:
                return None
            if near[0] > time.monotonic():
                self._near.move_to_end(key)
                return near[1]
            self._drop_near(key)
            return None


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
