"""What a leg action declares, once, in its own module: its request fields and their rules, and what it does.

A media action builds a typed network command (network/base.py `MediaCommand`: `run` in the media engine,
`simulate` on the sandbox); a call-control action acts on the leg itself. Every action is one line in
registry.py; the request model (app/leg_requests.py `LegAction`), the CLI and the OpenAPI enum follow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from legato.app.prompts import PromptSources
from legato.app.streams import Streams
from legato.domain.account import Account
from legato.domain.leg import Leg
from legato.engine.switchboard import Switchboard
from legato.events.endpoints import EndpointPolicy
from legato.network.base import MediaCommand

Request = Any
"""The action's request (a `LegAction`, made from every ActionSpec's fields): fields it does not take are None."""

FieldDecl = tuple[Any, FieldInfo]
"""One request field: its type (None allowed: every field is optional in the body) and its pydantic Field."""

URL: FieldDecl = (str | None, Field(
    None, min_length=1, max_length=2048, description="play: a WAV file under a folder the operator allowed, or an "
    "http(s) URL under an allowed prefix; redirect: the call flow to run now; start_stream: the wss:// URL"))
"""`url`, shared by play, redirect and start_stream."""


class Services(Protocol):
    """What actions act through (app/legs.py `LegService`)."""

    prompts: PromptSources
    streams: Streams
    switchboard: Switchboard
    endpoints: EndpointPolicy
    transfer: Callable[[Account, Leg, Request], Awaitable[Leg]] | None  # app/transfers.py


@dataclass(frozen=True, slots=True)
class ActionContext:
    """The leg an action is on, whose account asked, and the services it may use."""

    account: Account
    leg: Leg
    services: Services


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One leg action: its name, the request fields it takes (besides `action`) and what it does.

    Exactly one of `command` (media, on a connected leg: the network command for a request) and `control`
    (call control: acts on the leg, returns it once the change is durable)."""

    name: str
    fields: Mapping[str, FieldDecl] = field(default_factory=dict)
    required: tuple[str, ...] = ()  # fields it cannot do without (400 naming the first missing)
    command: Callable[[Request, ActionContext], Awaitable[MediaCommand]] | None = None
    control: Callable[[Request, ActionContext], Awaitable[Leg]] | None = None
    check: Callable[[Request], None] | None = None  # further 400s naming a field, after the common checks

    @property
    def media(self) -> bool:
        """On a connected leg's audio (else call control)."""
        return self.command is not None


def request_model(name: str, doc: str, actions: Iterable[ActionSpec], order: Sequence[str]) -> type[BaseModel]:
    """The request body model of these actions: `action` (one of their names), then every field they declare,
    in `order` (fields not in it after, as declared). A field two actions take is one shared declaration."""
    actions = list(actions)
    fields: dict[str, FieldDecl] = {}
    for spec in actions:
        for key, decl in spec.fields.items():
            if fields.setdefault(key, decl) is not decl:
                raise ValueError(f"{spec.name} declares {key} again; two actions share one declaration")
    rank = {key: index for index, key in enumerate(order)}
    ordered = sorted(fields, key=lambda key: rank.get(key, len(rank)))
    action: FieldDecl = (Literal[tuple(spec.name for spec in actions)], ...)  # type: ignore[misc]
    return create_model(name, __doc__=doc, __config__=ConfigDict(extra="forbid", strict=True),  # type: ignore[call-overload, no-any-return]
                        action=action, **{key: fields[key] for key in ordered})
