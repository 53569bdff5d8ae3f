"""The panel's session cookie (a JWT for audience `panel`) and its CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from agente_vendedor.core.security import ALGORITHM

COOKIE = "panel_sesion"
LOGIN_CSRF_COOKIE = "panel_csrf"
AUDIENCE = "panel"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Sesion:
    """What the cookie proves: who logged in, the form token, and which password they used."""

    user_id: int
    csrf: str
    huella: str


def huella(password_hash: str) -> str:
    """A short fingerprint of the password hash: changing the password ends the other sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def nuevo_token() -> str:
    """A random token for CSRF protection."""
    return secrets.token_urlsafe(32)


def crear(*, user_id: int, password_hash: str, secret: str, minutes: int) -> tuple[str, Sesion]:
    """A signed cookie value for a freshly logged-in user, and the session it carries."""
    sesion = Sesion(user_id=user_id, csrf=nuevo_token(), huella=huella(password_hash))
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "csrf": sesion.csrf,
        "pwd": sesion.huella,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), sesion


def leer(valor: str | None, *, secret: str) -> Sesion | None:
    """The session in a cookie whose signature, audience and expiry are valid; otherwise None.

    API bearer tokens carry no `aud`, so they are refused here; a panel cookie carries `aud` and no `rol`, so the
    API refuses it as a bearer token: neither can stand in for the other.
    """
    if not valor:
        return None
    try:
        claims = jwt.decode(
            valor,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "aud", "exp", "iat", "csrf", "pwd"]},
        )
        return Sesion(user_id=int(claims["sub"]), csrf=str(claims["csrf"]), huella=str(claims["pwd"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def mismo_token(esperado: str | None, recibido: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not esperado or not recibido:
        return False
    return hmac.compare_digest(esperado.encode(), recibido.encode())
