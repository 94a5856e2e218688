"""Reading the far end's audio line from SDP (no peers needed)."""

from __future__ import annotations

from legato.network.sip.sdp import RemoteMedia, g711_answer, g711_offer, remote_media

BARESIP = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 8 0 96\r\nc=IN IP4 127.0.0.2\r\na=rtpmap:8 PCMA/8000\r\n"
           "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\nm=video 0 RTP/AVP 97\r\n")


def test_media_level_connection_codec_order_and_event_payload() -> None:
    assert remote_media(BARESIP) == RemoteMedia("127.0.0.2", 40000, 8, 96)


def test_session_connection_and_no_events() -> None:
    sdp = "v=0\nc=IN IP4 192.0.2.9\nm=audio 5004 RTP/AVP 0\n"
    assert remote_media(sdp) == RemoteMedia("192.0.2.9", 5004, 0, None)


def test_no_g711_or_no_audio_is_none() -> None:
    assert remote_media("v=0\nc=IN IP4 192.0.2.9\nm=audio 5004 RTP/AVP 9\n") is None
    assert remote_media("v=0\nc=IN IP4 192.0.2.9\n") is None


def test_our_offer_and_answer_read_back() -> None:
    assert remote_media(g711_offer("198.51.100.1", 20000)) == RemoteMedia("198.51.100.1", 20000, 0, 101)
    answer = g711_answer(BARESIP, "198.51.100.1", 20002)
    assert remote_media(answer) == RemoteMedia("198.51.100.1", 20002, 8, 96)  # the offer's event payload type


def test_answer_keeps_the_offers_telephone_event_payload_type() -> None:
    offer = ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\n"
             "a=rtpmap:96 telephone-event/8000\r\n")
    answer = g711_answer(offer, "127.0.0.1", 5000)
    assert "m=audio 5000 RTP/AVP 8 96\r\n" in answer and "a=rtpmap:96 telephone-event/8000\r\n" in answer
    assert "101" not in answer
    ours = remote_media(answer)
    assert ours is not None and ours.telephone_event_pt == 96  # what the engine was told from the offer
