"""Users and authentication: create, update, authenticate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.auth.exceptions import (
    CredencialesInvalidas,
    UltimoAdmin,
    UsuarioDuplicado,
    UsuarioNoEncontrado,
)
from agente_vendedor.auth.models import Usuario
from agente_vendedor.auth.schemas import UsuarioCreate, UsuarioUpdate
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.security import hash_password, needs_rehash, verify_password


def create(*, session: Session, datos: UsuarioCreate) -> Usuario:
    """Create a user with an argon2 hash of the password."""
    if session.scalar(select(Usuario.id).where(Usuario.email == datos.email)) is not None:
        raise UsuarioDuplicado(datos.email)
    usuario = Usuario(
        email=datos.email, nombre=datos.nombre, rol=datos.rol, password_hash=hash_password(datos.password)
    )
    session.add(usuario)
    try:
        session.flush()
    except IntegrityError as exc:
        raise UsuarioDuplicado(datos.email) from exc
    return usuario


def get(*, session: Session, usuario_id: int) -> Usuario:
    """The user with that id, or `UsuarioNoEncontrado`."""
    usuario = session.get(Usuario, usuario_id)
    if usuario is None:
        raise UsuarioNoEncontrado(usuario_id)
    return usuario


def list_usuarios(*, session: Session) -> Sequence[Usuario]:
    """Every user, by e-mail."""
    return session.scalars(select(Usuario).order_by(Usuario.email)).all()


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(Usuario).where(Usuario.rol == "admin", Usuario.activo.is_(True))
    return session.scalar(query) or 0


def update(*, session: Session, usuario_id: int, datos: UsuarioUpdate) -> Usuario:
    """Change role, state, name or password; the last active admin cannot be removed."""
    usuario = get(session=session, usuario_id=usuario_id)
    changes = datos.model_dump(exclude_unset=True)
    loses_admin = (
        usuario.rol == "admin"
        and usuario.activo
        and (changes.get("rol", "admin") != "admin" or changes.get("activo", True) is False)
    )
    if loses_admin and _active_admins(session) <= 1:
        raise UltimoAdmin()
    if "password" in changes:
        usuario.password_hash = hash_password(changes.pop("password"))
    for field, value in changes.items():
        setattr(usuario, field, value)
    session.flush()
    return usuario


def authenticate(*, session: Session, email: str, password: str) -> Usuario:
    """The active user with those credentials; the same error and similar time whether the e-mail exists or not."""
    usuario = session.scalar(select(Usuario).where(Usuario.email == email.strip().lower()))
    valid = verify_password(password, usuario.password_hash if usuario else None)
    if usuario is None or not valid or not usuario.activo:
        raise CredencialesInvalidas()
    if needs_rehash(usuario.password_hash):
        usuario.password_hash = hash_password(password)
    usuario.ultimo_acceso = utcnow()
    session.flush()
    return usuario


def has_admin(*, session: Session) -> bool:
    """True when at least one active admin exists."""
    return _active_admins(session) > 0
