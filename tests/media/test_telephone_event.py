import pytest

from legato.media.telephone_event import (
    TelephoneEvent,
    TelephoneEventReceiver,
    digit_to_event,
    event_payloads,
    event_to_digit,
)


def test_payload_round_trip() -> None:
    ev = TelephoneEvent(event=11, end=True, volume=10, duration=800)
    assert ev.encode() == bytes([11, 0x80 | 10, 0x03, 0x20])
    assert TelephoneEvent.decode(ev.encode()) == ev


def test_digit_mapping() -> None:
    assert [digit_to_event(d) for d in "09*#AD"] == [0, 9, 10, 11, 12, 15]
    assert event_to_digit(11) == "#"
    assert event_to_digit(16) is None
    with pytest.raises(ValueError):
        digit_to_event("E")


def test_send_sequence_follows_rfc4733() -> None:
    packets = event_payloads("5", duration_ms=100, ptime_ms=20)
    events = [TelephoneEvent.decode(p) for _, p in packets]
    assert packets[0][0] is True and not any(m for m, _ in packets[1:])  # marker on the first only
    durations = [e.duration for e in events if not e.end]
    assert durations == sorted(durations) and durations[0] == 160
    ends = [e for e in events if e.end]
    assert len(ends) == 3 and all(e.duration == 800 for e in ends)
    assert all(e.event == 5 for e in events)


def test_receiver_reports_once_and_dedupes_end_packets() -> None:
    rx = TelephoneEventReceiver()
    got = [rx.feed(1000, p) for _, p in event_payloads("7")]
    assert [g.digit for g in got if g] == ["7"]


def test_receiver_reports_when_end_packets_are_lost() -> None:
    rx = TelephoneEventReceiver()
    first = [p for _, p in event_payloads("1") if not TelephoneEvent.decode(p).end]
    second = [p for _, p in event_payloads("1")]
    digits = [g.digit for p in first if (g := rx.feed(1000, p))]
    digits += [g.digit for p in second if (g := rx.feed(3000, p))]
    assert digits == ["1", "1"]


def test_receiver_reports_when_only_end_packets_arrive() -> None:
    rx = TelephoneEventReceiver()
    ends = [p for _, p in event_payloads("9") if TelephoneEvent.decode(p).end]
    assert [g.digit for p in ends if (g := rx.feed(500, p))] == ["9"]


def test_long_event_segments_are_one_digit() -> None:
    rx = TelephoneEventReceiver()
    seg1 = TelephoneEvent(4, False, 10, 0xFFFF).encode()
    seg2 = TelephoneEvent(4, False, 10, 800).encode()
    assert rx.feed(0, seg1) is not None
    assert rx.feed(0xFFFF, seg2) is None
