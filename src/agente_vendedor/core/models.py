"""Import every model so the metadata (and Alembic) sees all tables."""

from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha, Mensaje
from agente_vendedor.auth.models import Usuario
from agente_vendedor.canales.models import CanalContacto, CanalEntrante, CanalSaliente
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.models import IndiceOutbox, clientes_fts, productos_fts
from agente_vendedor.ventas.models import ClaveIdempotencia, Venta, VentaHistorial, VentaLinea

__all__ = [
    "CanalContacto",
    "CanalEntrante",
    "CanalSaliente",
    "ClaveIdempotencia",
    "Cliente",
    "Conversacion",
    "DemandaInsatisfecha",
    "Exportacion",
    "IndiceOutbox",
    "Mensaje",
    "Producto",
    "Usuario",
    "Venta",
    "VentaHistorial",
    "VentaLinea",
    "clientes_fts",
    "productos_fts",
]
