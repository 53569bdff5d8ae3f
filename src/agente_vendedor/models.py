"""The model registry: importing this module imports every feature's models.

SQLAlchemy resolves a relationship's target by class name when it first configures the mappers (`Venta.cliente`
names `Cliente`), and Alembic compares the database with `Base.metadata`: both only know the models whose module has
been imported. Without this module, a process that queries before some package's models are imported fails to
configure its mappers, and autogenerate would propose dropping the tables it never saw. The composition roots
(`main.py`, `migrations/env.py`) import it so every mapper and table is known.

It also lists the entities the search index covers (`INDEXABLES`): each package declares its own (`indice.py`) and
this is where they are handed to `Rag`, so `rag` stays generic.

It sits next to `main.py` rather than in `core/` because it imports every feature: `core/` is plumbing and never
imports a feature package (`tests/test_arquitectura.py` checks that).
"""

from typing import Any

from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha, Mensaje
from agente_vendedor.auth.models import Usuario
from agente_vendedor.canales.models import CanalContacto, CanalEntrante, CanalSaliente
from agente_vendedor.clientes.indice import INDICE_CLIENTES, clientes_fts
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.productos.indice import INDICE_PRODUCTOS, productos_fts
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.indexable import Indexable
from agente_vendedor.rag.models import IndiceOutbox
from agente_vendedor.ventas.models import ClaveIdempotencia, Venta, VentaHistorial, VentaLinea

# What the search index keeps in step with the database, handed to every `Rag` (`rag` imports no entity's package).
# The order is the order the outbox syncs them and `Rag.status` lists them.
INDEXABLES: tuple[Indexable[Any], ...] = (INDICE_PRODUCTOS, INDICE_CLIENTES)

__all__ = [
    "CanalContacto",
    "CanalEntrante",
    "CanalSaliente",
    "ClaveIdempotencia",
    "Cliente",
    "Conversacion",
    "DemandaInsatisfecha",
    "Exportacion",
    "INDEXABLES",
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
