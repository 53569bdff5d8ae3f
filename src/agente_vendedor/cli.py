"""The `agente-vendedor` command line: serve, migrate, seed-demo, users, import, export, reindex, backup, restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from agente_vendedor.auth import service as auth_service
from agente_vendedor.auth.schemas import UsuarioCreate
from agente_vendedor.core import backup as backups
from agente_vendedor.core import migrate as migrations
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.core.logging import configure_logging
from agente_vendedor.demo import service as demo_service
from agente_vendedor.settings import get_settings

app = typer.Typer(help="Agente Vendedor Inteligente: servidor y tareas de mantenimiento.", no_args_is_help=True)
console = Console(stderr=True)


def _migrate(revision: str = "head") -> None:
    settings = get_settings()
    migrations.upgrade(settings.sqlalchemy_url, revision)
    console.print(f"[green]Base de datos migrada a {revision}[/green] ({_safe_url(settings.sqlalchemy_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _seed(*, only_if_empty: bool) -> None:
    settings = get_settings()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        with create_session_factory(engine).begin() as session:
            if only_if_empty and not demo_service.is_empty(session=session):
                console.print("El catálogo ya tiene productos: no se cargan datos de demostración.")
                return
            if not demo_service.is_empty(session=session):
                console.print("[yellow]El catálogo ya tiene productos: seed-demo solo carga en bases vacías.[/yellow]")
                raise typer.Exit(code=1)
            result = demo_service.seed(session=session)
        console.print(
            f"[green]Datos de demostración cargados:[/green] {result.productos} productos, {result.clientes} clientes"
        )
    finally:
        engine.dispose()


def _ensure_admin() -> None:
    """Create the admin from ADMIN_EMAIL/ADMIN_PASSWORD when none exists; otherwise say how to make one."""
    settings = get_settings()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        with create_session_factory(engine).begin() as session:
            if auth_service.has_admin(session=session):
                return
            if settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD:
                datos = UsuarioCreate(email=settings.ADMIN_EMAIL, password=settings.ADMIN_PASSWORD, rol="admin")
                auth_service.create(session=session, datos=datos)
                console.print(f"[green]Administrador creado:[/green] {datos.email}")
                return
        console.print(
            "[yellow]No hay ningún administrador.[/yellow] Cree uno con "
            "`agente-vendedor crear-usuario EMAIL --rol admin` o arranque con ADMIN_EMAIL y ADMIN_PASSWORD."
        )
    finally:
        engine.dispose()


@app.command("crear-usuario")
def crear_usuario(
    email: Annotated[str, typer.Argument(help="Email del usuario (será su nombre de acceso)")],
    rol: Annotated[str, typer.Option(help="admin o vendedor")] = "vendedor",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Contraseña (10+ caracteres)")
    ] = "",
) -> None:
    """Crea un usuario del personal; la contraseña se pide sin mostrarla si no se pasa."""
    from pydantic import ValidationError

    from agente_vendedor.auth.exceptions import UsuarioDuplicado
    from agente_vendedor.core.errors import validation_errors

    _migrate()
    try:
        datos = UsuarioCreate.model_validate({"email": email, "password": password, "rol": rol})
    except ValidationError as exc:
        for error in validation_errors(exc.errors()):
            console.print(f"[red]{error.campo}: {error.mensaje}[/red]")
        raise typer.Exit(code=2) from exc
    engine = create_db_engine(get_settings().sqlalchemy_url)
    try:
        with create_session_factory(engine).begin() as session:
            usuario = auth_service.create(session=session, datos=datos)
            console.print(f"[green]Usuario creado:[/green] {usuario.email} ({usuario.rol})")
    except UsuarioDuplicado as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    finally:
        engine.dispose()


importar_app = typer.Typer(help="Importa datos desde ficheros.", no_args_is_help=True)
app.add_typer(importar_app, name="importar")


@importar_app.command("productos")
def importar_productos(
    fichero: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV o XLSX")],
    simular: Annotated[bool, typer.Option(help="Solo validar e informar, sin escribir")] = False,
) -> None:
    """Importa productos desde CSV o XLSX (todo o nada), con barra de progreso."""
    from rich.progress import Progress

    from agente_vendedor.productos.importar import ImportacionInvalida, import_productos

    _migrate()
    engine = create_db_engine(get_settings().sqlalchemy_url)
    try:
        with Progress(console=console) as progress, create_session_factory(engine).begin() as session:
            task = progress.add_task("Importando productos", total=None)
            result = import_productos(
                session=session,
                data=fichero.read_bytes(),
                filename=fichero.name,
                simular=simular,
                progress=lambda n: progress.advance(task, n),
            )
            progress.update(
                task, total=result.creados + result.actualizados, completed=result.creados + result.actualizados
            )
    except ImportacionInvalida as exc:
        console.print(f"[red]{exc.message}[/red]")
        for fila in (exc.extra or {}).get("errores", [])[:50]:
            console.print(f"  fila {fila['fila']}: {'; '.join(fila['errores'])}")
        raise typer.Exit(code=1) from exc
    finally:
        engine.dispose()
    verbo = "Se crearían" if simular else "Creados"
    console.print(
        f"[green]{verbo}: {result.creados}, actualizados: {result.actualizados}, sin cambios: {result.sin_cambios}"
        f" ({result.filas} filas)[/green]"
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Revisión destino (por defecto, la última)")] = "head",
) -> None:
    """Aplica las migraciones pendientes de la base de datos."""
    _migrate(revision)


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Revisión destino, p. ej. 0001 o base")]) -> None:
    """Revierte migraciones hasta la revisión indicada."""
    settings = get_settings()
    migrations.downgrade(settings.sqlalchemy_url, revision)
    console.print(f"[yellow]Base de datos revertida a {revision}[/yellow]")


@app.command("seed-demo")
def seed_demo() -> None:
    """Carga el catálogo de demostración en una base de datos vacía."""
    _migrate()
    _seed(only_if_empty=False)


def _prepare_multiprocess_metrics(folder: Path) -> None:
    """Workers write their metrics to files in `folder` so /metrics adds them up; stale files go first."""
    import os
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@app.command()
def backup(
    destino: Annotated[Path, typer.Option(help="Carpeta donde se crea la copia (una subcarpeta por fecha)")] = Path(
        "backups"
    ),
) -> None:
    """Copia de seguridad de la base de datos, la carpeta de Chroma y las exportaciones, con sumas SHA-256."""
    try:
        result = backups.create_backup(settings=get_settings(), destination=destino)
    except backups.BackupError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    manifest = result.manifest
    table = Table(title=f"Copia de seguridad en {result.folder}")
    table.add_column("Componente")
    table.add_column("Archivo")
    table.add_column("Tamaño", justify="right")
    table.add_column("SHA-256")
    for entry in manifest.files:
        table.add_row(backups.LABELS[entry.component], entry.name, _size(entry.size), entry.sha256[:16] + "…")
    for skipped in manifest.skipped:
        table.add_row(backups.LABELS[skipped.component], "[yellow]omitida[/yellow]", "—", skipped.reason)
    console.print(table)
    console.print(
        f"[green]Copia completada[/green] ({manifest.database}, revisión del esquema {manifest.schema_revision}). "
        f"Restaurar con: agente-vendedor restore {result.folder}"
    )


@app.command()
def restore(
    carpeta: Annotated[Path, typer.Argument(help="Carpeta de la copia (la que contiene manifest.json)")],
) -> None:
    """Restaura una copia verificada, solo en una base de datos y carpetas vacías."""
    try:
        result = backups.restore_backup(settings=get_settings(), source=carpeta)
    except backups.BackupError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    restored = ", ".join(backups.LABELS[c] for c in result.restored)
    console.print(f"[green]Restaurado:[/green] {restored}")
    console.print(
        f"Revisión del esquema restaurada: {result.schema_revision} (el código espera {result.head_revision})"
    )
    if result.schema_revision != result.head_revision:
        console.print("[yellow]Ejecute `agente-vendedor migrate` (o `serve`, que migra al arrancar).[/yellow]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interfaz de red")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Puerto TCP")] = 8000,
    workers: Annotated[int, typer.Option(help="Procesos de trabajo")] = 1,
    reload: Annotated[bool, typer.Option(help="Recargar al cambiar el código (desarrollo)")] = False,
) -> None:
    """Migra la base de datos, carga la demo si está vacía (DEMO_DATA) y arranca la API."""
    settings = get_settings()
    configure_logging(debug=settings.DEBUG)
    if workers > 1:
        _prepare_multiprocess_metrics(settings.DATA_DIRECTORY / "metrics")
    _migrate()
    if settings.DEMO_DATA:
        _seed(only_if_empty=True)
    _ensure_admin()
    if workers > 1 and not settings.CHROMA_HOST:
        console.print(
            "[yellow]Con varios procesos use un servidor Chroma (`chroma run`) y CHROMA_HOST/CHROMA_PORT: "
            "el índice embebido no admite escritores concurrentes.[/yellow]"
        )
    console.print(f"API en http://{host}:{port} — documentación en http://{host}:{port}/docs")
    uvicorn.run(
        "agente_vendedor.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        server_header=False,
        log_config=None,
        access_log=False,  # our own middleware logs each request as JSON with its request id
        proxy_headers=True,
        # A spawned worker imports this module before it can answer the supervisor's ping; on a loaded 2-core
        # machine that took over uvicorn's 5 s default, and every worker was killed and respawned forever.
        timeout_worker_healthcheck=30,
    )


@app.command()
def exportar(
    entidad: Annotated[
        Literal["clientes", "productos", "ventas", "conversaciones"],
        typer.Argument(help="clientes, productos, ventas o conversaciones"),
    ],
    salida: Annotated[Path, typer.Option("--salida", "-o", help="Archivo destino (se escribe de forma atómica)")],
    formato: Annotated[
        Literal["csv", "json", "ndjson", "excel"], typer.Option(help="csv, json, ndjson o excel")
    ] = "csv",
    fecha_desde: Annotated[str | None, typer.Option(help="Desde (incluida), ISO 8601; sin zona = UTC")] = None,
    fecha_hasta: Annotated[str | None, typer.Option(help="Hasta (incluida), ISO 8601; sin zona = UTC")] = None,
    activo: Annotated[bool | None, typer.Option("--activo/--inactivo", help="Solo activos o solo inactivos")] = None,
    categoria: Annotated[str | None, typer.Option(help="productos: categoría exacta")] = None,
    estado: Annotated[str | None, typer.Option(help="ventas: estado exacto")] = None,
    cliente_id: Annotated[int | None, typer.Option(help="ventas y conversaciones: solo los de este cliente")] = None,
    separador: Annotated[str, typer.Option(help="CSV: ',' o ';'")] = ",",
    bom: Annotated[bool, typer.Option(help="CSV: BOM UTF-8 para Excel")] = False,
    sin_limite: Annotated[bool, typer.Option(help="Ignorar MAX_EXPORT_RECORDS")] = False,
) -> None:
    """Exporta clientes, productos, ventas o conversaciones a un archivo, con barra de progreso."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from agente_vendedor.core.errors import AppError, validation_errors
    from agente_vendedor.exportar import service as export_service
    from agente_vendedor.exportar.schemas import (
        FiltrosClientes,
        FiltrosConversaciones,
        FiltrosProductos,
        FiltrosVentas,
    )

    models: dict[str, Any] = {
        "clientes": FiltrosClientes,
        "productos": FiltrosProductos,
        "ventas": FiltrosVentas,
        "conversaciones": FiltrosConversaciones,
    }
    values: dict[str, Any] = {"formato": formato, "separador": separador, "bom": bom}
    given = {
        "fecha_desde": fecha_desde,
        "fecha_hasta": fecha_hasta,
        "activo": activo,
        "categoria": categoria,
        "estado": estado,
        "cliente_id": cliente_id,
    }
    for name, value in given.items():
        if value is None:
            continue
        if name not in models[entidad].model_fields:
            console.print(f"[red]La opción --{name.replace('_', '-')} no se aplica a {entidad}[/red]")
            raise typer.Exit(code=2)
        values[name] = value
    try:
        filtros = models[entidad].model_validate(values)
    except ValidationError as exc:
        for error in validation_errors(exc.errors()):
            console.print(f"[red]'{error.campo}' {error.mensaje}[/red]")
        raise typer.Exit(code=2) from exc

    settings = get_settings()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        consulta = export_service.build(entidad=entidad, filtros=filtros)
        with create_session_factory(engine)() as session:
            total = export_service.count(session=session, consulta=consulta)
        maximo = 2**62 if sin_limite else settings.MAX_EXPORT_RECORDS
        export_service.check_limit(total=total, maximo=maximo, formato=filtros.formato)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"Exportando {entidad}", total=total)
            resultado = export_service.write_file(
                engine=engine,
                consulta=consulta,
                destino=salida,
                usuario="cli",
                on_rows=lambda n: progress.advance(task, n),
            )
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    finally:
        engine.dispose()
    console.print(
        f"[green]{resultado.filas} registros exportados[/green] a {salida} "
        f"({resultado.bytes} bytes, {resultado.duracion_ms / 1000:.2f} s)"
    )


@app.command()
def reindex(
    entidad: Annotated[
        str | None, typer.Argument(help="productos o clientes (por defecto, ambos)", show_default=False)
    ] = None,
    reintentar: Annotated[
        bool,
        typer.Option(
            "--reintentar",
            help="No reconstruye: da otra oportunidad a los cambios aparcados tras fallar repetidamente (ver /health)",
        ),
    ] = False,
) -> None:
    """Reconstruye el índice de búsqueda (vectores y texto completo) desde la base de datos."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from agente_vendedor.rag.runtime import Rag

    targets = {"productos": "producto", "clientes": "cliente"}
    if entidad is not None and entidad not in targets:
        console.print(f"[red]Entidad desconocida {entidad!r}: use productos o clientes[/red]")
        raise typer.Exit(code=2)
    if reintentar and entidad is not None:
        console.print("[red]--reintentar trata todos los cambios aparcados: no indique una entidad[/red]")
        raise typer.Exit(code=2)
    settings = get_settings()
    _migrate()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        rag = Rag(settings, create_session_factory(engine))
        if reintentar:
            _retry_parked(rag)
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for name, singular in targets.items():
                if entidad not in (None, name):
                    continue
                task = progress.add_task(f"Indexando {name}", total=rag.count_rows(singular))

                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                total = rag.reindex(singular, advance)
                progress.update(task, description=f"{name}: {total} indexados")
    finally:
        engine.dispose()
    console.print(f"[green]Índice reconstruido[/green] con el modelo {rag.model_name}")


telegram_app = typer.Typer(help="Canal de Telegram.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook")
def telegram_set_webhook(
    url: Annotated[str, typer.Argument(help="URL pública https://.../canales/telegram/webhook")],
) -> None:
    """Registra en Telegram la URL del webhook con TELEGRAM_WEBHOOK_SECRET (setWebhook)."""
    from agente_vendedor.canales.envio import set_webhook

    settings = get_settings()
    if not settings.telegram_enabled:
        console.print("[red]Telegram no está configurado: defina TELEGRAM_BOT_TOKEN y TELEGRAM_WEBHOOK_SECRET[/red]")
        raise typer.Exit(code=2)
    try:
        ok, descripcion = set_webhook(settings, url)
    except OSError as exc:
        console.print(f"[red]No se pudo contactar con Telegram ({settings.TELEGRAM_API_URL}): {exc}[/red]")
        raise typer.Exit(code=1) from exc
    if not ok:
        console.print(f"[red]Telegram rechazó el webhook: {descripcion}[/red]")
        raise typer.Exit(code=1)
    console.print(f"[green]Webhook de Telegram configurado[/green]: {url} ({descripcion})")


def _retry_parked(rag: Any) -> None:
    """`reindex --reintentar`: parked outbox rows get fresh attempts now; exit 1 if some fail again."""
    from agente_vendedor.rag.index import IndiceNoDisponible

    try:
        result = rag.retry_parked()
    except IndiceNoDisponible as exc:
        console.print(f"[red]El índice de búsqueda no responde; los cambios siguen pendientes: {exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(
        f"Cambios fallidos o aparcados reactivados: {result.reactivadas}; procesados ahora: {result.procesadas}; "
        f"vuelven a fallar: {result.fallidas}"
    )
    if result.fallidas:
        console.print(
            "[yellow]Algunos cambios siguen fallando: se reintentan con espera creciente y se aparcan de nuevo si no "
            "se resuelven; el error de cada uno está en rag_outbox.ultimo_error.[/yellow]"
        )
        raise typer.Exit(code=1)
    console.print("[green]Sin cambios pendientes de reintento.[/green]")


if __name__ == "__main__":
    app()
