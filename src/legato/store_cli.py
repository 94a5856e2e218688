"""The `legato` commands that work on the database directly: accounts, and the store runner others use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from legato.config import Settings
from legato.domain.errors import LegatoError

T = TypeVar("T")
accounts_app = typer.Typer(help="Manage accounts (works on the database directly).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def settings_from(**overrides: Any) -> Settings:
    """Settings from LEGATO_* variables, with the options given on the command line (None: not given)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def run_store(action: Callable[[Any], Awaitable[T]], database_url: str | None,
              settings: Settings | None = None) -> T:
    """Open the store (migrated, secret key unlocked), run `action(runtime)`; errors exit 2 with their reason."""
    from legato.app.runtime import Runtime
    from legato.store.secrets import KeyProblem

    async def main() -> T:
        base = settings or settings_from(database_url=database_url)
        runtime = Runtime(base.model_copy(update={"network": "sandbox"}))  # store only: no network
        try:
            await runtime.open_store()
            return await action(runtime)
        finally:
            await runtime.db.dispose()

    try:
        return asyncio.run(main())
    except LegatoError as exc:
        err.print(f"[red]error[/red] {exc.field or ''}: {exc.message}")
        raise typer.Exit(2) from None
    except KeyProblem as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


async def _nothing(_runtime: Any) -> None:
    return None


def check_store(settings: Settings) -> None:
    """Open the store as `serve` will (migrations, secret key); exit 2 with the reason when it cannot."""
    run_store(_nothing, None, settings)


DB = typer.Option(None, "--database-url", help="SQLAlchemy URL (default from LEGATO_DATABASE_URL).")
CALLER_ID_HELP = ("A caller id the account may present besides its exophones (a number the operator checked "
                  "it may use; repeatable; on update replaces the list).")
INBOUND_FLOW_HELP = "The call flow (TwiML URL) inbound calls run, answered by Legato (docs/call-flows.md)."
REGION_HELP = "ISO 3166 alpha-2 region in which the account's national numbers are read (default IN)."


@accounts_app.command("create")
def accounts_create(
    sid: str | None = typer.Option(None, help="Account sid (default: generated)."),
    name: str | None = typer.Option(None, help="Display name."),
    cps: int | None = typer.Option(None, help="Calls-per-second limit (default unlimited)."),
    max_concurrent: int | None = typer.Option(None, help="Maximum live legs (default unlimited)."),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go."),
    exophone: list[str] = typer.Option([], help="A number or sip: URI of this account (repeatable); outbound "
                                       "legs present one of these (or a --caller-id) as caller id."),
    caller_id: list[str] = typer.Option([], "--caller-id", help=CALLER_ID_HELP),
    region: str | None = typer.Option(None, "--region", help=REGION_HELP),
    inbound_flow_url: str | None = typer.Option(None, "--inbound-flow-url", help=INBOUND_FLOW_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str | None = DB,
) -> None:
    """Create an account and print its credentials (the token and secret are shown only now)."""
    creds = run_store(lambda rt: rt.accounts.create(
        sid=sid, name=name, cps=cps, max_concurrent=max_concurrent, inbound_endpoint=inbound_endpoint,
        exophones=exophone, caller_ids=caller_id, default_region=region, inbound_flow_url=inbound_flow_url),
        database_url)
    data = creds.as_dict()
    if as_json:
        print(json.dumps(data))
        return
    table = Table(title="New account (save the token and secret now: they are not shown again)")
    table.add_column("field")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(key, str(value))
    console.print(table)


@accounts_app.command("list")
def accounts_list(as_json: bool = typer.Option(False, "--json"), database_url: str | None = DB) -> None:
    """List accounts (no secrets)."""
    rows = run_store(lambda rt: rt.accounts.all(), database_url)
    data = [_account_dict(a) for a in rows]
    if as_json:
        print(json.dumps(data))
        return
    columns = ("account_sid", "name", "api_key", "cps", "max_concurrent", "inbound_endpoint", "default_region",
               "exophones", "caller_ids")
    table = Table(*columns)
    for a in data:
        table.add_row(*(str(a[k]) for k in columns))
    console.print(table)


def _amd_overrides(pairs: list[str]) -> dict[str, Any] | None:
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


def _exophone_flows(pairs: list[str]) -> dict[str, str] | None:
    """`NUMBER=URL` pairs (an empty URL removes the number's flow)."""
    if not pairs:
        return None
    flows: dict[str, str] = {}
    for pair in pairs:
        number, sep, url = pair.partition("=")
        if not sep or not number.strip():
            err.print(f"[red]error[/red] --exophone-flow takes NUMBER=URL, not {pair!r}")
            raise typer.Exit(2)
        flows[number.strip()] = url.strip()
    return flows


def _account_dict(account: Any) -> dict[str, Any]:
    return {"account_sid": account.account_sid, "name": account.name, "api_key": account.api_key,
            "cps": account.cps, "max_concurrent": account.max_concurrent,
            "inbound_endpoint": account.inbound_endpoint, "default_region": account.default_region,
            "exophones": list(account.exophones), "caller_ids": list(account.caller_ids),
            "amd_params": account.amd_params, "inbound_flow_url": account.inbound_flow_url,
            "exophone_flows": account.exophone_flows}


@accounts_app.command("update")
def accounts_update(
    account_sid: str = typer.Argument(..., help="The account to change."),
    name: str | None = typer.Option(None),
    cps: int | None = typer.Option(None, help="Calls-per-second limit."),
    max_concurrent: int | None = typer.Option(None, help="Maximum live legs."),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go."),
    exophone: list[str] = typer.Option([], help="Replace the account's exophones (repeatable)."),
    caller_id: list[str] = typer.Option([], "--caller-id", help=CALLER_ID_HELP),
    region: str | None = typer.Option(None, "--region", help=REGION_HELP),
    amd_param: list[str] = typer.Option([], "--amd-param", help="An AMD override, NAME=VALUE (repeatable), "
                                         "e.g. maximum_number_of_words=4 greeting_ms=2500."),
    inbound_flow_url: str | None = typer.Option(None, "--inbound-flow-url",
                                                help=INBOUND_FLOW_HELP + " ('' removes it)"),
    exophone_flow: list[str] = typer.Option([], "--exophone-flow", help="NUMBER=URL: the call flow calls to "
                                            "this exophone run, over --inbound-flow-url (NUMBER= removes it)."),
    as_json: bool = typer.Option(False, "--json"),
    database_url: str | None = DB,
) -> None:
    """Change an account's name, limits, region, inbound endpoint, call flows, exophones or caller ids."""
    from legato.events.sinks.registry import check_endpoint

    if inbound_endpoint is not None:
        try:
            check_endpoint(inbound_endpoint, "inbound_endpoint")
        except LegatoError as exc:
            err.print(f"[red]error[/red] {exc.message}")
            raise typer.Exit(2) from None
    account = run_store(lambda rt: rt.accounts.update(
        account_sid, name=name, cps=cps, max_concurrent=max_concurrent, inbound_endpoint=inbound_endpoint,
        exophones=exophone or None, caller_ids=caller_id or None, default_region=region,
        amd_params=_amd_overrides(amd_param), inbound_flow_url=inbound_flow_url,
        exophone_flows=_exophone_flows(exophone_flow)), database_url)
    data = _account_dict(account)
    print(json.dumps(data)) if as_json else console.print(data)
