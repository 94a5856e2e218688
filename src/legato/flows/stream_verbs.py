"""Media streams: `<Connect><Stream>` (bidirectional, holds the call) and `<Start><Stream>` / `<Stop><Stream>`
(forked audio beside the flow), mapped onto the leg actions `start_stream` / `stop_stream`."""

from __future__ import annotations

from legato.domain.errors import Conflict
from legato.flows.runner import Flow, Next
from legato.flows.twiml import FlowError, Verb

TRACKS = {"inbound_track": "inbound", "outbound_track": "outbound", "both_tracks": "both"}
STREAM_ENDED = frozenset({"stream_stopped", "stream_ended", "stream_closed"})


def _stream(verb: Verb) -> Verb:
    streams = [child for child in verb.children if child.name == "Stream"]
    if len(streams) != 1:
        raise FlowError("verb", verb.name, f"<{verb.name}> takes exactly one <Stream>")
    return streams[0]


def _fields(stream: Verb, bidirectional: bool) -> dict[str, object]:
    url = stream.get("url")
    if not url or not url.lower().startswith(("ws://", "wss://")):
        raise FlowError("attribute", "Stream.url", "<Stream> needs url: a ws:// or wss:// URL")
    track = stream.get("track", "inbound_track") or "inbound_track"
    if track not in TRACKS:
        raise FlowError(
            "attribute", "Stream.track", f"Stream track={track!r}: inbound_track, outbound_track or both_tracks"
        )
    custom = {p.get("name") or "": p.get("value") or "" for p in stream.children if p.name == "Parameter"}
    return {
        "url": url,
        "protocol": "twilio",
        "track": TRACKS[track],
        "bidirectional": bidirectional,
        "custom_parameters": custom or None,
    }


async def _start(flow: Flow, stream: Verb, bidirectional: bool) -> str:
    """Start the stream, return its stream_sid; its statusCallback (stream-started, -stopped, -error) follows it."""
    fields = _fields(stream, bidirectional)
    callback = stream.get("statusCallback")
    url = flow.resolve(callback, "Stream.statusCallback") if callback else None
    method = stream.method("statusCallbackMethod")
    await flow.answer()
    started = await flow.act("start_stream", **fields)
    sid = str(started.get("stream_sid"))
    if not bidirectional:
        flow.streams[sid] = stream.get("name") or ""
    if url is not None:
        flow.host.callbacks.expect_stream(flow.leg, sid, url, method, stream.get("name") or "")
    return sid


async def connect(flow: Flow, verb: Verb) -> Next | None:
    """Stream both ways until this stream ends (not a <Start><Stream> fork beside it), then the action URL
    (or the next verb)."""
    method = verb.method()
    sid = await _start(flow, _stream(verb), True)
    await flow.wait(lambda e: e.event_name in STREAM_ENDED and e.data.get("stream_sid") == sid)
    action = verb.get("action")
    return Next(flow.resolve(action, "Connect.action"), method) if action else None


async def start(flow: Flow, verb: Verb) -> None:
    """Fork the call's audio to the stream and go on with the next verb."""
    await _start(flow, _stream(verb), False)


async def stop(flow: Flow, verb: Verb) -> None:
    """Stop the stream <Start> started with that `name` (Twilio's way), or without a name every one it started."""
    name = _stream(verb).get("name") or ""
    sids = [sid for sid, named in flow.streams.items() if named == name or not name]
    if name and not sids:
        raise FlowError("attribute", "Stream.name", f"<Stop><Stream name={name!r}>: no stream of that name was started")
    for sid in sids:
        del flow.streams[sid]
        try:
            await flow.act("stop_stream", stream_sid=sid)
        except Conflict:
            pass  # it had ended already (the agent closed it): nothing to stop
