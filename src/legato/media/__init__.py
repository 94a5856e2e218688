"""The media engine: RTP termination, G.711, RFC 4733, AMD, beep and DTMF detectors, player, recorder, relay.

This layer may import only `legato.domain`. The pure DSP modules (g711, rtp, telephone_event, dtmf,
amd, beep, rtcp) do no I/O; the server process (`python -m legato.media.server`) and its client
(`legato.media.client`) talk newline-delimited JSON over a local TCP socket.
"""
