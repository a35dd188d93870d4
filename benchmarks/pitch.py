"""Pitch accuracy and speed of our tracker against its peers, all on the same audio in one run.

    python -m benchmarks.pitch [--quick] [--seed N] [--out benchmarks/results]

Audio: one random melody per instrument (contrabass to flute, together 55-1760 Hz, i.e. MIDI
33-93), rendered with FluidSynth and the FluidR3 GM soundfont at 44.1 kHz, with rests, used
clean and with white noise at 10 dB SNR (noise power relative to the mean power of the samples
where a note is held). --seed draws the melodies and the noise: the default (1) is the draw the
tracker was developed on, and any other is a held-out draw.

Ground truth: the MIDI note's frequency while the note is held, on a 10 ms grid. Not scored:
the first ATTACK_S of every note (the sampled attack) and, after a note-off, the release tail
until the next note (the instrument's release_s: how long the FluidR3 sample takes to decay 40 dB
below its peak, measured once per instrument). Everything else between notes is unvoiced.

Metrics (mir_eval.melody, pooled over all scored frames of a condition): raw pitch accuracy
(RPA, within 50 cents, voicing ignored), raw chroma accuracy (RCA, octave errors forgiven),
voicing recall and voicing false alarm; and RPA split by time since the note's onset, since
most errors of every tracker sit in a note's first 200 ms, where the previous note's release
still sounds (FluidSynth releases overlap legato notes). Each estimate is resampled onto the reference grid by
nearest neighbour (linear interpolation would invent pitches between two estimates).

Peers, with the same hop as ours and a 2048-sample frame: librosa.pyin (its best-guess f0 in
unvoiced frames, fill_na=None, counts for RPA), librosa.yin (no voicing decision: it is
treated as always voiced and only its pitch accuracy is reported), and aubio's yinfft when the
aubio package is importable (voiced = a non-zero f0, aubio's default tolerance and silence gate).

Speed: each tracker runs on every clip in one thread (threadpoolctl for BLAS/OpenMP pools,
numba.set_num_threads(1)) after one untimed warm-up call that compiles or loads its kernels;
real-time factor = audio seconds / processing seconds.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import librosa
import mir_eval.melody
import numpy as np

from benchmarks.melodies import NoteTriple, melody
from benchmarks.render import Part, render
from benchmarks.report import RESULTS_DIR, finish, single_thread, table, verdict
from detector.notes import midi_to_hz
from detector.pitch import PitchTracker, track_pitch

try:
    import aubio
    AUBIO_ERROR = ""
except ImportError as error:  # optional peer: it builds from source, which may fail
    aubio = None
    AUBIO_ERROR = str(error)

SAMPLE_RATE = 44100          # Hz, FluidSynth's output and every tracker's input
REF_HOP_S = 0.01             # the reference grid
ATTACK_S = 0.03              # unscored start of every note
LEAD_S = 0.5                 # silence before each melody
TAIL_S = 1.5                 # silence after its last note-off (longer than any release tail)
SNR_DB = 10.0
DEFAULT_SEED = 1             # the melodies' draw
CONDITIONS = ("clean", f"snr{SNR_DB:g}dB")
PEER_FMIN_HZ = 50.0          # the peers' search range (ours is fixed at 55-1760 Hz)
PEER_FMAX_HZ = 2000.0
PEER_FRAME = 2048            # samples: 46 ms, long enough for periods down to ~43 Hz
#: Bands of time since a note's onset (s) for a breakdown of RPA: attack, settling, steady.
ONSET_AGE_BANDS_S = ((ATTACK_S, 0.1), (0.1, 0.2), (0.2, np.inf))
#: How many of the commonest intervals a wrong pitch is off by `wrong_intervals` reports.
N_WRONG_INTERVALS = 4
#: Mean seconds per melody note (rhythm and rests of benchmarks.melodies), to size the melodies.
_SECONDS_PER_NOTE = 0.5
#: Targets (the RPA target is relative: at least pyin's).
MAX_VOICING_FALSE_ALARM = 0.03
MIN_REALTIME_FACTOR = 500.0


@dataclass(frozen=True)
class Instrument:
    """A General MIDI program, the MIDI pitch range its melody walks, and its release tail (s)."""

    name: str
    program: int
    low: int
    high: int
    release_s: float


INSTRUMENTS = (
    Instrument("contrabass", 43, 33, 52, 0.45),
    Instrument("bassoon", 70, 36, 62, 0.5),
    Instrument("cello", 42, 38, 67, 0.55),
    Instrument("trombone", 57, 40, 65, 0.4),
    Instrument("clarinet", 71, 50, 82, 0.45),
    Instrument("choir", 52, 50, 76, 1.0),
    Instrument("trumpet", 56, 55, 80, 0.45),
    Instrument("violin", 40, 55, 91, 0.5),
    Instrument("flute", 73, 60, 93, 0.5),
    Instrument("piano", 0, 33, 93, 0.4),
)
QUICK_INSTRUMENTS = ("cello", "flute")
MELODY_S = 20.0
QUICK_MELODY_S = 4.0


@dataclass(frozen=True)
class Clip:
    """One rendered melody: mono float32 audio at SAMPLE_RATE, notes timed from the clip's start."""

    instrument: Instrument
    condition: str
    audio: np.ndarray
    notes: tuple[NoteTriple, ...]

    @property
    def duration_s(self) -> float:
        return self.audio.shape[0] / SAMPLE_RATE


class Estimate(NamedTuple):
    """A tracker's output: frame times (s, window centres), f0 (Hz, 0 = none), voiced (bool)."""

    times_s: np.ndarray
    f0_hz: np.ndarray
    voiced: np.ndarray


@dataclass(frozen=True)
class Tracker:
    """A pitch tracker under test: run(audio, sample_rate, hop_samples) -> Estimate.

    has_voicing is False for a tracker that calls every frame voiced (only its RPA/RCA count).
    """

    name: str
    run: Callable[[np.ndarray, int, int], Estimate]
    has_voicing: bool = True


def _ours(audio: np.ndarray, sample_rate: int, hop: int) -> Estimate:
    """Our streaming tracker through its offline wrapper (its own 10 ms hop; hop is unused)."""
    times, f0, _, voiced = track_pitch(audio, sample_rate)
    return Estimate(times, f0, voiced)


def _pyin(audio: np.ndarray, sample_rate: int, hop: int) -> Estimate:
    f0, voiced, _ = librosa.pyin(audio, fmin=PEER_FMIN_HZ, fmax=PEER_FMAX_HZ, sr=sample_rate,
                                 frame_length=PEER_FRAME, hop_length=hop, fill_na=None)
    return Estimate(librosa.times_like(f0, sr=sample_rate, hop_length=hop), f0, voiced)


def _yin(audio: np.ndarray, sample_rate: int, hop: int) -> Estimate:
    f0 = librosa.yin(audio, fmin=PEER_FMIN_HZ, fmax=PEER_FMAX_HZ, sr=sample_rate,
                     frame_length=PEER_FRAME, hop_length=hop)
    return Estimate(librosa.times_like(f0, sr=sample_rate, hop_length=hop), f0, np.ones(f0.shape, bool))


def _aubio_yinfft(audio: np.ndarray, sample_rate: int, hop: int) -> Estimate:
    """aubio's streaming yinfft fed hop-sized blocks; a frame's time is its window's centre."""
    detector = aubio.pitch("yinfft", PEER_FRAME, hop, sample_rate)
    detector.set_unit("Hz")
    padded = np.concatenate([audio, np.zeros(-audio.shape[0] % hop)]).astype(np.float32)
    f0 = np.array([detector(padded[i:i + hop])[0] for i in range(0, padded.shape[0], hop)], dtype=np.float64)
    times = (np.arange(1, f0.shape[0] + 1) * hop - PEER_FRAME / 2) / sample_rate
    return Estimate(times, f0, f0 > 0)


def trackers() -> list[Tracker]:
    """Ours first, then the peers that are available here."""
    found = [Tracker("ours", _ours), Tracker("pyin", _pyin), Tracker("yin", _yin, has_voicing=False)]
    if aubio is not None:
        found.append(Tracker("aubio-yinfft", _aubio_yinfft))
    return found


def render_clips(instruments: Sequence[Instrument], melody_s: float, rng: np.random.Generator) -> list[Clip]:
    """One clean clip per instrument: LEAD_S of silence, a melody of about melody_s, TAIL_S.

    All melodies are rendered in one FluidSynth call, one after another on separate channels,
    then cut apart.
    """
    n_notes = max(4, round(melody_s / _SECONDS_PER_NOTE))
    melodies = [[(p, LEAD_S + onset, duration) for p, onset, duration in
                 melody(rng, n_notes, inst.low, inst.high, rest_probability=0.15)] for inst in instruments]
    lengths = [max(onset + duration for _, onset, duration in notes) + TAIL_S for notes in melodies]
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    parts = [Part([(p, start + onset, duration, int(rng.integers(70, 111))) for p, onset, duration in notes],
                  program=inst.program, channel=_channel(i))
             for i, (inst, notes, start) in enumerate(zip(instruments, melodies, starts))]
    audio = render(parts, SAMPLE_RATE)
    audio = np.concatenate([audio, np.zeros(max(0, _samples(sum(lengths)) - audio.shape[0]), np.float32)])
    return [Clip(inst, CONDITIONS[0], audio[_samples(start):_samples(start + length)], tuple(notes))
            for inst, notes, start, length in zip(instruments, melodies, starts, lengths)]


def _channel(index: int) -> int:
    """The index-th melodic MIDI channel (channel 9 is the drum kit)."""
    if index >= 15:
        raise ValueError("at most 15 instruments fit in one MIDI file")
    return index if index < 9 else index + 1


def _samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def with_noise(clip: Clip, snr_db: float, rng: np.random.Generator) -> Clip:
    """The clip plus white noise at snr_db below the mean power of its held-note samples."""
    held = np.zeros(clip.audio.shape[0], dtype=bool)
    for _, onset, duration in clip.notes:
        held[_samples(onset):_samples(onset + duration)] = True
    noise_rms = np.sqrt(np.mean(clip.audio[held].astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    noisy = clip.audio + rng.normal(0.0, noise_rms, clip.audio.shape[0])
    return replace(clip, condition=f"snr{snr_db:g}dB", audio=noisy.astype(np.float32))


def reference_f0(notes: Sequence[NoteTriple], release_s: float, times_s: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth at times_s: (f0 in Hz, 0 where no note is held; bool mask of scored frames).

    A note covers [onset, onset + duration). Unscored: [onset, onset + ATTACK_S) of every note,
    and [note-off, note-off + release_s) where no other note is held.
    """
    f0_hz = np.zeros(times_s.shape[0])
    scored = np.ones(times_s.shape[0], dtype=bool)
    for pitch, onset, duration in notes:
        f0_hz[(times_s >= onset) & (times_s < onset + duration)] = midi_to_hz(pitch)
    for _, onset, duration in notes:
        scored[(times_s >= onset) & (times_s < onset + ATTACK_S)] = False
        end = onset + duration
        scored[(times_s >= end) & (times_s < end + release_s) & (f0_hz == 0)] = False
    return f0_hz, scored


def onset_age(notes: Sequence[NoteTriple], times_s: np.ndarray) -> np.ndarray:
    """Seconds since the onset of the note held at each of times_s (NaN where none is held)."""
    age_s = np.full(times_s.shape[0], np.nan)
    for _, onset, duration in notes:
        held = (times_s >= onset) & (times_s < onset + duration)
        age_s[held] = times_s[held] - onset
    return age_s


class Frames(NamedTuple):
    """One clip's scored frames on the reference grid: mir_eval's voicing and cents columns, and
    each frame's onset_age (s since the held note's onset, NaN between notes)."""

    ref_voicing: np.ndarray
    ref_cents: np.ndarray
    est_voicing: np.ndarray
    est_cents: np.ndarray
    onset_age_s: np.ndarray


def scored_frames(clip: Clip, estimate: Estimate) -> Frames:
    """The estimate against the clip's ground truth, on the scored frames of the reference grid."""
    return frames_against(clip.notes, clip.instrument.release_s, clip.duration_s, estimate)


def frames_against(notes: Sequence[NoteTriple], release_s: float, duration_s: float, estimate: Estimate) -> Frames:
    """An estimate against the melody `notes` (with the release tail release_s left unscored),
    on the scored frames of a REF_HOP_S grid over duration_s."""
    times = np.arange(0.0, duration_s, REF_HOP_S)
    ref_hz, scored = reference_f0(notes, release_s, times)
    f0 = np.nan_to_num(estimate.f0_hz, nan=0.0)
    columns = mir_eval.melody.to_cent_voicing(times, ref_hz, estimate.times_s, f0,
                                              est_voicing=estimate.voiced.astype(float), kind="nearest")
    return Frames(*(column[scored] for column in (*columns, onset_age(notes, times))))


def melody_metrics(frames: Sequence[Frames]) -> dict[str, Any]:
    """RPA, RCA, voicing recall and false alarm (fractions) over the pooled frames of several
    clips, and RPA by time since the note's onset (ONSET_AGE_BANDS_S; None for a band without
    frames)."""
    pooled = Frames(*(np.concatenate(column) for column in zip(*frames)))
    ref_v, ref_c, est_v, est_c, age_s = pooled
    by_age: dict[str, float | None] = {}
    for low, high in ONSET_AGE_BANDS_S:
        band = (age_s >= low) & (age_s < high) & (ref_v > 0)
        by_age[_band_name(low, high)] = float(mir_eval.melody.raw_pitch_accuracy(
            ref_v[band], ref_c[band], est_v[band], est_c[band])) if band.any() else None
    return {
        "raw_pitch_accuracy": float(mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c)),
        "raw_chroma_accuracy": float(mir_eval.melody.raw_chroma_accuracy(ref_v, ref_c, est_v, est_c)),
        "voicing_recall": float(mir_eval.melody.voicing_recall(ref_v, est_v)),
        "voicing_false_alarm": float(mir_eval.melody.voicing_false_alarm(ref_v, est_v)),
        "raw_pitch_accuracy_by_onset_age": by_age,
    }


def wrong_intervals(frames: Sequence[Frames], n: int = N_WRONG_INTERVALS) -> dict[str, float]:
    """What a tracker heard instead of the melody, over the pooled frames of several clips: of
    the frames with a melody note, the share with no pitch estimate at all ("no pitch"), and the
    shares of the n commonest intervals a wrong estimate (50 cents or more off, as raw pitch
    accuracy counts it) is off by, in semitones from the note ("+19": a twelfth above it, where
    its third partial is; "-5": a fourth below, another voice's note).

    Raw pitch accuracy says how often a tracker is right; these say which mistake it makes, so
    which part of it to mend."""
    pooled = Frames(*(np.concatenate(column) for column in zip(*frames)))
    melody = pooled.ref_voicing > 0
    ref_cents, est_cents = pooled.ref_cents[melody], pooled.est_cents[melody]
    pitched = est_cents > 0
    off_semitones = (est_cents - ref_cents)[pitched] / 100.0
    wrong = off_semitones[np.abs(off_semitones) >= 0.5]
    n_melody = max(int(melody.sum()), 1)
    commonest = Counter(int(s) for s in np.round(wrong)).most_common(n)
    return {"no pitch": float((~pitched).sum() / n_melody),
            **{f"{semitones:+d}": count / n_melody for semitones, count in commonest}}


def _band_name(low_s: float, high_s: float) -> str:
    return f">= {1e3 * low_s:.0f} ms" if np.isinf(high_s) else f"{1e3 * low_s:.0f}-{1e3 * high_s:.0f} ms"


def time_tracker(tracker: Tracker, clips: Sequence[Clip], hop: int) -> tuple[list[Estimate], float]:
    """Run the tracker on every clip in one thread; return the estimates and the seconds it took.

    One untimed call on the first clip's first two seconds comes first (JIT compilation, caches).
    """
    with single_thread():
        tracker.run(clips[0].audio[:2 * SAMPLE_RATE], SAMPLE_RATE, hop)
        estimates, elapsed = [], 0.0
        for clip in clips:
            start = time.perf_counter()
            estimates.append(tracker.run(clip.audio, SAMPLE_RATE, hop))
            elapsed += time.perf_counter() - start
    return estimates, elapsed


def evaluate(tracker: Tracker, clips: Sequence[Clip], hop: int) -> dict[str, Any]:
    """Speed and accuracy of one tracker: per condition, and per condition and instrument."""
    estimates, elapsed = time_tracker(tracker, clips, hop)
    frames = [scored_frames(clip, estimate) for clip, estimate in zip(clips, estimates)]
    by_condition: dict[str, Any] = {}
    by_instrument: dict[str, Any] = {}
    for condition in CONDITIONS:
        mine = [(clip, f) for clip, f in zip(clips, frames) if clip.condition == condition]
        by_condition[condition] = melody_metrics([f for _, f in mine])
        by_instrument[condition] = {clip.instrument.name: melody_metrics([f]) for clip, f in mine}
    return {
        "has_voicing": tracker.has_voicing,
        "processing_s": elapsed,
        "realtime_factor": sum(clip.duration_s for clip in clips) / elapsed,
        "metrics": by_condition,
        "per_instrument": by_instrument,
    }


def make_clips(instruments: Sequence[Instrument], melody_s: float, seed: int = DEFAULT_SEED) -> list[Clip]:
    """The benchmark's audio: a melody of about melody_s per instrument, clean, then at SNR_DB."""
    rng = np.random.default_rng(seed)
    clean = render_clips(instruments, melody_s, rng)
    return clean + [with_noise(clip, SNR_DB, rng) for clip in clean]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The pitch targets, each with our figure, the goal and whether it is met."""
    ours, pyin = results["ours"], results["pyin"]
    found = []
    for condition in CONDITIONS:
        rpa, goal = (r["metrics"][condition]["raw_pitch_accuracy"] for r in (ours, pyin))
        found.append({"target": f"RPA >= pyin's ({condition})", "value": rpa, "goal": goal, "met": rpa >= goal})
    for condition in CONDITIONS:
        vfa = ours["metrics"][condition]["voicing_false_alarm"]
        found.append({"target": f"voicing false alarm <= {MAX_VOICING_FALSE_ALARM:.0%} ({condition})", "value": vfa,
                      "goal": MAX_VOICING_FALSE_ALARM, "met": vfa <= MAX_VOICING_FALSE_ALARM})
    rtf = ours["realtime_factor"]
    found.append({"target": f">= {MIN_REALTIME_FACTOR:g}x real time, one thread", "value": rtf, "goal": MIN_REALTIME_FACTOR,
                  "met": rtf >= MIN_REALTIME_FACTOR})
    if "aubio-yinfft" in results:
        goal = results["aubio-yinfft"]["realtime_factor"]
        found.append({"target": "faster than aubio yinfft", "value": rtf, "goal": goal, "met": rtf > goal})
    return found


def run(clips: Sequence[Clip]) -> dict[str, Any]:
    """Evaluate every tracker on the clips and collect the JSON-ready results."""
    hop = round(PitchTracker(SAMPLE_RATE).hop_s * SAMPLE_RATE)
    clean = [clip for clip in clips if clip.condition == CONDITIONS[0]]
    results = {tracker.name: evaluate(tracker, clips, hop) for tracker in trackers()}
    for result in results.values():
        result["speed_vs_ours"] = result["realtime_factor"] / results["ours"]["realtime_factor"]
    return {
        "settings": {
            "sample_rate_hz": SAMPLE_RATE, "hop_samples": hop, "reference_hop_s": REF_HOP_S,
            "attack_unscored_s": ATTACK_S, "snr_db": SNR_DB, "peer_range_hz": [PEER_FMIN_HZ, PEER_FMAX_HZ],
            "peer_frame_samples": PEER_FRAME, "threads": 1, "resampling": "nearest",
            "audio_s_per_condition": sum(clip.duration_s for clip in clean),
            "instruments": {clip.instrument.name: _describe(clip.instrument) for clip in clean},
        },
        "aubio_error": AUBIO_ERROR or None,
        "trackers": results,
        "targets": targets(results),
    }


def _describe(instrument: Instrument) -> dict[str, Any]:
    return {"program": instrument.program, "midi_range": [instrument.low, instrument.high],
            "release_unscored_s": instrument.release_s}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def report(summary: dict[str, Any]) -> str:
    """The tables a person reads: overall metrics and speed, RPA by time since onset and by
    instrument, the targets."""
    results = summary["trackers"]
    rows = []
    for name, result in results.items():
        for condition in CONDITIONS:
            m = result["metrics"][condition]
            voicing = [_percent(m["voicing_recall"]), _percent(m["voicing_false_alarm"])] \
                if result["has_voicing"] else ["n/a", "n/a"]
            rows.append([name, condition, _percent(m["raw_pitch_accuracy"]), _percent(m["raw_chroma_accuracy"]),
                         *voicing, f"{result['realtime_factor']:.0f}x", f"{result['speed_vs_ours']:.3g}x"])
    overall = table(["tracker", "condition", "RPA", "RCA", "voicing recall", "voicing false alarm",
                     "real time (1 thread)", "speed vs ours"], rows)
    by_age = table(["RPA since note onset", *(_band_name(low, high) for low, high in ONSET_AGE_BANDS_S)],
                   [[f"{name} {condition}", *map(_percent, result["metrics"][condition]
                                                 ["raw_pitch_accuracy_by_onset_age"].values())]
                    for name, result in results.items() for condition in CONDITIONS])
    columns = [(name, condition) for name in results for condition in CONDITIONS]
    instruments = summary["settings"]["instruments"]
    per_instrument = table(
        ["RPA", *(f"{name} {condition}" for name, condition in columns)],
        [[inst, *(_percent(results[name]["per_instrument"][condition][inst]["raw_pitch_accuracy"])
                  for name, condition in columns)] for inst in instruments])
    goals = table(["target", "ours", "goal", "verdict"],
                  [[t["target"], f"{t['value']:.4g}", f"{t['goal']:.4g}", verdict(t["met"])]
                   for t in summary["targets"]])
    notes = ["yin has no voicing decision: treated as always voiced, only RPA/RCA reported."]
    if summary["aubio_error"]:
        notes.append(f"aubio: not installable here: {summary['aubio_error']}")
    return "\n\n".join([overall, by_age, per_instrument, goals, "\n".join(notes)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two instruments, 4 s melodies (CI smoke run)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"draw of the melodies and the noise (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for pitch.json")
    args = parser.parse_args(argv)
    if args.quick:
        instruments, melody_s = [i for i in INSTRUMENTS if i.name in QUICK_INSTRUMENTS], QUICK_MELODY_S
    else:
        instruments, melody_s = list(INSTRUMENTS), MELODY_S
    summary = run(make_clips(instruments, melody_s, args.seed))
    summary["settings"]["seed"] = args.seed
    print(f"\nwrote {finish(args.out, 'pitch.json', summary, report(summary))}")


if __name__ == "__main__":
    main()
