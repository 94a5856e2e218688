"""Hangup causes: Q.850 codes, their names, and the SIP <-> Q.850 mapping (RFC 3398 as vendors tabulate it)."""

from __future__ import annotations

import re

NORMAL_CLEARING = 16
USER_BUSY = 17
NO_USER_RESPONDING = 18
NO_ANSWER = 19
CALL_REJECTED = 21
UNALLOCATED_NUMBER = 1
NETWORK_OUT_OF_ORDER = 38
NO_CIRCUIT_AVAILABLE = 34
TEMPORARY_FAILURE = 41
SWITCH_CONGESTION = 42
RECOVERY_ON_TIMER_EXPIRY = 102
INTERWORKING = 127

Q850_NAMES: dict[int, str] = {
    1: "unallocated_number",
    3: "no_route_to_destination",
    16: "normal_clearing",
    17: "user_busy",
    18: "no_user_responding",
    19: "no_answer",
    20: "subscriber_absent",
    21: "call_rejected",
    22: "number_changed",
    27: "destination_out_of_order",
    28: "invalid_number_format",
    31: "normal_unspecified",
    34: "no_circuit_available",
    38: "network_out_of_order",
    41: "temporary_failure",
    42: "switch_congestion",
    47: "resource_unavailable",
    58: "bearer_capability_not_available",
    65: "bearer_capability_not_implemented",
    88: "incompatible_destination",
    102: "recovery_on_timer_expiry",
    111: "protocol_error",
    127: "interworking",
}

# SIP final response -> Q.850 (RFC 3398 section 8.2.6.1, with the vendor rows in shared/notes/sip-peers.md).
SIP_TO_Q850: dict[int, int] = {
    400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
    413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127, 480: 18, 481: 41,
    482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 488: 65, 500: 41, 501: 79, 502: 38, 503: 41,
    504: 102, 505: 127, 513: 127, 600: 17, 603: 21, 604: 1, 606: 58,
}

_REASON_Q850 = re.compile(r"Q\.850\s*;\s*cause\s*=\s*(\d+)", re.IGNORECASE)


def q850_name(code: int | None) -> str | None:
    """The snake_case name of a Q.850 cause, or None for no code."""
    if code is None:
        return None
    return Q850_NAMES.get(code, f"cause_{code}")


def q850_from_sip(status: int, reason_header: str | None = None) -> int:
    """Q.850 cause for a SIP final response; a `Reason: Q.850;cause=N` header wins when present."""
    if reason_header:
        match = _REASON_Q850.search(reason_header)
        if match:
            return int(match.group(1))
    if status == 487:
        return NORMAL_CLEARING
    if status in SIP_TO_Q850:
        return SIP_TO_Q850[status]
    return {4: 21, 5: 41, 6: 17}.get(status // 100, 31)


def terminal_status_from_sip(status: int) -> str:
    """The leg's terminal_status for a SIP final failure response."""
    if status in (486, 600, 603):
        return "busy"
    if status in (408, 480, 487):
        return "no-answer"
    return "failed"
