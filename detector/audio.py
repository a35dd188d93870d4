"""Audio in: files through libsndfile (soundfile) and the input devices PortAudio knows.

sounddevice and rtmixer are imported only where devices are used, so scanning files works on a
machine without PortAudio. File names reach libsndfile as bytes (`os.fsencode`), so any name the
file system allows opens, one that is not valid UTF-8 too.
"""

from __future__ import annotations

import atexit
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from detector.errors import AudioInputError

#: File suffixes taken as audio when a folder is scanned (what libsndfile reads).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".w64")


#: libsndfile's log line for a WAV (data) or AIFF (SSND) file shorter than its header says.
_CUT_SHORT = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
#: Header sizes from here up are taken for "length unknown", what recorders write while still
#: writing (0xFFFFFFFF, or 0x7FFFFFFF by those that read sizes as signed), not for a cut file.
_SIZE_UNKNOWN_FROM = 0x7FFFFFFF
#: Less missing than this is a writer's rounding of its sizes, not a cut.
_CUT_AT_LEAST_S = 0.1


@dataclass(frozen=True)
class AudioFileInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    #: How much longer its header says the audio is than what the file holds (a truncated copy).
    missing_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def audio_file_info(path: str | Path) -> AudioFileInfo:
    """Rate, channels and length of an audio file; AudioInputError if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path}: {_not_a_file(path)}")
    try:
        info = soundfile.info(os.fsencode(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioInputError(f"{path}: not a readable audio file ({_reason(error)})") from None
    if not 8000 <= info.samplerate <= 192000:
        raise AudioInputError(f"{path}: sample rate {info.samplerate} Hz is outside 8000-192000 Hz")
    return AudioFileInfo(path, info.samplerate, info.channels, info.frames,
                         _missing_s(info.extra_info, info.frames / info.samplerate))


def _not_a_file(path: Path) -> str:
    """Why a path that is not a regular file cannot be scanned."""
    if path.is_dir():
        return "is a folder"
    if path.exists() or str(path) == "-":  # a pipe, a device, standard input
        return ("is not a file (audio is read from files, not from a pipe or a device: save it "
                "to a file first, or use listen for a live input)")
    return "no such file"


def _missing_s(log: str, duration_s: float) -> float:
    """Seconds of audio the header promises beyond the file's end, from libsndfile's log of the
    header (it reads what is there, and notes that the data chunk "should be" shorter)."""
    found = _CUT_SHORT.search(log)
    if not found:
        return 0.0
    promised, held = map(int, found.groups())
    if promised >= _SIZE_UNKNOWN_FROM or held <= 0 or promised <= held:
        return 0.0
    missing_s = duration_s * (promised - held) / held
    return missing_s if missing_s >= _CUT_AT_LEAST_S else 0.0


def read_blocks(path: str | Path, block_size: int = 16384) -> Iterator[np.ndarray]:
    """The file's frames as float32 blocks of shape (n, channels)."""
    try:
        with soundfile.SoundFile(os.fsencode(path)) as source:
            yield from source.blocks(blocksize=block_size, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise AudioInputError(f"{path}: reading failed ({_reason(error)})") from None


def read_excerpt(path: str | Path, start_s: float = 0.0, end_s: float | None = None
                 ) -> tuple[np.ndarray, int]:
    """(frames, sample rate): the file from start_s to end_s (default: its end) as float32 of
    shape (n, channels); AudioInputError if it cannot be read or the excerpt is empty."""
    info = audio_file_info(path)
    start = max(0, int(round(start_s * info.sample_rate)))
    stop = info.frames if end_s is None else min(info.frames, int(round(end_s * info.sample_rate)))
    if stop <= start:
        until = f"and {end_s:g} s" if end_s is not None else "and its end"
        raise AudioInputError(f"{path}: nothing between {start_s:g} s {until} (the file lasts "
                              f"{info.duration_s:.2f} s)")
    try:
        frames, _ = soundfile.read(os.fsencode(path), start=start, stop=stop, dtype="float32",
                                   always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise AudioInputError(f"{path}: reading failed ({_reason(error)})") from None
    return frames, info.sample_rate


def _reason(error: Exception) -> str:
    """libsndfile's own words, without the path it puts in front of them."""
    return str(error).split(":")[-1].strip() or type(error).__name__


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    host_api: str
    channels: int
    default_rate_hz: float

    @property
    def on_jack(self) -> bool:
        """Whether the device is a JACK server's (PortAudio's JACK host API)."""
        return _is_jack(self.host_api)


def _is_jack(host_api: str) -> bool:
    return "JACK" in host_api


def portaudio_knows_jack() -> bool:
    """Whether PortAudio has a JACK host API: it found a JACK server when it started."""
    return any(_is_jack(host_api["name"]) for host_api in load_sounddevice().query_hostapis())


def input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, as PortAudio reports it."""
    sd = load_sounddevice()
    host_apis = sd.query_hostapis()
    return [
        InputDevice(index=d["index"], name=d["name"], host_api=host_apis[d["hostapi"]]["name"],
                    channels=d["max_input_channels"], default_rate_hz=d["default_samplerate"])
        for d in sd.query_devices() if d["max_input_channels"] > 0
    ]


def reread_devices() -> bool:
    """Have PortAudio read its devices again (an audio server started, a device plugged in
    since it first looked), where that is safe; returns whether it did.

    PortAudio reads its device list once, when it starts. Terminating and initialising it again
    re-reads it (what python-sounddevice's author advises, its issue #125), and it ends every
    open stream: call this only with none open. Never once PortAudio knows a JACK server: if
    that server has stopped, terminating waits ten minutes for it (see abandon).
    """
    if _ABANDONED or portaudio_knows_jack():
        return False
    sd = load_sounddevice()
    sd._terminate()
    sd._initialize()
    return True


def find_input_device(spec: str | int | None) -> InputDevice:
    """The input device named by index or by a (case-insensitive) part of its name, or else of
    its name with its host API as `devices` lists them ("system [JACK Audio Connection Kit]").

    None means the system's default input. Raises AudioInputError naming what exists.
    """
    devices = input_devices()
    if not devices:
        raise AudioInputError("no audio input device found (is a sound card, or a JACK or "
                              "PulseAudio server, available?)")
    if spec is None:
        default = load_sounddevice().default.device[0]
        matches = [d for d in devices if d.index == default] or devices[:1]
    elif isinstance(spec, int) or str(spec).isdigit():
        matches = [d for d in devices if d.index == int(spec)]
    else:
        wanted = str(spec).lower()
        matches = ([d for d in devices if wanted in d.name.lower()]
                   or [d for d in devices if wanted in f"{d.name} [{d.host_api}]".lower()])
    if not matches:
        names = "; ".join(f"{d.index}: {d.name} [{d.host_api}]" for d in devices)
        raise AudioInputError(f"no input device matches {spec!r}; inputs are: {names}")
    return matches[0]


#: Streams whose JACK server stopped: kept referenced, never stopped or closed (see abandon).
_ABANDONED: list = []


def abandon(stream) -> None:
    """Give up on a stream whose JACK server has stopped: never stop or close it.

    PortAudio's JACK host (19.6, and unchanged in its current source) waits ten minutes in
    Pa_StopStream, Pa_CloseStream and Pa_Terminate for a server that has stopped and will
    never answer (PortAudio issue #820). So the stream stays open and referenced (its callback
    must outlive it), and sounddevice is kept from terminating PortAudio at exit; the operating
    system reclaims both when the process ends. Opening a stream once the server is back needs
    a new process. Only for a server that has gone: skipping Pa_Terminate while a JACK server
    still runs makes the process crash at exit.
    """
    _ABANDONED.append(stream)
    exit_handler = getattr(load_sounddevice(), "_exit_handler", None)
    if exit_handler is not None:
        atexit.unregister(exit_handler)


def load_sounddevice():
    try:
        import sounddevice
    except OSError as error:
        raise AudioInputError(f"PortAudio is not installed ({error}); run scripts/bootstrap "
                              "or install the Debian package libportaudio2") from None
    return sounddevice


def load_rtmixer():
    """rtmixer: PortAudio streams whose callback is C code that never enters Python."""
    load_sounddevice()
    try:
        import rtmixer
    except ImportError as error:
        raise AudioInputError(f"rtmixer is not installed ({error}); run scripts/bootstrap "
                              "or `pip install rtmixer`") from None
    return rtmixer
