"""What a flood of INVITEs costs Legato's SIP network: from an unlisted source (refused at the gate:
a rate-limited 403, no transaction) next to a listed source calling an unknown number (404 through
sippy's transactions). Bounded in count; SIPp floods from another loopback address:

    PYTHONPATH=src python bench/sip_gate.py --invites 5000 --rate 5000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "network" / "sip"))

from peers import HOST, free_port, start_sipp

from legato.media.process import ManagedMedia
from legato.network.sip import SipNetwork, parse_config

SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "network" / "sip" / "scenarios" / "invite_refused.xml"
EXOPHONE = "+918047112233"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def flood(root: Path, source: str, called: str, invites: int, rate: int) -> dict[str, float]:
    """Start a SipNetwork that trusts 127.0.0.1 only, flood it from `source`, return the figures."""
    rtp = free_port(count=4)
    config = parse_config({"listen_host": HOST, "listen_port": free_port(), "rtp_port_min": rtp,
                           "rtp_port_max": rtp + 3, "inbound_networks": ["127.0.0.1"],
                           "exophones": [{"number": EXOPHONE, "account_sid": "bench"}]})
    media = ManagedMedia(rtp_ports=(rtp, rtp + 3), rtp_host=HOST, advertise=HOST,
                         recordings_dir=root / "rec", cache_dir=root / "cache")
    network = SipNetwork(config, media)
    offered: list[object] = []
    await network.start(lambda leg_sid, signal: None, lambda call: offered.append(call))
    rss, cpu, started = _rss_mib(), _cpu(), time.perf_counter()
    peer = start_sipp(root / f"sipp-{source}", SCENARIO, host=source, calls=invites, timeout=60,
                      remote=f"{HOST}:{config.listen_port}",
                      extra=["-s", called, "-key", "caller", "+919163816621", "-r", str(rate), "-l", str(invites),
                             "-nr"])
    try:
        await asyncio.to_thread(peer.wait, 90)
    finally:
        peer.stop()
    elapsed, used, grown = time.perf_counter() - started, _cpu() - cpu, _rss_mib() - rss
    figures = network.gate_figures()
    await network.stop()
    return {"invites": invites, "seconds": elapsed, "cpu_us_per_invite": 1e6 * used / invites,
            "rss_growth_mib": grown, "offered": len(offered), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invites", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=5000, help="INVITEs per second SIPp offers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = (("unlisted source", "127.0.0.5", EXOPHONE), ("listed, unknown number", "127.0.0.1", "+918000000000"))
        print(f"{'flood':<24}{'cpu us/INVITE':>14}{'RSS +MiB':>10}{'403':>7}{'dropped':>9}{'transactions':>14}")
        for name, source, called in runs:
            f = asyncio.run(flood(root, source, called, args.invites, args.rate))
            print(f"{name:<24}{f['cpu_us_per_invite']:>14.0f}{f['rss_growth_mib']:>10.1f}{f['refused']:>7}"
                  f"{f['dropped']:>9}{f['server_transactions']:>14}")


if __name__ == "__main__":
    main()
