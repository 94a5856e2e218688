"""AMD through real SIP calls on hard answers that baresip plays: a quiet talker, a noisy line, a long
business answer, and a beep after a long greeting over music (issue 18's fixed conditions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.network.sip import audio
from tests.network.sip.test_media_legs import World, dial, media_world, wait_event  # noqa: F401

pytestmark = [pytest.mark.sip, pytest.mark.media]

HUMANS = {
    "quiet": {"text": "Hello?", "gain_db": -20},
    "noisy": {"text": "Hello, who is this?", "noise": 0.05},
    "long answer": {"text": "Good morning, Sharma Traders, how can I help you?", "rate": 185},  # 2.8 s
}


@pytest.mark.parametrize("case", list(HUMANS))
def test_hard_human_answers_are_human(media_world: World, tmp_path: Path, case: str) -> None:  # noqa: F811
    options: dict[str, Any] = HUMANS[case]
    api, phone = media_world(audio_file=audio.hard_answer(tmp_path / "wav", **options))
    leg_sid = dial(api, phone, amd_enable=True)
    [answered] = wait_event(api, leg_sid, "leg_answered")
    assert answered["answered_by"] == "HUMAN"
    assert 0.5 <= answered["amd"]["confidence"] <= 1
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_beep_after_a_long_greeting_over_music(media_world: World, tmp_path: Path) -> None:  # noqa: F811
    answer = audio.hard_answer(tmp_path / "wav", audio.GREETING, music_hz=392, beep_hz=1000, noise=0.01)
    api, phone = media_world(audio_file=answer)
    leg_sid = dial(api, phone, amd_enable=True, async_amd=True)
    verdicts = wait_event(api, leg_sid, "amd_result_success", count=2, seconds=25)
    assert [v["answered_by"] for v in verdicts] == ["MACHINE", "BEEP"]
    assert all(0.5 <= v["amd"]["confidence"] <= 1 for v in verdicts)
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)
