"""The `legato` command: serve, manage accounts, and a thin client of the HTTP API."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from legato.config import Settings
from legato.domain.errors import LegatoError
from legato.listen import events_app

T = TypeVar("T")
app = typer.Typer(help="Legato: self-hosted programmable voice.", no_args_is_help=True)
accounts_app = typer.Typer(help="Manage accounts (works on the database directly).", no_args_is_help=True)
legs_app = typer.Typer(help="Create and control legs through the HTTP API.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(legs_app, name="legs")
app.add_typer(events_app, name="events")
console = Console()
err = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _configure_logging(settings: Settings) -> None:
    if settings.log_format == "json":
        fmt = '{"ts":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}'
    else:
        fmt = "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to bind (default 8080)."),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default sqlite+aiosqlite:///./legato.db)."),
    network: str | None = typer.Option(None, help="sandbox (default) or sip."),
    time_scale: float | None = typer.Option(None, help="Run sandbox delays and leg timers N times faster."),
    config: Path | None = typer.Option(None, help="TOML configuration file (SIP network, trunks, exophones)."),
    dc: list[str] = typer.Option([], "--dc", help="A data centre served, with its nso codes: 101=nso-a,nso-b "
                                 "(repeatable; default from LEGATO_DATA_CENTRES or dc_code/nso_code)."),
    trunk_cps: list[str] = typer.Option([], "--trunk-cps", help="Operator cps limit of an account on a trunk: "
                                        "ACCOUNT_SID:TRUNK=N (repeatable; the sandbox trunk is 'sandbox')."),
    queue_max_wait: float | None = typer.Option(None, help="Seconds an enqueued leg may wait (default 300)."),
    queue_max_length: int | None = typer.Option(None, help="Enqueued legs per account (default 1000)."),
) -> None:
    """Run the API server and call control."""
    import uvicorn

    from legato.api.server import create_app
    from legato.engine.placement import parse_data_centre

    try:
        data_centres = dict(parse_data_centre(spec) for spec in dc) or None
        trunk_limits = dict(_trunk_limit(spec) for spec in trunk_cps)
    except ValueError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from None
    settings = _settings(host=host, port=port, database_url=database_url, network=network,
                         time_scale=time_scale, config_file=config, data_centres=data_centres,
                         account_trunk_cps=trunk_limits or None, queue_max_wait=queue_max_wait,
                         queue_max_length=queue_max_length)
    _configure_logging(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False)


def _trunk_limit(spec: str) -> tuple[str, int]:
    """`AC1:sandbox=5` -> ("AC1:sandbox", 5)."""
    key, _, value = spec.rpartition("=")
    if ":" not in key or not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"--trunk-cps {spec!r} must be ACCOUNT_SID:TRUNK=N with N >= 1")
    return key.strip(), int(value)


def _run_store(action: Callable[[Any], Awaitable[T]], database_url: str | None) -> T:
    from legato.app.runtime import Runtime

    async def main() -> T:
        runtime = Runtime(_settings(database_url=database_url, network="sandbox"))  # store only: no network
        await runtime.open_store()
        try:
            return await action(runtime)
        finally:
            await runtime.db.dispose()

    try:
        return asyncio.run(main())
    except LegatoError as exc:
        err.print(f"[red]error[/red] {exc.field or ''}: {exc.message}")
        raise typer.Exit(2) from None


DB = typer.Option(None, "--database-url", help="SQLAlchemy URL (default from LEGATO_DATABASE_URL).")


@accounts_app.command("create")
def accounts_create(
    sid: str | None = typer.Option(None, help="Account sid (default: generated)."),
    name: str | None = typer.Option(None, help="Display name."),
    cps: int | None = typer.Option(None, help="Calls-per-second limit (default unlimited)."),
    max_concurrent: int | None = typer.Option(None, help="Maximum live legs (default unlimited)."),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go."),
    exophone: list[str] = typer.Option([], help="A number or sip: URI of this account (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str | None = DB,
) -> None:
    """Create an account and print its credentials (the token and secret are shown only now)."""
    creds = _run_store(lambda rt: rt.accounts.create(
        sid=sid, name=name, cps=cps, max_concurrent=max_concurrent, inbound_endpoint=inbound_endpoint,
        exophones=exophone), database_url)
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
    rows = _run_store(lambda rt: rt.accounts.all(), database_url)
    data = [_account_dict(a) for a in rows]
    if as_json:
        print(json.dumps(data))
        return
    table = Table("account_sid", "name", "api_key", "cps", "max_concurrent", "inbound_endpoint", "exophones")
    for a in data:
        table.add_row(*(str(a[k]) for k in ("account_sid", "name", "api_key", "cps", "max_concurrent",
                                            "inbound_endpoint", "exophones")))
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


def _account_dict(account: Any) -> dict[str, Any]:
    return {"account_sid": account.account_sid, "name": account.name, "api_key": account.api_key,
            "cps": account.cps, "max_concurrent": account.max_concurrent,
            "inbound_endpoint": account.inbound_endpoint, "exophones": list(account.exophones),
            "amd_params": account.amd_params}


@accounts_app.command("update")
def accounts_update(
    account_sid: str = typer.Argument(..., help="The account to change."),
    name: str | None = typer.Option(None),
    cps: int | None = typer.Option(None, help="Calls-per-second limit."),
    max_concurrent: int | None = typer.Option(None, help="Maximum live legs."),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go."),
    exophone: list[str] = typer.Option([], help="Replace the account's exophones (repeatable)."),
    amd_param: list[str] = typer.Option([], "--amd-param", help="An AMD override, NAME=VALUE (repeatable), "
                                         "e.g. maximum_number_of_words=4 greeting_ms=2500."),
    as_json: bool = typer.Option(False, "--json"),
    database_url: str | None = DB,
) -> None:
    """Change an account's name, limits, inbound endpoint or exophones."""
    from legato.events.sinks.registry import check_endpoint

    if inbound_endpoint is not None:
        try:
            check_endpoint(inbound_endpoint, "inbound_endpoint")
        except LegatoError as exc:
            err.print(f"[red]error[/red] {exc.message}")
            raise typer.Exit(2) from None
    account = _run_store(lambda rt: rt.accounts.update(
        account_sid, name=name, cps=cps, max_concurrent=max_concurrent, inbound_endpoint=inbound_endpoint,
        exophones=exophone or None, amd_params=_amd_overrides(amd_param)), database_url)
    data = _account_dict(account)
    print(json.dumps(data)) if as_json else console.print(data)


# ---- HTTP client commands -------------------------------------------------------------------
URL = typer.Option("http://127.0.0.1:8080", "--url", envvar="LEGATO_URL", help="Legato API base URL.")
ACCOUNT = typer.Option(..., "--account", envvar="LEGATO_ACCOUNT_SID", help="Account sid.")
KEY = typer.Option(..., "--api-key", envvar="LEGATO_API_KEY", help="API key.")
TOKEN = typer.Option(..., "--api-token", envvar="LEGATO_API_TOKEN", help="API token.")
LEG_COLUMNS = ("leg_sid", "direction", "contact_uri", "state", "terminal_status", "hangup_cause", "answered_by",
               "duration")


def _call(method: str, url: str, path: str, key: str, token: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = httpx.request(method, url.rstrip("/") + path, auth=(key, token), timeout=10, **kwargs)
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {url}[/red]: {exc}")
        raise typer.Exit(1) from None
    body = response.json()
    if response.status_code >= 400:
        error = body.get("response", {}).get("error_data") or {}
        err.print(f"[red]{response.status_code}[/red] {error.get('field') or ''} {error.get('message')}")
        raise typer.Exit(1)
    return body["response"]["data"]


def _print_legs(legs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(legs if len(legs) != 1 else legs[0]))
        return
    table = Table(*LEG_COLUMNS)
    for leg in legs:
        table.add_row(*(str(leg.get(c) if leg.get(c) is not None else "") for c in LEG_COLUMNS))
    console.print(table)


@legs_app.command("create")
def legs_create(
    contact_uri: str = typer.Argument(..., help="Number or sip: URI to dial."),
    exophone: str = typer.Option(..., help="Caller id: one of your numbers or a sip: URI."),
    endpoint: str = typer.Option(..., "--endpoint", help="leg_event_endpoint (http(s):// or grpc://)."),
    network_type: str | None = typer.Option(None, help="pstn or voip (default: voip for sip:, else pstn)."),
    custom_param: str | None = typer.Option(None),
    time_limit: int | None = typer.Option(None),
    timeout: int | None = typer.Option(None),
    amd: bool = typer.Option(False, "--amd", help="Detect answering machines."),
    async_amd: bool = typer.Option(False, "--async-amd"),
    priority: str | None = typer.Option(None),
    reference_leg_sid: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
    url: str = URL, account: str = ACCOUNT, api_key: str = KEY, api_token: str = TOKEN,
) -> None:
    """Dial: create an outbound leg."""
    body: dict[str, Any] = {"contact_uri": contact_uri, "exophone": exophone, "leg_event_endpoint": endpoint,
                            "network_type": network_type or ("voip" if contact_uri.startswith("sip") else "pstn")}
    optional = {"custom_param": custom_param, "time_limit": time_limit, "timeout": timeout, "priority": priority,
                "reference_leg_sid": reference_leg_sid}
    body.update({k: v for k, v in optional.items() if v is not None})
    if amd:
        body["amd_enable"] = True
        body["async_amd"] = async_amd
    _print_legs([_call("POST", url, f"/v2/accounts/{account}/legs", api_key, api_token, json=body)], as_json)


@legs_app.command("list")
def legs_list(
    state: str | None = typer.Option(None), direction: str | None = typer.Option(None),
    limit: int = typer.Option(20), as_json: bool = typer.Option(False, "--json"),
    url: str = URL, account: str = ACCOUNT, api_key: str = KEY, api_token: str = TOKEN,
) -> None:
    """List legs, newest first."""
    params = {k: v for k, v in {"state": state, "direction": direction, "limit": limit}.items() if v is not None}
    data = _call("GET", url, f"/v2/accounts/{account}/legs", api_key, api_token, params=params)
    _print_legs(data["legs"], as_json) if not as_json else print(json.dumps(data["legs"]))


@legs_app.command("show")
def legs_show(
    leg_sid: str, as_json: bool = typer.Option(False, "--json"),
    url: str = URL, account: str = ACCOUNT, api_key: str = KEY, api_token: str = TOKEN,
) -> None:
    """Show one leg."""
    leg = _call("GET", url, f"/v2/accounts/{account}/legs/{leg_sid}", api_key, api_token)
    if as_json:
        print(json.dumps(leg))
        return
    table = Table("field", "value", title=leg_sid)
    for key, value in leg.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@legs_app.command("hangup")
def legs_hangup(
    leg_sid: str, as_json: bool = typer.Option(False, "--json"),
    url: str = URL, account: str = ACCOUNT, api_key: str = KEY, api_token: str = TOKEN,
) -> None:
    """Hang up a live leg."""
    leg = _call("POST", url, f"/v2/accounts/{account}/legs/{leg_sid}/actions", api_key, api_token,
                json={"action": "hangup"})
    _print_legs([leg], as_json)


rates_app = typer.Typer(help="The operator's rate table (prices of legs).", no_args_is_help=True)
app.add_typer(rates_app, name="rates")


@rates_app.command("import")
def rates_import(path: Path = typer.Argument(..., help="CSV: prefix,price_per_minute,currency,billing_increment"),
                 database_url: str | None = DB) -> None:
    """Validate and import a rate table; running servers use it within seconds for legs that end."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error[/red] cannot read {path}: {exc}")
        raise typer.Exit(2) from None
    table = _run_store(lambda rt: rt.rates.import_table(text, str(path)), database_url)
    console.print(f"imported {len(table)} rates from {path}")


config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(path: Path = typer.Argument(..., help="TOML configuration file.")) -> None:
    """Validate a configuration file; print each problem with its line, exit 1 when there is one."""
    from legato.network.sip import check_config_file

    problems = check_config_file(path)
    for problem in problems:
        err.print(problem)
    if problems:
        raise typer.Exit(1)
    console.print(f"{path}: ok")


def main() -> None:
    app()
