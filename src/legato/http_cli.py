"""What the API-client commands of `legato` share: the connection options and one call to the HTTP API."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Console

URL = typer.Option("http://127.0.0.1:8080", "--url", envvar="LEGATO_URL", help="Legato API base URL.")
ACCOUNT = typer.Option(..., "--account", envvar="LEGATO_ACCOUNT_SID", help="Account sid.")
KEY = typer.Option(..., "--api-key", envvar="LEGATO_API_KEY", help="API key.")
TOKEN = typer.Option(..., "--api-token", envvar="LEGATO_API_TOKEN", help="API token.")
err = Console(stderr=True)


def call_api(method: str, url: str, path: str, key: str, token: str, **kwargs: Any) -> dict[str, Any]:
    """One API request; its `response.data`, or the error printed and exit status 1."""
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
