"""The `legato` command: serve, and a client of the HTTP API (commands/) with profiles; a few commands work on
the database directly, to bootstrap (store_cli.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape

from legato import __version__
from legato.commands.accounts import accounts_app, rates_app
from legato.commands.calls import bridges_app, calls_app
from legato.commands.conferences import conferences_app
from legato.commands.legs import add_event_commands, legs_app
from legato.commands.login import login, profiles_list
from legato.listen import events_app
from legato.store_cli import admin_app, check_store, settings_from, store_errors

app = typer.Typer(help="Legato: self-hosted programmable voice. Exit codes: 0 done, 1 the server refused, 2 bad "
                  "usage or a local problem, 3 the server cannot be reached or is not Legato.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(accounts_app, name="accounts")
app.add_typer(legs_app, name="legs")
app.add_typer(bridges_app, name="bridges")
app.add_typer(calls_app, name="calls")
app.add_typer(events_app, name="events")
app.add_typer(rates_app, name="rates")
app.add_typer(admin_app, name="admin")
add_event_commands(events_app)
app.command("login")(login)
app.command("profiles")(profiles_list)
app.add_typer(conferences_app, name="conferences")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width


def _version(value: bool) -> None:
    if value:
        print(f"legato {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Legato: self-hosted programmable voice."""


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
        _print_invalid(exc)
        raise typer.Exit(2) from None
    configure_logging(settings.log_format)
    if settings.workers > 1:
        from legato.cluster.workers import run_workers

        check_store(settings)  # once here, not in every worker it would restart: a missing key stops here
        raise typer.Exit(run_workers(settings))
    with store_errors():  # the store opens once, as the server starts: a missing or wrong key stops it, saying why
        serve_api(create_app(settings), settings.host, settings.port,
                  http=with_header_timeout(settings.header_timeout), reuse_port=settings.reuse_port)


def _print_invalid(exc: ValidationError) -> None:
    """One line per invalid setting: its name and the rule (never its value: a database URL has a password)."""
    for problem in exc.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        err.print(f"[red]error[/red] {escape(where + ': ' if where else '')}{escape(message)}")


def _trunk_limit(spec: str) -> tuple[str, int]:
    """`AC1:sandbox=5` -> ("AC1:sandbox", 5)."""
    key, _, value = spec.rpartition("=")
    if ":" not in key or not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"--trunk-cps {spec!r} must be ACCOUNT_SID:TRUNK=N with N >= 1")
    return key.strip(), int(value)


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


# click's UsageError, as the typer in use has it (its own copy of click in recent versions, click before)
USAGE_ERROR = next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "UsageError")


def main() -> None:
    """The `legato` entry point: user errors end with a message and an exit code, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click's own handling would draw usage errors in a six-line box
    except USAGE_ERROR as exc:  # bad usage: one line, exit status 2
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        if exc.format_message():  # none: the help was shown instead (a group run without a command)
            print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except ValidationError as exc:  # the settings, read by a command that opens the database
        _print_invalid(exc)
        sys.exit(2)
    except SettingsError as exc:  # a LEGATO_* variable that is not the JSON its setting needs
        field = re.search(r'field "([^"]+)"', str(exc))
        name = field.group(1) if field else "a setting"
        print(f"error {name}: LEGATO_{name.upper()} must be JSON (a list or an object, see README's "
              "Configuration)", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # a bug or an unforeseen local problem: say what, without a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
