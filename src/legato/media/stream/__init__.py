"""Media streams: a leg's audio to and from an application's WebSocket (Twilio's and Exotel's protocols).

`protocol.py` holds the interface and the `PROTOCOLS` registry, one pure module per protocol
(`twilio.py`, `exotel.py`) frames and parses its messages, `core.py` is the sans-I/O stream state
(chunking, playout queue, marks, clear) the channel core drives, `socket.py` the WebSocket adapter.
"""
