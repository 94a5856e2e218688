"""Talking to a Legato server: whose credentials (flags, environment, profile), one request with clean
errors and exit codes, and output as JSON or a plain table with full values.

Exit codes: 0 done; 1 the server refused (its message is printed); 2 bad usage or a local problem;
3 the server cannot be reached, or what answered is not Legato.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import typer

from legato.commands import profiles

REFUSED, USAGE, UNREACHABLE = 1, 2, 3
DEFAULT_URL = "http://127.0.0.1:8080"


def fail(message: str, code: int = USAGE) -> typing.NoReturn:
    """Print `error: message` on stderr and exit with `code` (no traceback)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@dataclass
class Output:
    """How results are printed: `json` (one JSON document) or `table` (aligned text, values never cut)."""

    mode: str = "table"

    def show(self, data: Any, columns: Sequence[str] | None = None, title: str | None = None) -> None:
        if self.mode == "json":
            print(json.dumps(data))
        elif isinstance(data, list):
            print(render_rows(data, columns))
        elif isinstance(data, dict):
            if title:
                print(title)
            print(render_rows([{"field": k, "value": v} for k, v in data.items()], ("field", "value")))
        else:
            print(data)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render_rows(rows: list[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as a plain table: a header, then one line per row; columns as wide as their widest value."""
    columns = list(columns or (rows[0].keys() if rows else ()))
    if not columns:
        return "(none)"
    table = [list(columns), *([cell(row.get(c)) for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(line)).rstrip() for line in table]
    return "\n".join(lines) if rows else lines[0] + "\n(none)"


class Api:
    """A Legato server with one kind of credentials: HTTP Basic (`auth`) or the admin token (`token`)."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        token: str | None = None,
        output: Output | None = None,
        account_sid: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.auth = auth
        self.token = token
        self.output = output or Output()
        self.account_sid = account_sid

    @property
    def base(self) -> str:
        return f"/v2/accounts/{self.account_sid}"

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response (any status); exits UNREACHABLE when there is none."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            return httpx.request(method, self.url + path, auth=self.auth, headers=headers, timeout=30, **kwargs)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            fail(f"bad server URL {self.url!r}: {exc}", USAGE)
        except httpx.HTTPError as exc:
            fail(f"cannot reach {self.url}: {exc or type(exc).__name__}", UNREACHABLE)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """`response.data` of Legato's envelope; the server's error message and exit 1 when it refused."""
        return self._data(self.raw(method, path, **kwargs))

    def bare(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of an answer in another provider's shape (not in the envelope; errors still are)."""
        response = self.raw(method, path, **kwargs)
        if response.status_code >= 400:
            self._data(response)  # prints the server's error and exits
        try:
            return response.json()
        except ValueError:
            fail(
                f"{self.url} did not answer as a Legato server (HTTP {response.status_code}); check the URL",
                UNREACHABLE,
            )

    def _data(self, response: httpx.Response) -> Any:
        body = _envelope(response)
        if body is None:
            kind = response.headers.get("content-type", "no content type")
            fail(
                f"{self.url} did not answer as a Legato server (HTTP {response.status_code}, {kind}); check the URL",
                UNREACHABLE,
            )
        if response.status_code >= 400:
            error = body["response"].get("error_data") or {}
            field = f" (field: {error['field']})" if error.get("field") else ""
            fail(f"{response.status_code} {error.get('code', 'error')}: {error.get('message', '')}{field}", REFUSED)
        return body["response"]["data"]


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("response"), dict):
        return None
    return body


# ---- options every client command takes -------------------------------------------------------------------
def _option(default: Any, *names: str, envvar: str | None = None, help: str) -> Any:
    return typer.Option(default, *names, envvar=envvar, help=help, show_default=False)


COMMON: dict[str, tuple[Any, Any]] = {
    "cli_profile": (
        str | None,
        _option(
            None,
            "--profile",
            envvar="LEGATO_PROFILE",
            help="Saved profile to use (`legato login`; default: the 'default' profile).",
        ),
    ),
    "server_url": (
        str | None,
        _option(None, "--url", envvar="LEGATO_URL", help=f"Server URL (default: the profile's, else {DEFAULT_URL})."),
    ),
    "cli_output": (str, _option("table", "--output", "-o", envvar="LEGATO_OUTPUT", help="table or json.")),
    "cli_json": (bool, _option(False, "--json", help="Same as --output json.")),
}
ACCOUNT: dict[str, tuple[Any, Any]] = {
    "cli_account": (str | None, _option(None, "--account", envvar="LEGATO_ACCOUNT_SID", help="Account sid.")),
    "cli_api_key": (str | None, _option(None, "--api-key", envvar="LEGATO_API_KEY", help="The account's API key.")),
    "cli_api_token": (str | None, _option(None, "--api-token", envvar="LEGATO_API_TOKEN", help="Its API token.")),
}


def output_of(common: dict[str, Any]) -> Output:
    mode = "json" if common.get("cli_json") else common.get("cli_output", "table")
    if mode not in ("json", "table"):
        fail(f"--output must be json or table, not {mode!r}")
    return Output(mode)


def chosen_profile(name: str | None) -> profiles.Profile | None:
    try:
        return profiles.load(name)
    except profiles.ProfileError as exc:
        fail(str(exc))


def account_api(common: dict[str, Any]) -> Api:
    """The account's API from flags and environment, filled in from the profile."""
    profile = chosen_profile(common["cli_profile"])
    url = common["server_url"] or (profile.url if profile else DEFAULT_URL)
    sid = common["cli_account"] or (profile.account_sid if profile else None)
    key = common["cli_api_key"] or (profile.api_key if profile else None)
    token = common["cli_api_token"] or (profile.api_token if profile else None)
    if not (sid and key and token):
        fail(
            "account credentials are needed: --account, --api-key and --api-token (or LEGATO_ACCOUNT_SID, "
            "LEGATO_API_KEY, LEGATO_API_TOKEN), or a profile made with "
            "`legato login URL --account SID --api-key KEY --api-token TOKEN`"
        )
    return Api(url, auth=(key, token), output=output_of(common), account_sid=sid)


def admin_api(common: dict[str, Any], *, required: bool = True) -> Api | None:
    """The operator's API (admin token from LEGATO_ADMIN_TOKEN or the profile); None when there is none
    and it is not `required`."""
    profile = chosen_profile(common["cli_profile"])
    token = os.environ.get("LEGATO_ADMIN_TOKEN") or (profile.admin_token if profile else None)
    if token is None:
        if required or common["cli_profile"] is not None:
            where = f"profile {common['cli_profile']!r} has none" if common["cli_profile"] else "none is saved"
            fail(
                f"the admin token is needed ({where}): `legato login URL --admin-token TOKEN`, "
                f"or set LEGATO_ADMIN_TOKEN"
            )
        return None
    url = common["server_url"] or (profile.url if profile else DEFAULT_URL)
    return Api(url, token=token, output=output_of(common))


def command(
    app: typer.Typer,
    name: str,
    extra: dict[str, tuple[Any, Any]],
    make: Callable[[dict[str, Any]], Any],
    **settings: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `func(api, **its own params)` as `name`, with the `extra` and COMMON options added; `make`
    turns those options into the `api` the function gets."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(func, include_extras=True)
        own = [p.replace(annotation=hints[p.name]) for p in list(inspect.signature(func).parameters.values())[1:]]
        added = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=t, default=d)
            for n, (t, d) in {**extra, **COMMON}.items()
        ]

        def run(**kwargs: Any) -> Any:
            common = {n: kwargs.pop(n) for n in (*extra, *COMMON)}
            return func(make(common), **kwargs)

        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        run.__doc__ = func.__doc__
        run.__name__ = func.__name__
        app.command(name, **settings)(run)
        return func

    return register


def account_command(app: typer.Typer, name: str, **settings: Any) -> Callable[[Callable[..., Any]], Any]:
    """A command that acts as an account (HTTP Basic)."""
    return command(app, name, ACCOUNT, account_api, **settings)


def admin_command(app: typer.Typer, name: str, **settings: Any) -> Callable[[Callable[..., Any]], Any]:
    """A command that acts as the operator (admin token)."""
    return command(app, name, {}, admin_api, **settings)
