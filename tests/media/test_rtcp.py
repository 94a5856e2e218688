from legato.media.rtcp import ReceiverStatistics, build_receiver_report, parse_receiver_report


def feed(stats: ReceiverStatistics, seqs: list[int], jitter_every: float = 0.0) -> None:
    for i, seq in enumerate(seqs):
        arrival = (seq - seqs[0]) * 0.02 + (jitter_every if i % 2 else 0.0)
        stats.update(0x1234, seq & 0xFFFF, seq * 160, arrival)


def test_no_loss_no_jitter() -> None:
    s = ReceiverStatistics()
    feed(s, list(range(100, 200)))
    snap = s.snapshot()
    assert (snap.packets_received, snap.packets_expected, snap.packets_lost) == (100, 100, 0)
    assert snap.jitter_ms < 0.2


def test_loss_counts_and_wraparound() -> None:
    s = ReceiverStatistics()
    seqs = [x for x in range(65500, 65500 + 100) if x % 10 != 3]  # 10 lost, crossing 65535 -> 0
    feed(s, seqs)
    snap = s.snapshot()
    assert (snap.packets_expected, snap.packets_received, snap.packets_lost) == (100, 90, 10)
    assert snap.fraction_lost == 0.1


def test_jitter_estimate() -> None:
    s = ReceiverStatistics()
    feed(s, list(range(0, 500)), jitter_every=0.005)  # every other packet 5 ms late
    assert 4.0 < s.snapshot().jitter_ms < 5.5


def test_receiver_report_round_trip() -> None:
    s = ReceiverStatistics()
    feed(s, [x for x in range(0, 50) if x != 10])
    block = parse_receiver_report(build_receiver_report(99, s))
    assert block is not None
    assert block["ssrc"] == 0x1234 and block["cumulative_lost"] == 1
    assert block["extended_max_seq"] == 49
    assert parse_receiver_report(build_receiver_report(99, None)) is None
