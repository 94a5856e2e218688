"""Speech on real SIP legs: baresip says an espeak-ng phrase into a speech gather and into a transcribed
recording; the media engine end-points it and pocketsphinx (in its worker process) recognises it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.network.sip import audio
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_media_legs import World, dial, media_world, wait_event  # noqa: F401

pytestmark = [pytest.mark.sip, pytest.mark.media]
SAID = "open an account"
MENU = ["check my balance", "make a payment", "report a lost card", "speak to an agent", "open an account"]


def phrase_for_baresip(folder: Path) -> Path:
    """The phrase then silence, as the 48 kHz stereo WAV baresip's aufile source plays."""
    folder.mkdir(parents=True, exist_ok=True)
    spoken = audio.join(
        [audio.speech(SAID, folder / "said.wav"), audio.silence(30.0, folder / "after.wav")], folder / "phrase.wav"
    )  # baresip hangs up when its source file ends
    target = folder / "phrase48.wav"
    subprocess.run(
        ["sox", "-R", str(spoken), "-r", "48000", "-c", "2", "-b", "16", "-e", "signed-integer", str(target)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return target


def connected_phone(media_world: World, tmp_path: Path) -> tuple[object, BaresipControl, str, Path]:  # noqa: F811
    quiet = audio.silence(60.0, tmp_path / "wav" / "quiet.wav") if (tmp_path / "wav").mkdir() is None else None
    api, phone = media_world(audio_file=quiet)  # the phone is silent until told to speak
    control = BaresipControl(phone.extra["ctrl"])
    leg_sid = dial(api, phone)
    api.wait_state(leg_sid, "connected")
    control.wait_event("CALL_ESTABLISHED", timeout=5)
    return api, control, leg_sid, phrase_for_baresip(tmp_path / "phrase")


def test_speech_gather_recognises_what_the_phone_says(media_world: World, tmp_path: Path) -> None:  # noqa: F811
    api, control, leg_sid, phrase = connected_phone(media_world, tmp_path)
    try:
        started = api.action(
            leg_sid,
            action="gather",
            input="dtmf speech",
            timeout=10,
            speech_timeout=0.8,  # type: ignore[attr-defined]
            hints=MENU,
        )
        assert started.status_code == 202, started.text
        control.command("ausrc", f"aufile,{phrase}")  # the caller starts speaking after the gather started
        [done] = wait_event(api, leg_sid, "gather_completed", seconds=20)  # type: ignore[arg-type]
        assert (done["reason"], done["digits"], done["speech_result"]) == ("speech", "", SAID), done
        assert 0 < done["confidence"] <= 1
        api.action(leg_sid, action="hangup")  # type: ignore[attr-defined]
        api.wait_terminal(leg_sid)  # type: ignore[attr-defined]
    finally:
        control.close()


def test_transcription_of_a_recording_of_the_phone(media_world: World, tmp_path: Path) -> None:  # noqa: F811
    api, control, leg_sid, phrase = connected_phone(media_world, tmp_path)
    try:
        started = api.action(leg_sid, action="start_recording", direction="in", transcribe=True)  # type: ignore[attr-defined]
        assert started.status_code == 202, started.text
        control.command("ausrc", f"aufile,{phrase}")
        api.action(leg_sid, action="gather", input="speech", timeout=10)  # type: ignore[attr-defined]
        wait_event(api, leg_sid, "gather_completed", seconds=20)  # type: ignore[arg-type]  # the phrase is over
        api.action(leg_sid, action="hangup")  # type: ignore[attr-defined]  # the recording ends with the call
        [recorded] = wait_event(api, leg_sid, "recording_completed")  # type: ignore[arg-type]
        [done] = wait_event(api, leg_sid, "transcription_completed", seconds=20)  # type: ignore[arg-type]
        assert done["status"] == "completed", done
        assert done["recording_id"] == recorded["recording_id"] and done["recording_url"] == recorded["recording_url"]
        assert done["text"] and 0 < done["confidence"] <= 1  # no hints: the general LM's (poor) reading
    finally:
        control.close()
