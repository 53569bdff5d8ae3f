"""The model registry: importing this module imports every feature's models.

SQLAlchemy resolves a relationship by class name (`relationship("Venta")`) and Alembic compares the database with
`Base.metadata`: both only see the mappers and tables whose module has been imported. A process that queries before
importing, say, `ventas.models` fails on `Cliente`'s first use, and autogenerate would propose dropping the tables it
never saw. The composition roots (`main.py`, `migrations/env.py`) import this module so every mapper is known.

It sits next to `main.py` rather than in `core/` because it imports every feature: `core/` is plumbing and never
imports a feature package (`tests/test_arquitectura.py` checks that).
"""

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
