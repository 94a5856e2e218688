"""SIP network configuration: the `[sip]` table of a TOML file, as pydantic models, and a checker.

```toml
[sip]
listen_host = "0.0.0.0"
listen_port = 5060
public_host = "203.0.113.7"        # Contact and SDP address (default: listen_host)
rtp_port_min = 20000
rtp_port_max = 20999
default_trunk = "carrier"
inbound_networks = ["198.51.100.0/24"]  # may start calls, with the trunks' proxy addresses

[[sip.trunks]]
name = "carrier"
proxy = "sip:sip.carrier.example:5060"
username = "legato"
password = "secret"
number_format = "national"         # "e164" (+919163816621) or "national" (09163816621)
caller_id = "exophone"             # "exophone": the leg's caller id; or a fixed number

[[sip.exophones]]
number = "+919163816621"           # or a SIP URI, e.g. "sip:support@legato.example"
account_sid = "acct_demo"
trunk = "carrier"
```
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from legato.domain.errors import ValidationFailed
from legato.domain.numbers import Address, canonical, parse_address, parse_sip_uri

SECTION = "sip"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trunk(_Model):
    """A carrier's SIP trunk: where numbers are sent and how they are written."""

    name: str = Field(min_length=1)
    proxy: str
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    number_format: Literal["e164", "national"] = "e164"
    caller_id: str = "exophone"

    @field_validator("proxy")
    @classmethod
    def _proxy_is_sip_uri(cls, value: str) -> str:
        _parse(parse_sip_uri, value, "proxy")
        return value

    @field_validator("caller_id")
    @classmethod
    def _caller_id_rule(cls, value: str) -> str:
        if value != "exophone":
            _parse(parse_address, value, "caller_id")
        return value

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> Trunk:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (digest auth needs both)")
        return self

    @property
    def proxy_address(self) -> Address:
        """The proxy URI, parsed."""
        return parse_sip_uri(self.proxy, "proxy")


def _network(value: Any) -> Any:
    """An address or a CIDR network, strictly (`10.1.2.3/8` is a mistake: host bits set)."""
    try:
        return ipaddress.ip_network(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not an address or network: {exc}") from None


InboundNetwork = Annotated[IPvAnyNetwork, BeforeValidator(_network)]


class Exophone(_Model):
    """A number or SIP URI owned by an account: inbound routing, and the trunk its outbound calls use."""

    number: str
    account_sid: str = Field(min_length=1)
    trunk: str | None = None

    @field_validator("number")
    @classmethod
    def _number_is_address(cls, value: str) -> str:
        return _parse(parse_address, value, "number").canonical


class SipConfig(_Model):
    """Everything the SIP network needs to run."""

    listen_host: str = "0.0.0.0"
    listen_port: int = Field(default=5060, ge=1, le=65535)
    public_host: str | None = None
    public_port: int | None = Field(default=None, ge=1, le=65535)
    rtp_port_min: int = Field(default=20000, ge=1024, le=65534)
    rtp_port_max: int = Field(default=20999, ge=1025, le=65535)
    no_reply_timeout: float | None = Field(default=None, gt=0, lt=32)
    """Seconds without any answer to an INVITE before the leg ends 408 (None: SIP timer B, 32 s)."""
    default_trunk: str | None = None
    trunks: list[Trunk] = Field(default_factory=list)
    exophones: list[Exophone] = Field(default_factory=list)
    inbound_networks: list[InboundNetwork] = Field(default_factory=list)
    """Addresses or networks (CIDR) that may start calls, besides the trunks' proxies; others get 403."""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SipConfig:
        if not (info.context or {}).get("skip_cross"):  # check_config_file reports them with their lines
            for _loc, message in cross_problems(self):
                raise ValueError(message)
        return self

    @property
    def contact_host(self) -> str:
        """The address put in Contact and SDP."""
        if self.public_host:
            return self.public_host
        return "127.0.0.1" if self.listen_host in ("0.0.0.0", "") else self.listen_host

    @property
    def contact_port(self) -> int:
        return self.public_port or self.listen_port

    def trunk(self, name: str) -> Trunk | None:
        """The trunk called `name`, if any."""
        return next((t for t in self.trunks if t.name == name), None)

    def exophone(self, number: str) -> Exophone | None:
        """The exophone `number` names, compared in canonical form (E.164; national numbers read as Indian)."""
        wanted = canonical(number)
        return next((e for e in self.exophones if e.number == wanted), None)


def _parse(parser: Any, value: str, field: str) -> Address:
    try:
        return parser(value, field)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from None


def cross_problems(config: SipConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules that span fields: (location, message) pairs, empty when the config is consistent."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if config.rtp_port_min >= config.rtp_port_max:
        problems.append((("rtp_port_min",), "rtp_port_min must be below rtp_port_max"))
    names = [t.name for t in config.trunks]
    for index, name in enumerate(names):
        if names.index(name) != index:
            problems.append((("trunks", index, "name"), f"trunk name {name!r} is used twice"))
    if config.default_trunk is not None and config.default_trunk not in names:
        problems.append((("default_trunk",), f"default_trunk {config.default_trunk!r} is not a trunk's name"))
    numbers = [e.number for e in config.exophones]
    for index, exophone in enumerate(config.exophones):
        if numbers.index(exophone.number) != index:
            problems.append((("exophones", index, "number"), f"exophone {exophone.number} is listed twice"))
        if exophone.trunk is not None and exophone.trunk not in names:
            problems.append((("exophones", index, "trunk"), f"no trunk named {exophone.trunk!r}"))
    return problems


def load_config(path: str | Path) -> SipConfig:
    """Read the `[sip]` table of a TOML file; raises ValueError (with the problems listed) when invalid."""
    problems = check_config_file(path)
    if problems:
        raise ValueError(f"{path}: invalid SIP configuration:\n  " + "\n  ".join(problems))
    with open(path, "rb") as handle:
        return SipConfig.model_validate(tomllib.load(handle).get(SECTION, {}))


def parse_config(data: dict[str, Any]) -> SipConfig:
    """Build a SipConfig from an already-parsed `[sip]` table (e.g. from tests or CLI flags)."""
    return SipConfig.model_validate(data)


def check_config_file(path: str | Path) -> list[str]:
    """Validate a config file; return human-readable problems (`FILE:LINE: message`), empty when fine."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [f"{path}: cannot read: {exc.strerror or exc}"]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"{path}:{match.group(1)}" if match else str(path)
        return [f"{where}: TOML syntax: {str(exc).split(' (at line')[0]}"]
    section = data.get(SECTION)
    if section is None:
        return [f"{path}: no [{SECTION}] table"]
    if not isinstance(section, dict):
        return [f"{path}: [{SECTION}] must be a table"]
    lines = _KeyLines(text)
    problems: list[str] = []
    try:
        config = SipConfig.model_validate(section, context={"skip_cross": True})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{lines.line_of((SECTION, *loc))}: {_dotted(loc)}: {message}")
        return problems
    for loc, message in cross_problems(config):
        problems.append(f"{path}:{lines.line_of((SECTION, *loc))}: {_dotted(loc)}: {message}")
    return problems


def _dotted(loc: tuple[Any, ...]) -> str:
    text = SECTION
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


class _KeyLines:
    """Maps TOML paths (table names, array-of-table indexes, keys) to the line that defines them."""

    def __init__(self, text: str) -> None:
        self.where: dict[tuple[str | int, ...], int] = {}
        counters: dict[tuple[str, ...], int] = {}
        table: tuple[str | int, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                names = tuple(part.strip().strip("\"'") for part in header.group(2).split("."))
                if header.group(1) == "[[":
                    index = counters.get(names, -1) + 1
                    counters[names] = index
                    table = (*names, index)
                else:
                    table = names
                self.where.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.where.setdefault((*table, key.group(1).strip('"')), number)

    def line_of(self, loc: tuple[Any, ...]) -> int:
        """The line of the longest known prefix of `loc` (1 when nothing matches)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.where:
                return self.where[loc[:end]]
        return 1
