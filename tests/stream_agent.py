"""A voice agent for stream tests: a real `websockets` server on 127.0.0.1 that keeps every frame it gets,
can echo the leg's audio back, and sends media, marks and clears in Twilio's or Exotel's shapes."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.sync.server import Server, ServerConnection, serve

from legato.media import g711
from tests.waiting import wait_for

SID = {"twilio": "streamSid", "exotel": "stream_sid"}


class Agent:
    """One WebSocket server; `connections` holds what each connected stream sent (newest last)."""

    def __init__(self, protocol: str = "twilio", echo: bool = False) -> None:
        self.protocol = protocol
        self.echo = echo
        self.frames: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.closed = threading.Event()
        self.connection: ServerConnection | None = None
        self.lock = threading.Lock()
        self.server: Server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/agent?room=1"

    def _handle(self, ws: ServerConnection) -> None:
        self.connection = ws
        assert ws.request is not None
        self.paths.append(ws.request.path)
        self.headers.append({k.lower(): v for k, v in ws.request.headers.raw_items()})
        try:
            for text in ws:
                frame = json.loads(text)
                with self.lock:
                    self.frames.append(frame)
                if self.echo and frame.get("event") == "media" and frame["media"].get("track") == "inbound":
                    ws.send(
                        json.dumps(
                            {
                                "event": "media",
                                SID[self.protocol]: self.sid(),
                                "media": {"payload": frame["media"]["payload"]},
                            }
                        )
                    )
        except Exception:  # the connection went away: `closed` tells the test
            pass
        finally:
            self.closed.set()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    # -- what arrived --
    def events(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [f for f in self.frames if f.get("event") == name]

    def wait(self, check: Callable[[], Any], seconds: float = 15.0, what: str = "") -> Any:
        return wait_for(check, seconds=seconds, every=0.02,
                        what=lambda: f"{what} (agent saw {[f.get('event') for f in self.frames][-12:]})")

    def sid(self) -> str:
        start = self.events("start")[0]
        return start[SID[self.protocol]]

    def media_count(self) -> int:
        return len(self.events("media"))

    def inbound_pcm(self) -> bytes:
        """The inbound track as 8 kHz PCM."""
        out = bytearray()
        for frame in self.events("media"):
            if frame["media"].get("track", "inbound") != "inbound":
                continue
            out += decode(self.protocol, frame["media"]["payload"], self.rate())
        return bytes(out)

    def rate(self) -> int:
        if self.protocol == "twilio":
            return 8000
        return int(self.events("start")[0]["start"]["media_format"]["sample_rate"])

    # -- sending --
    def send(self, message: dict[str, Any]) -> None:
        assert self.connection is not None
        self.connection.send(json.dumps({**message, SID[self.protocol]: self.sid()}))

    def send_audio(self, pcm8k: bytes) -> None:
        self.send({"event": "media", "media": {"payload": encode(self.protocol, pcm8k, self.rate())}})

    def mark(self, name: str) -> None:
        self.send({"event": "mark", "mark": {"name": name}})

    def clear(self) -> None:
        self.send({"event": "clear"})


def decode(protocol: str, payload: str, rate: int) -> bytes:
    raw = base64.b64decode(payload)
    if protocol == "twilio":
        return g711.decode(g711.Codec.PCMU, raw)
    return g711.resample(raw, rate, 8000)[0]


def encode(protocol: str, pcm8k: bytes, rate: int) -> str:
    if protocol == "twilio":
        return base64.b64encode(g711.encode(g711.Codec.PCMU, pcm8k)).decode()
    pcm = g711.resample(pcm8k, 8000, rate)[0]
    pcm = pcm[: len(pcm) // 320 * 320]
    return base64.b64encode(pcm).decode()


def envelope(pcm: bytes, frame: int = 160) -> np.ndarray:
    """RMS per 20 ms frame."""
    samples = np.frombuffer(pcm[: len(pcm) // (2 * frame) * 2 * frame], dtype="<i2").astype(np.float64)
    return np.sqrt((samples.reshape(-1, frame) ** 2).mean(axis=1))


def best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The highest normalised correlation of envelope `b` (shorter) over shifts along `a`."""
    if len(a) < len(b):
        a, b = b, a
    b = (b - b.mean()) / (b.std() or 1.0)
    best = -1.0
    for shift in range(0, len(a) - len(b) + 1):
        window = a[shift : shift + len(b)]
        std = window.std()
        if std == 0:
            continue
        best = max(best, float(np.mean((window - window.mean()) / std * b)))
    return best
