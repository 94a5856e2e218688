"""The leg: its fields, its states, and the one table of allowed state transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypedDict

from legato.domain.errors import Conflict


class LegState(StrEnum):
    CREATED = "created"
    ENQUEUED = "enqueued"
    CONNECTING = "connecting"
    RINGING = "ringing"
    CONNECTED = "connected"
    TERMINAL = "terminal"


class TerminalStatus(StrEnum):
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class AnsweredBy(StrEnum):
    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    BEEP = "BEEP"


class HangupSource(StrEnum):
    PLATFORM = "platform"
    CALLEE = "callee"
    CALLER = "caller"


S = LegState
TRANSITIONS: dict[LegState, frozenset[LegState]] = {
    S.CREATED: frozenset({S.ENQUEUED, S.CONNECTING, S.RINGING, S.TERMINAL}),
    S.ENQUEUED: frozenset({S.CONNECTING, S.TERMINAL}),
    S.CONNECTING: frozenset({S.RINGING, S.CONNECTED, S.TERMINAL}),
    S.RINGING: frozenset({S.CONNECTED, S.TERMINAL}),
    S.CONNECTED: frozenset({S.TERMINAL}),
    S.TERMINAL: frozenset(),
}
EXOPHONE_CANONICAL_KEY: Final = "exophone_canonical"  # leg.extra: the exophone in E.164, read in the account's region
FLOW_KEY: Final = "flow"  # leg.extra: the leg's call flow (flow_url and its options, status callbacks)
FLOW_PARENT_KEY: Final = "flow_parent"  # leg.extra: the leg whose <Dial> placed this one
LIVE_STATES = frozenset(s for s in LegState if s is not S.TERMINAL)


class LegExtra(TypedDict, total=False):
    """What a leg carries beyond its columns (stored as its JSON `extra`); every key is optional."""

    event_format: str  # the dialect of its events (absent: exotel)
    amd_params: dict[str, Any]  # AMD overrides: the account's, then the leg's
    amd: dict[str, object]  # the detector's figures for the verdict in answered_by
    rtcp: dict[str, object]  # receiver figures (loss, jitter) of its audio, once the media was released
    recording_url: str  # its latest recording
    bridge_sid: str  # the bridge it is in
    early_media: bool  # it rang with early media (183 with SDP)
    answer_sdp: str  # the far end's SDP answer
    price: str  # its cost, a positive decimal string (domain/prices.py)
    price_unit: str  # ISO 4217 currency of price
    exophone_canonical: str  # its exophone in E.164 (or the URI), read in the account's region (EXOPHONE_CANONICAL_KEY)
    hangup_failed: str  # why its BYE/CANCEL could not be sent (HANGUP_FAILED_KEY, domain/inputs.py)
    hanging_up: dict[str, Any]  # the end it reports once the network sends its BYE/CANCEL (HANGING_UP_KEY)
    transfer: dict[str, Any]  # its transfer in progress (TRANSFER_KEY, domain/transfer.py)
    transferred_from: str  # the leg whose attended transfer dialled this one (TRANSFERRED_FROM_KEY)
    flow: dict[str, Any]  # its call flow (FLOW_KEY): url, method, fallback_url, status_callback... (flows/)
    flow_parent: str  # the leg whose flow dialled it (<Dial>), FLOW_PARENT_KEY
    sandbox_speech: str  # what the sandbox's simulated far end says into a speech gather or a recording


@dataclass(slots=True)
class Leg:
    """One call leg. Only `move_to` changes `state`."""

    leg_sid: str
    account_sid: str
    call_sid: str
    direction: Direction
    contact_uri: str
    contact_e164: str | None
    exophone: str
    network_type: str
    leg_event_endpoint: str | None
    date_created: datetime
    custom_param: str | None = None
    time_limit: int = 14400
    timeout: int = 30
    setup_timeout: int = 30
    ring_timeout: int = 30
    dc_code: str | None = None
    nso_code: str | None = None
    reference_leg_sid: str | None = None
    amd_enable: bool = False
    async_amd: bool = False
    priority: str = "normal"
    state: LegState = LegState.CREATED
    terminal_status: TerminalStatus | None = None
    hangup_cause_code: int | None = None
    hangup_cause: str | None = None
    hangup_source: HangupSource | None = None
    answered_by: AnsweredBy | None = None
    date_updated: datetime | None = None
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    sip_response_code: int | None = None
    sip_reason: str | None = None
    event_sequence: int = 0
    node: str | None = None  # the node that owns the leg while it is live (its last writer once ended)
    extra: LegExtra = field(default_factory=lambda: LegExtra())

    def __post_init__(self) -> None:
        if self.date_updated is None:
            self.date_updated = self.date_created

    @property
    def is_terminal(self) -> bool:
        return self.state is LegState.TERMINAL

    @property
    def caller_id(self) -> str:
        """The caller id presented: the exophone's national significant digits, or its SIP user."""
        raw = self.exophone
        if raw.lower().startswith(("sip:", "sips:")):
            return raw.split(":", 1)[1].split("@", 1)[0]
        digits = "".join(ch for ch in raw if ch.isdigit())
        return digits.lstrip("0") if not raw.startswith("+") else digits

    @property
    def caller_id_canonical(self) -> str:
        """The exophone in canonical form (E.164 or the URI), as checked against the account at create."""
        return str(self.extra.get(EXOPHONE_CANONICAL_KEY) or self.exophone)

    def duration_ms(self) -> int:
        """Milliseconds from answer to end (or 0 when never answered or still up)."""
        if self.answer_time is None or self.end_time is None:
            return 0
        return max(0, int((self.end_time - self.answer_time).total_seconds() * 1000))

    def duration(self) -> int:
        """Whole seconds from answer to end, rounded to the nearest second (0 when never answered)."""
        return (self.duration_ms() + 500) // 1000

    def move_to(self, target: LegState, now: datetime) -> None:
        """Change state if the transition table allows it; raise Conflict otherwise."""
        if target not in TRANSITIONS[self.state]:
            raise Conflict(f"leg cannot go from {self.state} to {target}", field="state")
        self.state = target
        self.date_updated = now
