"""stop_recording: end the running recording (`recording_completed` reason stopped).

Sandbox: the WAV is silence as long as the recording ran, under the recordings folder, so its URL serves a
real file; `transcription_completed` follows when it was transcribed (network/sandbox_leg.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.domain.errors import Conflict
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class StopRecording:
    kind: ClassVar[str] = "stop_recording"

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        result = await engine.stop_recording(leg_sid)
        return {"recording_id": result["recording_id"], "duration_ms": result["duration_ms"]}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        if far_end.recording is None:
            raise Conflict("not recording", field="action")
        return far_end.finish_recording("stopped")


async def _stop_recording(request: Request, ctx: ActionContext) -> StopRecording:
    return StopRecording()


ACTION = ActionSpec("stop_recording", command=_stop_recording)
