"""Blind transfer of an answered call (RFC 3515 REFER, RFC 3265 NOTIFY with message/sipfrag bodies).

Runs on the sippy thread. sippy sends a REFER only as a way of hanging up (its Connected state moves to
Disconnected at once) and has no handler for an in-dialog NOTIFY (it would go unanswered), so the REFER is
sent here as a plain in-dialog request while the call stays up, and the dialogs' Connected state answers
NOTIFY 200 and hands it to the dialog. What the far end says becomes `TransferUpdate` signals:

| far end says                                   | signal                                  |
|------------------------------------------------|-----------------------------------------|
| REFER answered 2xx                             | (none: waiting for its NOTIFYs)         |
| REFER answered 3xx-6xx, or no answer (timeout) | failed, with that code                  |
| NOTIFY sipfrag 1xx                             | (none: the target is being called)      |
| NOTIFY sipfrag 2xx                             | completed (then Legato sends the BYE)   |
| NOTIFY sipfrag 3xx-6xx                         | failed, with that code; the call stays  |
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from sippy.SipAddress import SipAddress
from sippy.SipHeader import SipHeader
from sippy.SipReferredBy import SipReferredBy
from sippy.SipReferTo import SipReferTo
from sippy.SipURL import SipURL
from sippy.UA import UA
from sippy.UaStateConnected import UaStateConnected

from legato.domain.machine import TransferUpdate

log = logging.getLogger(__name__)
SIPFRAG = re.compile(r"^\s*SIP/2\.0\s+(\d{3})\s*([^\r\n]*)")

Notify = Callable[[Any], None]
"""Told of an in-dialog NOTIFY (the request), on the sippy thread."""


class ConnectedAnsweringNotify(UaStateConnected):
    """sippy's Connected state, plus: an in-dialog NOTIFY is answered 200 and given to the UA's `on_notify`,
    and a request it has no handler for (UPDATE, MESSAGE...) is answered 501 instead of nothing at all
    (its retransmission would then get sippy's 500 for a repeated CSeq)."""

    def recvRequest(self, req: Any) -> Any:
        if req.getMethod() not in self.recv_request_handlers:
            req.sendResponse(501, "Not Implemented")
            return None
        return super().recvRequest(req)

    def _recvRequestNotify(self, req: Any) -> None:
        req.sendResponse(200, "OK")
        handler: Notify | None = getattr(self.ua, "on_notify", None)
        if handler is not None:
            handler(req)
        return None

    recv_request_handlers = {**UaStateConnected.recv_request_handlers, "NOTIFY": _recvRequestNotify}


def sipfrag_status(body: str) -> tuple[int, str] | None:
    """The status line of a message/sipfrag body (`SIP/2.0 200 OK`) as (code, reason), or None."""
    found = SIPFRAG.match(body)
    return (int(found.group(1)), found.group(2).strip()) if found else None


class Referral:
    """One REFER of an answered call and the NOTIFYs that follow it; `report` gets at most one final signal."""

    def __init__(self, ua: UA, target: str, report: Callable[[TransferUpdate], None]) -> None:
        self.ua = ua
        self.target = target
        self.report = report
        self.done = False

    def send(self) -> None:
        """Send the REFER in the dialog of `ua` (which must be connected)."""
        refer_to = SipReferTo(address=SipAddress(url=SipURL(url=self.target), hadbrace=True))
        referred_by = SipReferredBy(address=SipAddress(url=self.ua.lUri.getUrl().getCopy(), hadbrace=True))
        headers = [SipHeader(name="refer-to", body=refer_to), SipHeader(name="referred-by", body=referred_by)]
        req = self.ua.genRequest("REFER", extra_headers=headers)
        self.ua.on_notify = self.on_notify
        self.ua.newTransaction(req, resp_cb=self.on_response)

    def on_response(self, resp: Any) -> None:
        code, reason = resp.getSCode()
        if code >= 300 and not self.done:
            self._final(TransferUpdate("failed", sip_code=code, reason=f"REFER refused: {code} {reason}"))

    def on_notify(self, req: Any) -> None:
        body = req.getBody()
        status = sipfrag_status(str(body)) if body is not None else None
        if status is None or self.done:
            return
        code, reason = status
        if 200 <= code < 300:
            self._final(TransferUpdate("completed", sip_code=code, reason=reason or None))
        elif code >= 300:
            self._final(TransferUpdate("failed", sip_code=code, reason=reason or None))

    def _final(self, update: TransferUpdate) -> None:
        self.done = True
        if getattr(self.ua, "on_notify", None) == self.on_notify:
            self.ua.on_notify = None
        self.report(update)
