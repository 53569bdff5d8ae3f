"""Cliente Manager: create, read, update, deactivate and search clientes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.clientes.exceptions import ClienteNoEncontrado, EmailDuplicado
from agente_vendedor.clientes.indice import INDICE_CLIENTES
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.clientes.schemas import ClienteCreate, ClienteResponse, ClienteUpdate
from agente_vendedor.core.dbapi import OneRow
from agente_vendedor.core.search import like_escape, rank_expression, token_filter
from agente_vendedor.core.text import digits, fold
from agente_vendedor.rag import outbox


def search_text(cliente: Cliente) -> str:
    """The folded text that `buscar` matches: nombre | email | phone digits."""
    return f"{fold(cliente.nombre)} | {cliente.email or ''} | {digits(cliente.telefono or '')}"


def _ensure_email_free(session: Session, email: str, *, except_id: int | None = None) -> None:
    query = select(Cliente.id).where(Cliente.email == email)
    if except_id is not None:
        query = query.where(Cliente.id != except_id)
    if session.scalar(query) is not None:
        raise EmailDuplicado(email)


def _flush(session: Session, cliente: Cliente) -> None:
    """Flush, turning a lost race on the unique e-mail index into the same 409 (the request rolls back)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise EmailDuplicado(cliente.email or "") from exc


def create(*, session: Session, datos: ClienteCreate) -> Cliente:
    """Register a cliente; its e-mail must be unused (case-insensitive)."""
    _ensure_email_free(session, datos.email)
    cliente = Cliente(**datos.model_dump())
    cliente.texto_busqueda = search_text(cliente)
    session.add(cliente)
    _flush(session, cliente)
    outbox.record(session, INDICE_CLIENTES, cliente)
    return cliente


# Built once: SQLAlchemy memoises a statement's cache key, while `session.get` builds and keys a new one per
# call (twice the cost of the whole read in the profile of `GET /clientes/{id}`).
_POR_ID = select(Cliente).where(Cliente.id == bindparam("cliente_id"))


def get(*, session: Session, cliente_id: int) -> Cliente:
    """The cliente with that id, or `ClienteNoEncontrado`."""
    cliente = session.scalars(_POR_ID, {"cliente_id": cliente_id}).one_or_none()
    if cliente is None:
        raise ClienteNoEncontrado(cliente_id)
    return cliente


_TABLA = Cliente.__table__
_FICHA_POR_ID = OneRow(
    select(*(_TABLA.c[name] for name in ClienteResponse.model_fields)).where(_TABLA.c.id == bindparam("cliente_id"))
)


def ficha(*, engine: Engine, cliente_id: int) -> dict[str, Any]:
    """The columns of `ClienteResponse` for one cliente, or `ClienteNoEncontrado`.

    The read path of the hottest staff endpoint: one SELECT on a pooled connection, without a session
    (`core.dbapi`), a tenth of the CPU of the same read through the ORM session on the bench machine
    (`bench/RESULTS-http.md`). Writes still go through `get` and the request's session.
    """
    row = _FICHA_POR_ID.fetch(engine, cliente_id=cliente_id)
    if row is None:
        raise ClienteNoEncontrado(cliente_id)
    return row


def list_clientes(
    *, session: Session, skip: int = 0, limit: int = 100, activo: bool | None = None
) -> tuple[Sequence[Cliente], int]:
    """A page of clientes, newest first, and the total that match the filter."""
    query = select(Cliente)
    if activo is not None:
        query = query.where(Cliente.activo.is_(activo))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Cliente.fecha_registro.desc(), Cliente.id.desc()).offset(skip).limit(limit)
    ).all()
    return rows, total


def update(*, session: Session, cliente_id: int, datos: ClienteUpdate) -> Cliente:
    """Change only the fields that were sent."""
    cliente = get(session=session, cliente_id=cliente_id)
    changes = datos.model_dump(exclude_unset=True)
    if "email" in changes and changes["email"] != cliente.email:
        _ensure_email_free(session, changes["email"], except_id=cliente.id)
    for field, value in changes.items():
        setattr(cliente, field, value)
    cliente.texto_busqueda = search_text(cliente)
    _flush(session, cliente)
    outbox.record(session, INDICE_CLIENTES, cliente)
    return cliente


def deactivate(*, session: Session, cliente_id: int) -> None:
    """Soft delete: the cliente stays for history but is marked inactive."""
    cliente = get(session=session, cliente_id=cliente_id)
    cliente.activo = False
    session.flush()
    outbox.record(session, INDICE_CLIENTES, cliente)


def search_ranked(*, session: Session, q: str, limit: int = 20) -> list[tuple[Cliente, int]]:
    """Lexical matches of `q` on nombre, email or phone with their tier (0 exact ... 4 only the words), best first."""
    column = Cliente.texto_busqueda
    folded = fold(q)
    phone = digits(q)
    conditions = [token_filter(column, q)]
    exact = [Cliente.email == folded, column.like(f"{like_escape(folded)} |%", escape="\\")]
    if len(phone) >= 5 and set(q.strip()) <= set("0123456789 +-()"):
        conditions.append(column.like(f"%| %{phone}", escape="\\"))
        exact.append(column.like(f"%| {phone}", escape="\\"))
    rank = rank_expression(column, q, exact)
    query = (
        select(Cliente, rank)
        .where(or_(*conditions))
        .order_by(rank, Cliente.activo.desc(), Cliente.nombre, Cliente.id)
        .limit(limit)
    )
    return [(cliente, int(tier)) for cliente, tier in session.execute(query).all()]


def search(*, session: Session, q: str, limit: int = 20) -> Sequence[Cliente]:
    """Clientes whose nombre, email or phone match `q`, accent- and case-insensitive, best first."""
    return [cliente for cliente, _tier in search_ranked(session=session, q=q, limit=limit)]
