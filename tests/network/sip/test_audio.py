"""The audio the SIP media tests play is the same on every run: sox dithers and makes noise with a fixed seed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.network.sip.audio import hard_answer

pytestmark = pytest.mark.skipif(not (shutil.which("sox") and shutil.which("espeak-ng")), reason="needs sox, espeak-ng")


def test_a_noisy_answer_is_the_same_file_every_time(tmp_path: Path) -> None:
    made = [hard_answer(tmp_path / str(run), "Hello, this is Anna", gain_db=-6, noise=0.03, music_hz=440, beep_hz=900)
            for run in range(2)]
    first, second = (path.read_bytes() for path in made)
    assert len(first) > 14 * 8000 * 2 and first == second
