"""The live input's health check: each problem gets one clear notice, once per episode."""

from __future__ import annotations

import numpy as np

from detector.inputcheck import REPEAT_S, SILENT_NOTICE_S, InputCheck

RATE = 8000
BLOCK = 256


def feed(check: InputCheck, audio: np.ndarray, overflows: int = 0, dropped_frames: int = 0) -> list[str]:
    """Every notice from feeding (n,) or (n, channels) audio in blocks."""
    frames = audio.reshape(len(audio), -1).astype(np.float32)
    notices = []
    for start in range(0, len(frames), BLOCK):
        notices += check.process(frames[start:start + BLOCK], overflows, dropped_frames)
    return notices


def tone(seconds: float, level: float = 0.3, offset: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * 220.0 * t) + offset


def test_a_clean_tone_earns_no_notice():
    assert feed(InputCheck(RATE), tone(5.0)) == []


def test_silence_is_noticed_once_after_a_while():
    check = InputCheck(RATE)
    assert feed(check, np.zeros(int((SILENT_NOTICE_S - 1) * RATE))) == []
    notices = feed(check, np.zeros(int(10 * RATE)))
    assert len(notices) == 1 and "silent" in notices[0] and "channel" in notices[0]


def test_dc_offset_is_noticed_with_its_size():
    [notice] = feed(InputCheck(RATE), tone(3.0, offset=0.25))
    assert "DC offset of +0.25" in notice


def test_clipping_is_noticed_and_tells_what_to_do():
    [notice] = feed(InputCheck(RATE), np.clip(tone(3.0, level=3.0), -1.0, 1.0))
    assert "clipping" in notice and "lower the input gain" in notice


def test_garbage_samples_are_noticed_on_every_channel():
    audio = np.stack([tone(3.0), tone(3.0)], axis=1)
    audio[100, 0], audio[200, 1], audio[300, 0], audio[400, 1] = np.nan, np.inf, -3e38, 1e10
    [notice] = feed(InputCheck(RATE), audio)
    assert "4 invalid samples" in notice and "replaced by silence" in notice


def test_lost_input_is_noticed_from_the_stream_counters():
    check = InputCheck(RATE)
    assert feed(check, tone(1.0)) == []
    notices = feed(check, tone(1.0), overflows=3, dropped_frames=RATE // 2)
    assert any("overflow" in n and "3 block(s)" in n for n in notices)
    assert any("skipped 0.50 s" in n for n in notices)


def test_a_problem_that_comes_and_goes_is_not_repeated_within_a_minute():
    check = InputCheck(RATE)
    clipped = np.clip(tone(1.0, level=3.0), -1.0, 1.0)
    notices = []
    for _ in range(int(REPEAT_S) // 2 - 1):
        notices += feed(check, clipped) + feed(check, tone(1.0))
    assert len(notices) == 1
    notices = []
    for _ in range(3):
        notices += feed(check, clipped) + feed(check, tone(1.0))
    assert len(notices) == 1  # the minute has passed: said again, once
