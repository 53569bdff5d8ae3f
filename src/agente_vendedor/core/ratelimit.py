"""Rate limits with the `limits` library: in memory by default, shared through Redis when REDIS_URL is set.

Redis down (policy): each worker counts in its own memory until Redis answers again, so a limit still holds
per worker (the total allowed is at most the number of workers times the limit); a warning is logged once per
outage and Redis is tried again every few seconds. A request is never refused or failed because Redis is down.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItem, errors, parse, storage, strategies

from agente_vendedor.core.errors import AppError

logger = logging.getLogger("agente_vendedor.ratelimit")
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_RETRY_SECONDS = 3.0


class LimiteExcedido(AppError):
    """Too many requests in the window."""

    status_code = 429
    code = "limite_excedido"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Demasiadas peticiones. Vuelva a intentarlo dentro de {retry_after} segundos.")
        self.headers = {"Retry-After": str(retry_after)}


class RateLimiter:
    """A moving-window limiter over a shared storage, with a per-process fallback while Redis is unreachable."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "agente-vendedor") -> None:
        self.memory = storage.MemoryStorage()
        self.storage: storage.Storage = (
            storage.RedisStorage(
                redis_url,
                key_prefix=prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if redis_url
            else self.memory
        )
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)
        self._fallback = strategies.MovingWindowRateLimiter(self.memory)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False

    def hit(self, limit: str | RateLimitItem, *keys: str) -> None:
        """Count one request for `keys`; raise `LimiteExcedido` (with Retry-After) once over the limit."""
        item = parse(limit) if isinstance(limit, str) else limit
        if self.storage is self.memory or time.monotonic() < self._down_until:
            self._hit(self._fallback, item, keys)
            return
        try:
            self._hit(self.strategy, item, keys)
        except errors.StorageError as exc:
            self._mark_down(exc)
            self._hit(self._fallback, item, keys)
            return
        if self._down:
            with self._lock:
                self._down = False
            logger.warning("Redis vuelve a responder: límites de peticiones compartidos de nuevo")

    @staticmethod
    def _hit(strategy: strategies.RateLimiter, item: RateLimitItem, keys: tuple[str, ...]) -> None:
        if not strategy.hit(item, *keys):
            reset_at = strategy.get_window_stats(item, *keys).reset_time
            raise LimiteExcedido(max(1, math.ceil(reset_at - time.time())))

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            if not self._down:
                self._down = True
                logger.warning("Redis no responde: los límites de peticiones se cuentan en cada proceso: %s", exc)

    def reset(self) -> None:
        """Forget every counter (tests and admin tooling)."""
        self.memory.reset()
        if self.storage is not self.memory:
            self.storage.reset()
