"""The `agente-vendedor` command line: the server and the shop's maintenance tasks.

Command names are Spanish, the shop owner's language. The English names of earlier releases (`serve`, `migrate`,
`downgrade`, `seed-demo`, `reindex`, `backup`, `restore`, `telegram set-webhook`) stay as hidden aliases so
existing scripts keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from agente_vendedor.cli import copias, datos, exportar, indice, servidor, telegram, usuarios

app = typer.Typer(help="Agente Vendedor Inteligente: servidor y tareas de mantenimiento.", no_args_is_help=True)
importar_app = typer.Typer(help="Importa datos desde ficheros.", no_args_is_help=True)
telegram_app = typer.Typer(help="Canal de Telegram.", no_args_is_help=True)

# (group, name, command, earlier name kept as a hidden alias)
COMANDOS: list[tuple[typer.Typer, str, Callable[..., Any], str | None]] = [
    (app, "servir", servidor.servir, "serve"),
    (app, "migrar", datos.migrar, "migrate"),
    (app, "revertir", datos.revertir, "downgrade"),
    (app, "cargar-demo", datos.cargar_demo, "seed-demo"),
    (app, "crear-usuario", usuarios.crear_usuario, None),
    (importar_app, "productos", datos.importar_productos, None),
    (app, "exportar", exportar.exportar, None),
    (app, "reindexar", indice.reindexar, "reindex"),
    (app, "respaldar", copias.respaldar, "backup"),
    (app, "restaurar", copias.restaurar, "restore"),
    (telegram_app, "configurar-webhook", telegram.configurar_webhook, "set-webhook"),
]

for grupo, nombre, comando, alias in COMANDOS:
    grupo.command(nombre)(comando)
    if alias is not None:
        grupo.command(alias, hidden=True)(comando)
app.add_typer(importar_app, name="importar")
app.add_typer(telegram_app, name="telegram")

__all__ = ["app"]
