"""malformed.py: what counts as a request sippy cannot take, and the 400 built for it."""

from __future__ import annotations

from legato.network.sip.malformed import bad_request, defect

GOOD = ("INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
        "From: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n"
        "Content-Length: 4\r\n\r\nv=0\n")


def test_well_formed_requests_pass() -> None:
    assert defect(GOOD) is None
    compact = GOOD.replace("Via:", "v:").replace("From:", "f:").replace("To:", "t:").replace("Call-ID:", "i:")
    assert defect(compact.replace("Content-Length: 4", "l: 4")) is None
    assert defect(GOOD.replace("To: <sip:a@127.0.0.1>", "To:\r\n <sip:a@127.0.0.1>")) is None  # folded
    assert defect(GOOD + "extra") is None  # a body longer than Content-Length is cut, not refused
    assert defect(GOOD.replace("\r\n", "\n")) is None


def test_defects_are_named() -> None:
    assert defect(GOOD.replace("Call-ID: c1\r\n", "")) == "Missing Call-ID"
    assert defect(GOOD.replace("CSeq: 7 INVITE", "CSeq: INVITE")) == "Bad CSeq"
    assert defect(GOOD.replace("Content-Length: 4", "Content-Length: -1")) == "Bad Content-Length"


def test_the_400_copies_the_transaction_headers_and_tags_to() -> None:
    reply = bad_request(GOOD.replace("Call-ID: c1\r\n", ""), "Missing Call-ID")
    assert reply is not None and reply.startswith("SIP/2.0 400 Bad Request - Missing Call-ID\r\n")
    assert "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n" in reply and "CSeq: 7 INVITE\r\n" in reply
    assert "To: <sip:a@127.0.0.1>;tag=" in reply and reply.endswith("Content-Length: 0\r\n\r\n")
    assert bad_request(GOOD.replace("Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n", ""), "Missing Via") is None
