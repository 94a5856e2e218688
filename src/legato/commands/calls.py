"""`legato bridges ...` and `legato calls ...`: bridges, calls and the call log over the HTTP API."""

from __future__ import annotations

from typing import Any

import typer

from legato.commands.client import Api, account_command

bridges_app = typer.Typer(help="Bridge live legs, read and stop bridges (HTTP API).", no_args_is_help=True)
calls_app = typer.Typer(help="Read calls (a call_sid and its legs) and the call log (HTTP API).", no_args_is_help=True)
LOG_COLUMNS = ("id", "sessionId", "startTime", "duration", "direction", "result", "from", "to")


@account_command(bridges_app, "create")
def create_bridge(
    api: Api,
    leg_sids: list[str] = typer.Argument(..., help="Two or more connected legs."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="bridge_event_endpoint."),
    end_on_exit: bool = typer.Option(True, help="When one leg leaves, hang up the others."),
) -> None:
    """Bridge live, co-located legs."""
    body: dict[str, Any] = {"leg_sids": leg_sids, "end_on_exit": end_on_exit}
    if endpoint is not None:
        body["bridge_event_endpoint"] = endpoint
    api.output.show(api.call("POST", f"{api.base}/bridges", json=body), title="bridge")


@account_command(bridges_app, "show")
def show_bridge(api: Api, bridge_sid: str = typer.Argument(..., help="The bridge.")) -> None:
    """Show one bridge."""
    api.output.show(api.call("GET", f"{api.base}/bridges/{bridge_sid}"), title=bridge_sid)


@account_command(bridges_app, "stop")
def stop_bridge(api: Api, bridge_sid: str = typer.Argument(..., help="The bridge.")) -> None:
    """Stop a bridge (its legs stay up unless end_on_exit says otherwise)."""
    api.output.show(
        api.call("POST", f"{api.base}/bridges/{bridge_sid}/actions", json={"action": "stop"}), title=bridge_sid
    )


@account_command(bridges_app, "events")
def bridge_events(api: Api, bridge_sid: str = typer.Argument(..., help="The bridge.")) -> None:
    """A bridge's events in order, with their delivery status."""
    events = api.call("GET", f"{api.base}/bridges/{bridge_sid}/external-events")["events"]
    rows = (
        events
        if api.output.mode == "json"
        else [{**e, "status": e["delivery"]["status"], "attempts": e["delivery"]["attempts"]} for e in events]
    )
    api.output.show(rows, ("sequence", "event_sid", "event_name", "status", "attempts", "endpoint"))


@account_command(calls_app, "show")
def show_call(
    api: Api,
    call_sid: str = typer.Argument(..., help="The call."),
    format: str = typer.Option("exotel", "--format", help="exotel, messagebird, telefonie, ringcentral"),
) -> None:
    """Show a call and its legs."""
    path = f"{api.base}/calls/{call_sid}"
    if format == "exotel":
        api.output.show(api.call("GET", path), title=call_sid)
        return
    api.output.show(api.bare("GET", path, params={"format": format}), title=call_sid)


@account_command(calls_app, "log")
def call_log(
    api: Api,
    view: str = typer.Option("Simple", help="Simple or Detailed (with legs)."),
    date_from: str | None = typer.Option(None, help="ISO 8601, inclusive."),
    date_to: str | None = typer.Option(None, help="ISO 8601, exclusive."),
    result: str | None = typer.Option(None, help="e.g. Accepted, Busy."),
    direction: str | None = typer.Option(None, help="Inbound or Outbound."),
    page: int = typer.Option(1),
    per_page: int = typer.Option(100),
) -> None:
    """The call log (RingCentral CallLogResponse records)."""
    params = {
        "view": view,
        "date_from": date_from,
        "date_to": date_to,
        "result": result,
        "direction": direction,
        "page": page,
        "perPage": per_page,
    }
    body = api.bare("GET", f"{api.base}/call-log", params={k: v for k, v in params.items() if v is not None})
    if api.output.mode == "json":
        api.output.show(body)
        return
    rows = [
        {**r, "from": (r.get("from") or {}).get("phoneNumber"), "to": (r.get("to") or {}).get("phoneNumber")}
        for r in body.get("records", [])
    ]
    api.output.show(rows, LOG_COLUMNS)
