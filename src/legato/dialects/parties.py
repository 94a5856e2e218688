"""The two parties of a leg as providers name them: who called (`from`) and who was called (`to`)."""

from __future__ import annotations

from dataclasses import dataclass

from legato.domain.errors import ValidationFailed
from legato.domain.leg import Direction, Leg
from legato.domain.numbers import parse_address, parse_number


@dataclass(frozen=True, slots=True)
class Party:
    """One end of a leg: the value Legato holds, its E.164 form if it has one, its SIP URI if it is one."""

    raw: str
    e164: str | None
    sip_uri: str | None

    @property
    def canonical(self) -> str:
        """E.164 when known, else the SIP URI, else the raw value."""
        return self.e164 or self.sip_uri or self.raw


def party(raw: str, e164: str | None = None) -> Party:
    """Describe a number or SIP URI; a SIP URI whose user part is a phone number also gets its E.164."""
    is_sip = raw.lower().startswith(("sip:", "sips:"))
    if e164 is None:
        try:
            address = parse_address(raw, "party")
            e164 = address.e164
            if address.kind == "sip" and address.user:
                e164 = parse_number(address.user.split(";", 1)[0], "party").e164
        except ValidationFailed:
            pass
    return Party(raw=raw, e164=e164, sip_uri=raw if is_sip else None)


def parties(leg: Leg) -> tuple[Party, Party]:
    """(from, to): outbound legs call the contact from the exophone; inbound legs the reverse."""
    contact = party(leg.contact_uri, leg.contact_e164)
    exophone = party(leg.exophone)
    if leg.direction is Direction.OUTBOUND:
        return exophone, contact
    return contact, exophone
