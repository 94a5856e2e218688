"""`legato legs ...` and `legato events list|redeliver`: an account's legs over the HTTP API. Every leg action
of app/actions/registry.py is a command of its own (`legato legs play LEG --url ...`), made from its ActionSpec."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

import typer

from legato.app.actions.base import ActionSpec
from legato.app.actions.registry import ACTIONS
from legato.app.legs import LegAction
from legato.commands.client import Api, account_command

legs_app = typer.Typer(
    help="Create, list, read and act on legs (HTTP API, an account's credentials).", no_args_is_help=True
)
LEG_COLUMNS = (
    "leg_sid",
    "direction",
    "contact_uri",
    "state",
    "terminal_status",
    "hangup_cause",
    "answered_by",
    "duration",
)
EVENT_COLUMNS = ("sequence", "event_sid", "event_name", "status", "attempts", "endpoint")


@account_command(legs_app, "create")
def create(
    api: Api,
    contact_uri: str = typer.Argument(..., help="Number or sip: URI to dial."),
    exophone: str = typer.Option(..., help="Caller id: one of the account's numbers or a sip: URI."),
    endpoint: str = typer.Option(..., "--endpoint", help="leg_event_endpoint (http(s):// or grpc://)."),
    network_type: str | None = typer.Option(None, help="pstn or voip (default: voip for sip:, else pstn)."),
    custom_param: str | None = typer.Option(None),
    time_limit: int | None = typer.Option(None),
    timeout: int | None = typer.Option(None),
    amd: bool = typer.Option(False, "--amd", help="Detect answering machines."),
    async_amd: bool = typer.Option(False, "--async-amd"),
    priority: str | None = typer.Option(None),
    reference_leg_sid: str | None = typer.Option(None),
) -> None:
    """Dial: create an outbound leg."""
    body: dict[str, Any] = {
        "contact_uri": contact_uri,
        "exophone": exophone,
        "leg_event_endpoint": endpoint,
        "network_type": network_type or ("voip" if contact_uri.startswith("sip") else "pstn"),
    }
    optional = {
        "custom_param": custom_param,
        "time_limit": time_limit,
        "timeout": timeout,
        "priority": priority,
        "reference_leg_sid": reference_leg_sid,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if amd:
        body["amd_enable"] = True
        body["async_amd"] = async_amd
    api.output.show(api.call("POST", f"{api.base}/legs", json=body), title="leg")


@account_command(legs_app, "list")
def list_legs(
    api: Api,
    state: str | None = typer.Option(None, help="created, enqueued, connecting, ringing, connected, terminal"),
    direction: str | None = typer.Option(None, help="inbound or outbound"),
    limit: int = typer.Option(20, help="At most this many (1-500)."),
    cursor: str | None = typer.Option(None, help="next_cursor of the previous page."),
) -> None:
    """List legs, newest first (a table ends with the next page's cursor when there is one)."""
    params = {
        k: v
        for k, v in {"state": state, "direction": direction, "limit": limit, "cursor": cursor}.items()
        if v is not None
    }
    data = api.call("GET", f"{api.base}/legs", params=params)
    api.output.show(data["legs"], LEG_COLUMNS)
    if api.output.mode == "table" and data.get("next_cursor"):
        print(f"next page: --cursor {data['next_cursor']}")


@account_command(legs_app, "show")
def show(
    api: Api,
    leg_sid: str = typer.Argument(..., help="The leg."),
    format: str = typer.Option("exotel", "--format", help="exotel, messagebird, telefonie, ringcentral"),
) -> None:
    """Show one leg (in another provider's shape with --format)."""
    if format == "exotel":
        api.output.show(api.call("GET", f"{api.base}/legs/{leg_sid}"), title=leg_sid)
        return
    api.output.show(api.bare("GET", f"{api.base}/legs/{leg_sid}", params={"format": format}), title=leg_sid)


def _act(api: Api, leg_sid: str, body: dict[str, Any]) -> None:
    api.output.show(api.call("POST", f"{api.base}/legs/{leg_sid}/actions", json=body), title=leg_sid)


def _option_type(name: str) -> Any:
    """The CLI type of a LegAction field: int, float or str (the server checks the rest)."""
    annotation = LegAction.model_fields[name].annotation
    kinds = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for kind in (int, float):
        if kind in kinds:
            return kind | None
    return str | None


def _flag(field: str) -> str:
    """The option of an action field: `--num-digits`; play's `url` is `--play-url` (`--url` is the server)."""
    return "--play-url" if field == "url" else f"--{field.replace('_', '-')}"


def _action_command(spec: ActionSpec) -> None:
    """`legato legs <action> LEG_SID [--field VALUE ...]` for one ActionSpec."""

    def act(api: Api, leg_sid: str, **fields: Any) -> None:
        _act(api, leg_sid, {"action": spec.name, **{k: v for k, v in fields.items() if v is not None}})

    parameters = [
        inspect.Parameter("api", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(
            "leg_sid", inspect.Parameter.KEYWORD_ONLY, annotation=str, default=typer.Argument(..., help="The leg.")
        ),
    ]
    for name in sorted(spec.fields):
        required = name in spec.required
        description = LegAction.model_fields[name].description or ""
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_option_type(name),
                default=typer.Option(... if required else None, _flag(name), help=description),
            )
        )
    act.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    act.__annotations__ = {p.name: p.annotation for p in parameters[1:]}
    kind = "call control" if not spec.media else "media, on a connected leg"
    act.__doc__ = f"The {spec.name} action ({kind})."
    account_command(legs_app, spec.name.replace("_", "-"))(act)


for _spec in ACTIONS.values():
    _action_command(_spec)


def list_events(api: Api, leg_sid: str = typer.Argument(..., help="The leg.")) -> None:
    """A leg's events in order, with their delivery status (--output json: every attempt too)."""
    events = api.call("GET", f"{api.base}/legs/{leg_sid}/external-events")["events"]
    if api.output.mode == "json":
        api.output.show(events)
        return
    api.output.show(
        [{**e, "status": e["delivery"]["status"], "attempts": e["delivery"]["attempts"]} for e in events], EVENT_COLUMNS
    )


def redeliver(
    api: Api,
    leg_sid: str = typer.Argument(..., help="The leg."),
    event_sid: str = typer.Argument(..., help="The event to send again."),
) -> None:
    """Send one of a leg's events again (same event_sid)."""
    event = api.call("POST", f"{api.base}/legs/{leg_sid}/external-events/{event_sid}/redeliver")
    api.output.show(
        {k: event[k] for k in ("sequence", "event_sid", "event_name", "endpoint", "delivery")}, title=event_sid
    )


def add_event_commands(events_app: typer.Typer) -> None:
    """`legato events list|redeliver` beside `legato events listen`."""
    account_command(events_app, "list")(list_events)
    account_command(events_app, "redeliver")(redeliver)
