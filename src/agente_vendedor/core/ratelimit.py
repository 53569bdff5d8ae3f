"""Rate limits with the `limits` library: in memory by default, shared through Redis when REDIS_URL is set."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from agente_vendedor.core.errors import AppError


class LimiteExcedido(AppError):
    """Too many requests in the window."""

    status_code = 429
    code = "limite_excedido"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Demasiadas peticiones. Vuelva a intentarlo dentro de {retry_after} segundos.")
        self.headers = {"Retry-After": str(retry_after)}


class RateLimiter:
    """A moving-window limiter over a shared storage."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "agente-vendedor") -> None:
        self.storage: storage.Storage = (
            storage.RedisStorage(redis_url, key_prefix=prefix) if redis_url else storage.MemoryStorage()
        )
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)

    def hit(self, limit: str | RateLimitItem, *keys: str) -> None:
        """Count one request for `keys`; raise `LimiteExcedido` (with Retry-After) once over the limit."""
        item = parse(limit) if isinstance(limit, str) else limit
        if not self.strategy.hit(item, *keys):
            reset_at = self.strategy.get_window_stats(item, *keys).reset_time
            raise LimiteExcedido(max(1, math.ceil(reset_at - time.time())))

    def reset(self) -> None:
        """Forget every counter (tests and admin tooling)."""
        self.storage.reset()
