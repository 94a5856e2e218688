"""sippy's transaction manager, adjusted at the one place every SIP datagram passes.

- Datagrams to numeric IPv4 addresses are sent from the sippy thread, not through a sender thread
  (fastpaths.py).
- One socket reader: sippy reads with three threads by default, so two datagrams of one call sent
  back to back (a 180 then a 200) could be handled in either order. One reader keeps arrival order.
  The port is checked with an exclusive bind first: a second process cannot share it.
- Transport names are case-insensitive (RFC 3261 §19.1.1): a far end whose Contact or Record-Route
  says `;transport=UDP` must still get our BYE, which sippy refuses for anything but `udp`.
- New INVITEs from sources the operator did not list are refused before any transaction or dialog
  exists (see gate.py): a 403 at a bounded rate per source, then silence.
- A request sippy cannot parse (no Call-ID, From, To or CSeq, a bad CSeq or Content-Length) gets a
  400 saying why (malformed.py) instead of being dropped unanswered.
- A message with a NUL character (which PostgreSQL cannot store) is refused whole: a request gets a
  400 naming the header, a response is dropped. `%00` in a URI is caught after parsing (agent.py).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from sippy.SipRequest import SipRequest
from sippy.SipTransactionManager import SipTransactionManager
from sippy.Udp_server import Udp_server_opts

from legato.network.sip.fastpaths import DirectUdpServer
from legato.network.sip.gate import SourceGate
from legato.network.sip.malformed import bad_request, defect

log = logging.getLogger(__name__)


class OneReaderOpts(Udp_server_opts):
    """Socket options with a single reader (and sender) thread: datagrams are handled in arrival order.

    SO_REUSEADDR stays (sippy binds per-address sockets beside a wildcard one on the same port), but
    the exclusive dry-run bind sippy makes first now really is exclusive: stock sippy loses its `flags`
    when it copies the options, so a second process (another `legato serve`) could bind the same SIP
    port and silently take part of this one's traffic."""

    nworkers = 1
    flags = socket.SO_REUSEADDR

    def __init__(self, *args: Any, family: Any = None, o: Any = None) -> None:
        super().__init__(*args, family=family, o=o)
        if o is not None:
            self.flags = o.flags


def normal_transport(transport: Any) -> Any:
    """`UDP`, `Udp`... as sippy's `udp`; anything that is not a plain string (sippy's own marker) as is."""
    return transport.lower() if isinstance(transport, str) else transport


class TransactionManager(SipTransactionManager):
    """SipTransactionManager with one reader, case-insensitive transports and a gate for new INVITEs."""

    model_udp_server = (DirectUdpServer, OneReaderOpts)

    def __init__(self, global_config: dict[str, Any], req_cb: Any, gate: SourceGate | None = None) -> None:
        self.gate = gate
        super().__init__(global_config, req_cb)

    def newTransaction(self, msg: Any, *args: Any, **kwargs: Any) -> Any:
        """Send a request; its target's transport is compared case-insensitively."""
        address, transport = msg.getTarget()
        msg.setTarget((address, normal_transport(transport)))
        return super().newTransaction(msg, *args, **kwargs)

    def handleIncoming(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
        """One datagram from the socket: new INVITEs from sources not listed stop here."""
        gate = self.gate
        if gate is not None and _is_invite(data_in) and not gate.trusted(ra.address[0]):
            self._refuse(data_in, ra, server, rtime)
            return
        if (b"\x00" if isinstance(data_in, bytes) else NUL) in data_in:
            self._refuse_nul(data_in.decode(errors="replace") if isinstance(data_in, bytes) else data_in, ra, server)
            return
        if not _is_response(data_in) and self._refused_malformed(data_in, ra, server):
            return
        super().handleIncoming(data_in, ra, server, rtime)

    def _refused_malformed(self, data_in: Any, ra: Any, server: Any) -> bool:
        """True when the request is one sippy would drop unanswered (malformed.py): it got a 400 (an ACK none)."""
        text = data_in.decode(errors="replace") if isinstance(data_in, bytes) else data_in
        why = defect(text)
        if why is None:
            return False
        log.warning("refused a malformed SIP request from %s:%s: %s", *ra.address, why)
        response = None if text.startswith("ACK ") else bad_request(text, why)
        if response is not None:
            self.transmitData(server, response, ra.address)
        return True

    def _refuse_nul(self, text: str, ra: Any, server: Any) -> None:
        where = nul_location(text)
        log.warning("refused a SIP message with NUL in %s from %s:%s", where, *ra.address)
        if text.startswith("SIP/2.0 ") or text.startswith("ACK "):
            return  # nothing to answer: the far end retransmits or gives up
        try:
            req = SipRequest(text)
        except Exception:
            return
        self._answer(req, 400, f"Bad Request - NUL in {where}", ra, server)

    def _refuse(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
        """403 a new INVITE from an unlisted source (statelessly, to where it came from); an in-dialog
        re-INVITE (To tag) goes on as usual. Beyond the per-source rate nothing is parsed or answered."""
        gate = self.gate
        assert gate is not None
        if not gate.admit(ra.address[0]):
            return
        try:
            req = SipRequest(data_in.decode() if isinstance(data_in, bytes) else data_in)
            in_dialog = req.getHFBody("to").getTag() is not None
        except Exception:
            return  # not even a parsable INVITE: nothing to answer
        if in_dialog:
            super().handleIncoming(data_in, ra, server, rtime)
            return
        log.info("refused an INVITE from an unlisted source %s:%s", *ra.address)
        self._answer(req, 403, "Forbidden", ra, server)

    def _answer(self, req: Any, code: int, reason: str, ra: Any, server: Any) -> None:
        """Answer `req` statelessly, to where it came from."""
        response = req.genResponse(code, reason)
        response.getHFBody("to").genTag()
        self.transmitMsg(server, response, ra.address, None)


NUL = "\x00"


def nul_location(text: str) -> str:
    """Where a message holds a NUL: `Request-URI`, a header's name, or `body`."""
    head, _, _body = text.partition("\r\n\r\n")
    lines = head.split("\n")
    for number, line in enumerate(lines):
        if NUL in line:
            return "Request-URI" if number == 0 else line.split(":", 1)[0].strip() or "a header"
    return "body"


def _is_response(data: Any) -> bool:
    head = data[:8]
    return head == (b"SIP/2.0 " if isinstance(head, bytes) else "SIP/2.0 ")


def _is_invite(data: Any) -> bool:
    head = data[:7]
    return head == (b"INVITE " if isinstance(head, bytes) else "INVITE ")
