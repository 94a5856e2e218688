"""Requests sippy cannot take, found before it tries: a `400 Bad Request - <why>` instead of silence.

sippy drops a request it cannot parse (a missing Call-ID, From, To or CSeq, a CSeq that is not a number,
a body shorter than its Content-Length) after logging a traceback, without answering, so the far end
retransmits for 32 s and never learns why. `defect` finds those cases with one pass over the header
lines; `bad_request` builds the 400 from whatever headers there are (RFC 3261 §8.2.6: Via, From, To,
Call-ID and CSeq copied), or nothing when there is no Via to answer along.
"""

from __future__ import annotations

import re
import secrets

REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length"}
_CSEQ = re.compile(r"^\d{1,10}\s+[A-Za-z]+$")


def _parts(text: str) -> tuple[list[str], str]:
    """The header lines (request line first, folded lines joined) and the body."""
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head, _, body = text.partition("\n\n")
    lines: list[str] = []
    for line in head.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines, body


def _headers(lines: list[str]) -> dict[str, str]:
    """Each header's first value by lower-case full name."""
    found: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            found.setdefault(COMPACT.get(key, key), value.strip())
    return found


def defect(text: str) -> str | None:
    """Why a SIP request cannot be taken (`Missing Call-ID`, `Bad CSeq`, `Bad Content-Length`), or None."""
    lines, body = _parts(text)
    headers = _headers(lines)
    for name in REQUIRED:
        if name.lower() not in headers:
            return f"Missing {name}"
    if not _CSEQ.match(headers["cseq"]):
        return "Bad CSeq"
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > len(body.encode())):
        return "Bad Content-Length"
    return None


def bad_request(text: str, why: str) -> str | None:
    """A `400 Bad Request - <why>` answering `text`, or None when it has no Via (nowhere to answer)."""
    lines, _ = _parts(text)
    kept: list[str] = []
    for line in lines[1:]:
        name = line.partition(":")[0].strip().lower()
        name = COMPACT.get(name, name)
        if name == "to" and ";tag=" not in line.lower():
            line += f";tag={secrets.token_hex(6)}"
        if name in ("via", "from", "to", "call-id", "cseq"):
            kept.append(line)
    if not any(line.partition(":")[0].strip().lower() in ("via", "v") for line in kept):
        return None
    return "\r\n".join([f"SIP/2.0 400 Bad Request - {why}", *kept, "Content-Length: 0", "", ""])
