"""The `legato` command: serve, manage accounts, and a thin client of the HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from legato.listen import events_app
from legato.store_cli import DB, accounts_app, check_store, run_store, settings_from

app = typer.Typer(help="Legato: self-hosted programmable voice.", no_args_is_help=True)
legs_app = typer.Typer(help="Create and control legs through the HTTP API.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(legs_app, name="legs")
app.add_typer(events_app, name="events")
console = Console()
err = Console(stderr=True)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to bind (default 8080)."),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default SQLite at "
                                            "LEGATO_DATA_DIR/legato.db, ~/.local/share/legato/legato.db)."),
    network: str | None = typer.Option(None, help="sandbox (default) or sip."),
    time_scale: float | None = typer.Option(None, help="Run sandbox delays and leg timers N times faster."),
    config: Path | None = typer.Option(None, help="TOML configuration file (SIP network, trunks, exophones)."),
    dc: list[str] = typer.Option([], "--dc", help="A data centre served, with its nso codes: 101=nso-a,nso-b "
                                 "(repeatable; default from LEGATO_DATA_CENTRES or dc_code/nso_code)."),
    trunk_cps: list[str] = typer.Option([], "--trunk-cps", help="Operator cps limit of an account on a trunk: "
                                        "ACCOUNT_SID:TRUNK=N (repeatable; the sandbox trunk is 'sandbox')."),
    queue_max_wait: float | None = typer.Option(None, help="Seconds an enqueued leg may wait (default 300)."),
    queue_max_length: int | None = typer.Option(None, help="Enqueued legs per account (default 1000)."),
    node: str | None = typer.Option(None, "--node", help="This node's name on the database (default 'default'); "
                                    "it owns the legs it starts, under a lease."),
    max_body_bytes: int | None = typer.Option(None, help="Largest request body accepted, bytes (default 1048576)."),
    header_timeout: float | None = typer.Option(None, help="Seconds a connection may take to send a request's "
                                                "headers before it is closed (default 10)."),
    drain_timeout: float | None = typer.Option(None, help="On SIGTERM, seconds live legs may run before they "
                                               "are ended with platform_shutdown (default 30)."),
    bus: str | None = typer.Option(None, "--bus", help="NATS URL of the cluster's bus (nats://127.0.0.1:4222): "
                                   "this process is one node of a cluster (PostgreSQL database, shared key)."),
    workers: int | None = typer.Option(None, "--workers", help="Start N node processes behind this API port "
                                       "(needs --bus and PostgreSQL; node names NAME-1..NAME-N)."),
) -> None:
    """Run the API server and call control."""
    from legato.api.protocol import with_header_timeout
    from legato.api.server import create_app
    from legato.api.serving import serve as serve_api
    from legato.engine.placement import parse_data_centre
    from legato.observability.logs import configure_logging

    try:
        data_centres = dict(parse_data_centre(spec) for spec in dc) or None
        trunk_limits = dict(_trunk_limit(spec) for spec in trunk_cps)
    except ValueError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        settings = settings_from(host=host, port=port, database_url=database_url, network=network,
                                 time_scale=time_scale, config_file=config, data_centres=data_centres,
                                 account_trunk_cps=trunk_limits or None, queue_max_wait=queue_max_wait,
                                 queue_max_length=queue_max_length, node_name=node, max_body_bytes=max_body_bytes,
                                 header_timeout=header_timeout, drain_timeout=drain_timeout, bus_url=bus,
                                 workers=workers)
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            err.print(f"[red]error[/red] {escape(where + ': ' if where else '')}{escape(message)}")
        raise typer.Exit(2) from None
    configure_logging(settings.log_format)
    check_store(settings)  # a missing or wrong secret key stops here, saying what to do
    if settings.workers > 1:
        from legato.cluster.workers import run_workers

        raise typer.Exit(run_workers(settings))
    serve_api(create_app(settings), settings.host, settings.port, http=with_header_timeout(settings.header_timeout),
              reuse_port=settings.reuse_port)


def _trunk_limit(spec: str) -> tuple[str, int]:
    """`AC1:sandbox=5` -> ("AC1:sandbox", 5)."""
    key, _, value = spec.rpartition("=")
    if ":" not in key or not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"--trunk-cps {spec!r} must be ACCOUNT_SID:TRUNK=N with N >= 1")
    return key.strip(), int(value)


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
    table = run_store(lambda rt: rt.rates.import_table(text, str(path)), database_url)
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
