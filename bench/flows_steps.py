"""What one call-flow step costs Legato: parse a TwiML document, build and sign its request, and fetch it.

    PYTHONPATH=src python bench/flows_steps.py [--rounds 2000] [--fetches 300]

1. Pure work per step: `twiml.parse` of a typical IVR document (Gather with a nested Say, a Redirect) and
   the request's parameters with both signatures (X-Twilio-Signature and Standard Webhooks).
2. A whole fetch through `flows.fetch.Fetcher` (pinned client, address check, signing, reading the body)
   from a stdlib HTTP server on 127.0.0.1 in a thread, sequentially; median and p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from legato.domain.leg import Direction, Leg, LegState
from legato.events.endpoints import EndpointPolicy
from legato.flows.fetch import Fetcher
from legato.flows.params import call_params, twilio_signature
from legato.flows.twiml import parse

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/menu" numDigits="1" timeout="5">'
    b'<Say voice="woman" language="en-GB">Press 1 for sales, 2 for support, 3 to leave a message</Say>'
    b"</Gather><Say>We did not get that</Say><Redirect>/voice</Redirect></Response>"
)


def pure(rounds: int) -> tuple[float, float]:
    leg = Leg(
        "LEG1",
        "AC1",
        "CALL1",
        Direction.OUTBOUND,
        "09163816621",
        "+919163816621",
        "08030752400",
        "pstn",
        None,
        datetime.now(UTC),
        state=LegState.CONNECTED,
    )
    started = time.perf_counter()
    for _ in range(rounds):
        parse(DOCUMENT)
    parsed = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        params = {**call_params(leg), "Digits": "1"}
        twilio_signature("https://app.example.com/menu", params, SECRET)
        Webhook(SECRET).sign("msg_1", datetime.now(UTC), "&".join(f"{k}={v}" for k, v in params.items()))
    signed = (time.perf_counter() - started) / rounds
    return parsed * 1e6, signed * 1e6


def serve() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # one write per answer (headers and body), not one per header line

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "application/xml")
            self.send_header("content-length", str(len(DOCUMENT)))
            self.end_headers()
            self.wfile.write(DOCUMENT)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def fetches(count: int) -> list[float]:
    server = serve()

    async def secret(account_sid: str) -> str:
        return SECRET

    fetcher = Fetcher(EndpointPolicy(allow_loopback=True), secret)
    url = f"http://127.0.0.1:{server.server_address[1]}/voice"
    params = {"CallSid": "LEG1", "AccountSid": "AC1", "CallStatus": "in-progress", "Digits": "1"}
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            parse(await fetcher.fetch("AC1", url, "POST", params))
            times.append((time.perf_counter() - started) * 1000)
    finally:
        await fetcher.aclose()
        server.shutdown()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--fetches", type=int, default=300)
    args = parser.parse_args()
    parsed_us, signed_us = pure(args.rounds)
    print(f"parse a {len(DOCUMENT)} B IVR document: {parsed_us:.1f} us")
    print(f"parameters + X-Twilio-Signature + Standard Webhooks signature: {signed_us:.1f} us")
    times = sorted(asyncio.run(fetches(args.fetches)))
    print(
        f"fetch + parse over HTTP on 127.0.0.1 ({len(times)} sequential): median {statistics.median(times):.2f} ms, "
        f"p95 {times[int(len(times) * 0.95)]:.2f} ms"
    )


if __name__ == "__main__":
    main()
