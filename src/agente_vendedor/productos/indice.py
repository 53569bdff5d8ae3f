"""How a product is indexed for search: its full-text copy, the text of its vector and the metadata stored with it."""

from __future__ import annotations

from agente_vendedor.core.text import fold
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.indexable import Indexable, Metadata, fts_table

productos_fts = fts_table("productos_fts")


def documento(producto: Producto) -> str:
    """The embedded text of a product."""
    return rag_text.document_text(producto.nombre, producto.categoria, producto.descripcion)


def lexico(producto: Producto) -> str:
    """The full-text copy of a product; the name counts twice so name matches outrank description matches."""
    return rag_text.lexical_text(
        producto.nombre, producto.nombre, producto.categoria, producto.descripcion, producto.sku
    )


def metadata(producto: Producto, huella: str) -> Metadata:
    """What Chroma stores next to a product's vector so filters can run inside the index."""
    return {
        "id": producto.id,
        "categoria": fold(producto.categoria or ""),
        "precio": float(producto.precio),
        "activo": bool(producto.activo),
        "en_stock": producto.stock > 0,
        "huella": huella,
    }


def con_vector(producto: Producto) -> bool:
    """Inactive products get no vector: search never offers them."""
    return producto.activo


INDICE_PRODUCTOS: Indexable[Producto] = Indexable(
    entidad="producto",
    coleccion="productos",
    modelo=Producto,
    fts=productos_fts,
    documento=documento,
    lexico=lexico,
    metadata=metadata,
    con_vector=con_vector,
    con_vector_sql=(Producto.activo.is_(True),),
)
