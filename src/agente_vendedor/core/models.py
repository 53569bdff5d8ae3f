"""Import every model so the metadata (and Alembic) sees all tables."""

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.models import IndiceOutbox, clientes_fts, productos_fts
from agente_vendedor.ventas.models import Venta

__all__ = ["Cliente", "IndiceOutbox", "Producto", "Venta", "clientes_fts", "productos_fts"]
