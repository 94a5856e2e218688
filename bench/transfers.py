"""Benchmark: how long a transfer takes on the real SIP network, from the API request to `transfer_completed`.

    python bench/transfers.py [--rounds 10]

Legato (`--network sip`, time scale 1) and two auto-answering baresip phones, alice and carol, on 127.0.0.1.
Each round places a leg to alice, then:
- blind: transfers it to carol (REFER; alice calls carol, who answers; NOTIFY 200) -> the leg ends;
- attended: transfers it to carol (Legato dials carol, bridges her with alice when she answers).
The figure is the event's own timestamp minus the moment the request was sent (one clock, one machine),
so it includes the HTTP request, the SIP round trips, baresip's call set-up and the durable write.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.legato_server import Api, LegatoServer  # noqa: E402
from tests.network.sip.conftest import Peers  # noqa: E402
from tests.network.sip.peers import BaresipControl, free_port  # noqa: E402
from tests.network.sip.test_transfers_api import CONFIG, EXOPHONE, connected  # noqa: E402


def completed_at(api: Api, leg_sid: str, within: float = 15) -> float:
    """The wall-clock time of the leg's transfer_completed (its event timestamp)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for event in api.events(leg_sid):
            if event["event_name"] == "transfer_completed":
                stamp = event["payload"]["event_timestamp"]
                return float(stamp["seconds"]) + stamp["nanos"] / 1e9
            if event["event_name"] == "transfer_failed":
                raise RuntimeError(f"transfer failed: {event['payload']}")
        time.sleep(0.01)
    raise TimeoutError("no transfer_completed")


def one_round(api: Api, alice: str, carol: str, carol_control: BaresipControl, mode: str) -> float:
    leg_sid = connected(api, alice)
    sent = time.time()
    response = api.action(leg_sid, action="transfer", to=carol, mode=mode)
    assert response.status_code == 202, response.text
    took = completed_at(api, leg_sid) - sent
    carol_control.wait_event("CALL_ESTABLISHED", timeout=10)
    if mode == "attended":
        api.action(leg_sid, action="hangup")  # the bridge ends: carol is hung up too
    else:
        carol_control.command("hangup")  # alice and carol talk directly: carol hangs up
    carol_control.wait_event("CALL_CLOSED", timeout=10)
    api.wait_terminal(leg_sid)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        peers = Peers(root)
        server: LegatoServer | None = None
        try:
            alice, carol = peers.phone(user="alice"), peers.phone(user="carol")
            sip_port, rtp = free_port(), free_port(count=40)
            config = root / "legato.toml"
            config.write_text(CONFIG.format(sip_port=sip_port, rtp=rtp, rtp_max=rtp + 39, exophone=EXOPHONE))
            server = LegatoServer(
                workdir=root,
                database_url=f"sqlite+aiosqlite:///{root / 'legato.db'}",
                time_scale=1.0,
                env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)},
            )
            account = server.create_account("--sid", "acme", "--exophone", EXOPHONE)
            server.start()
            api = Api(server, account)
            control = BaresipControl(carol.extra["ctrl"])
            figures: dict[str, Any] = {}
            for mode in ("blind", "attended"):
                took = [
                    one_round(
                        api, f"sip:alice@127.0.0.1:{alice.port}", f"sip:carol@127.0.0.1:{carol.port}", control, mode
                    )
                    for _ in range(args.rounds)
                ]
                figures[mode] = took
                print(
                    f"{mode:9s} rounds={len(took)} median={statistics.median(took) * 1000:.0f} ms "
                    f"max={max(took) * 1000:.0f} ms"
                )
            control.close()
        finally:
            if server is not None:
                server.stop()
            peers.stop_all()


if __name__ == "__main__":
    main()
