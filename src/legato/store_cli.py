"""Working on the database directly: the store runner the bootstrap commands use, and `legato admin token`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from legato.config import Settings
from legato.domain.errors import LegatoError

T = TypeVar("T")
admin_app = typer.Typer(help="The operator's admin token (works on the database directly).", no_args_is_help=True)
token_app = typer.Typer(help="Rotate the admin token.", no_args_is_help=True)
admin_app.add_typer(token_app, name="token")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width


def settings_from(**overrides: Any) -> Settings:
    """Settings from LEGATO_* variables, with the options given on the command line (None: not given)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def run_store(action: Callable[[Any], Awaitable[T]], database_url: str | None,
              settings: Settings | None = None) -> T:
    """Open the store (migrated, secret key unlocked), run `action(runtime)`; errors exit 2 with their reason."""
    from legato.app.runtime import Runtime

    async def main() -> T:
        base = settings or settings_from(database_url=database_url)
        runtime = Runtime(base.model_copy(update={"network": "sandbox"}))  # store only: no network
        try:
            await runtime.open_store()
            return await action(runtime)
        finally:
            await runtime.db.dispose()

    with store_errors():
        return asyncio.run(main())


@contextmanager
def store_errors() -> Iterator[None]:
    """A refusal (LegatoError) or a missing or wrong secret key ends the command: its reason, exit status 2."""
    from legato.store.secrets import KeyProblem

    try:
        yield
    except LegatoError as exc:
        err.print(f"[red]error[/red] {exc.field or ''}: {exc.message}")
        raise typer.Exit(2) from None
    except KeyProblem as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


async def _nothing(_runtime: Any) -> None:
    return None


def check_store(settings: Settings) -> None:
    """Open the store as the workers of `serve --workers` will (migrations, secret key); exit 2 with the reason
    when it cannot (before any worker starts)."""
    run_store(_nothing, None, settings)


DB = typer.Option(None, "--database-url", help="SQLAlchemy URL (default from LEGATO_DATABASE_URL).")


def amd_overrides(pairs: list[str]) -> dict[str, Any] | None:
    """`NAME=VALUE` pairs as AMD overrides (integers, true/false, or text)."""
    if not pairs:
        return None
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            err.print(f"[red]error[/red] --amd-param takes NAME=VALUE, not {pair!r}")
            raise typer.Exit(2)
        lowered = raw.strip().lower()
        value: Any = raw.strip()
        if lowered in ("true", "false"):
            value = lowered == "true"
        elif lowered.lstrip("-").isdigit():
            value = int(lowered)
        overrides[name.strip()] = value
    return overrides


@token_app.command("rotate")
def token_rotate(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                 database_url: str | None = DB) -> None:
    """Make a new admin token (the old one stops working on every node within seconds) and print it once.
    Run it on the server's host: it works on the database, so it also recovers a lost token."""
    token = run_store(lambda rt: rt.admin.rotate(), database_url)
    if as_json:
        print(json.dumps({"admin_token": token}))
        return
    console.print("New admin token (save it now: it is not shown again; only its hash is stored):")
    print(token)
