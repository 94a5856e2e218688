"""Benchmark: SIP calls/s through a two-node cluster, next to SIPp's own rate in the same run.

    PYTHONPATH=src python bench/cluster_sip.py --calls 200 --concurrency 20

Two Legato nodes (PostgreSQL + NATS, real SIP network) whose trunk is the Kamailio front
(deploy/kamailio/kamailio.cfg), which relays to a SIPp carrier that answers then hangs up at once
(tests/network/sip/scenarios/bye_after_answer.xml). Legs are created through both nodes' APIs, round robin,
each client waiting for its leg to be terminal before the next; calls/s is completed legs over the whole run.
Then, as the ceiling of the SIP tools on this machine, SIPp's own UAC calls a SIPp UAS directly (INVITE, ACK,
BYE; bench/sip_calls.py's `sipp_rate`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "network" / "sip"))
os.environ.setdefault("LEGATO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
from peers import HOST, free_port, start_sipp  # noqa: E402
from tests.cluster.nodes import Cluster  # noqa: E402
from tests.network.sip.conftest import Peers  # noqa: E402
from tests.network.sip.test_cluster_front import CALLED, EXOPHONE, NODE_CONFIG, start_front  # noqa: E402


def sip_calls_module() -> Any:
    spec = importlib.util.spec_from_file_location("sip_calls", ROOT / "bench" / "sip_calls.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def legato_calls(
    urls: list[str], auth: tuple[str, str], account_sid: str, calls: int, concurrency: int
) -> tuple[float, int]:
    clients = [httpx.AsyncClient(base_url=url, auth=auth, timeout=30) for url in urls]
    base = f"/v2/accounts/{account_sid}/legs"
    counter = iter(range(calls))
    completed = 0
    body = {"contact_uri": CALLED, "exophone": EXOPHONE, "leg_event_endpoint": "http://127.0.0.1:9/events"}

    async def worker() -> None:
        nonlocal completed
        for n in counter:
            client = clients[n % len(clients)]
            response = await client.post(base, json=body)
            assert response.status_code == 202, response.text
            sid = response.json()["response"]["data"]["leg_sid"]
            while True:
                leg = (await client.get(f"{base}/{sid}")).json()["response"]["data"]
                if leg["state"] == "terminal":
                    completed += leg["terminal_status"] == "completed"
                    break
                await asyncio.sleep(0.02)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return completed / elapsed, completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legato-cluster-sip-") as tmp:
        root = Path(tmp)
        peers = Peers(root)
        cluster = Cluster(root, time_scale=1.0)
        try:
            carrier = peers.sipp("bye_after_answer", calls=args.calls * 2, timeout=600)
            sip_ports, front_port = [free_port(), free_port()], free_port()
            for index, name in enumerate(("n1", "n2")):
                rtp = free_port(count=2 * args.concurrency + 4)
                config = root / f"{name}.toml"
                config.write_text(
                    NODE_CONFIG.format(
                        sip_port=sip_ports[index],
                        rtp=rtp,
                        rtp_max=rtp + 2 * args.concurrency + 2,
                        exophone=EXOPHONE,
                        front_port=front_port,
                    )
                )
                cluster.env[name] = {"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)}
            account = cluster.node("n1").create_account("--sid", "acme", "--exophone", EXOPHONE)
            nodes = cluster.start("n1", "n2")
            start_front(peers, root / "front", front_port, sip_ports, carrier.port)
            urls = [n.url for n in nodes]
            rate, done = asyncio.run(
                legato_calls(urls, account.auth, account.account_sid, args.calls, args.concurrency)
            )
            print(f"legato 2 nodes via the front: {rate:.1f} calls/s ({done} of {args.calls} completed)", flush=True)
            uas = start_sipp(root / "uas", "uas", calls=args.calls, timeout=120)
            peers.started.append(uas)
            theirs, theirs_done = sip_calls_module().sipp_rate(
                root / "uac", f"{HOST}:{uas.port}", args.calls, args.concurrency, 60
            )
            print(f"sipp uac -> sipp uas: {theirs:.1f} calls/s ({theirs_done} of {args.calls})", flush=True)
        finally:
            cluster.stop()
            peers.stop_all()


if __name__ == "__main__":
    main()
