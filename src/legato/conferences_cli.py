"""`legato conferences create|list|show|add|remove|mute|stop`: conferences through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from legato.http_cli import ACCOUNT, KEY, TOKEN, URL, call_api

conferences_app = typer.Typer(help="Create conferences and move legs in and out of them.", no_args_is_help=True)
console = Console()
COLUMNS = ("conference_sid", "name", "state", "participant_count", "record", "end_reason", "date_created")
PARTICIPANT_COLUMNS = ("leg_sid", "role", "muted", "hold", "coach_leg_sid", "state", "left_reason")
AS_JSON = typer.Option(False, "--json", help="Print the API's JSON.")


def _path(account: str, *parts: str) -> str:
    return "/".join((f"/v2/accounts/{account}/conferences", *parts)).rstrip("/")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _print(conferences: list[dict[str, Any]], as_json: bool, *, detail: bool = False) -> None:
    if as_json:
        print(json.dumps(conferences[0] if detail else conferences))
        return
    table = Table(*COLUMNS)
    for conference in conferences:
        table.add_row(*(_cell(conference.get(c)) for c in COLUMNS))
    console.print(table)
    if detail:
        members = Table(*PARTICIPANT_COLUMNS, title="participants")
        for participant in conferences[0]["participants"]:
            members.add_row(*(_cell(participant.get(c)) for c in PARTICIPANT_COLUMNS))
        console.print(members)


@conferences_app.command("create")
def conferences_create(
    name: str = typer.Argument(..., help="Your name for the conference."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="conference_event_endpoint (http(s):// or grpc://)."),
    event_format: str | None = typer.Option(None, help="Shape of the events: exotel (Legato's own), bandwidth ..."),
    record: bool = typer.Option(False, "--record", help="Record the mix."),
    max_participants: int | None = typer.Option(None, help="Most legs in it at once (default 50)."),
    keep_when_empty: bool = typer.Option(False, "--keep-when-empty", help="Do not end it when the last leaves."),
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """Create a conference."""
    body: dict[str, Any] = {"name": name, "record": record, "end_when_empty": not keep_when_empty}
    optional = {
        "conference_event_endpoint": endpoint,
        "event_format": event_format,
        "max_participants": max_participants,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    _print([call_api("POST", url, _path(account), api_key, api_token, json=body)], as_json, detail=True)


@conferences_app.command("list")
def conferences_list(
    state: str | None = typer.Option(None, help="active or completed."),
    limit: int = typer.Option(20),
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """List conferences, newest first."""
    params = {k: v for k, v in {"state": state, "limit": limit}.items() if v is not None}
    _print(call_api("GET", url, _path(account), api_key, api_token, params=params)["conferences"], as_json)


@conferences_app.command("show")
def conferences_show(
    conference_sid: str,
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """Show one conference and its participants."""
    _print([call_api("GET", url, _path(account, conference_sid), api_key, api_token)], as_json, detail=True)


@conferences_app.command("add")
def conferences_add(
    conference_sid: str,
    leg_sid: str,
    role: str = typer.Option("participant", help="participant, coach (with --coach) or listener."),
    coach: str | None = typer.Option(None, "--coach", help="For role coach: the leg it whispers to."),
    muted: bool = typer.Option(False, "--muted"),
    hold: bool = typer.Option(False, "--hold"),
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """Add a connected leg."""
    body = {"leg_sid": leg_sid, "role": role, "muted": muted, "hold": hold, "coach_leg_sid": coach}
    data = call_api("POST", url, _path(account, conference_sid, "participants"), api_key, api_token, json=body)
    _print([data], as_json, detail=True)


def _participant_action(
    conference_sid: str, leg_sid: str, action: str, as_json: bool, url: str, account: str, api_key: str, api_token: str
) -> None:
    path = _path(account, conference_sid, "participants", leg_sid, "actions")
    _print([call_api("POST", url, path, api_key, api_token, json={"action": action})], as_json, detail=True)


@conferences_app.command("remove")
def conferences_remove(
    conference_sid: str,
    leg_sid: str,
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """Take a leg out (it stays up)."""
    _participant_action(conference_sid, leg_sid, "remove", as_json, url, account, api_key, api_token)


@conferences_app.command("mute")
def conferences_mute(
    conference_sid: str,
    leg_sid: str,
    undo: bool = typer.Option(False, "--undo", help="Unmute."),
    hold: bool = typer.Option(False, "--hold", help="Hold instead (hears nothing either); with --undo: unhold."),
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """Mute a participant (it still hears), or with --hold hold it; --undo reverses."""
    action = ("un" if undo else "") + ("hold" if hold else "mute")
    _participant_action(conference_sid, leg_sid, action, as_json, url, account, api_key, api_token)


@conferences_app.command("stop")
def conferences_stop(
    conference_sid: str,
    as_json: bool = AS_JSON,
    url: str = URL,
    account: str = ACCOUNT,
    api_key: str = KEY,
    api_token: str = TOKEN,
) -> None:
    """End the conference (its legs stay up)."""
    data = call_api("POST", url, _path(account, conference_sid, "actions"), api_key, api_token, json={"action": "stop"})
    _print([data], as_json, detail=True)
