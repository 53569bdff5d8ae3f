"""The conversation corpus (`eval/dialogos/`) as a regression guard: a representative subset, played end to end.

The full corpus is a measurement (`python eval/dialogos.py`, figures in `bench/RESULTS-agente.md`); this test plays
every fifth conversation of each region on a real SQLite file and Chroma index and fails if understanding falls below
the level reached, or if any reply carries an amount the catalog does not back.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

EVAL = Path(__file__).resolve().parents[2] / "eval"
# The level the subset reached when this guard was set (full corpus: see bench/RESULTS-agente.md). Raise it as the
# engine improves; never lower it to make a change pass.
MIN_TASA_SUBCONJUNTO = 0.92


def _cargar(nombre: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(nombre, EVAL / f"{nombre}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[nombre] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _clean_index() -> None:
    """The runner builds its own shop (database and index): nothing of the app's to reset."""


def test_the_corpus_subset_is_understood_and_no_amount_is_invented() -> None:
    dialogos = _cargar("dialogos")
    conversaciones = dialogos.subconjunto(dialogos.cargar_conversaciones())
    assert len(conversaciones) >= 50
    informe = dialogos.ejecutar(conversaciones)
    fallidas = [f"{r.id}: {'; '.join(r.fallos)}" for r in informe.resultados if not r.ok]
    assert informe.importes_no_respaldados == 0, fallidas
    assert informe.tasa >= MIN_TASA_SUBCONJUNTO, f"{informe.tasa:.1%}\n" + "\n".join(fallidas)


def test_search_lists_are_relevant_on_the_judged_queries() -> None:
    _cargar("dialogos")
    relevancia = _cargar("relevancia")
    consultas = json.loads((EVAL / "dialogos" / "relevancia.json").read_text(encoding="utf-8"))["consultas"]
    assert len(consultas) >= 60
    banco = relevancia.Banco()
    try:
        f = relevancia.medir(banco, consultas, 10, False, modos=[("hibrido", "hibrido", True)])["hibrido"]
    finally:
        banco.close()
    assert f["recall@1"] >= 0.90
    assert f["recall@5"] >= 0.98
    assert f["irrelevantes por 10"] <= 1.0
