"""Password hashing (argon2) and access tokens (JWT signed with SECRET_KEY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()
# Verified against when the user does not exist, so both failures cost the same time. A fixed hash of a random,
# discarded password with today's parameters: computing one at import would cost every process 64 MiB of peak memory.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$qvQjgM1Ty38pP3BcuaP9Jg$XJzDDE4HS4uaJ+Nn0cWoSw9hEDgIIW/+p9dUHrNQHW0"


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash, burn the same time and fail."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class TokenData:
    """The claims the service relies on."""

    user_id: int
    rol: str
    expira: float = 0.0
    """`exp` as a POSIX timestamp: the token is valid while `time.time() < expira`."""


def create_access_token(*, user_id: int, rol: str, secret: str, expires_minutes: int) -> str:
    """A signed JWT with `sub`, `rol`, `iat` and `exp`."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "rol": rol, "iat": now, "exp": now + timedelta(minutes=expires_minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> TokenData | None:
    """The token's claims if its signature, algorithm and expiry are valid; otherwise None."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat", "rol"]})
        return TokenData(user_id=int(claims["sub"]), rol=str(claims["rol"]), expira=float(claims["exp"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
