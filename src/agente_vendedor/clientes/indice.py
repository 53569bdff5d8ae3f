"""How a cliente is indexed for search: its full-text copy, the text of its vector and the metadata stored with it."""

from __future__ import annotations

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.indexable import Indexable, Metadata, fts_table

clientes_fts = fts_table("clientes_fts")


def documento(cliente: Cliente) -> str:
    """The embedded text of a cliente."""
    return rag_text.document_text(cliente.nombre, cliente.email, cliente.direccion)


def lexico(cliente: Cliente) -> str:
    """The full-text copy of a cliente."""
    return rag_text.lexical_text(cliente.nombre, cliente.email, cliente.telefono, cliente.direccion)


def metadata(cliente: Cliente, huella: str) -> Metadata:
    """What Chroma stores next to a cliente's vector."""
    return {"id": cliente.id, "activo": bool(cliente.activo), "huella": huella}


# Every cliente keeps its vector, inactive ones too: the literal search lists them.
INDICE_CLIENTES: Indexable[Cliente] = Indexable(
    entidad="cliente",
    coleccion="clientes",
    modelo=Cliente,
    fts=clientes_fts,
    documento=documento,
    lexico=lexico,
    metadata=metadata,
)
