"""The Telegram channel: register the webhook URL with its secret."""

from __future__ import annotations

from typing import Annotated

import typer

from agente_vendedor.cli.common import console
from agente_vendedor.settings import get_settings


def configurar_webhook(
    url: Annotated[str, typer.Argument(help="URL pública https://.../canales/telegram/webhook")],
) -> None:
    """Registra en Telegram la URL del webhook con TELEGRAM_WEBHOOK_SECRET (setWebhook)."""
    # Lazy: canales.envio brings in the whole agent (dialogue engine, LLM client), about 1.4 s that every other
    # command would pay at start-up if it were imported at the top.
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
