"""`legato login`: check credentials against a server and save them as a profile."""

from __future__ import annotations

import sys

import typer

from legato.commands import profiles
from legato.commands.client import Api, Output, fail


def login(
    url: str = typer.Argument(..., help="The server, e.g. http://127.0.0.1:8080."),
    profile: str = typer.Option(profiles.DEFAULT, "--profile", help="Name to save it under."),
    admin_token: str | None = typer.Option(
        None,
        "--admin-token",
        envvar="LEGATO_ADMIN_TOKEN",
        help="The operator's admin token (asked for when no account is given).",
    ),
    account: str | None = typer.Option(
        None, "--account", help="An account sid, for the legs, bridges, calls and events commands."
    ),
    api_key: str | None = typer.Option(None, "--api-key", help="That account's API key."),
    api_token: str | None = typer.Option(None, "--api-token", help="That account's API token."),
) -> None:
    """Check credentials against the server and save them with its URL as a profile (file mode 0600)."""
    if not url.startswith(("http://", "https://")):
        fail(f"the URL must start with http:// or https://, not {url!r}")
    if any((account, api_key, api_token)) and not all((account, api_key, api_token)):
        fail("an account needs --account, --api-key and --api-token together")
    if admin_token is None and account is None:
        if not sys.stdin.isatty():
            fail("give --admin-token (or LEGATO_ADMIN_TOKEN), or --account with --api-key and --api-token")
        admin_token = typer.prompt("Admin token", hide_input=True)
    if admin_token:
        Api(url, token=admin_token).call("GET", "/v2/accounts")
    if account and api_key and api_token:
        Api(url, auth=(api_key, api_token)).call("GET", f"/v2/accounts/{account}")
    path = profiles.save(profile, profiles.Profile(url.rstrip("/"), admin_token, account, api_key, api_token))
    who = " and ".join(
        w for w in ("the admin token" if admin_token else "", f"account {account}" if account else "") if w
    )
    Output().show(f"logged in to {url} with {who}; saved as profile {profile!r} in {path}")


def profiles_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The saved profiles (without their secrets)."""
    try:
        saved = profiles.load_all()
    except profiles.ProfileError as exc:
        fail(str(exc))
    rows = [
        {"profile": name, "url": p.url, "admin": p.admin_token is not None, "account_sid": p.account_sid}
        for name, p in sorted(saved.items())
    ]
    Output("json" if as_json else "table").show(rows, ("profile", "url", "admin", "account_sid"))
