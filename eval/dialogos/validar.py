"""Valida el corpus de medición de eval/dialogos.

Uso:  python eval/dialogos/validar.py
Comprueba que los YAML/JSON se leen, que los SKU existen, que las cantidades
esperadas no superan el stock, que los totales cuadran con los precios del
catálogo y que los hechos esperados están bien formados.  Sólo necesita PyYAML.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from decimal import Decimal
from typing import Any

import yaml

DIR = os.path.dirname(os.path.abspath(__file__))
REGIONES = {"es", "mx", "ar", "co", "cl"}
TIPOS_CONV = {"compra", "pregunta"}
TIPOS_CONSULTA = {"lexica", "sinonimo", "regional", "errata", "vaga", "exacta"}
errores: list[str] = []


def err(msg: str) -> None:
    errores.append(msg)


def norm(s: object) -> str:
    s = unicodedata.normalize("NFKD", str(s).lower())
    return "".join(c for c in s if not unicodedata.combining(c))


# --- catálogo ---------------------------------------------------------------
with open(os.path.join(DIR, "catalogo.json"), encoding="utf-8") as f:
    productos = json.load(f)["productos"]
cat = {}
for p in productos:
    for k in ("sku", "nombre", "categoria", "precio", "stock", "descripcion"):
        if k not in p:
            err(f"catálogo: {p.get('sku')} sin campo {k}")
    if p["sku"] in cat:
        err(f"catálogo: SKU repetido {p['sku']}")
    if not re.fullmatch(r"\d+\.\d\d", p["precio"]):
        err(f"catálogo: precio mal formado {p['sku']} {p['precio']}")
    if not isinstance(p["stock"], int) or p["stock"] < 0:
        err(f"catálogo: stock inválido {p['sku']}")
    cat[p["sku"]] = p
if not 60 <= len(cat) <= 70:
    err(f"catálogo: {len(cat)} productos (se esperaban 60-70)")
precios_validos = {p["precio"] + " €" for p in productos}

# --- tienda -----------------------------------------------------------------
with open(os.path.join(DIR, "tienda.yaml"), encoding="utf-8") as f:
    tienda = yaml.safe_load(f)
for k in ("nombre", "horario", "direccion", "telefono", "envios", "devoluciones", "formas_pago"):
    if not isinstance(tienda.get(k), str) or not tienda[k].strip():
        err(f"tienda.yaml: falta o vacío {k}")
texto_tienda = " ".join(str(v) for v in tienda.values())
importes_tienda = set(re.findall(r"\d+(?:\.\d\d)? €", texto_tienda))

# --- relevancia -------------------------------------------------------------
with open(os.path.join(DIR, "relevancia.json"), encoding="utf-8") as f:
    consultas = json.load(f)["consultas"]
tipos_q: Counter[str] = Counter()
vistas = set()
for i, c in enumerate(consultas):
    if c.get("tipo") not in TIPOS_CONSULTA:
        err(f"relevancia[{i}]: tipo inválido {c.get('tipo')}")
    tipos_q[c.get("tipo")] += 1
    if not c.get("q") or not c.get("relevantes"):
        err(f"relevancia[{i}]: q o relevantes vacíos")
    if c.get("q") in vistas:
        err(f"relevancia[{i}]: consulta repetida {c.get('q')!r}")
    vistas.add(c.get("q"))
    for s in c.get("relevantes", []):
        if s not in cat:
            err(f"relevancia[{i}] {c['q']!r}: SKU inexistente {s}")
if len(consultas) < 70:
    err(f"relevancia: sólo {len(consultas)} consultas (mínimo 70)")

# --- conversaciones ---------------------------------------------------------
ids = set()
por_region: Counter[str] = Counter()
por_tipo: Counter[str] = Counter()
por_fichero: Counter[str] = Counter()
n_hechos = 0


def check_texto(cid: str, t: Any) -> None:
    alts = t if isinstance(t, list) else [t]
    if not alts or not all(isinstance(a, str) and a.strip() for a in alts):
        err(f"{cid}: hecho con texto vacío o no textual {t!r}")
        return
    for a in alts:
        m = re.fullmatch(r"(\d+\.\d\d) €", a)
        if m and a not in precios_validos and a not in importes_tienda:
            # puede ser un total: se acepta pero se avisa si no cuadra con nada
            pass


ficheros = sorted(glob.glob(os.path.join(DIR, "conversaciones_*.yaml")))
if not ficheros:
    err("no hay ficheros conversaciones_*.yaml")
for fich in ficheros:
    nombre_f = os.path.basename(fich)
    try:
        with open(fich, encoding="utf-8") as f:
            convs = yaml.safe_load(f)
    except yaml.YAMLError as e:
        err(f"{nombre_f}: YAML inválido: {e}")
        continue
    if not isinstance(convs, list):
        err(f"{nombre_f}: la raíz debe ser una lista")
        continue
    for conv in convs:
        cid = conv.get("id", "?")
        if cid in ids:
            err(f"{cid}: id repetido")
        ids.add(cid)
        por_fichero[nombre_f] += 1
        reg = conv.get("region")
        if reg not in REGIONES:
            err(f"{cid}: región inválida {reg}")
        por_region[reg] += 1
        tipo = conv.get("tipo")
        if tipo not in TIPOS_CONV:
            err(f"{cid}: tipo inválido {tipo}")
        por_tipo[tipo] += 1
        turnos = conv.get("turnos")
        if not isinstance(turnos, list) or not turnos or not all(isinstance(t, str) and t.strip() for t in turnos):
            err(f"{cid}: turnos debe ser una lista de cadenas no vacías")
            turnos = turnos if isinstance(turnos, list) else []
        espera = conv.get("espera") or {}
        if "pedido" not in espera:
            err(f"{cid}: falta espera.pedido")
        pedido = espera.get("pedido")
        if tipo == "compra" and pedido is None:
            err(f"{cid}: tipo compra sin pedido")
        if tipo == "pregunta" and pedido is not None:
            err(f"{cid}: tipo pregunta con pedido")
        if pedido is not None:
            total = Decimal("0")
            lineas = pedido.get("lineas") or []
            if not lineas:
                err(f"{cid}: pedido sin líneas")
            skus_vistos = set()
            for ln in lineas:
                sku, cant = ln.get("sku"), ln.get("cantidad")
                if sku not in cat:
                    err(f"{cid}: SKU inexistente {sku}")
                    continue
                if sku in skus_vistos:
                    err(f"{cid}: SKU repetido en líneas {sku}")
                skus_vistos.add(sku)
                if not isinstance(cant, int) or cant <= 0:
                    err(f"{cid}: cantidad inválida {cant} para {sku}")
                    continue
                if cant > cat[sku]["stock"]:
                    err(f"{cid}: {cant} x {sku} supera el stock ({cat[sku]['stock']})")
                total += Decimal(cat[sku]["precio"]) * cant
            esperado = f"{total:.2f}"
            if str(pedido.get("total")) != esperado:
                err(f"{cid}: total {pedido.get('total')!r} != {esperado}")
            cli = pedido.get("cliente") or {}
            email, nombre = cli.get("email"), cli.get("nombre")
            if not email or not re.fullmatch(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", email):
                err(f"{cid}: email inválido o no en minúsculas {email!r}")
            elif not any(email in t.lower() for t in turnos):
                err(f"{cid}: el email {email} no aparece en los turnos")
            if not nombre:
                err(f"{cid}: falta el nombre del cliente")
            else:
                todo = norm(" ".join(turnos))
                for parte in norm(nombre).split():
                    if parte not in todo:
                        err(f"{cid}: '{parte}' del nombre no aparece en los turnos")
        for h in espera.get("hechos") or []:
            n_hechos += 1
            if "texto" not in h:
                err(f"{cid}: hecho sin texto")
                continue
            check_texto(cid, h["texto"])
            if "turno" in h:
                t = h["turno"]
                if not isinstance(t, int) or not 1 <= t <= len(turnos):
                    err(f"{cid}: turno {t} fuera de rango (1..{len(turnos)})")
            alts = h["texto"] if isinstance(h["texto"], list) else [h["texto"]]
            for a in alts:
                m = re.fullmatch(r"(\d+\.\d\d) €", a)
                if m:
                    ok = a in precios_validos or a in importes_tienda
                    if not ok and pedido is not None:
                        ok = a == f"{pedido.get('total')} €"
                    if not ok:
                        err(f"{cid}: precio en hechos {a!r} no es de ningún producto ni del total")

total_c = sum(por_region.values())
print(
    f"Catálogo: {len(cat)} productos "
    f"({sum(p['stock'] == 0 for p in productos)} agotados, "
    f"{sum(1 <= p['stock'] <= 3 for p in productos)} con stock 1-3)"
)
print(f"Relevancia: {len(consultas)} consultas " + str(dict(sorted(tipos_q.items()))))
print(f"Conversaciones: {total_c} en {len(ficheros)} ficheros, {n_hechos} hechos")
for f_, n in sorted(por_fichero.items()):
    print(f"  {f_}: {n}")
print("  por región: " + ", ".join(f"{r}={n}" for r, n in sorted(por_region.items())))
if total_c:
    print(
        f"  compra={por_tipo['compra']} ({100 * por_tipo['compra'] / total_c:.0f} %), "
        f"pregunta={por_tipo['pregunta']} ({100 * por_tipo['pregunta'] / total_c:.0f} %)"
    )
if errores:
    print(f"\n{len(errores)} ERRORES:")
    for error in errores:
        print("  - " + error)
    sys.exit(1)
print("\nOK: sin errores")
