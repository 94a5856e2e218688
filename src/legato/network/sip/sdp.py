"""SDP offers and answers for G.711 audio with RFC 4733 events, and reading the far end's media line.

The address and port are the media engine's allocation for the leg (media/base.py `Allocation`);
`remote_media` reads where the far end wants our audio and in which codec, for `set_remote`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from legato.media.base import RemoteMedia

CODECS: dict[int, str] = {0: "PCMU/8000", 8: "PCMA/8000"}
TELEPHONE_EVENT = 101

OfferFactory = Callable[[str, int], str]
"""`offer(host, rtp_port) -> sdp text`."""

AnswerFactory = Callable[[str, str, int], str]
"""`answer(remote_sdp, host, rtp_port) -> sdp text`."""

_session_ids = itertools.count(1)


def _render(host: str, port: int, payloads: list[int], events: int | None) -> str:
    session = next(_session_ids)
    formats = [*payloads, *([events] if events is not None else [])]
    lines = ["v=0", f"o=legato {session} {session} IN IP4 {host}", "s=legato", f"c=IN IP4 {host}", "t=0 0",
             f"m=audio {port} RTP/AVP {' '.join(str(p) for p in formats)}"]
    lines += [f"a=rtpmap:{p} {CODECS[p]}" for p in payloads]
    if events is not None:
        lines += [f"a=rtpmap:{events} telephone-event/8000", f"a=fmtp:{events} 0-16"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def g711_offer(host: str, port: int) -> str:
    """An offer of PCMU (0), PCMA (8) and telephone-event (101) at host:port."""
    return _render(host, port, list(CODECS), TELEPHONE_EVENT)


def g711_answer(remote_sdp: str, host: str, port: int) -> str:
    """An answer keeping the offered G.711 codecs (in the offer's order) and telephone-event if offered, on
    the offer's payload type (RFC 3264 §6.1: the media engine sends and expects events on that one)."""
    media = re.search(r"^m=audio \d+ \S+ ([\d ]+)", remote_sdp, re.MULTILINE)
    offered = [int(p) for p in media.group(1).split()] if media else list(CODECS)
    payloads = [p for p in offered if p in CODECS] or list(CODECS)
    events = re.search(r"^a=rtpmap:(\d+) telephone-event/8000", remote_sdp, re.MULTILINE | re.IGNORECASE)
    te_pt = int(events.group(1)) if events and int(events.group(1)) in offered else None
    return _render(host, port, payloads, te_pt)


def remote_media(sdp: str) -> RemoteMedia | None:
    """The audio stream of an SDP body, or None when it has no usable G.711 audio line."""
    text = sdp.replace("\r\n", "\n")
    session, _, media_part = text.partition("\nm=audio ")
    if not media_part:
        return None
    m_line, _, attributes = media_part.partition("\n")
    fields = m_line.split()
    if len(fields) < 3 or not fields[0].isdigit():
        return None
    port = int(fields[0])
    formats = [int(f) for f in fields[2:] if f.isdigit()]
    payload = next((f for f in formats if f in CODECS), None)
    if payload is None or not 0 < port < 65536:
        return None
    attributes = attributes.split("\nm=", 1)[0]  # this media section only
    address = _connection(attributes) or _connection(session)
    if address is None:
        return None
    events = re.search(r"^a=rtpmap:(\d+) telephone-event/8000", attributes, re.MULTILINE | re.IGNORECASE)
    te_pt = int(events.group(1)) if events and int(events.group(1)) in formats else None
    return RemoteMedia(address, port, payload, te_pt)


def _connection(text: str) -> str | None:
    found = re.search(r"^c=IN IP[46] (\S+)", text, re.MULTILINE)
    return found.group(1).split("/", 1)[0] if found else None


_MIRRORED = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def reanswer(offer: str, ours: str) -> str:
    """Our answer to a far end's new offer (a re-INVITE: hold, unhold, a moved media address) on an
    established call: our address and port as in `ours` (our SDP in force), the offer's G.711 codecs,
    its direction mirrored (sendonly -> recvonly, inactive -> inactive), and `ours`'s origin line with
    the version one higher (RFC 3264 §8)."""
    host_port = re.search(r"^m=audio (\d+) ", ours, re.MULTILINE)
    address = _connection(ours.replace("\r\n", "\n")) or "0.0.0.0"
    answer = g711_answer(offer, address, int(host_port.group(1)) if host_port else 9)
    direction = re.search(r"^a=(sendonly|recvonly|inactive)\s*$", offer, re.MULTILINE)
    if direction:
        answer = answer.replace("a=sendrecv", f"a={_MIRRORED[direction.group(1)]}")
    origin = re.search(r"^o=(\S+) (\S+) (\d+) (.*?)\r?$", ours, re.MULTILINE)
    if origin:
        user, session, version, rest = origin.groups()
        answer = re.sub(r"^o=.*$", f"o={user} {session} {int(version) + 1} {rest}", answer, count=1,
                        flags=re.MULTILINE)
    return answer
