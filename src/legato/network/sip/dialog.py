"""One SIP call as sippy sees it: a UA driven on the sippy thread, its CCEvents turned into leg signals.

Everything here runs on the sippy thread (see reactor.py). A dialog reports through `Agent.report`,
and never again once it has ended (a local CANCEL/BYE, or the signal that ended it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sippy.CCEvents import (
    CCEventConnect,
    CCEventDisconnect,
    CCEventFail,
    CCEventPreConnect,
    CCEventRedirect,
    CCEventRing,
    CCEventTry,
    CCEventUpdate,
)
from sippy.MsgBody import MsgBody
from sippy.SipAddress import SipAddress
from sippy.SipContact import SipContact
from sippy.SipHeader import SipHeader
from sippy.SipURL import SipURL
from sippy.Time.Timeout import Timeout
from sippy.UA import UA
from sippy.UacStateCancelling import UacStateCancelling

from legato.domain import causes
from legato.domain.leg import HangupSource
from legato.domain.machine import Answered, Ended, HangupFailed, HangupSent, Input, Ringing, TransferUpdate
from legato.network.sip.config import SipConfig
from legato.network.sip.refer import ConnectedAnsweringNotify, Referral
from legato.network.sip.sdp import reanswer, remote_media

if TYPE_CHECKING:
    from legato.network.sip.route import Route

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retarget:
    """Reported (not a leg signal) when the far end's re-INVITE changed its media description: the
    asyncio side points the leg's audio at it."""

    sdp: str


HANGUP_RETRIES = (0.5, 1.0, 2.0)  # seconds before each new try of a BYE/CANCEL that could not be sent


class Agent(Protocol):
    """What a dialog needs from its agent (network/sip/agent.py), without importing it."""

    config: SipConfig
    global_config: dict[str, Any]
    user_agent: str

    def report(self, leg_sid: str, signal: Input | Retarget | None, *, ended: bool = False) -> None: ...

    def forget(self, dialog: Dialog) -> None: ...

    def offer_inbound(self, dialog: InboundDialog) -> None: ...


REASON_PHRASES = {404: "Not Found", 480: "Temporarily Unavailable", 486: "Busy Here",
                  487: "Request Terminated", 503: "Service Unavailable", 603: "Decline"}


def reason_header_text(event: Any) -> str | None:
    """The Reason header of a sippy event as `Q.850;cause=N` text (what causes.q850_from_sip reads)."""
    reason = getattr(event, "reason_rfc3326", None)
    if reason is None:
        return None
    try:
        reason.parse()
        return f"{reason.protocol};cause={reason.cause}"
    except Exception:
        return str(reason)


class _Try(CCEventTry):
    """A CCEventTry that fixes the From host to our public address before the INVITE goes out."""

    from_host: str = ""

    def onUacSetupComplete(self, uac: UA) -> None:
        url = uac.lUri.getUrl()
        url.host = self.from_host
        url.port = None


class _CancellingAckFirst(UacStateCancelling):
    """sippy's Cancelling state, except that a 200 crossing our CANCEL is ACKed before it is BYEd.

    sippy's transaction manager sends the ACK only after the UA handled the 200, and the stock state
    sends its BYE from that handler; strict peers (SIPp) reject a BYE that overtakes the ACK.
    """

    def recvResponse(self, resp: Any, tr: Any) -> Any:
        code = resp.getSCode()[0]
        if not 200 <= code < 300:
            return super().recvResponse(resp, tr)
        ua = self.ua
        send_now = ua.newTransaction

        def send_after_ack(req: Any, **kwargs: Any) -> None:
            Timeout(lambda: send_now(req, **kwargs), 0.001)

        ua.newTransaction = send_after_ack
        try:
            return super().recvResponse(resp, tr)
        finally:
            ua.newTransaction = send_now


class Dialog:
    """Common parts of inbound and outbound calls."""

    __slots__ = ("agent", "answered", "done", "leg_sid", "local_sdp", "ua")  # one per live call: no dict
    direction = ""

    def __init__(self, agent: Agent, leg_sid: str | None) -> None:
        self.agent = agent
        self.leg_sid = leg_sid
        self.done = False
        self.answered = False
        self.ua: UA | None = None
        self.local_sdp: str | None = None  # our SDP in force (offer or answer), for answering re-INVITEs

    def _contact(self) -> SipContact:
        url = SipURL(host=self.agent.config.contact_host, port=self.agent.config.contact_port)
        return SipContact(address=SipAddress(url=url, hadbrace=True))

    def _finish(self, signal: Ended | None) -> None:
        """End the dialog once: forget it, and report the final signal (if any); the asyncio side then
        releases the leg's media."""
        if self.done:
            return
        self.done = True
        self.agent.forget(self)
        if self.leg_sid is not None:
            self.agent.report(self.leg_sid, signal, ended=True)

    def _reinvited(self, event: CCEventUpdate, ua: UA) -> None:
        """The far end's re-INVITE (hold, unhold, a new media address): 200 with our answer, the leg stays up
        and its audio follows the new address; 488 when the offer has no G.711 audio (the call goes on)."""
        body = event.getData()
        offer = str(body) if body is not None else ""
        if self.local_sdp is None or remote_media(offer) is None:
            ua.recvEvent(CCEventFail((488, "Not Acceptable Here")))
            return
        self.local_sdp = reanswer(offer, self.local_sdp)
        ua.recvEvent(CCEventConnect((200, "OK", MsgBody(self.local_sdp))))
        if self.leg_sid is not None:
            self.agent.report(self.leg_sid, Retarget(offer))

    def refer(self, target: str) -> None:
        """Blind-transfer the answered call to the URI `target` (refer.py); its outcome comes as TransferUpdate."""
        ua = self.ua
        leg_sid = self.leg_sid
        if leg_sid is None:
            return
        if self.done or ua is None or not getattr(ua.state, "connected", False):
            self.agent.report(leg_sid, TransferUpdate("failed", reason="the call is not connected"))
            return
        Referral(ua, target, lambda update: self.done or self.agent.report(leg_sid, update)).send()

    def hang_up(self) -> None:
        """End from our side: CANCEL before an answer, BYE after. Reports HangupSent once it went out, or
        HangupFailed when it cannot be sent even after HANGUP_RETRIES (the far end may still be up)."""
        if self.done or self.ua is None:
            if self.leg_sid is not None:
                self.agent.report(self.leg_sid, HangupSent())  # already over: nothing to send
            return
        ua = self.ua
        self._finish(None)
        self._send_hangup(ua, 0)

    def _send_hangup(self, ua: UA, attempt: int) -> None:
        try:
            ua.recvEvent(CCEventDisconnect())
        except Exception as exc:
            if attempt < len(HANGUP_RETRIES):
                log.warning("could not send the %s leg_sid=%s (%s); retrying", self._hangup_method(ua),
                            self.leg_sid, exc)
                Timeout(lambda: self._send_hangup(ua, attempt + 1), HANGUP_RETRIES[attempt])
                return
            message = f"the {self._hangup_method(ua)} could not be sent after {attempt + 1} tries: {exc}"
            log.error("%s leg_sid=%s", message, self.leg_sid)
            if self.leg_sid is not None:
                self.agent.report(self.leg_sid, HangupFailed(message))
            return
        if self.leg_sid is not None:
            self.agent.report(self.leg_sid, HangupSent())

    def _hangup_method(self, ua: UA) -> str:
        return "BYE" if ua.state is not None and getattr(ua.state, "connected", False) else "CANCEL"


class OutboundDialog(Dialog):
    """An INVITE we send for an outbound leg."""

    __slots__ = ("rang",)
    direction = "outbound"

    def __init__(self, agent: Agent, leg_sid: str, offer: str) -> None:
        super().__init__(agent, leg_sid)
        self.local_sdp = offer  # our offer, until a re-INVITE's answer replaces it
        self.rang = False

    def start(self, route: Route) -> None:
        """Send the INVITE along `route`."""
        ua = UA(self.agent.global_config, event_cb=self.on_event, username=route.username,
                password=route.password, nh_address=(route.host, route.port))
        ua.lContact = self._contact()
        ua.local_ua = self.agent.user_agent
        ua.UacStateCancelling = _CancellingAckFirst
        ua.UaStateConnected = ConnectedAnsweringNotify
        if self.agent.config.no_reply_timeout is not None:
            ua.no_reply_time = self.agent.config.no_reply_timeout
        self.ua = ua
        event = _Try((None, route.calling, route.called, MsgBody(self.local_sdp), None, None))
        event.from_host = self.agent.config.contact_host
        ua.recvEvent(event)

    def on_event(self, event: Any, ua: UA) -> None:
        """sippy's event callback for this UA."""
        if self.done or self.leg_sid is None:
            return
        data = event.getData()
        if isinstance(event, CCEventUpdate):
            self._reinvited(event, ua)
        elif isinstance(event, CCEventRing):
            code, _reason, body = data[0], data[1], data[2] if len(data) > 2 else None
            if code == 100 or self.rang:
                return
            self.rang = True
            self.agent.report(self.leg_sid, Ringing(early_media=body is not None))
        elif isinstance(event, CCEventConnect | CCEventPreConnect):
            if self.answered:
                return
            self.answered = True
            body = data[2] if data and len(data) > 2 else None
            self.agent.report(self.leg_sid, Answered(sdp=str(body) if body is not None else None))
            if isinstance(event, CCEventConnect):  # a final 2xx: no CANCEL can follow, the only use of ua.tr
                ua.tr = None  # (sippy's transaction manager keeps the transaction as long as it needs it)
                if body is None or remote_media(str(body)) is None:
                    self._unusable_answer(ua)
        elif isinstance(event, CCEventFail | CCEventRedirect):
            code, reason = int(data[0]), str(data[1])
            self._finish(Ended(sip_code=code, q850=causes.q850_from_sip(code, reason_header_text(event)),
                               reason=reason, source=HangupSource.CALLEE))
        elif isinstance(event, CCEventDisconnect):
            if self.answered:  # the far end's BYE
                header = reason_header_text(event)
                q850 = causes.q850_from_sip(200, header) if header else causes.NORMAL_CLEARING
                self._finish(Ended(q850=q850 if q850 != 31 else causes.NORMAL_CLEARING, reason="BYE",
                                   source=HangupSource.CALLEE))
            else:  # our no-reply timer expired: nothing at all came back
                self._finish(Ended(sip_code=408, q850=causes.RECOVERY_ON_TIMER_EXPIRY,
                                   reason="No response", source=HangupSource.PLATFORM))

    def _unusable_answer(self, ua: UA) -> None:
        """A 200 without G.711 audio (or without SDP) to our offer: nothing could be heard, so the call is
        ended here (q850 65, as for a 488) and BYEd once sippy has ACKed the 200."""
        log.warning("the answer has no G.711 audio: hanging up leg_sid=%s", self.leg_sid)
        self._finish(Ended(q850=causes.q850_from_sip(488, None), reason="no G.711 audio in the answer",
                           source=HangupSource.PLATFORM))

        def bye() -> None:
            try:
                ua.recvEvent(CCEventDisconnect())
            except Exception:
                log.exception("could not send the BYE leg_sid=%s", self.leg_sid)

        Timeout(bye, 0.001)  # after the ACK, which sippy sends once this event was handled


class InboundDialog(Dialog):
    """An INVITE we received for one of the exophones; the application decides its fate."""

    __slots__ = ("call_ref", "called", "caller", "remote_sdp")
    direction = "inbound"

    def __init__(self, agent: Agent, call_ref: str, caller: str, called: str) -> None:
        super().__init__(agent, None)
        self.call_ref = call_ref
        self.caller = caller
        self.called = called
        self.remote_sdp: str | None = None
        self.ua = UA(agent.global_config, event_cb=self.on_event)
        self.ua.UaStateConnected = ConnectedAnsweringNotify
        self.ua.lContact = self._contact()
        self.ua.local_ua = agent.user_agent

    def on_event(self, event: Any, ua: UA) -> None:
        """sippy's event callback for this UA."""
        if self.done:
            return
        if isinstance(event, CCEventUpdate):
            self._reinvited(event, ua)
        elif isinstance(event, CCEventTry):
            body = event.getData()[3]
            self.remote_sdp = str(body) if body is not None else None
            self.agent.offer_inbound(self)
        elif isinstance(event, CCEventDisconnect | CCEventFail):
            # CANCEL while ringing, or BYE after the answer: the caller hung up
            if self.answered:
                self._finish(Ended(q850=causes.NORMAL_CLEARING, reason="BYE", source=HangupSource.CALLER))
            else:
                self._finish(Ended(sip_code=487, q850=causes.NORMAL_CLEARING, reason="Request Terminated",
                                   source=HangupSource.CALLER))

    def ring(self, leg_sid: str) -> None:
        """Bind to the leg created for this call and send 180 Ringing."""
        self.leg_sid = leg_sid
        if self.ua is not None:
            self.ua.recvEvent(CCEventRing((180, "Ringing", None)))

    def answer(self, sdp: str) -> None:
        """Send 200 OK with our SDP answer."""
        if self.done or self.answered or self.ua is None:
            return
        self.answered = True
        self.local_sdp = sdp
        self.ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))

    def reject(self, sip_code: int, retry_after: int | None = None) -> None:
        """Send a final failure response (with Retry-After when given); reports nothing."""
        if self.done or self.ua is None:
            if self.leg_sid is not None:
                self.agent.report(self.leg_sid, HangupSent())  # already over: nothing to send
            return
        ua = self.ua
        self._finish(None)
        event = CCEventFail((sip_code, REASON_PHRASES.get(sip_code, "Rejected")))
        if retry_after is not None:
            event.extra_headers = (SipHeader(name="Retry-After", bodys=str(retry_after)),)
        ua.recvEvent(event)
