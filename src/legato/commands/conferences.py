"""`legato conferences create|list|show|add|remove|mute|stop`: conferences through the HTTP API."""

from __future__ import annotations

from typing import Any

import typer

from legato.commands.client import Api, account_command

conferences_app = typer.Typer(help="Create conferences and move legs in and out of them (HTTP API).",
                              no_args_is_help=True)
COLUMNS = ("conference_sid", "name", "state", "participant_count", "record", "end_reason", "date_created")


def _path(api: Api, *parts: str) -> str:
    return "/".join((f"{api.base}/conferences", *parts))


def _show(api: Api, conference: dict[str, Any]) -> None:
    api.output.show(conference, title=conference.get("conference_sid", "conference"))


@account_command(conferences_app, "create")
def create(
    api: Api,
    name: str = typer.Argument(..., help="Your name for the conference."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="conference_event_endpoint (http(s):// or grpc://)."),
    event_format: str | None = typer.Option(None, help="Shape of the events: exotel (Legato's own), bandwidth ..."),
    record: bool = typer.Option(False, "--record", help="Record the mix."),
    max_participants: int | None = typer.Option(None, help="Most legs in it at once (default 50)."),
    keep_when_empty: bool = typer.Option(False, "--keep-when-empty", help="Do not end it when the last leaves."),
) -> None:
    """Create a conference."""
    body: dict[str, Any] = {"name": name, "record": record, "end_when_empty": not keep_when_empty}
    optional = {"conference_event_endpoint": endpoint, "event_format": event_format,
                "max_participants": max_participants}
    body.update({k: v for k, v in optional.items() if v is not None})
    _show(api, api.call("POST", _path(api), json=body))


@account_command(conferences_app, "list")
def list_conferences(
    api: Api,
    state: str | None = typer.Option(None, help="active or completed."),
    limit: int = typer.Option(20),
) -> None:
    """List conferences, newest first."""
    params = {k: v for k, v in {"state": state, "limit": limit}.items() if v is not None}
    api.output.show(api.call("GET", _path(api), params=params)["conferences"], COLUMNS)


@account_command(conferences_app, "show")
def show(api: Api, conference_sid: str = typer.Argument(..., help="The conference.")) -> None:
    """Show one conference and its participants."""
    _show(api, api.call("GET", _path(api, conference_sid)))


@account_command(conferences_app, "add")
def add(
    api: Api,
    conference_sid: str = typer.Argument(..., help="The conference."),
    leg_sid: str = typer.Argument(..., help="A connected leg."),
    role: str = typer.Option("participant", help="participant, coach (with --coach) or listener."),
    coach: str | None = typer.Option(None, "--coach", help="For role coach: the leg it whispers to."),
    muted: bool = typer.Option(False, "--muted"),
    hold: bool = typer.Option(False, "--hold"),
    beep: str | None = typer.Option(None, "--beep", help="A tone when it joins/leaves: true, false, onEnter, onExit."),
    wait_url: str | None = typer.Option(None, "--wait-url", help="A WAV played in a loop to it while it is on hold."),
) -> None:
    """Add a connected leg."""
    body = {"leg_sid": leg_sid, "role": role, "muted": muted, "hold": hold, "coach_leg_sid": coach}
    body.update({k: v for k, v in (("beep", beep), ("wait_url", wait_url)) if v is not None})
    _show(api, api.call("POST", _path(api, conference_sid, "participants"), json=body))


def _participant(api: Api, conference_sid: str, leg_sid: str, action: str) -> None:
    path = _path(api, conference_sid, "participants", leg_sid, "actions")
    _show(api, api.call("POST", path, json={"action": action}))


@account_command(conferences_app, "remove")
def remove(
    api: Api,
    conference_sid: str = typer.Argument(..., help="The conference."),
    leg_sid: str = typer.Argument(..., help="The participant's leg."),
) -> None:
    """Take a leg out (it stays up)."""
    _participant(api, conference_sid, leg_sid, "remove")


@account_command(conferences_app, "mute")
def mute(
    api: Api,
    conference_sid: str = typer.Argument(..., help="The conference."),
    leg_sid: str = typer.Argument(..., help="The participant's leg."),
    undo: bool = typer.Option(False, "--undo", help="Unmute."),
    hold: bool = typer.Option(False, "--hold", help="Hold instead (hears nothing either); with --undo: unhold."),
) -> None:
    """Mute a participant (it still hears), or with --hold hold it; --undo reverses."""
    _participant(api, conference_sid, leg_sid, ("un" if undo else "") + ("hold" if hold else "mute"))


@account_command(conferences_app, "stop")
def stop(api: Api, conference_sid: str = typer.Argument(..., help="The conference.")) -> None:
    """End the conference (its legs stay up)."""
    _show(api, api.call("POST", _path(api, conference_sid, "actions"), json={"action": "stop"}))
