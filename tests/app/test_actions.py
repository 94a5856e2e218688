"""Every leg action in app/actions/registry.py reaches users: it is a value of `action` in the published API
document with its fields, and a `legato legs <action>` command with an option per field."""

from __future__ import annotations

import typer

from legato.api.server import create_app
from legato.app.actions.registry import ACTIONS
from legato.commands.legs import legs_app
from legato.config import Settings


def test_every_action_is_in_the_published_request_schema() -> None:
    schema = create_app(Settings()).openapi()["components"]["schemas"]["LegAction"]
    assert schema["properties"]["action"]["enum"] == list(ACTIONS)
    for spec in ACTIONS.values():
        assert set(spec.fields) <= set(schema["properties"]), spec.name


def test_every_action_is_a_cli_command_with_its_fields() -> None:
    group = typer.main.get_command(legs_app)
    for spec in ACTIONS.values():
        command = group.commands[spec.name.replace("_", "-")]  # type: ignore[attr-defined]
        options = {name for param in command.params for name in param.opts}
        flags = {"--play-url" if name == "url" else f"--{name.replace('_', '-')}" for name in spec.fields}
        assert flags <= options, spec.name

