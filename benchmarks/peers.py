"""Two published melody extractors as peers for the benchmarks: Melodia and basic-pitch.

Both answer the same question as our tracker, "which pitch carries the melody right now?", on
a fixed time grid, so their output can be scored like ours:

- ``melodia_f0``: Melodia (Salamon & Gomez 2012) as shipped in essentia,
  ``essentia.standard.PredominantPitchMelodia``, the classic predominant-melody extractor for
  polyphonic music (pitch contours from a harmonic salience function, then voicing and
  octave-error filtering).
- ``basic_pitch_f0``: Spotify's basic-pitch 0.4.0, a small neural network that transcribes
  polyphonic audio. It has no melody output of its own, so the melody is read off its per-frame
  note activations as the highest active note (the top line), refined to a continuous f0 by its
  pitch-contour activations.

Each returns ``(times_s, f0_hz)`` on the grid ``times_s = k * hop_s`` from 0 to the end of the
audio, with ``f0_hz = 0`` where the peer hears no melody.

Neither package is a dependency of the project: each function imports its package only when
called and raises ``PeerUnavailable`` (saying what to install) when it is missing, so this
module imports anywhere. Pip specs known to install and run on Linux x86_64, Python 3.11,
numpy 2.x::

    pip install essentia                       # Melodia; one ~40 MB wheel, needs only numpy
    pip install --no-deps basic-pitch==0.4.0   # its declared deps pull tensorflow 2.15 + numpy<2
    pip install librosa pretty_midi mir_eval "resampy<0.4.3" scipy onnxruntime

With only onnxruntime present basic-pitch runs its bundled ONNX model (``nmp.onnx``). A plain
``pip install basic-pitch`` on Linux with Python >= 3.11 also installs tensorflow 2.15 (and
downgrades numpy to 1.26). tflite-runtime 2.14, the other light backend, is built against
numpy 1.x and fails to load the model under numpy 2.x; when installed it also takes priority
over onnxruntime in basic-pitch's own backend choice, which is why ``basic_pitch_f0`` asks for
the ONNX model by name whenever onnxruntime is importable.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

MELODIA_SAMPLE_RATE = 44100
"""Hz. Melodia's defaults (frame 2048, 10-cent salience bins) are tuned for 44.1 kHz audio."""

FMIN_HZ = 55.0
"""Lowest melody pitch reported by default: our tracker's range (A1), and the bottom of
Melodia's salience function (its referenceFrequency, 55 Hz, 600 bins of 10 cents: 5 octaves)."""

FMAX_HZ = 1760.0
"""Highest melody pitch reported by default (A6): the top of that same range."""

MELODIA_VOICING_TOLERANCE = 0.2
"""essentia's default voicingTolerance. A solo 440 Hz then 660 Hz tone (6 harmonics, equal
level) comes out with the 440 Hz second unvoiced at this value and fully voiced at 1.4; with 3
harmonics both are voiced at 0.2. Keep the default when Melodia is benchmarked as published."""

BASIC_PITCH_NOTE_THRESHOLD = 0.5
"""Note activation at which basic-pitch's note is taken as sounding in a frame.

basic-pitch's own note tracking uses 0.3 (``frame_threshold``), but that is meant for notes that
also need an onset. Taken frame by frame, bright synthetic tones give sustained ghost notes at
their 2nd to 5th harmonics with activations of 0.3-0.48, while played notes sit at 0.6-0.9, so
with 0.3 the "highest active note" is often a harmonic; 0.5 keeps the played notes and drops
those ghosts."""

BASIC_PITCH_INSTALL = (
    'pip install --no-deps basic-pitch==0.4.0 && '
    'pip install librosa pretty_midi mir_eval "resampy<0.4.3" scipy onnxruntime'
)
ESSENTIA_INSTALL = "pip install essentia"

# basic-pitch 0.4.0's run_inference cuts audio into windows of AUDIO_N_SAMPLES samples that
# overlap by this many model frames, and keeps all but half of the overlap at either end.
_BASIC_PITCH_OVERLAP_FRAMES = 30

# The contour output's frequency axis is one bin (1/3 semitone) above basic_pitch.constants'
# FREQ_BINS_CONTOURS: pure tones from 110 to 1760 Hz peak at bin 36*log2(f/27.5) + 0.85..0.97
# (measured with basic-pitch 0.4.0, ONNX model), i.e. note n's centre is bin 3n + 1.
_CONTOUR_BIN_OFFSET = 1
# Contour bins searched either side of the selected note's centre: +-2/3 semitone.
_CONTOUR_SEARCH_BINS = 2


class PeerUnavailable(Exception):
    """A peer's package (or its model backend) is not installed; the message says what to install."""


def melodia_f0(audio: np.ndarray, sample_rate: int, hop_s: float = 0.01, *,
               fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ,
               voicing_tolerance: float = MELODIA_VOICING_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """The predominant melody's f0 by Melodia (essentia's PredominantPitchMelodia).

    As essentia's documentation recommends, the audio is first run through EqualLoudness; it is
    resampled to 44.1 kHz (essentia's Resample) when it comes at another rate, since Melodia's
    defaults are tuned for 44.1 kHz. Melodia's hop is the nearest whole number of samples to
    hop_s (441 for 10 ms); every other parameter keeps essentia's default except the pitch range
    and voicing tolerance, the ones its documentation says to set per application.

    Args:
        audio: mono samples, any float dtype (processed as float32, essentia's Real).
        sample_rate: Hz.
        hop_s: spacing of the output grid, seconds.
        fmin_hz, fmax_hz: the melody's allowed range (Melodia's minFrequency / maxFrequency).
            Melodia's salience function spans 55-1760 Hz, so values outside it change nothing.
        voicing_tolerance: Melodia's voicingTolerance, in [-1, 1.4]: a pitch contour counts as
            melody only if its mean salience is at least the clip's mean contour salience minus
            this many standard deviations. The threshold is relative to the clip, so in a clip
            of a few notes the weaker ones go unvoiced even when nothing else sounds (see
            MELODIA_VOICING_TOLERANCE).

    Returns:
        times_s: ``k * hop_s`` for every grid point from 0 to the end of the audio.
        f0_hz: the melody's f0 at those times, 0 where Melodia finds no melody.

    Raises:
        PeerUnavailable: essentia is not installed.
    """
    signal = _mono_float32(audio)
    es = _import_essentia()
    if sample_rate != MELODIA_SAMPLE_RATE:
        signal = es.Resample(inputSampleRate=float(sample_rate),
                             outputSampleRate=float(MELODIA_SAMPLE_RATE))(signal)
    hop = max(1, round(hop_s * MELODIA_SAMPLE_RATE))
    signal = es.EqualLoudness(sampleRate=MELODIA_SAMPLE_RATE)(signal)
    melodia = es.PredominantPitchMelodia(sampleRate=MELODIA_SAMPLE_RATE, hopSize=hop,
                                         minFrequency=float(fmin_hz), maxFrequency=float(fmax_hz),
                                         voicingTolerance=float(voicing_tolerance))
    pitch, _confidence = melodia(signal)
    pitch = np.maximum(np.asarray(pitch, dtype=np.float64), 0.0)  # negative only with guessUnvoiced
    times = np.arange(pitch.shape[0]) * hop / MELODIA_SAMPLE_RATE  # essentia: frame 0 is at t = 0
    return _to_grid(times, pitch, hop_s, audio.shape[0] / sample_rate)


def basic_pitch_f0(audio: np.ndarray, sample_rate: int, hop_s: float = 0.01, *,
                   fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ,
                   threshold: float = BASIC_PITCH_NOTE_THRESHOLD,
                   threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A predominant-melody f0 from basic-pitch 0.4.0's note and contour activations.

    The audio goes through basic-pitch's own ``run_inference`` (via a temporary float WAV, which
    it loads with librosa at 22.05 kHz), giving per model frame (256 samples, 11.6 ms) the
    activations of 88 piano notes and of a 264-bin pitch contour (1/3 semitone per bin).

    The melody in a frame is the highest note whose activation reaches ``threshold``: the top
    line, which is where a melody usually sits over its accompaniment, and which does not depend
    on loudness (basic-pitch's activations do not rank notes by level). Its f0 is then refined
    within +-2/3 semitone of that note by the contour activations (peak bin, parabolic
    interpolation), so the f0 is continuous like Melodia's rather than quantised to semitones.
    Frames with no active note in [fmin_hz, fmax_hz] are unvoiced (0). Model frames are placed
    in time exactly as run_inference windows the audio, then mapped to the hop_s grid by nearest
    neighbour (interpolating would invent pitches between two notes).

    Args:
        audio: mono samples, any float dtype.
        sample_rate: Hz.
        hop_s: spacing of the output grid, seconds.
        fmin_hz, fmax_hz: notes whose centre lies outside this range are never the melody.
        threshold: note activation taken as "sounding" (see BASIC_PITCH_NOTE_THRESHOLD).
        threads: onnxruntime's intra-op threads (None: its default, one per core). Only the ONNX
            backend honours it; threadpoolctl does not reach onnxruntime's pool.

    Returns:
        times_s: ``k * hop_s`` for every grid point from 0 to the end of the audio.
        f0_hz: the melody's f0 at those times, 0 where no note is active.

    Raises:
        PeerUnavailable: basic-pitch, one of its imports, or every model backend is missing.
    """
    signal = _mono_float32(audio)
    inference, constants = _import_basic_pitch()
    import soundfile  # a dependency of librosa, so present whenever basic-pitch imports

    model = _basic_pitch_model(threads)
    handle, path = tempfile.mkstemp(suffix=".wav")
    try:
        os.close(handle)
        soundfile.write(path, signal, sample_rate, subtype="FLOAT")
        output = inference.run_inference(path, model)
    finally:
        os.unlink(path)
    notes = np.asarray(output["note"], dtype=np.float64)
    contour = np.asarray(output["contour"], dtype=np.float64)
    f0 = _top_line(notes, contour, constants.ANNOTATIONS_BASE_FREQUENCY, fmin_hz, fmax_hz, threshold)
    return _to_grid(_basic_pitch_times(notes.shape[0], constants), f0, hop_s,
                    audio.shape[0] / sample_rate)


def _top_line(notes: np.ndarray, contour: np.ndarray, base_hz: float, fmin_hz: float,
              fmax_hz: float, threshold: float) -> np.ndarray:
    """Per frame, the f0 of the highest note at or above threshold within range (0: none)."""
    note_hz = base_hz * 2.0 ** (np.arange(notes.shape[1]) / 12.0)
    allowed = (note_hz >= fmin_hz) & (note_hz <= fmax_hz)
    active = (notes >= threshold) & allowed
    voiced = active.any(axis=1)
    top = notes.shape[1] - 1 - np.argmax(active[:, ::-1], axis=1)
    f0 = np.zeros(notes.shape[0])
    bins_per_semitone = contour.shape[1] // notes.shape[1]
    for frame in np.flatnonzero(voiced):
        centre = bins_per_semitone * top[frame] + _CONTOUR_BIN_OFFSET
        low = max(centre - _CONTOUR_SEARCH_BINS, 0)
        high = min(centre + _CONTOUR_SEARCH_BINS + 1, contour.shape[1])
        peak = low + int(np.argmax(contour[frame, low:high]))
        position = float(peak)
        if 0 < peak < contour.shape[1] - 1:
            left, middle, right = contour[frame, peak - 1:peak + 2]
            curvature = left - 2.0 * middle + right
            if curvature < 0:
                position += float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
        semitones = (position - _CONTOUR_BIN_OFFSET) / bins_per_semitone
        f0[frame] = base_hz * 2.0 ** (semitones / 12.0)
    return f0


def _basic_pitch_times(n_frames: int, constants: Any) -> np.ndarray:
    """Time (s) of each frame of run_inference's output, from how it windows the audio.

    run_inference prepends half the overlap in zeros, runs the model on windows of
    AUDIO_N_SAMPLES that start every AUDIO_N_SAMPLES - overlap samples, and keeps all but
    half the overlap at either end of each window's frames. Frame k thus starts at sample
    (k // kept) * window_hop + (k % kept) * FFT_HOP of the original audio. Counting frames
    uniformly (k * FFT_HOP) would drift 8.5 ms late per window (~5 ms per second);
    basic-pitch's own model_frames_to_time corrects the drift only approximately.
    """
    hop = constants.FFT_HOP
    window_frames = int(np.ceil(constants.AUDIO_N_SAMPLES / hop))  # 172 model frames per window
    kept = window_frames - _BASIC_PITCH_OVERLAP_FRAMES
    window_hop = constants.AUDIO_N_SAMPLES - _BASIC_PITCH_OVERLAP_FRAMES * hop
    frames = np.arange(n_frames)
    return ((frames // kept) * window_hop + (frames % kept) * hop) / constants.AUDIO_SAMPLE_RATE


def _to_grid(times_s: np.ndarray, f0_hz: np.ndarray, hop_s: float, duration_s: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour resampling of (times_s, f0_hz) onto k * hop_s, 0 <= k * hop_s <= duration.

    A grid point farther than one source frame from every source frame gets 0 (unvoiced).
    """
    grid = np.arange(int(np.floor(duration_s / hop_s + 1e-9)) + 1) * hop_s
    if times_s.shape[0] == 0:
        return grid, np.zeros(grid.shape)
    right = np.clip(np.searchsorted(times_s, grid), 0, times_s.shape[0] - 1)
    left = np.clip(right - 1, 0, times_s.shape[0] - 1)
    nearest = np.where(np.abs(times_s[left] - grid) <= np.abs(times_s[right] - grid), left, right)
    source_hop = float(np.median(np.diff(times_s))) if times_s.shape[0] > 1 else hop_s
    f0 = np.where(np.abs(times_s[nearest] - grid) <= source_hop, f0_hz[nearest], 0.0)
    return grid, f0


def _mono_float32(audio: np.ndarray) -> np.ndarray:
    """The audio as a contiguous float32 vector; refuses anything but one channel."""
    signal = np.ascontiguousarray(audio, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"expected mono audio (one dimension), got shape {signal.shape}")
    return signal


def _import_essentia() -> Any:
    """essentia.standard, imported without its INFO banner; PeerUnavailable if missing."""
    try:
        import essentia
    except ImportError as error:
        raise PeerUnavailable(f"Melodia needs essentia: {ESSENTIA_INSTALL} ({error})") from error
    previous = essentia.log.infoActive
    essentia.log.infoActive = False  # "MusicExtractorSVM: no classifier models were configured"
    try:
        import essentia.standard as es
    finally:
        essentia.log.infoActive = previous
    return es


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Hide warnings sent to the root logger, without configuring it as a side effect.

    basic-pitch warns through ``logging.warning`` at import for every backend it lacks; with no
    handler on the root logger that call would also run ``logging.basicConfig()``.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        root.removeHandler(guard)


def _import_basic_pitch() -> tuple[Any, Any]:
    """basic_pitch.inference and basic_pitch.constants; PeerUnavailable if they cannot load."""
    try:
        with _quiet_root_logger():
            from basic_pitch import constants, inference
    except ImportError as error:
        raise PeerUnavailable(f"basic-pitch cannot be imported: {BASIC_PITCH_INSTALL} ({error})") from error
    except NameError as error:  # basic_pitch/__init__ with no backend: _default_model_type unset
        raise PeerUnavailable(f"basic-pitch has no model backend: {BASIC_PITCH_INSTALL} ({error})") from error
    return inference, constants


@functools.cache
def _basic_pitch_model(threads: int | None) -> Any:
    """basic-pitch's Model, loaded once per thread setting: ONNX whenever onnxruntime imports.

    basic-pitch's default model path follows the first backend it finds in the order
    tensorflow, coremltools, tflite-runtime, onnxruntime; asking for the ONNX file by name keeps
    the backend the same wherever onnxruntime is installed. With ``threads`` the ONNX session is
    rebuilt with that many intra-op threads (basic-pitch's Model exposes no session options).
    """
    import basic_pitch
    inference, _constants = _import_basic_pitch()
    if basic_pitch.ONNX_PRESENT:
        path = basic_pitch.build_icassp_2022_model_path(basic_pitch.FilenameSuffix.onnx)
    else:
        path = basic_pitch.ICASSP_2022_MODEL_PATH
    with _quiet_root_logger():
        model = inference.Model(path)
    if threads is not None and model.model_type == inference.Model.MODEL_TYPES.ONNX:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        model.model = onnxruntime.InferenceSession(str(path), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
    return model
