"""The shop's business hours (`HORARIO_ATENCION`): when a person can answer, as the widget tells visitors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo

DIAS = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
_TRAMO = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_SIN_ACENTOS = str.maketrans("áéíóúü", "aeiouu")


@dataclass(frozen=True)
class Horario:
    """Opening intervals per weekday (0 = Monday) in the shop's zone; no schedule at all means always open."""

    tramos: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    zona: tzinfo = UTC
    texto: str = ""
    definido: bool = False

    def abierto(self, ahora: datetime | None = None) -> bool:
        """True inside business hours (or when the shop set none)."""
        if not self.definido:
            return True
        local = (ahora or datetime.now(UTC)).astimezone(self.zona)
        hora = local.time().replace(tzinfo=None)
        return any(inicio <= hora < fin for inicio, fin in self.tramos.get(local.weekday(), ()))


def _dia(nombre: str) -> int:
    clave = nombre.strip().lower().translate(_SIN_ACENTOS)[:3]
    if clave not in DIAS:
        raise ValueError(f"día desconocido {nombre!r}: use lun, mar, mie, jue, vie, sab o dom")
    return DIAS.index(clave)


def _dias(texto: str) -> list[int]:
    dias: list[int] = []
    for parte in texto.split(","):
        if "-" in parte:
            desde, hasta = (_dia(x) for x in parte.split("-", 1))
            dias.extend(range(desde, hasta + 1) if desde <= hasta else [*range(desde, 7), *range(0, hasta + 1)])
        else:
            dias.append(_dia(parte))
    return dias


def _tramo(texto: str) -> tuple[time, time]:
    match = _TRAMO.match(texto.strip())
    if not match:
        raise ValueError(f"tramo no válido {texto!r}: use HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 23, 59
    try:
        inicio, fin = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"hora no válida en {texto!r}") from exc
    if fin <= inicio:
        raise ValueError(f"el tramo {texto!r} termina antes de empezar")
    return inicio, fin


def parse_horario(texto: str, zona: tzinfo = UTC) -> Horario:
    """Read `lun-vie 09:00-14:00,16:00-20:00; sab 10:00-14:00`; empty = always open; `cerrado` = closed now."""
    limpio = " ".join(texto.split())
    if not limpio:
        return Horario(zona=zona)
    if limpio.lower() == "cerrado":
        return Horario(zona=zona, texto="cerrado temporalmente", definido=True)
    tramos: dict[int, list[tuple[time, time]]] = {}
    for bloque in limpio.split(";"):
        if not bloque.strip():
            continue
        partes = bloque.strip().split(" ", 1)
        if len(partes) != 2:
            raise ValueError(f"bloque no válido {bloque.strip()!r}: use 'lun-vie 09:00-20:00'")
        for dia in _dias(partes[0]):
            tramos.setdefault(dia, []).extend(_tramo(t) for t in partes[1].replace(" ", "").split(","))
    return Horario(
        tramos={dia: tuple(sorted(lista)) for dia, lista in tramos.items()},
        zona=zona,
        texto=limpio,
        definido=True,
    )
