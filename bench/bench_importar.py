"""Time the catalog import of N rows (CSV and XLSX) into a fresh, migrated database.

Usage: python bench/bench_importar.py [--filas 10000] [--database-url postgresql://postgres@127.0.0.1/bench]
Without --database-url a temporary SQLite file is used. Prints rows/second for each format.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import text

from agente_vendedor.core import migrate
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.productos.importar import import_productos

CATEGORIAS = ["Herramientas", "Electrónica", "Informática", "Hogar y cocina", "Ropa y calzado", "Deportes", "Jardín"]
NOMBRES = ["Taladro", "Cafetera", "Altavoz", "Zapatillas", "Camiseta", "Monitor", "Sartén", "Manguera", "Balón"]


def _rows(count: int) -> list[list[object]]:
    rng = random.Random(42)
    return [
        [
            f"{rng.choice(NOMBRES)} modelo {i}",
            f"Descripción del artículo número {i}, con ñ y acentos",
            f"{rng.randint(100, 99_999) / 100:.2f}".replace(".", ","),
            rng.randint(0, 500),
            rng.choice(CATEGORIAS),
            f"BEN-{i:06d}",
        ]
        for i in range(count)
    ]


def _csv(rows: list[list[object]]) -> bytes:
    lines = ["nombre;descripcion;precio;stock;categoria;sku"]
    lines += [";".join(str(value) for value in row) for row in rows]
    return "\n".join(lines).encode("utf-8")


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["nombre", "descripcion", "precio", "stock", "categoria", "sku"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _run(url: str, data: bytes, filename: str) -> float:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM productos"))
    start = time.perf_counter()
    with create_session_factory(engine).begin() as session:
        result = import_productos(session=session, data=data, filename=filename)
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert result.creados == result.filas, result
    return elapsed


def main() -> None:
    """Generate the files, import each into an empty catalog and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filas", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        rows = _rows(args.filas)
        for label, data, name in (("CSV", _csv(rows), "c.csv"), ("XLSX", _xlsx(rows), "c.xlsx")):
            seconds = _run(url, data, name)
            rate = args.filas / seconds
            print(f"{label:4} {args.filas} filas en {seconds:.2f} s -> {rate:,.0f} filas/s ({url.split(':')[0]})")


if __name__ == "__main__":
    main()
