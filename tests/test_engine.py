"""The Detector as a plugin: any block size, any rate, any channel count, garbage in."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.engine import Detector
from detector.notes import Note
from detector.sanitize import mix_to_mono
from detector.themes import Theme

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


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8])
def test_stereo_integer_blocks_are_read_at_their_full_scale(themes, performance, dtype):
    """As a WAV file or an interface holds them: int16, int32, and 8-bit centred on 128."""
    full_scale = 2.0 ** (8 * np.dtype(dtype).itemsize - 1)
    centre = full_scale if np.dtype(dtype).kind == "u" else 0.0
    stereo = np.stack([performance, performance], axis=1)
    as_int = np.round(stereo * (full_scale - 1) + centre).astype(dtype)
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    found = [d.theme for start in range(0, len(as_int), 4096)
             for d in detector.process(as_int[start:start + 4096])]
    assert found == ["Dies irae"] and detector.sanitised_samples == 0


def test_any_memory_layout_takes_the_compiled_path(themes, performance):
    """Fortran-ordered, strided and read-only blocks are converted to the one layout the
    kernels were compiled for: none compiles again on a live stream's first odd block."""
    detector = Detector(themes, SAMPLE_RATE)
    compiled = len(mix_to_mono.signatures)
    stereo = np.stack([performance, performance], axis=1)[:8192]
    read_only = np.frombuffer(performance[:4096].tobytes(), dtype=np.float32)
    for block in (np.asfortranarray(stereo), performance[:8192:2], read_only):
        detector.process(block)
    assert len(mix_to_mono.signatures) == compiled


@pytest.mark.parametrize("shape", [(4096, 0), (), (4096, 2, 1), (2, 4096),
                                   (2, 128), (8, 64)])  # planar blocks of live sizes
def test_a_block_of_another_shape_is_refused_clearly(shape):
    detector = Detector([], SAMPLE_RATE, warm_up=False)
    with pytest.raises(ValueError, match="block"):
        detector.process(np.zeros(shape, dtype=np.float32))
    assert detector.samples_consumed == 0


def test_short_blocks_of_a_few_channels_are_frames(themes, performance):
    """One frame of stereo, or 16 frames of a 24-channel interface, are not planar."""
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    detector.process(np.zeros((1, 2), dtype=np.float32))
    detector.process(np.zeros((16, 24), dtype=np.float32))
    assert detector.samples_consumed == 17


def test_short_blocks_of_an_input_with_many_channels_are_frames(themes):
    """A 64-channel interface's short callback, a file's last few frames: taken as frames once
    the channel count is known, said by the caller or set by the stream's first block."""
    told = Detector(themes, SAMPLE_RATE, warm_up=False, channels=64)
    told.process(np.zeros((32, 64), dtype=np.float32))
    assert told.samples_consumed == 32
    first_block = Detector(themes, SAMPLE_RATE, warm_up=False)
    first_block.process(np.zeros((4096, 64), dtype=np.float32))
    first_block.process(np.zeros((32, 64), dtype=np.float32))
    assert first_block.samples_consumed == 4096 + 32
    with pytest.raises(ValueError, match="planar"):  # stereo, planar: not the stream's 64 channels
        first_block.process(np.zeros((2, 256), dtype=np.float32))


def test_a_fractional_rate_and_a_theme_too_short_to_match_are_refused(themes):
    with pytest.raises(ValueError, match="whole number"):
        Detector(themes, 44100.5, warm_up=False)
    with pytest.raises(TypeError, match="sample rate is a number of Hz, not '44100'"):
        Detector(themes, "44100", warm_up=False)
    two_notes = Theme("two notes", (Note(60, 0.0, 0.5), Note(62, 0.5, 0.5)))
    with pytest.raises(ValueError, match="at least 4"):  # it would match any two-note step
        Detector([two_notes], SAMPLE_RATE, warm_up=False)


def _with_note(first: Note) -> Theme:
    return Theme("odd", (first, Note(62, 0.5, 0.5), Note(64, 1.0, 0.5), Note(65, 1.5, 0.5)))


@pytest.mark.parametrize("theme, complaint", [
    (_with_note(Note(float("nan"), 0.0, 0.5)), "note 1: pitch nan is not a MIDI note number"),
    (_with_note(Note(132, 0.0, 0.5)), "note 1: pitch 132 is not a MIDI note number"),
    (_with_note(Note(60, 0.0, -0.5)), "note 1: its length, -0.5 s, is not 0 s or more"),
    (_with_note(Note(60, 0.0, 1e300)), "lasts 1e\\+300 s, and a theme is at most 600 s"),
    (replace(_with_note(Note(60, 0.0, 0.5)), sensitivity=0.0), "sensitivity is a number above 0"),
    (_with_note(Note(60, 3.0, 0.5)), "note 2 starts before note 1: a theme's notes are in time order"),
])
def test_a_theme_made_by_hand_is_checked_as_the_loaders_check_theirs(theme, complaint):
    """A program may build its themes itself: what would never match, or match garbage, is
    refused by name, not met deep in the matcher."""
    with pytest.raises(ValueError, match=f"theme 'odd': {complaint}"):
        Detector([theme], SAMPLE_RATE, warm_up=False)


def test_themes_that_are_not_themes_and_settings_out_of_range_are_refused(themes):
    with pytest.raises(TypeError, match="themes are Theme objects .* not str"):
        Detector(["my_themes/ode.txt"], SAMPLE_RATE, warm_up=False)
    with pytest.raises(ValueError, match="sample rate is a number of Hz, not nan"):
        Detector(themes, float("nan"), warm_up=False)
    for setting in ({"threshold": 0.0}, {"threshold": 1.5}, {"threshold": "0.5"}, {"min_progress": -1.0},
                    {"min_progress": 2.0}):
        with pytest.raises(ValueError, match=f"{next(iter(setting))} is a number in"):
            Detector(themes, SAMPLE_RATE, warm_up=False, **setting)


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
    beyond_float32 = np.full(10, 1e300)  # float64 past float32's range: counted, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector.process(beyond_float32)
    assert detector.sanitised_samples == 125


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
