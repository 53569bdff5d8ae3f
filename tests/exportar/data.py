"""Rows written straight into the database (the orders API lives on another branch) and file readers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.models import Venta

T0 = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)

# Text a spreadsheet must show as text: accents, separators, quotes, line breaks and formula attempts.
TRICKY = [
    'José Núñez, "el Pepe"',
    "Línea uno\nLínea dos",
    '=HYPERLINK("http://malo.example","clic")',
    "+34 600 000 000",
    "-5",
    "@SUM(A1:A9)",
    "\tTabulado",
    "\rRetorno",
    "Ángela; punto y coma",
    "Ñandú 'comillas' simples",
]
RISKY = ("=", "+", "-", "@", "\t", "\r")


def neutralized(value: str | None) -> str | None:
    """What a spreadsheet export must contain for a stored text."""
    if value is None:
        return None
    return "'" + value if value.startswith(RISKY) else value


def iso(value: datetime | None) -> str | None:
    """A timestamp as the exports write it."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_clientes(session: Session, nombres: list[str], *, start: datetime = T0, step_s: int = 60) -> list[Cliente]:
    """Clientes with the given names, registered `step_s` seconds apart; odd ones inactive, some nulls."""
    clientes = []
    for i, nombre in enumerate(nombres):
        cliente = Cliente(
            nombre=nombre,
            email=f"c{i}@example.com",
            telefono=TRICKY[(i + 3) % len(TRICKY)][:20] if i % 3 else None,
            direccion=TRICKY[(i + 5) % len(TRICKY)] if i % 4 else None,
            fecha_registro=start + timedelta(seconds=i * step_s),
            activo=i % 2 == 0,
            fecha_ultima_compra=start + timedelta(days=3, seconds=i) if i % 2 else None,
        )
        session.add(cliente)
        clientes.append(cliente)
    session.commit()
    return clientes


def bulk_clientes(session: Session, n: int) -> None:
    """Many plain clientes at once (Core executemany)."""
    rows = [
        {
            "nombre": f"Cliente Masivo {i} Pérez",
            "email": f"masivo{i}@example.com",
            "telefono": "+34 600 000 000",
            "direccion": f'Calle Mayor {i}, "portal {i % 7}"',
            "fecha_registro": T0 + timedelta(seconds=i),
            "activo": True,
            "texto_busqueda": "",
        }
        for i in range(n)
    ]
    session.execute(insert(Cliente), rows)
    session.commit()


def add_productos(session: Session) -> list[Producto]:
    """A small catalog with two categories, one inactive product and tricky names."""
    productos = [
        Producto(nombre="Guitarra clásica, cedro", precio=Decimal("199.90"), stock=5, categoria="Música", sku="GUI-1"),
        Producto(
            nombre="=1+1", descripcion='Dice "hola"\ny adiós', precio=Decimal("0.50"), stock=0, categoria="Música"
        ),
        Producto(nombre="Cuaderno A5", precio=Decimal("3.00"), stock=100, categoria="Papelería", activo=False),
        Producto(nombre="-Oferta-", precio=Decimal("99999999.99"), stock=1, categoria=None, sku="MAX-1"),
    ]
    session.add_all(productos)
    session.commit()
    return productos


def add_venta(
    session: Session, *, cliente: Cliente | None, fecha: datetime, estado: str = "confirmada", lineas: int = 2
) -> Venta:
    """An order with `lineas` lines as the orders service stores them (JSON snapshot and total)."""
    items: list[dict[str, Any]] = [
        {
            "id": i + 1,
            "nombre": f"Producto {i + 1}, edición ñ",
            "precio_unitario": "19.90",
            "cantidad": i + 1,
            "subtotal": str(Decimal("19.90") * (i + 1)),
        }
        for i in range(lineas)
    ]
    venta = Venta(
        cliente_id=cliente.id if cliente else None,
        fecha_venta=fecha,
        total=sum((Decimal(item["subtotal"]) for item in items), Decimal("0.00")),
        estado=estado,
        productos_json=json.dumps(items, ensure_ascii=False),
    )
    session.add(venta)
    session.commit()
    return venta


def clientes_in_db(session: Session) -> list[Cliente]:
    """Every cliente, oldest id first (the export order)."""
    session.expire_all()
    return list(session.scalars(select(Cliente).order_by(Cliente.id)))


def read_csv(content: bytes, *, separador: str = ",") -> list[list[str]]:
    """Rows of a CSV download, header included (BOM tolerated)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=separador))


def read_xlsx(content: bytes) -> Worksheet:
    """The first sheet of an .xlsx download."""
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def sheet_rows(sheet: Worksheet) -> list[list[Any]]:
    """Cell values, header included.

    OOXML stores a carriage return as the escape `_x000D_`, which Excel decodes and openpyxl does not.
    """
    return [
        [v.replace("_x000D_", "\r") if isinstance(v, str) else v for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]


def cliente_csv_row(c: Cliente) -> list[str]:
    """The CSV row expected for a cliente."""
    return [
        str(c.id),
        neutralized(c.nombre) or "",
        neutralized(c.email) or "",
        neutralized(c.telefono) or "",
        neutralized(c.direccion) or "",
        iso(c.fecha_registro) or "",
        "true" if c.activo else "false",
        iso(c.fecha_ultima_compra) or "",
    ]
