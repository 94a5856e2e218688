"""Legato's frames through Pipecat's own Twilio and Exotel serializers, and Pipecat's frames back through
Legato's parsers. Runs where `pipecat-ai` is installed (it is not a dependency: about 500 MB); checked by
hand with pipecat-ai 1.14 (see the issue 14 report)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import numpy as np
import pytest

from legato.media.stream.protocol import AgentAudio, AgentClear, StreamInfo
from legato.media.stream.registry import PROTOCOLS

frames = pytest.importorskip("pipecat.frames.frames")
processor = pytest.importorskip("pipecat.processors.frame_processor")


def serializer_for(protocol: str, rate: int) -> Any:
    if protocol == "twilio":
        from pipecat.serializers.twilio import TwilioFrameSerializer

        return TwilioFrameSerializer("MZ1", params=TwilioFrameSerializer.InputParams(auto_hang_up=False))
    from pipecat.serializers.exotel import ExotelFrameSerializer

    return ExotelFrameSerializer("MZ1", params=ExotelFrameSerializer.InputParams(exotel_sample_rate=rate))


@pytest.mark.parametrize(("protocol", "rate"), [("twilio", 8000), ("exotel", 8000), ("exotel", 16000)])
def test_pipecat_serializers_understand_legato(protocol: str, rate: int) -> None:
    async def run() -> None:
        framing = PROTOCOLS[protocol](StreamInfo("MZ1", "acme", "LEG1", ("inbound",), {}, rate))
        serializer = serializer_for(protocol, rate)
        fields = inspect.signature(processor.FrameProcessorSetup).parameters
        await serializer.setup(
            processor.FrameProcessorSetup(**{k: 16000 if "sample_rate" in k else None for k in fields})
        )
        tone = (np.sin(np.arange(160) / 8000 * 2 * np.pi * 440) * 8000).astype("<i2").tobytes()
        heard = [await serializer.deserialize(framing.media("inbound", tone, i + 1, 20 * i)) for i in range(10)]
        assert any(isinstance(f, frames.InputAudioRawFrame) for f in heard)
        assert isinstance(await serializer.deserialize(framing.dtmf("5")), frames.InputDTMFFrame)
        said = await serializer.serialize(
            frames.OutputAudioRawFrame(audio=b"\x01\x00" * 3200, sample_rate=16000, num_channels=1)
        )
        assert isinstance(framing.parse(said), AgentAudio)
        assert framing.parse(await serializer.serialize(frames.InterruptionFrame())) == AgentClear()
        # a pipeline's own transport messages go through the serializer as they are (RTVI's only when not ignored)
        note = frames.OutputTransportMessageUrgentFrame(message={"type": "agent-state", "state": "thinking"})
        assert framing.parse(await serializer.serialize(note)) is None

    asyncio.run(run())
