"""The Detector as a plugin: any block size, any rate, any channel count, garbage in."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.engine import Detector

from conftest import SAMPLE_RATE, detect, render_performance


@pytest.fixture(scope="module")
def performance(theme_named):
    audio, _, _ = render_performance(theme_named("Dies irae"), transpose=-3, tempo=1.3,
                                     timbre="strings", before_s=4.0, seed=5)
    return audio


@pytest.fixture(scope="module")
def reference(themes, performance):
    return detect(themes, performance, block=4096)


def test_reference_run_finds_the_theme(reference):
    assert [d.theme for d in reference] == ["Dies irae"]


@settings(max_examples=12, deadline=None)
@given(block=st.sampled_from([64, 65, 128, 441, 1000, 4096, 65536]))
def test_same_events_whatever_the_block_size(themes, performance, reference, block):
    assert detect(themes, performance, block=block) == reference


def test_same_events_with_ragged_blocks(themes, performance, reference):
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    rng = np.random.default_rng(0)
    found, start = [], 0
    while start < len(performance):
        size = int(rng.integers(1, 3000))
        found += detector.process(performance[start:start + size])
        start += size
    assert found == reference


@pytest.mark.parametrize("sample_rate", [8000, 16000, 44100, 48000, 96000])
def test_works_at_common_sample_rates(themes, theme_named, sample_rate):
    audio, start_s, end_s = render_performance(theme_named("Ode to Joy"), transpose=-5,
                                               sample_rate=sample_rate)
    found = detect(themes, audio, sample_rate=sample_rate)
    assert [(d.theme, d.transpose) for d in found] == [("Ode to Joy", -5)]
    assert start_s < found[0].time_s < end_s


def test_stereo_and_int16_input(themes, performance):
    stereo = np.stack([performance, performance], axis=1)
    as_int16 = (stereo * 32767).astype(np.int16).astype(np.float32) / 32767
    assert [d.theme for d in detect(themes, as_int16)] == ["Dies irae"]


def test_garbage_samples_are_replaced_and_counted(themes, performance):
    noisy = performance.copy()
    noisy[1000:1100] = np.nan
    noisy[5000:5010] = np.inf
    noisy[9000:9005] = 3e38
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    found = detector.process(noisy)
    assert detector.sanitised_samples == 115
    assert [d.theme for d in found] == ["Dies irae"]
    assert np.isfinite(detector.display.f0_hz)


def test_dc_offset_and_clipping_do_not_hide_the_theme(themes, performance):
    distorted = np.clip(performance * 4 + 0.3, -1, 1)
    assert [d.theme for d in detect(themes, distorted)] == ["Dies irae"]


def test_clock_and_display_state_follow_the_stream(themes, performance):
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    detector.process(performance[: SAMPLE_RATE * 5])
    assert detector.time_s == pytest.approx(5.0)
    assert detector.display.level_db > -60
    assert detector.display.theme_score.shape == (len(themes),)


def test_empty_theme_list_and_empty_blocks_are_harmless(performance):
    detector = Detector([], SAMPLE_RATE, warm_up=False)
    assert detector.process(np.zeros(0, dtype=np.float32)) == []
    assert detector.process(performance) == []


def test_pitch_history_keeps_the_last_seconds_for_a_scrolling_display(themes):
    from detector.synth import render_notes
    from detector.notes import Note
    audio = render_notes([Note(69.0, 0.0, 20.0)], SAMPLE_RATE, "organ")
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    for start in range(0, len(audio), 2048):
        detector.process(audio[start:start + 2048])
    history = detector.display.history
    assert history.frames_written > history.capacity  # it wrapped around
    newest = (history.frames_written - 1) % history.capacity
    assert history.time_s[newest] == pytest.approx(detector.time_s, abs=0.05)
    assert history.time_s.max() - history.time_s.min() == pytest.approx(12.0, abs=0.05)
    inside = history.time_s < 19.5
    assert np.nanmedian(np.abs(history.midi[inside] - 69.0)) < 0.1
