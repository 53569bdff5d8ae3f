"""A small key-value cache with TTL and namespace versions: in process by default, Redis when REDIS_URL is set.

Invalidation bumps a namespace's version; keys embed the version, so every old entry is skipped at once,
in every worker that shares the store.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Protocol

import redis


class Cache(Protocol):
    """What the services need from a cache."""

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds."""

    def version(self, namespace: str) -> int:
        """The namespace's current version."""

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace."""


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


class RedisCache:
    """Cache shared by every worker through Redis."""

    def __init__(self, url: str, prefix: str = "agente-vendedor:cache") -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""
        value = self._redis.get(f"{self._prefix}:{key}")
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store a value for `ttl` seconds."""
        self._redis.set(f"{self._prefix}:{key}", value, ex=ttl)

    def version(self, namespace: str) -> int:
        """The namespace's current version."""
        value = self._redis.get(f"{self._prefix}:{namespace}:version")
        return int(value) if isinstance(value, bytes) else 0

    def bump(self, namespace: str) -> None:
        """Invalidate every entry of the namespace (old keys expire on their own)."""
        self._redis.incr(f"{self._prefix}:{namespace}:version")


def create_cache(redis_url: str | None, *, namespace: str = "") -> Cache:
    """Redis when configured (keys scoped to `namespace`, e.g. the database URL), memory otherwise."""
    if not redis_url:
        return MemoryCache()
    scope = hashlib.sha256(namespace.encode()).hexdigest()[:12]
    return RedisCache(redis_url, prefix=f"agente-vendedor:cache:{scope}")
