"""`legato accounts ...` and `legato rates ...`: the operator's commands. With an admin token (a profile from
`legato login`, or LEGATO_ADMIN_TOKEN) they go over HTTP to the server; `create`, `list`, `update` and
`rates import` also work on the database directly (`--database-url`, or when no admin token is known), to
bootstrap a server that has no account yet. Both ways run the same use-cases (app/accounts.py, app/rates.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from legato.commands.client import Api, Output, admin_api, admin_command, command, fail, output_of
from legato.store_cli import amd_overrides, run_store

accounts_app = typer.Typer(
    help="Manage accounts (the operator: over HTTP with the admin token, or on the database "
    "directly with --database-url).",
    no_args_is_help=True,
)
exophones_app = typer.Typer(help="An account's exophones (HTTP, admin token).", no_args_is_help=True)
rates_app = typer.Typer(help="The operator's rate table (prices of legs).", no_args_is_help=True)
accounts_app.add_typer(exophones_app, name="exophones")
ACCOUNT_COLUMNS = (
    "account_sid",
    "name",
    "api_key",
    "disabled",
    "cps",
    "max_concurrent",
    "default_region",
    "exophones",
    "inbound_endpoint",
)
RATE_COLUMNS = ("prefix", "price_per_minute", "currency", "billing_increment", "description")
CLEAR = "none"  # `--cps none`: no limit
DATABASE = {
    "database_url": (
        str | None,
        typer.Option(None, "--database-url", help="Work on this database directly instead of over HTTP."),
    )
}


class Target:
    """Where an operator command goes: the server (`api`) or the database (`database_url`)."""

    def __init__(self, common: dict[str, Any]) -> None:
        self.database_url = common["database_url"]
        self.api = None if self.database_url else admin_api(common, required=False)
        self.output: Output = self.api.output if self.api else output_of(common)


def either_command(app: typer.Typer, name: str) -> Any:
    """A command that goes over HTTP with an admin token, else to the database."""
    return command(app, name, DATABASE, Target)


CALLER_ID_HELP = (
    "A caller id the account may present besides its exophones (a number the operator checked "
    "it may use; repeatable; on update replaces the list)."
)
REGION_HELP = "ISO 3166 alpha-2 region in which the account's national numbers are read (default IN)."
LIMIT_HELP = "{what} (a whole number, or 'none' for unlimited)."
INBOUND_FLOW_HELP = "The call flow (TwiML URL) inbound calls run, answered by Legato (docs/call-flows.md)."
EXOPHONE_FLOW_HELP = ("NUMBER=URL: the call flow calls to this exophone run, over --inbound-flow-url "
                      "(NUMBER= removes it; repeatable).")


def _exophone_flows(pairs: list[str]) -> dict[str, str] | None:
    """`NUMBER=URL` pairs (an empty URL removes the number's flow)."""
    if not pairs:
        return None
    flows: dict[str, str] = {}
    for pair in pairs:
        number, sep, url = pair.partition("=")
        if not sep or not number.strip():
            fail(f"--exophone-flow takes NUMBER=URL, not {pair!r}")
        flows[number.strip()] = url.strip()
    return flows


def _limit(option: str, value: str | None) -> int | str | None:
    """`--cps 5` -> 5, `--cps none` -> CLEAR, not given -> None."""
    if value is None or value.strip().lower() == CLEAR:
        return None if value is None else CLEAR
    if not value.strip().isdigit():
        fail(f"{option} must be a whole number or 'none' (unlimited), not {value!r}")
    return int(value)


@either_command(accounts_app, "create")
def create(
    target: Target,
    sid: str | None = typer.Option(None, help="Account sid (default: generated)."),
    name: str | None = typer.Option(None, help="Display name."),
    cps: int | None = typer.Option(None, help="Calls-per-second limit (default unlimited)."),
    max_concurrent: int | None = typer.Option(None, help="Maximum live legs (default unlimited)."),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go."),
    exophone: list[str] = typer.Option(
        [],
        help="A number or sip: URI of this account (repeatable); outbound "
        "legs present one of these (or a --caller-id) as caller id.",
    ),
    caller_id: list[str] = typer.Option([], "--caller-id", help=CALLER_ID_HELP),
    region: str | None = typer.Option(None, "--region", help=REGION_HELP),
    inbound_flow_url: str | None = typer.Option(None, "--inbound-flow-url", help=INBOUND_FLOW_HELP),
) -> None:
    """Create an account and print its credentials (the token and secret are shown only now)."""
    body = {
        "account_sid": sid,
        "name": name,
        "cps": cps,
        "max_concurrent": max_concurrent,
        "inbound_endpoint": inbound_endpoint,
        "exophones": exophone,
        "caller_ids": caller_id,
        "default_region": region,
        "inbound_flow_url": inbound_flow_url,
    }
    if target.api:
        data = target.api.call("POST", "/v2/accounts", json={k: v for k, v in body.items() if v is not None})
    else:
        data = run_store(
            lambda rt: rt.accounts.create(
                sid=sid,
                name=name,
                cps=cps,
                max_concurrent=max_concurrent,
                inbound_endpoint=inbound_endpoint,
                exophones=exophone,
                caller_ids=caller_id,
                default_region=region,
                inbound_flow_url=inbound_flow_url,
            ),
            target.database_url,
        ).as_dict()
    target.output.show(data, title="New account (save the token and secret now: they are not shown again)")


@either_command(accounts_app, "list")
def list_accounts(target: Target) -> None:
    """List accounts (no secrets)."""
    from legato.app.accounts import account_summary

    if target.api:
        rows = target.api.call("GET", "/v2/accounts")["accounts"]
    else:
        rows = [account_summary(a) for a in run_store(lambda rt: rt.accounts.all(), target.database_url)]
    target.output.show(rows, ACCOUNT_COLUMNS)


@either_command(accounts_app, "update")
def update(
    target: Target,
    account_sid: str = typer.Argument(..., help="The account to change."),
    name: str | None = typer.Option(None),
    cps: str | None = typer.Option(None, help=LIMIT_HELP.format(what="Calls-per-second limit")),
    max_concurrent: str | None = typer.Option(None, help=LIMIT_HELP.format(what="Maximum live legs")),
    inbound_endpoint: str | None = typer.Option(None, help="Where inbound legs' events go ('none': nowhere)."),
    exophone: list[str] = typer.Option([], help="Replace the account's exophones (repeatable)."),
    caller_id: list[str] = typer.Option([], "--caller-id", help=CALLER_ID_HELP),
    region: str | None = typer.Option(None, "--region", help=REGION_HELP),
    amd_param: list[str] = typer.Option(
        [],
        "--amd-param",
        help="An AMD override, NAME=VALUE (repeatable), e.g. maximum_number_of_words=4 greeting_ms=2500.",
    ),
    inbound_flow_url: str | None = typer.Option(
        None, "--inbound-flow-url", help=INBOUND_FLOW_HELP + " ('' removes it)"
    ),
    exophone_flow: list[str] = typer.Option([], "--exophone-flow", help=EXOPHONE_FLOW_HELP),
) -> None:
    """Change an account's name, limits ('none': unlimited), region, inbound endpoint, call flows, exophones or
    caller ids."""
    given: dict[str, Any] = {
        "name": name,
        "cps": _limit("--cps", cps),
        "max_concurrent": _limit("--max-concurrent", max_concurrent),
        "inbound_endpoint": CLEAR if inbound_endpoint and inbound_endpoint.lower() == CLEAR else inbound_endpoint,
        "exophones": exophone or None,
        "caller_ids": caller_id or None,
        "default_region": region,
        "amd_params": amd_overrides(amd_param),
        "inbound_flow_url": inbound_flow_url,
        "exophone_flows": _exophone_flows(exophone_flow),
    }
    given = {k: v for k, v in given.items() if v is not None}
    clear = [k for k, v in given.items() if v == CLEAR]
    if target.api:
        body = {k: None if k in clear else v for k, v in given.items()}
        data = target.api.call("PATCH", f"/v2/accounts/{account_sid}", json=body)
    else:
        from legato.app.accounts import account_summary

        changes = {k: v for k, v in given.items() if k not in clear}
        account = run_store(lambda rt: rt.accounts.update(account_sid, clear=clear, **changes), target.database_url)
        data = account_summary(account)
    target.output.show(data, title=account_sid)


@admin_command(accounts_app, "show")
def show(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """Show an account: limits, load, exophones (no secrets)."""
    api.output.show(api.call("GET", f"/v2/accounts/{account_sid}"), title=account_sid)


@admin_command(accounts_app, "disable")
def disable(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """Disable an account: its API calls get 403, it places no legs (enqueued ones are canceled)."""
    api.output.show(api.call("POST", f"/v2/accounts/{account_sid}/disable"), title=account_sid)


@admin_command(accounts_app, "enable")
def enable(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """Enable a disabled account."""
    api.output.show(api.call("POST", f"/v2/accounts/{account_sid}/enable"), title=account_sid)


@admin_command(accounts_app, "rotate-token")
def rotate_token(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """Give the account a new API token (shown only now); the old one stops working."""
    api.output.show(
        api.call("POST", f"/v2/accounts/{account_sid}/rotate-token"),
        title="New API token (save it now: it is not shown again)",
    )


@admin_command(accounts_app, "rotate-webhook-secret")
def rotate_webhook_secret(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """Give the account a new webhook secret (shown only now); every delivery from now on is signed with it."""
    api.output.show(
        api.call("POST", f"/v2/accounts/{account_sid}/rotate-webhook-secret"),
        title="New webhook secret (save it now: it is not shown again)",
    )


@admin_command(exophones_app, "list")
def exophones_list(api: Api, account_sid: str = typer.Argument(..., help="The account.")) -> None:
    """The account's exophones."""
    numbers = api.call("GET", f"/v2/accounts/{account_sid}/exophones")["exophones"]
    api.output.show(numbers if api.output.mode == "json" else [{"exophone": n} for n in numbers], ("exophone",))


@admin_command(exophones_app, "add")
def exophones_add(
    api: Api,
    account_sid: str = typer.Argument(..., help="The account."),
    number: str = typer.Argument(..., help="A number (any spelling) or sip: URI."),
) -> None:
    """Add an exophone."""
    api.output.show(
        api.call("POST", f"/v2/accounts/{account_sid}/exophones", json={"number": number}), title=account_sid
    )


@admin_command(exophones_app, "remove")
def exophones_remove(
    api: Api,
    account_sid: str = typer.Argument(..., help="The account."),
    number: str = typer.Argument(..., help="The number (any spelling) or sip: URI."),
) -> None:
    """Remove an exophone."""
    from urllib.parse import quote

    api.output.show(
        api.call("DELETE", f"/v2/accounts/{account_sid}/exophones/{quote(number, safe='')}"), title=account_sid
    )


@either_command(rates_app, "import")
def rates_import(
    target: Target,
    path: Path = typer.Argument(
        ..., help="CSV: prefix,price_per_minute,currency,billing_increment[,description] with that header row."
    ),
) -> None:
    """Validate and import a rate table; running servers use it within seconds for legs that end."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    if target.api:
        count = target.api.call("POST", "/v2/rates", json={"csv": text, "source": str(path)})["count"]
    else:
        count = len(run_store(lambda rt: rt.rates.import_table(text, str(path)), target.database_url).table)
    print(f"imported {count} rates from {path}")


@admin_command(rates_app, "list")
def rates_list(api: Api) -> None:
    """The rate table in force (--output json: with its source and import time)."""
    table = api.call("GET", "/v2/rates")
    if api.output.mode == "json":
        api.output.show(table)
        return
    print(f"{table['count']} rates from {table['source']}, imported {table['imported_at']}")
    api.output.show(table["rates"], RATE_COLUMNS)


@admin_command(rates_app, "export")
def rates_export(api: Api) -> None:
    """Print the rate table in force as CSV, exactly as it was imported (re-importable)."""
    response = api.raw("GET", "/v2/rates/export")
    if response.status_code >= 400:
        api.call("GET", "/v2/rates/export")  # prints the server's error and exits
    print(response.text, end="")
