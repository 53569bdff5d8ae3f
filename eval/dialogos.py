"""The conversation corpus runner: how often the offline agent ends a real customer's chat the way it should.

Usage (from the repository root):
    PYTHONPATH=src python eval/dialogos.py [--database-url URL] [--detalle] [--id ID ...] [--subconjunto]

Builds a throw-away database (SQLite by default), loads `eval/dialogos/catalogo.json` through the normal services,
indexes it, points `TIENDA_INFO` at `eval/dialogos/tienda.yaml`, then plays every conversation of
`eval/dialogos/conversaciones_*.yaml` turn by turn through the same service `POST /rag/query` uses (one transaction
per turn). Each conversation starts from the same catalog: stock is restored and orders, clientes and chats are
removed in between. A conversation passes when

- the orders it created are exactly the expected one (products, quantities, total, cliente's e-mail and name), or
  none when it expects none;
- every expected fact appears in the reply it names (or in any reply), accents and case ignored;
- no reply carries an amount that is not backed: a catalog price, a price times a quantity, the cart's or the
  order's total at that turn, an amount the customer wrote, or one of the shop-information file.

Prints the pass rate (overall, by region and by kind), the failures with their transcript, and the number of
replies carrying an unbacked amount.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, update

from agente_vendedor.agente import service as agente_service
from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha, Mensaje
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core import migrate
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.core.text import fold
from agente_vendedor.models import INDEXABLES
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.models import Producto
from agente_vendedor.productos.schemas import ProductoCreate
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.settings import Settings
from agente_vendedor.ventas.models import ClaveIdempotencia, Venta, VentaHistorial, VentaLinea

HERE = Path(__file__).parent / "dialogos"
CENT = Decimal("0.01")
MAX_UNIDADES = 100
_IMPORTE = re.compile(r"(\d{1,9}(?:[.,]\d{1,2})?)\s*(?:€|eur\b|euros?\b)", re.IGNORECASE)
_NUMERO = re.compile(r"\d{1,9}(?:[.,]\d{1,2})?")
# The corpus's representative subset that the test suite plays: every Nth conversation of each file.
PASO_SUBCONJUNTO = 5


@dataclass
class Resultado:
    """One conversation's outcome."""

    id: str
    region: str
    tipo: str
    ok: bool
    fallos: list[str] = field(default_factory=list)
    transcripcion: list[tuple[str, str]] = field(default_factory=list)
    importes_no_respaldados: int = 0


@dataclass
class Informe:
    """All the conversations' outcomes."""

    resultados: list[Resultado]
    turnos: int
    segundos: float

    @property
    def tasa(self) -> float:
        """Share of conversations that passed."""
        return sum(r.ok for r in self.resultados) / len(self.resultados) if self.resultados else 0.0

    @property
    def importes_no_respaldados(self) -> int:
        """Replies that carried an amount the catalog does not back."""
        return sum(r.importes_no_respaldados for r in self.resultados)


def cargar_conversaciones(carpeta: Path = HERE) -> list[dict[str, Any]]:
    """Every conversation of the corpus, in file order."""
    conversaciones: list[dict[str, Any]] = []
    for path in sorted(carpeta.glob("conversaciones_*.yaml")):
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        conversaciones.extend(yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or [])  # noqa: S506
    return conversaciones


def subconjunto(conversaciones: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A representative slice (every Nth of each region), for the test suite."""
    por_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in conversaciones:
        por_region[c["region"]].append(c)
    return [c for grupo in por_region.values() for i, c in enumerate(grupo) if i % PASO_SUBCONJUNTO == 0]


def _decimal(texto: str) -> Decimal | None:
    try:
        return Decimal(texto.replace(",", ".")).quantize(CENT)
    except InvalidOperation:
        return None


def _importes(texto: str) -> Iterable[Decimal]:
    for match in _IMPORTE.finditer(texto):
        valor = _decimal(match.group(1))
        if valor is not None:
            yield valor


def _numeros(texto: str) -> set[Decimal]:
    return {v for v in (_decimal(m.group(0)) for m in _NUMERO.finditer(texto)) if v is not None}


class Banco:
    """The evaluation shop: a migrated database with the corpus's catalog, indexed, and its retrieval runtime."""

    def __init__(self, url: str | None = None, carpeta: Path = HERE) -> None:
        self.carpeta = carpeta
        self.tmp = Path(tempfile.mkdtemp(prefix="dialogos-eval-"))
        self.url = url or f"sqlite:///{self.tmp / 'eval.db'}"
        migrate.upgrade(self.url)
        tiene_info = "TIENDA_INFO" in Settings.model_fields
        opciones: dict[str, Any] = {"TIENDA_INFO": carpeta / "tienda.yaml"} if tiene_info else {}
        self.settings = Settings(
            _env_file=None,
            DATABASE_URL=self.url,
            DATA_DIRECTORY=self.tmp,
            CHROMA_PERSIST_DIRECTORY=self.tmp / "chroma",
            DEMO_DATA=False,
            **opciones,
        )
        self.engine = create_db_engine(self.settings.sqlalchemy_url)
        self.rag = Rag(self.settings, create_session_factory(self.engine), entidades=INDEXABLES)
        catalogo = json.loads((carpeta / "catalogo.json").read_text(encoding="utf-8"))["productos"]
        self.stock: dict[int, int] = {}
        self.sku: dict[int, str] = {}
        with self.rag.session_factory() as session:
            for item in catalogo:
                producto = productos_service.create(session=session, datos=ProductoCreate.model_validate(item))
                self.stock[producto.id] = producto.stock
                self.sku[producto.id] = str(producto.sku)
            session.commit()
        self.rag.process_outbox()
        self.precios = {Decimal(str(p["precio"])).quantize(CENT) for p in catalogo}
        info = carpeta / "tienda.yaml"
        self.importes_tienda = _numeros(info.read_text(encoding="utf-8")) if info.exists() else set()

    def close(self) -> None:
        """Release the database."""
        self.engine.dispose()

    def limpiar(self) -> None:
        """Back to the loaded catalog: stock restored; orders, clientes, chats and unmet demand removed."""
        with self.rag.session_factory() as session:
            for model in (
                Mensaje,
                DemandaInsatisfecha,
                Conversacion,
                VentaHistorial,
                VentaLinea,
                ClaveIdempotencia,
                Venta,
                Cliente,
            ):
                session.execute(delete(model))
            for producto_id, stock in self.stock.items():
                session.execute(
                    update(Producto).where(Producto.id == producto_id, Producto.stock != stock).values(stock=stock)
                )
            session.commit()
        self.rag.process_outbox()

    def jugar(self, conversacion: dict[str, Any]) -> Resultado:
        """Play one conversation and judge it."""
        self.limpiar()
        chat_id = f"eval-{conversacion['id']}"[:128]
        resultado = Resultado(id=conversacion["id"], region=conversacion["region"], tipo=conversacion["tipo"], ok=True)
        respuestas: list[str] = []
        dicho = ""
        base = {(p * q).quantize(CENT) for p in self.precios for q in range(1, MAX_UNIDADES + 1)}
        for texto in conversacion["turnos"]:
            texto = str(texto)
            dicho += " " + texto
            with self.rag.session_factory() as session:
                turno = agente_service.query(session=session, rag=self.rag, chat_id=chat_id, texto=texto)
                venta_id = turno.respuesta.venta_id
                venta_total = session.get_one(Venta, venta_id).total if venta_id else None
                session.commit()
            r = turno.respuesta
            respuesta = r.respuesta or ""
            respuestas.append(respuesta)
            resultado.transcripcion.append((texto, respuesta))
            permitidos = base | self.importes_tienda | _numeros(dicho)
            permitidos |= {t for t in (r.carrito.total if r.carrito else None, venta_total) if t is not None}
            malos = [str(v) for v in _importes(respuesta) if v not in permitidos]
            if malos:
                resultado.importes_no_respaldados += 1
                resultado.fallos.append(f"importe no respaldado en la respuesta {len(respuestas)}: {malos}")
        resultado.fallos.extend(self._pedido(chat_id, conversacion["espera"].get("pedido")))
        resultado.fallos.extend(_hechos(conversacion["espera"].get("hechos") or [], respuestas))
        resultado.ok = not resultado.fallos
        return resultado

    def _pedido(self, chat_id: str, esperado: dict[str, Any] | None) -> list[str]:
        with self.rag.session_factory() as session:
            ventas = list(
                session.scalars(
                    select(Venta).where(Venta.metadatos_json.contains(f'"chat_id":"{chat_id}"')).order_by(Venta.id)
                ).all()
            )
            if esperado is None:
                return [f"se creó un pedido que nadie esperaba (total {ventas[0].total})"] if ventas else []
            if len(ventas) != 1:
                return [f"se esperaba 1 pedido y hay {len(ventas)}"]
            venta = ventas[0]
            lineas = session.scalars(select(VentaLinea).where(VentaLinea.venta_id == venta.id)).all()
            tiene = Counter({self.sku[linea.producto_id]: linea.cantidad for linea in lineas})
            quiere = Counter({str(x["sku"]): int(x["cantidad"]) for x in esperado["lineas"]})
            fallos = []
            if tiene != quiere:
                fallos.append(f"líneas {dict(tiene)} en vez de {dict(quiere)}")
            if venta.total != Decimal(str(esperado["total"])):
                fallos.append(f"total {venta.total} en vez de {esperado['total']}")
            cliente_esperado = esperado.get("cliente")
            if cliente_esperado:
                cliente = session.get(Cliente, venta.cliente_id) if venta.cliente_id else None
                if cliente is None or (cliente.email or "").lower() != str(cliente_esperado["email"]).lower():
                    fallos.append(f"cliente {cliente.email if cliente else None} en vez de {cliente_esperado['email']}")
                elif "nombre" in cliente_esperado and fold(cliente.nombre) != fold(str(cliente_esperado["nombre"])):
                    fallos.append(f"nombre {cliente.nombre!r} en vez de {cliente_esperado['nombre']!r}")
            return fallos


def _hechos(hechos: Sequence[dict[str, Any]], respuestas: Sequence[str]) -> list[str]:
    fallos = []
    for hecho in hechos:
        alternativas = hecho["texto"] if isinstance(hecho["texto"], list) else [hecho["texto"]]
        turno = hecho.get("turno")
        if turno is not None and not 1 <= int(turno) <= len(respuestas):
            fallos.append(f"hecho con turno {turno} fuera de la conversación")
            continue
        textos = [respuestas[int(turno) - 1]] if turno is not None else list(respuestas)
        if not any(fold(str(a)) in fold(t) for a in alternativas for t in textos):
            donde = f"la respuesta {turno}" if turno is not None else "ninguna respuesta"
            fallos.append(f"falta {alternativas} en {donde}")
    return fallos


def ejecutar(conversaciones: Sequence[dict[str, Any]], url: str | None = None, carpeta: Path = HERE) -> Informe:
    """Play the given conversations on a fresh evaluation shop."""
    banco = Banco(url, carpeta)
    try:
        start = time.perf_counter()
        resultados = [banco.jugar(c) for c in conversaciones]
        segundos = time.perf_counter() - start
    finally:
        banco.close()
    return Informe(resultados, sum(len(c["turnos"]) for c in conversaciones), segundos)


def imprimir(informe: Informe, detalle: bool) -> None:
    """The figures, and the failures (with transcripts when `detalle`)."""
    fallidas = [r for r in informe.resultados if not r.ok]
    for r in fallidas:
        print(f"\n✗ {r.id} ({r.region}, {r.tipo}): " + "; ".join(r.fallos))
        if detalle:
            for cliente, agente in r.transcripcion:
                print(f"    C: {cliente}")
                print("    A: " + agente.replace("\n", "\n       "))
    n = len(informe.resultados)
    print(f"\n{n} conversaciones, {informe.turnos} turnos en {informe.segundos:.1f} s")
    print(f"Aciertos: {n - len(fallidas)}/{n} = {informe.tasa:.1%}")
    for clave in ("region", "tipo"):
        grupos: dict[str, list[bool]] = defaultdict(list)
        for r in informe.resultados:
            grupos[getattr(r, clave)].append(r.ok)
        print(f"  por {clave}: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(grupos.items())))
    print(f"Respuestas con un importe no respaldado por el catálogo: {informe.importes_no_respaldados}")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="Base de datos vacía (por defecto, un SQLite temporal)")
    parser.add_argument("--detalle", action="store_true", help="Mostrar la transcripción de las fallidas")
    parser.add_argument("--id", nargs="*", help="Solo estas conversaciones")
    parser.add_argument("--subconjunto", action="store_true", help="Solo el subconjunto que pasa la batería de tests")
    args = parser.parse_args()
    conversaciones = cargar_conversaciones()
    if args.subconjunto:
        conversaciones = subconjunto(conversaciones)
    if args.id:
        conversaciones = [c for c in conversaciones if c["id"] in set(args.id)]
    if not conversaciones:
        sys.exit("No hay conversaciones que jugar")
    imprimir(ejecutar(conversaciones, args.database_url), args.detalle)


if __name__ == "__main__":
    main()
