"""`legato events listen`: receive leg events (webhooks or gRPC) and print them, verifying signatures."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import typer
from rich.console import Console

events_app = typer.Typer(help="Receive and inspect leg events.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _address(value: str | None, option: str) -> tuple[str, int] | None:
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        err.print(f"[red]error[/red] {option} must be host:port")
        raise typer.Exit(2)
    return host.strip("[]"), int(port)


@events_app.command("listen")
def events_listen(
    http: str | None = typer.Option(None, "--http", help="Receive webhooks at host:port (any path)."),
    grpc_at: str | None = typer.Option(None, "--grpc", help="Serve LegEventReceiver at host:port."),
    secret: str | None = typer.Option(None, "--secret", envvar="LEGATO_WEBHOOK_SECRET",
                                      help="The account's whsec_ secret: requests that do not verify are refused."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per event instead of a live view."),
) -> None:
    """Receive leg events and print them as they arrive, verifying their signatures."""
    from legato.events.receiver import Arrival, serve

    http_address, grpc_address = _address(http, "--http"), _address(grpc_at, "--grpc")
    if http_address is None and grpc_address is None:
        err.print("[red]error[/red] give --http host:port, --grpc host:port, or both")
        raise typer.Exit(2)
    if not secret:
        err.print("[yellow]no --secret: signatures are not checked[/yellow]")

    def show(arrival: Arrival) -> None:
        if as_json:
            sys.stdout.write(json.dumps(arrival.as_dict()) + "\n")
            sys.stdout.flush()
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(arrival.received_at))
        if arrival.error is not None or arrival.payload is None:
            console.print(f"{stamp} [red]refused[/red] {arrival.transport} id={arrival.webhook_id} {arrival.error}")
            return
        event, data = arrival.payload, arrival.payload.get("event_data", {}).get("data", {})
        mark = "[green]verified[/green]" if arrival.verified else "[yellow]unverified[/yellow]"
        outcome = data.get("terminal_status") or data.get("answered_by") or ""
        console.print(f"{stamp} {mark} {arrival.transport:4} {data.get('leg_sid')} #{event.get('sequence')} "
                      f"[bold]{event.get('event_name')}[/bold] {data.get('state')} {outcome}", soft_wrap=True)

    def ready() -> None:
        where = " and ".join(f"{kind} {a[0]}:{a[1]}" for kind, a in (("http", http_address), ("grpc", grpc_address))
                             if a is not None)
        err.print(f"listening on {where}")

    try:
        asyncio.run(serve(show, http=http_address, grpc_at=grpc_address, secret=secret, ready=ready))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
