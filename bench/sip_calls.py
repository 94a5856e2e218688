"""Outbound SIP calls per second, INVITE to BYE, through SipNetwork, next to SIPp's own rate.

Against baresip (auto-answer) directly and through Kamailio, in the same run, bounded in count and time:

    PYTHONPATH=src python bench/sip_calls.py --calls 200 --concurrency 20 --deadline 30
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "network" / "sip"))

from peers import HOST, free_port, start_baresip, start_kamailio, start_sipp

from legato.domain.machine import Answered, Ended, FailedToCreate
from legato.network.base import DialRequest
from legato.network.sip import SipNetwork, parse_config


async def legato_rate(target: str, calls: int, concurrency: int, deadline: float) -> tuple[float, int]:
    """Calls/s (answered then BYEd) through SipNetwork; returns (rate, completed)."""
    rtp = free_port(count=2 * concurrency + 4)
    network = SipNetwork(parse_config({"listen_host": HOST, "listen_port": free_port(), "rtp_port_min": rtp,
                                       "rtp_port_max": rtp + 2 * concurrency + 2, "no_reply_timeout": 5}))
    waiting: dict[str, asyncio.Future[bool]] = {}
    failures: list[object] = []

    def sink(leg_sid: str, signal: object) -> None:
        future = waiting.get(leg_sid)
        if future is None or future.done():
            return
        if isinstance(signal, Answered):
            network.bye(leg_sid)
            future.set_result(True)
        elif isinstance(signal, Ended | FailedToCreate):
            failures.append(signal)
            future.set_result(False)

    await network.start(sink, lambda call: None)
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        async with slots:
            leg_sid = f"bench{index}"
            waiting[leg_sid] = asyncio.get_running_loop().create_future()
            network.dial(DialRequest(leg_sid=leg_sid, account_sid="bench", destination=target,
                                     destination_kind="sip", caller_id="+919163816621"))
            try:
                if await asyncio.wait_for(waiting[leg_sid], 5):
                    done += 1
            finally:
                waiting.pop(leg_sid, None)

    started = time.perf_counter()
    try:
        everything = asyncio.gather(*(one(i) for i in range(calls)), return_exceptions=True)
        results = await asyncio.wait_for(everything,
                                         deadline)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            print(f"  {len(errors)} calls failed, e.g. {errors[0]!r}", file=sys.stderr)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  {len(failures)} calls not answered, e.g. {failures[0]!r}", file=sys.stderr)
    await asyncio.sleep(0.3)
    await network.stop()
    return done / elapsed, done


def sipp_rate(workdir: Path, target: str, calls: int, concurrency: int, deadline: float) -> tuple[float, int]:
    """SIPp's built-in UAC (INVITE, ACK, BYE) at an offered rate well above what the peer takes."""
    peer = start_sipp(workdir, "uac", remote=target, calls=calls, timeout=deadline,
                      extra=["-r", "2000", "-l", str(concurrency), "-d", "0", "-s", "bench"])
    started = time.perf_counter()
    try:
        peer.wait(deadline + 5)
    finally:
        peer.stop()
    elapsed = time.perf_counter() - started
    found = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", peer.log())
    done = int(found.group(1)) if found else 0
    return done / elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds per measurement, at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        phone = start_baresip(root / "baresip", user="bench")
        carrier = start_kamailio(root / "kamailio", phone_port=phone.port, children=2)
        try:
            direct = f"sip:bench@{HOST}:{phone.port}"
            proxied = f"sip:bench@{HOST}:{carrier.port}"
            print(f"{'path':<22}{'legato calls/s':>16}{'sipp calls/s':>14}{'ratio':>8}")
            for name, target, sipp_target in (("baresip direct", direct, f"{HOST}:{phone.port}"),
                                              ("via kamailio", proxied, f"{HOST}:{carrier.port}")):
                measure = legato_rate(target, args.calls, args.concurrency, args.deadline)
                ours, ours_done = asyncio.run(measure)
                theirs, theirs_done = sipp_rate(root / f"sipp-{name[:3]}", sipp_target, args.calls,
                                                args.concurrency, args.deadline)
                ratio = ours / theirs if theirs else float("nan")
                print(f"{name:<22}{ours:>10.1f} ({ours_done:>3}){theirs:>8.1f} ({theirs_done:>3})"
                      f"{ratio:>7.0%}")
        finally:
            carrier.stop()
            phone.stop()


if __name__ == "__main__":
    main()
