"""start_recording: record the leg's audio (in, out or both) to a WAV under the account's folder.

Sandbox: the recording is silence as long as it ran (stop_recording.py); with beep it starts 0.5 s later
(the beep is not simulated as audio); with transcribe the transcript is the leg's sandbox_speech (or "").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.domain.errors import Conflict
from legato.media.base import MediaEngine
from legato.media.player import BEEP_SECONDS
from legato.network.sandbox_leg import SandboxLeg, SandboxRecording


@dataclass(frozen=True, slots=True)
class StartRecording:
    kind: ClassVar[str] = "start_recording"
    direction: Literal["in", "out", "both"] = "both"  # in (what the far end says), out (what it hears), both
    folder: str | None = None  # sub-folder of the recordings folder (the account's)
    transcribe: bool = False  # transcription_completed follows recording_completed
    beep: bool = False  # a short 1 kHz tone first; the recording starts after it
    far_end_speech: str | None = None  # the sandbox's far end says this (the leg's sandbox_speech)

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        result = await engine.start_recording(leg_sid, self.direction, self.folder, self.transcribe, self.beep)
        return {"recording_id": result["recording_id"]}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        if far_end.recording is not None:
            raise Conflict("already recording", field="action")
        rec_id = far_end.new_id("rec")
        far_end.recording = SandboxRecording(
            rec_id, far_end.now() + (BEEP_SECONDS if self.beep else 0.0), self.direction, self.folder,
            (self.far_end_speech or "") if self.transcribe else None)
        return {"recording_id": rec_id}


async def _start_recording(request: Request, ctx: ActionContext) -> StartRecording:
    return StartRecording(request.direction or "both", ctx.account.account_sid, bool(request.transcribe),
                          bool(request.beep), ctx.leg.extra.get("sandbox_speech"))


ACTION = ActionSpec("start_recording", {
    "direction": (Literal["in", "out", "both"] | None, Field(
        None, description="start_recording: in (the far end), out (what it hears), both (mixed)")),
    "transcribe": (bool | None, Field(None, description="start_recording: transcribe the recording when it "
                                                        "completes (transcription_completed event)")),
    "beep": (bool | None, Field(None, description="start_recording: play a short 1 kHz tone to the leg first; the "
                                                  "recording starts after it (default false)")),
}, command=_start_recording)
