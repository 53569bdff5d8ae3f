"""Who a token's user is right now, without a database read on every request.

Each worker keeps the users it has seen (id, email, role, active) with the version of the `usuarios`
namespace of the shared cache at which it read them. Every committed change to `usuarios` bumps that
version after COMMIT (in Redis when REDIS_URL is set, so every worker and instance sees it on its next
request); an entry read at an older version is read again. A deactivation or a role change therefore
applies to the very next request anywhere. Writes that bypass the app's sessions (SQL by hand, a restored
copy) are picked up after `max_age` seconds at the latest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.auth.models import Usuario
from agente_vendedor.core.cache import Cache, bump_on_write
from agente_vendedor.core.security import TokenData, decode_access_token

NAMESPACE = "usuarios"
_MAX_ENTRIES = 10_000
MISSING: Final = object()
"""What `peek` and `cached` return when the user must be read from the database."""


@dataclass(frozen=True, slots=True)
class UsuarioActual:
    """The authenticated user as the database had it at the current `usuarios` version."""

    id: int
    email: str
    rol: str
    activo: bool


def install(factory: sessionmaker[Session], cache: Cache) -> None:
    """Watch every session of `factory`: any write to `usuarios` bumps the version after COMMIT."""
    bump_on_write(factory, cache, model=Usuario, namespace=NAMESPACE)


class UsuariosVigentes:
    """The per-worker table of users, checked against the shared `usuarios` version."""

    def __init__(self, factory: sessionmaker[Session], cache: Cache, *, max_age: float) -> None:
        self._factory = factory
        self._cache = cache
        self._max_age = max_age
        self._entries: dict[int, tuple[int, float, UsuarioActual | None]] = {}
        self._lock = threading.Lock()

    def peek(self, user_id: int, version: int | None = None) -> Any:
        """The fresh entry for `user_id` (a user or None), or `MISSING` when it must be read from the database."""
        entry = self._entries.get(user_id)
        if entry is None:
            return MISSING
        current = self._cache.version(NAMESPACE) if version is None else version
        if entry[0] != current or time.monotonic() - entry[1] > self._max_age:
            return MISSING
        return entry[2]

    def resolve(self, user_id: int) -> UsuarioActual | None:
        """The user as of now (None when it does not exist); may read the shared version and the database."""
        try:
            version = self._cache.version(NAMESPACE)  # read before the row: a change after this bumps it again
        except Exception:  # the shared store is down: the database alone still answers correctly
            return self._read(user_id)
        cached = self.peek(user_id, version)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        usuario = self._read(user_id)
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[user_id] = (version, time.monotonic(), usuario)
        return usuario

    def _read(self, user_id: int) -> UsuarioActual | None:
        with self._factory() as session:
            row = session.execute(
                select(Usuario.id, Usuario.email, Usuario.rol, Usuario.activo).where(Usuario.id == user_id)
            ).one_or_none()
        return UsuarioActual(row.id, row.email, row.rol, row.activo) if row is not None else None

    def cached(self, user_id: int) -> Any:
        """Like `peek`, but only when the version is known without waiting on the network (`MISSING` otherwise):
        a fresh entry can then be read on the event loop."""
        version = self._cache.known_version(NAMESPACE)
        return MISSING if version is None else self.peek(user_id, version)


class TokensVerificados:
    """Tokens whose signature this worker has already verified, kept until they expire.

    The same token arrives on every request of a session; its signature and claims cannot change, so only
    the expiry is checked again. Invalid tokens are never kept.
    """

    def __init__(self, secret: str, max_entries: int = _MAX_ENTRIES) -> None:
        self._secret = secret
        self._max_entries = max_entries
        self._tokens: dict[str, TokenData] = {}

    def decode(self, token: str) -> TokenData | None:
        """The token's claims while it is valid and unexpired; None otherwise."""
        data = self._tokens.get(token)
        if data is not None:
            if time.time() < data.expira:
                return data
            self._tokens.pop(token, None)
            return None
        data = decode_access_token(token, secret=self._secret)
        if data is not None:
            if len(self._tokens) >= self._max_entries:
                self._tokens.clear()
            self._tokens[token] = data
        return data
