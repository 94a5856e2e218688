"""The SIP user agent on the sippy thread: the transaction manager, live dialogs, inbound routing.

Every method runs on the sippy thread; the asyncio side reaches it through `Reactor.call`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from sippy.SipConf import SipConf

from legato.domain import causes
from legato.domain.errors import ValidationFailed
from legato.domain.leg import HangupSource
from legato.domain.machine import Ended, HangupSent, TransferUpdate
from legato.domain.numbers import parse_number
from legato.network.sip.config import Exophone, SipConfig
from legato.network.sip.dialog import Dialog, InboundDialog, OutboundDialog
from legato.network.sip.gate import SourceGate, trusted_networks
from legato.network.sip.reactor import TraceLog
from legato.network.sip.route import Route
from legato.network.sip.sdp import remote_media
from legato.network.sip.transactions import NUL, TransactionManager

log = logging.getLogger(__name__)

Report = Callable[..., None]
"""`report(leg_sid, signal_or_None, ended=False)`, called on the sippy thread (`ended`: the call is over)."""

Offer = Callable[[InboundDialog], None]
"""Hands a new inbound call to the asyncio side, called on the sippy thread."""


class Agent:
    """Owns the SipTransactionManager and the dialogs by leg_sid and by call_ref."""

    user_agent = "Legato"

    def __init__(self, config: SipConfig, report: Report, offer: Offer) -> None:
        self.config = config
        self.report = report
        self._offer = offer
        self.global_config: dict[str, Any] = {}
        self.tm: TransactionManager | None = None
        self.gate: SourceGate | None = None
        self.by_leg: dict[str, Dialog] = {}
        self.by_ref: dict[str, InboundDialog] = {}
        self._refs = itertools.count(1)

    # -- life --
    def bind(self) -> None:
        """Open the SIP socket (raises OSError when the address is taken)."""
        config = self.config
        SipConf.my_uaname = self.user_agent
        SipConf.my_address = config.contact_host  # Via/From/Contact defaults; process-wide in sippy
        SipConf.my_port = config.contact_port
        SipConf.allow_formats = None
        wildcard = config.listen_host in ("0.0.0.0", "", "::")
        self.global_config = {
            "_sip_address": _MyAddress(config.contact_host) if wildcard else config.listen_host,
            "_sip_port": config.listen_port,
            "_sip_logger": TraceLog(),
        }
        self.gate = SourceGate(trusted_networks(config))
        self.tm = TransactionManager(self.global_config, self.on_request, self.gate)
        self.global_config["_sip_tm"] = self.tm

    def shutdown(self) -> None:
        """Close the SIP socket."""
        if self.tm is not None:
            self.tm.shutdown()
            self.tm = None

    def gate_figures(self) -> dict[str, int]:
        """INVITEs refused from unlisted sources (answered 403, dropped unread), the sources remembered,
        and the server transactions open now (refusals open none)."""
        figures = self.gate.figures() if self.gate is not None else {}
        return {**figures, "server_transactions": len(self.tm.tserver) if self.tm is not None else 0}

    def end_all(self) -> None:
        """CANCEL, BYE or reject (480) every live call."""
        for dialog in list(self.by_leg.values()) + list(self.by_ref.values()):
            if isinstance(dialog, InboundDialog) and not dialog.answered:
                dialog.reject(480)
            else:
                dialog.hang_up()

    def forget(self, dialog: Dialog) -> None:
        """Drop a finished dialog from the maps."""
        if dialog.leg_sid is not None and self.by_leg.get(dialog.leg_sid) is dialog:
            del self.by_leg[dialog.leg_sid]
        if isinstance(dialog, InboundDialog) and self.by_ref.get(dialog.call_ref) is dialog:
            del self.by_ref[dialog.call_ref]

    # -- outbound --
    def dial(self, leg_sid: str, route: Route, offer: str) -> None:
        """Start an outbound call with the SDP offer for the leg's media."""
        dialog = OutboundDialog(self, leg_sid, offer)
        self.by_leg[leg_sid] = dialog
        dialog.start(route)

    def hang_up(self, leg_sid: str) -> None:
        """CANCEL or BYE the leg's call, whichever fits its state; an inbound ringing call gets 480."""
        dialog = self.by_leg.get(leg_sid)
        if dialog is None:  # the call is already over: nothing to send
            self.report(leg_sid, HangupSent())
            return
        if isinstance(dialog, InboundDialog) and not dialog.answered:
            dialog.reject(480)
            self.report(leg_sid, HangupSent())
        else:
            dialog.hang_up()

    def refer(self, leg_sid: str, target: str) -> None:
        """Blind-transfer the leg's answered call to the URI `target`."""
        dialog = self.by_leg.get(leg_sid)
        if dialog is None:
            self.report(leg_sid, TransferUpdate("failed", reason="the call is gone"))
            return
        dialog.refer(target)

    # -- inbound --
    def on_request(self, req: Any, sip_t: Any) -> Any:
        """sippy's callback for requests outside any dialog (a 500 if handling it fails)."""
        try:
            return self._on_request(req, sip_t)
        except Exception:
            log.exception("failed to handle a %s", req.getMethod())
            return (req.genResponse(500, "Server Internal Error"), None, None)

    def _on_request(self, req: Any, sip_t: Any) -> Any:
        method = req.getMethod()
        if req.getHFBody("to").getTag() is not None:
            return (req.genResponse(481, "Call Leg/Transaction Does Not Exist"), None, None)
        if method == "INVITE":
            unstorable = _with_nul(req)
            if unstorable is not None:  # e.g. sip:%00@...: no leg can record it
                return (req.genResponse(400, f"Bad Request - NUL in {unstorable}"), None, None)
            if req.countHFs("contact") == 0:  # no target for our BYE: sippy's UAS cannot take it
                return (req.genResponse(400, "Bad Request - Missing Contact"), None, None)
            exophone = self.match_exophone(req)
            if exophone is None:
                return (req.genResponse(404, "Not Found"), None, None)
            if _unacceptable_offer(req):  # no leg: nothing could be heard on it
                return (req.genResponse(488, "Not Acceptable Here"), None, None)
            caller = _caller_of(req)
            dialog = InboundDialog(self, f"sip-{next(self._refs)}", caller, exophone.number)
            self.by_ref[dialog.call_ref] = dialog
            assert dialog.ua is not None
            try:
                return dialog.ua.recvRequest(req, sip_t)
            except Exception:
                del self.by_ref[dialog.call_ref]  # answered 500 by on_request: no dialog stays behind
                raise
        if method == "OPTIONS":
            return (req.genResponse(200, "OK"), None, None)
        if method in ("ACK", "CANCEL"):
            return None
        return (req.genResponse(501, "Not Implemented"), None, None)

    def match_exophone(self, req: Any) -> Exophone | None:
        """The exophone an INVITE is for: by number (R-URI or To user), else a SIP exophone with that user."""
        users = [req.getRURI().username, req.getHFBody("to").getUrl().username]
        for user in filter(None, users):
            try:
                e164 = parse_number(user, "called").e164
            except ValidationFailed:
                e164 = None
            if e164 and (found := self.config.exophone(e164)):
                return found
            for exophone in self.config.exophones:
                if exophone.number.startswith("sip") and _uri_user(exophone.number) == user:
                    return exophone
        return None

    def offer_inbound(self, dialog: InboundDialog) -> None:
        """The INVITE was accepted by sippy: ask the application side whose leg it is."""
        self._offer(dialog)

    def ring_inbound(self, call_ref: str, leg_sid: str | None, refuse: int | None = None,
                     retry_after: int | None = None) -> None:
        """The application side decided: ring for `leg_sid`, or refuse when None (404, or `refuse` with
        `retry_after`: 503 while draining); `refuse` with a leg (e.g. 503 when the leg got no media) rejects
        the call and ends the leg."""
        dialog = self.by_ref.get(call_ref)
        if dialog is None or dialog.done:
            if leg_sid is not None:  # the caller gave up before the leg existed
                self.report(leg_sid, Ended(sip_code=487, q850=16, reason="Request Terminated",
                                           source=HangupSource.CALLER), ended=True)
            return
        if leg_sid is None:
            dialog.reject(refuse or 404, retry_after)
            return
        if refuse is not None:
            dialog.reject(refuse)
            self.report(leg_sid, Ended(sip_code=refuse, q850=causes.SWITCH_CONGESTION, reason="no media",
                                       source=HangupSource.PLATFORM), ended=True)
            return
        self.by_leg[leg_sid] = dialog
        dialog.ring(leg_sid)

    def answer(self, leg_sid: str, sdp: str) -> None:
        """Answer the inbound call bound to `leg_sid` with our SDP answer."""
        dialog = self.by_leg.get(leg_sid)
        if not isinstance(dialog, InboundDialog):
            return
        dialog.answer(sdp)

    def reject(self, leg_sid: str, sip_code: int) -> None:
        """Refuse the inbound call bound to `leg_sid`."""
        dialog = self.by_leg.get(leg_sid)
        if isinstance(dialog, InboundDialog):
            dialog.reject(sip_code)


class _MyAddress:
    """A sippy 'my' address (wildcard bind: sippy picks the local address per destination)."""

    my = True

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _uri_user(uri: str) -> str | None:
    rest = uri.split(":", 1)[1]
    return rest.split("@", 1)[0] if "@" in rest else None


def _with_nul(req: Any) -> str | None:
    """The first of From, To and Request-URI whose decoded parts hold a NUL (PostgreSQL cannot store it)."""
    urls = (("From", req.getHFBody("from").getUrl()), ("To", req.getHFBody("to").getUrl()),
            ("Request-URI", req.getRURI()))
    for name, url in urls:
        if any(NUL in part for part in (url.username, url.password, url.host) if part):
            return name
    return None


def _unacceptable_offer(req: Any) -> bool:
    """True when an INVITE has no SDP offer (a late offer is not supported) or none with G.711 audio."""
    body = req.getBody()
    return body is None or remote_media(str(body)) is None


def _caller_of(req: Any) -> str:
    url = req.getHFBody("from").getUrl()
    user = url.username or "anonymous"
    try:
        return parse_number(user, "caller").canonical
    except ValidationFailed:
        return f"sip:{user}@{url.host}"
