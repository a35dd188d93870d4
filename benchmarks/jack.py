"""A JACK server without a sound card, and a player, for the device tests and benchmarks.live.

JACK's dummy backend is a real audio server, paced in real time, that needs no sound card;
PortAudio (so `theme-detector listen`) talks to it as to any JACK server. Each JackServer has a
name of its own, handed to its clients as JACK_DEFAULT_SERVER (`server.env`), so a test never
meets another JACK server running on the machine.

The dummy driver has two habits worth knowing. It can hand its capture ports' uninitialised
memory to whoever reads them while nothing plays (NaN, Inf, values up to 3e38), and on a busy
machine it wakes late now and then and reports an xrun, which PortAudio passes on to every
stream as an input overflow (`JackServer.xruns` tells the causes apart).

    python -m benchmarks.jack play

is the player: a second process with a JACK output port that plays each WAV file whose path it
reads on stdin (`Player` drives it). Port names come from jack_lsp, read line by line: they may
contain spaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

#: How long a JACK command, or the server's start, may take.
TIMEOUT_S = 10.0


def jack_installed() -> bool:
    """jackd and its command-line tools are on PATH (Debian: jackd2)."""
    return all(shutil.which(tool) for tool in ("jackd", "jack_wait", "jack_lsp", "jack_connect"))


class JackServer:
    """`jackd --no-realtime -d dummy` under a name of its own; a context manager.

    Clients must be started with `env` (or have JACK_DEFAULT_SERVER set to `name` before
    PortAudio is first imported) to reach it. realtime=True asks for real-time scheduling
    (`jackd -R`), as a musician's JACK runs; where the system refuses, jackd runs without it
    and `realtime_granted` says so.
    """

    def __init__(self, sample_rate: int = 48000, period: int = 128, realtime: bool = False) -> None:
        self.sample_rate = sample_rate
        self.period = period
        self.realtime = realtime
        self.name = f"theme-detector-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "JACK_DEFAULT_SERVER": self.name}
        self._log = tempfile.NamedTemporaryFile(prefix="jackd-", suffix=".log", delete=False)
        self._process: subprocess.Popen | None = None

    def start(self) -> "JackServer":
        """Start the server and wait until it accepts clients; RuntimeError if it does not."""
        self._process = subprocess.Popen(
            ["jackd", "-n", self.name, "-R" if self.realtime else "--no-realtime", "-d", "dummy",
             "-r", str(self.sample_rate), "-p", str(self.period)],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        waited = subprocess.run(["jack_wait", "-w", "-t", str(int(TIMEOUT_S))], env=self.env,
                                capture_output=True, text=True, timeout=TIMEOUT_S + 5)
        if waited.returncode != 0 or self._process.poll() is not None:
            self.stop()
            raise RuntimeError(f"jackd did not start: {self.log_text()[-500:]}")
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, as a user or a service manager would); wait for it to go."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and delete its log."""
        self.stop()
        Path(self._log.name).unlink(missing_ok=True)

    def log_text(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    @property
    def realtime_granted(self) -> bool:
        return self.realtime and "Cannot use real-time scheduling" not in self.log_text()

    def xruns(self) -> Counter[str]:
        """Xruns in the server's log so far, by cause: "driver" for the server's own late
        wake-ups, otherwise the name of the client that had not finished its cycle in time.
        Whatever the cause, JACK tells every client, and PortAudio flags an input overflow."""
        causes: Counter[str] = Counter()
        for line in self.log_text().splitlines():
            if "JackTimedDriver::Process XRun" in line:
                causes["driver"] += 1
            elif "was not finished" in line:
                causes[line.split("client = ", 1)[1].split(" was not finished")[0]] += 1
        return causes

    def ports(self) -> list[str]:
        """Every port's full name, client:port."""
        return self._jack("jack_lsp").splitlines()

    def connections(self, port: str) -> list[str]:
        """The ports connected to `port`."""
        lines = self._jack("jack_lsp", "-c", port).splitlines()
        return [line.strip() for line in lines[1:] if line.startswith((" ", "\t"))]

    def connect(self, source: str, destination: str) -> None:
        self._jack("jack_connect", source, destination)

    def disconnect(self, source: str, destination: str) -> None:
        self._jack("jack_disconnect", source, destination)

    def wait_for_port(self, wanted: Callable[[str], bool], timeout_s: float = TIMEOUT_S) -> str:
        """The first port for which wanted(name) is true, polling until it appears."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [port for port in self.ports() if wanted(port)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise TimeoutError(f"no such JACK port appeared within {timeout_s:g} s; ports: {self.ports()}")

    def _jack(self, *command: str) -> str:
        done = subprocess.run(command, env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return done.stdout


class Player:
    """A second process, `python -m benchmarks.jack play`, with one output port on `server`.

    `port` is its output port; connect it where the audio should go, then play().
    """

    def __init__(self, server: JackServer) -> None:
        before = set(server.ports())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.jack", "play"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env=server.env)
        ready = self._process.stdout.readline().strip()
        if ready != "ready":
            self.close()
            raise RuntimeError(f"the player did not start (said {ready!r})")
        self.port = server.wait_for_port(lambda port: port not in before and ":out_" in port)

    def play(self, wav: Path) -> float:
        """Play a WAV file (at the server's rate) to the end; return the time.monotonic() at
        which its first sample was handed to JACK."""
        self._process.stdin.write(f"{wav}\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline().split()
        if answer[:1] != ["played"]:
            raise RuntimeError(f"the player failed on {wav} (said {answer!r})")
        return float(answer[1])

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _play_main() -> None:
    """The player process: open an output on JACK, say "ready", then for each WAV path read on
    stdin play the file and say "played <monotonic time of its first sample>"."""
    import numpy as np
    import sounddevice as sd
    import soundfile

    jack = next(api for api in sd.query_hostapis() if "JACK" in api["name"])
    state = {"audio": np.zeros(0, dtype=np.float32), "position": 0, "started_s": 0.0}
    finished = threading.Event()

    def callback(outdata, frames, time_info, status) -> None:
        audio, position = state["audio"], state["position"]
        chunk = audio[position:position + frames]
        outdata[:len(chunk), 0] = chunk
        outdata[len(chunk):, 0] = 0.0
        if len(chunk) and position == 0:
            state["started_s"] = time.monotonic()
        state["position"] = position + len(chunk)
        if len(audio) and state["position"] >= len(audio):
            finished.set()

    with sd.OutputStream(device=jack["default_output_device"], channels=1, dtype="float32",
                         callback=callback):
        print("ready", flush=True)
        for line in sys.stdin:
            audio, _ = soundfile.read(line.strip(), dtype="float32", always_2d=True)
            finished.clear()
            state.update(position=0, audio=audio[:, 0].copy())
            finished.wait()
            state["audio"] = np.zeros(0, dtype=np.float32)
            print(f"played {state['started_s']:.6f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["play"]:
        sys.exit("usage: python -m benchmarks.jack play")
    _play_main()
