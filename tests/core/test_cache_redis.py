"""`RedisCache`'s near copy: a worker answers repeated reads of a versioned key itself, never longer than Redis
would keep the entry, within a bounded size; reads it has not seen go to Redis once."""

from __future__ import annotations

import time
import types
from collections.abc import Iterator

import pytest
import redis

from agente_vendedor.core import cache as cache_module
from agente_vendedor.core.cache import NEAR_COPY_BYTES, RedisCache
from tests.procesos import RedisPropio


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A private redis-server, so that its command counters count this test's commands only."""
    server = RedisPropio()
    server.start()
    yield server.url
    server.stop()


def _gets(server: redis.Redis) -> int:
    stats = server.info("commandstats").get("cmdstat_get", {})
    return int(stats.get("calls", 0))


def test_repeated_reads_are_answered_by_the_worker_and_another_worker_asks_redis_once(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    worker_a, worker_b = RedisCache(redis_url, prefix="t1"), RedisCache(redis_url, prefix="t1")
    worker_a.set("catalogo:v1:pagina", b"uno", ttl=60)
    server.config_resetstat()

    assert [worker_a.get("catalogo:v1:pagina") for _ in range(3)] == [b"uno"] * 3
    assert _gets(server) == 0  # the worker that wrote it
    assert [worker_b.get("catalogo:v1:pagina") for _ in range(3)] == [b"uno"] * 3
    assert _gets(server) == 1  # the other worker: once
    assert worker_b.get("catalogo:v1:otra") is None
    assert worker_b.get("catalogo:v1:otra") is None
    assert _gets(server) == 3  # an absent key is not remembered


def test_a_copy_lasts_no_longer_than_redis_keeps_the_entry(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = redis.Redis.from_url(redis_url)
    worker = RedisCache(redis_url, prefix="t2")
    server.set("t2:catalogo:v1:pagina", b"dos", ex=100)
    assert worker.get("catalogo:v1:pagina") == b"dos"
    server.delete("t2:catalogo:v1:pagina")
    assert worker.get("catalogo:v1:pagina") == b"dos"  # its copy, while Redis would still have kept the entry

    later = time.monotonic() + 101
    monkeypatch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=lambda: later, time_ns=time.time_ns))

    assert worker.get("catalogo:v1:pagina") is None  # past Redis's expiry: asked again, and gone


def test_the_copy_keeps_the_latest_values_within_its_bound(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    worker = RedisCache(redis_url, prefix="t3")
    size = NEAR_COPY_BYTES // 10
    for i in range(30):
        worker.set(f"catalogo:v1:{i}", bytes([i]) * size, ttl=60)
    worker.set("catalogo:v1:grande", b"x" * (NEAR_COPY_BYTES + 1), ttl=60)
    server.config_resetstat()

    assert worker.get("catalogo:v1:29") == bytes([29]) * size
    assert _gets(server) == 0
    assert worker.get("catalogo:v1:0") == bytes([0]) * size  # dropped from the copy, still in Redis
    assert worker.get("catalogo:v1:grande") == b"x" * (NEAR_COPY_BYTES + 1)  # too big to copy
    assert _gets(server) == 2
    assert sum(len(value) for _expiry, value in worker._near.values()) <= NEAR_COPY_BYTES


def test_a_version_is_read_once_and_trusted_until_a_bump_anywhere_announces_it(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    worker_a, worker_b = RedisCache(redis_url, prefix="t4"), RedisCache(redis_url, prefix="t4")
    assert worker_a.known_version("catalogo") is None  # never read: only `version` can tell
    first = worker_a.version("catalogo")
    server.config_resetstat()

    assert [worker_a.version("catalogo") for _ in range(5)] == [first] * 5
    assert worker_a.known_version("catalogo") == first  # without waiting on the network
    assert _gets(server) == 0

    for _ in range(500):  # the other worker's bump is seen by the very next read, every time
        worker_b.bump("catalogo")
        current = int(server.getrange("t4:catalogo:version", 0, -1) or 0)  # not a GET: only the worker's count
        assert worker_a.known_version("catalogo") is None
        assert worker_a.version("catalogo") == current
        assert worker_a.version("catalogo") == current
    assert _gets(server) == 500  # once per bump


def test_a_bump_is_seen_at_once_by_the_worker_that_made_it(redis_url: str) -> None:
    worker = RedisCache(redis_url, prefix="t5")
    before = worker.version("usuarios")
    worker.bump("usuarios")
    after = worker.version("usuarios")
    assert after != before
    assert int(redis.Redis.from_url(redis_url).get("t5:usuarios:version") or 0) == after


def test_notices_lost_with_the_subscription_are_never_trusted(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    worker_a, worker_b = RedisCache(redis_url, prefix="t6"), RedisCache(redis_url, prefix="t6")
    worker_a.version("catalogo")
    worker_b.version("catalogo")

    server.client_kill_filter(_type="pubsub")  # every subscription drops; the bump's notice reaches no one
    server.set("t6:catalogo:version", 123)

    assert worker_a.version("catalogo") == 123
    assert worker_b.version("catalogo") == 123
    worker_b.bump("catalogo")  # subscribed again: notices flow
    assert worker_a.version("catalogo") == int(server.get("t6:catalogo:version") or 0) != 123


def test_a_version_is_read_again_after_the_confirmation_interval(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscription that died without a word delivers no notices: a version is trusted for a bounded time."""
    server = redis.Redis.from_url(redis_url)
    worker = RedisCache(redis_url, prefix="t7")
    worker.version("catalogo")
    server.set("t7:catalogo:version", 456)  # changed behind its back, with no notice
    assert worker.version("catalogo") != 456

    later = time.monotonic() + cache_module.VERSION_CONFIRM_SECONDS + 0.1
    monkeypatch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=lambda: later, time_ns=time.time_ns))

    assert worker.version("catalogo") == 456
