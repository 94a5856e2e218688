"""Compare two checkouts' answers to `POST /v2/accounts/{sid}/legs`, request by request.

    python bench/create_answers.py --a /path/to/main --b . [--random 2000] [--seed 12]

Starts one sandbox server from each checkout (its own `src`, SQLite), gives both an account `ACparity` (and
`ACother`) and sends each the same generated requests, one after the other: good and bad bodies (wrong types,
missing and unknown fields, bad numbers, out-of-range values, over-long text, NUL and lone surrogates, bad
JSON, bodies that are not objects, not UTF-8, chunked and over the body limit), credentials (none, Bearer,
not base64, no colon, wrong key or token, another account's, unstorable), paths and query strings,
Idempotency-Keys (first use, replay, another body, bad keys); then the same requests again while each server
drains (SIGTERM with a live leg). Answers are compared on status, headers (except Date) and body, with the
request id, sids and times masked. Prints the count and every difference; exit status 1 when any.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.legato_server import Account, LegatoServer  # noqa: E402

HUMAN, NEVER_ANSWERS = "09163816621", "09163810002"
GOOD = {"contact_uri": HUMAN, "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e",
        "time_limit": 1}
LIMIT = 16384  # LEGATO_MAX_BODY_BYTES of both servers
MASKED = {"request_id", "leg_sid", "call_sid", "created_at", "date_created", "date_updated", "start_time",
          "answer_time", "end_time", "state", "duration", "duration_ms"}


@dataclass(frozen=True)
class Call:
    """One request, symbolic where the two servers differ (their credentials)."""

    body: bytes | None = None
    auth: str = "good"
    sid: str = "ACparity"
    query: str = ""
    key: str | None = None
    content_type: str | None = "application/json"
    chunked: bool = False


def values() -> list[Any]:
    return [None, 0, -1, 1, 1.5, 10**30, True, False, "", "x", "12", "abc", "+", "9" * 40, "x" * 5000, "a\u0000b",
            "\ud800", [], [1], {}, {"a": 1}, float("nan"), float("inf")]


def dumps(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


def fixed() -> Iterator[Call]:
    """The hand-picked requests: every kind of refusal at least once, and idempotency sequences."""
    good = dumps(GOOD)
    for raw in [b"", b"null", b"[]", b"[1,2]", b'"text"', b"0", b"true", b"{", b"{not json", b"   ", b"{}",
                b"\xff\xfe", b'{"contact_uri":"\xff"}', "\ufeff".encode() + good, good.decode().encode("utf-16"),
                good + b" trailing", b'{"a":1,"a":2}', b"[" * 5000 + b"]" * 5000, b"{" * 100,
                b'{"contact_uri": NaN}', b'{"time_limit": Infinity}', b'{"\\u0000": 1}', b'{"x": "\\ud800"}',
                b"x" * (LIMIT + 1)]:
        yield Call(raw)
        yield Call(raw, auth="none")
    yield Call(b"x" * (LIMIT + 10), chunked=True)
    yield Call(good, chunked=True)
    for field in GOOD:
        yield Call(dumps({k: v for k, v in GOOD.items() if k != field}))
    for field in ("contact_uri", "exophone", "leg_event_endpoint", "time_limit", "timeout", "ring_timeout",
                  "custom_param", "network_type", "amd_enable", "amd_params", "priority", "event_format",
                  "status_callback_event", "stream", "sandbox_far_end", "reference_leg_sid", "colour", "\u0000"):
        for value in values():
            yield Call(dumps({**GOOD, field: value}))
    for auth in ("none", "bearer", "basic-empty", "not-base64", "no-colon", "not-ascii", "wrong-token", "wrong-key",
                 "nul-key", "other", "scheme-only", "lower-basic"):
        yield Call(good, auth=auth)
        yield Call(b"{bad", auth=auth)
    for sid in ("ACother", "AC\u0000x", "nope", "AC\ud800"):
        yield Call(good, sid=sid)
    for query in ("x=1", "x=%00", "contact_uri=1&contact_uri=2", "%ff"):
        yield Call(good, query=query)
        yield Call(b"{bad", query=query)
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"):
        yield Call(good, content_type=content_type)
        yield Call(b"{bad", content_type=content_type)
    # idempotency: first use, replay, another body, a refused first use then a good one, bad keys
    other = dumps({**GOOD, "custom_param": "other"})
    yield from (Call(good, key="k1"), Call(good, key="k1"), Call(other, key="k1"), Call(b"{bad", key="k1"),
                 Call(dumps({**GOOD, "timeout": 0}), key="k2"), Call(good, key="k2"), Call(good, key="k2"),
                 Call(b"{bad", key="k3"), Call(b"{bad", key="k3"), Call(good, key="k3"), Call(good, key="k4", auth="none"),
                 Call(good, key="k4"), Call(good, key="x" * 300), Call(good, key="a b"), Call(good, key=""),
                 Call(good, key="\u00e9"), Call(b"", key="k5"), Call(b"", key="k5"), Call(b"null", key="k6"),
                 Call(b"null", key="k6"), Call(dumps({**GOOD, "contact_uri": "12"}), key="k7"),
                 Call(dumps({**GOOD, "contact_uri": "12"}), key="k7"))


def generated(count: int, seed: int) -> Iterator[Call]:
    """Random combinations: a good body with one to three fields changed or removed, or raw bytes; random
    credentials, keys and query strings."""
    rng = random.Random(seed)
    fields = [*GOOD, "custom_param", "timeout", "amd_enable", "amd_params", "priority", "network_type", "colour",
              "requested_dc_code", "flow_url", "status_callback_event"]
    for index in range(count):
        body: dict[str, Any] = dict(GOOD)
        for _ in range(rng.randint(1, 3)):
            field = rng.choice(fields)
            if rng.random() < 0.3:
                body.pop(field, None)
            else:
                body[field] = rng.choice(values())
        raw = dumps(body) if rng.random() < 0.9 else rng.choice([b"", b"{", b"[]", b"null", dumps(GOOD)[:-1]])
        auth = rng.choice(["good"] * 6 + ["none", "wrong-token", "bearer", "not-base64", "other"])
        key = rng.choice([None, None, None, f"r{index}", f"r{index % 7}", "x" * 300])
        query = rng.choice([""] * 8 + ["a=1", "a=%00"])
        yield Call(raw, auth=auth, key=key, query=query)


def headers_for(call: Call, account: Account, other: Account, run: str) -> dict[str, bytes]:
    def basic(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()

    auth = {
        "good": basic(f"{account.api_key}:{account.api_token}"),
        "none": None,
        "bearer": "Bearer abc",
        "basic-empty": "Basic =",
        "not-base64": "Basic !!!",
        "no-colon": basic(account.api_key),
        "not-ascii": basic("k\u00e9y:t"),
        "wrong-token": basic(f"{account.api_key}:nope"),
        "wrong-key": basic(f"key_nope:{account.api_token}"),
        "nul-key": basic(f"k\u0000:{account.api_token}"),
        "other": basic(f"{other.api_key}:{other.api_token}"),
        "scheme-only": "Basic",
        "lower-basic": "basic " + basic(f"{account.api_key}:{account.api_token}").split(" ", 1)[1],
    }[call.auth]
    headers = {}
    if auth is not None:
        headers["authorization"] = auth
    if call.content_type is not None:
        headers["content-type"] = call.content_type
    if call.key is not None:
        headers["idempotency-key"] = f"{run}-{call.key}" if call.key.isalnum() and len(call.key) < 20 else call.key
    return {name: value.encode("latin-1") for name, value in headers.items()}


def send(client: httpx.Client, url: str, call: Call, account: Account, other: Account, run: str) -> httpx.Response:
    path = "/v2/accounts/" + "".join(c if c.isalnum() else f"%{ord(c):02X}" if ord(c) < 128
                                     else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
                                     for c in call.sid) + "/legs"
    target = url + path + (f"?{call.query}" if call.query else "")
    content: Any = call.body
    if call.chunked and call.body is not None:
        data = call.body
        content = iter([data[i:i + 1000] for i in range(0, len(data), 1000)])
    for attempt in range(5):  # a 413 closes the connection: the client may see a reset while still sending
        try:
            return client.post(target, content=content, headers=headers_for(call, account, other, run))
        except httpx.TransportError:
            if attempt == 4:
                raise
            if call.chunked and call.body is not None:
                content = iter([call.body[i:i + 1000] for i in range(0, len(call.body), 1000)])
    raise AssertionError("unreachable")


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("*" if k in MASKED else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def answer(response: httpx.Response) -> tuple[Any, ...]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "content-length"))
    try:
        body: Any = masked(response.json())
    except ValueError:
        body = response.text
    length = response.headers.get("content-length") if response.status_code >= 400 else None
    return response.status_code, headers, body, length


def start(root: Path, workdir: Path) -> tuple[LegatoServer, Account, Account]:
    env = {"PYTHONPATH": str(root / "src"), "LEGATO_MAX_BODY_BYTES": str(LIMIT), "LEGATO_DRAIN_TIMEOUT": "600",
           "LEGATO_DRAIN_FLUSH_TIMEOUT": "0"}
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}", env=env)
    account = server.create_account("--sid", "ACparity")
    other = server.create_account("--sid", "ACother")
    server.start()
    return server, account, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="one checkout (e.g. main's)")
    parser.add_argument("--b", type=Path, default=ROOT, help="the other (default: this one)")
    parser.add_argument("--random", type=int, default=2000, help="generated requests, besides the fixed ones")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    calls = [*fixed(), *generated(args.random, args.seed)]
    servers = [start(root.resolve(), Path(tempfile.mkdtemp(prefix="answers-"))) for root in (args.a, args.b)]
    clients = [httpx.Client(timeout=30) for _ in servers]
    compared, differences, statuses = 0, [], {}
    try:
        for phase in ("serving", "draining"):
            if phase == "draining":
                for (server, account, _), client in zip(servers, clients, strict=True):
                    live = client.post(f"{server.url}/v2/accounts/ACparity/legs", auth=account.auth,
                                       json={**GOOD, "contact_uri": NEVER_ANSWERS, "time_limit": 3600,
                                             "timeout": 3600, "ring_timeout": 3600})
                    assert live.status_code == 202, live.text
                    time.sleep(0.5)
                    assert server.process is not None
                    server.process.send_signal(signal.SIGTERM)
                    while client.post(f"{server.url}/v2/accounts/ACparity/legs", auth=account.auth,
                                      json=GOOD).status_code == 202:
                        time.sleep(0.05)
            for index, call in enumerate(calls):
                run = f"{phase[0]}{args.seed}"
                answers = [answer(send(client, server.url, call, account, other, run))
                           for (server, account, other), client in zip(servers, clients, strict=True)]
                compared += 1
                statuses[answers[1][0]] = statuses.get(answers[1][0], 0) + 1
                if answers[0] != answers[1]:
                    differences.append((phase, index, call, answers))
    finally:
        for server, _, _ in servers:
            server.stop(signal.SIGKILL)
    print(json.dumps({"requests_compared": compared, "fixed": len(list(fixed())), "random": args.random,
                      "statuses": dict(sorted(statuses.items())), "differences": len(differences)}))
    for phase, index, call, answers in differences[:20]:
        print(f"--- {phase} #{index}: {call!r}\n  a: {answers[0]}\n  b: {answers[1]}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
