from legato.media.player import Prompt


def test_frames_pad_and_loop() -> None:
    prompt = Prompt("p", b"\x01\x00" * 200, loop=2)
    frames = []
    while (f := prompt.next_frame()) is not None:
        frames.append(f)
    assert len(frames) == 4 and all(len(f) == 320 for f in frames)
    assert frames[1].endswith(b"\x00" * 80)


def test_loop_zero_plays_until_stopped() -> None:
    prompt = Prompt("p", b"\x01\x00" * 160, loop=0)
    assert all(prompt.next_frame() is not None for _ in range(50))
