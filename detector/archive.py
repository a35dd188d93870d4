"""Scanning files and archives: one file through a Detector, or a folder tree spread over the
machine's cores (a process pool) or over a Dask cluster, with one cue sheet per file, resumable,
and a summary.

Each file is scanned by the same online algorithm as `listen`, fed as fast as the machine allows,
so its times are what a live listener would have seen. A worker (a pool process or a Dask worker)
runs `scan_one` on a path and returns a FileScan; only paths, themes and detections travel.
"""

from __future__ import annotations

import csv
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from detector.audio import AUDIO_SUFFIXES, audio_file_info, read_blocks
from detector.engine import Detector
from detector.errors import AudioInputError, OutputError, ThemeDetectorError, reason
from detector.events import CUE_FIELDS, Detection, write_cue_sheet
from detector.outputs import FILE_NAMES, Sink
from detector.themes import Theme

#: The summary's columns: one row per file, in the order the files were found.
SUMMARY_FIELDS = ("file", "status", "detections", "themes", "cue_sheet", "error")
SUMMARY_NAME = "summary.csv"


@dataclass(frozen=True)
class ArchiveFile:
    """An audio file to scan, and the name of its cue sheet relative to the output folder."""

    path: Path
    cue_name: Path


@dataclass(frozen=True)
class FileScan:
    """What scanning one file gave: its detections, or the error that stopped it (partial: it
    came after part of the file was read, and the detections are those made before it)."""

    path: str
    detections: tuple[Detection, ...] = ()
    sanitised_samples: int = 0
    error: str | None = None
    partial: bool = False
    notes_heard: int = 0

    @property
    def status(self) -> str:
        """As summary.csv gives it: "scanned", "partial" or "failed"."""
        return "partial" if self.partial else "failed" if self.error else "scanned"


def find_audio_files(paths: Sequence[str | Path], cue_sheets: bool = True) -> list[ArchiveFile]:
    """The files to scan: each file as given, and each folder's audio files (AUDIO_SUFFIXES),
    recursively, in sorted order, each once. A file in folder F gets the cue sheet F's
    name/relative path + '.csv'; a file given directly, its own name + '.csv'.
    ThemeDetectorError if a folder holds no audio, or (with cue_sheets: they will be written)
    if two files would share a cue sheet."""
    found: list[ArchiveFile] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            root = entry.resolve()
            files = sorted(p for p in entry.rglob("*")
                           if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                raise ThemeDetectorError(f"{entry}: holds no audio files "
                                         f"({', '.join(AUDIO_SUFFIXES)})")
            found += [ArchiveFile(p, Path(root.name) / _with_csv(p.relative_to(entry)))
                      for p in files]
        else:
            found.append(ArchiveFile(entry, _with_csv(Path(entry.name))))
    unique: dict[Path, ArchiveFile] = {}  # a file reached twice (overlapping folders) is one
    for item in found:
        unique.setdefault(item.path.resolve(), item)
    found = list(unique.values())
    if not cue_sheets:
        return found
    by_cue: dict[Path, Path] = {}
    for item in found:
        other = by_cue.setdefault(item.cue_name, item.path)
        if other != item.path:
            raise ThemeDetectorError(f"{other} and {item.path} would share the cue sheet "
                                     f"{item.cue_name}; scan them separately")
    return found


def _with_csv(path: Path) -> Path:
    return path.with_name(path.name + ".csv")


def scan_file(path: Path, themes: Sequence[Theme], progress: bool = False,
              mode: str = "auto") -> FileScan:
    """Feed a file through a Detector as fast as possible; AudioInputError if it cannot be
    opened. A file damaged part way (a truncated download) gives a partial FileScan."""
    info = audio_file_info(path)
    detector = Detector(themes, info.sample_rate, mode=mode, warm_up=False, channels=info.channels)
    detections: list[Detection] = []
    damage = None
    with tqdm(total=round(info.duration_s, 1), unit="s", desc=path.name, leave=False,
              disable=not progress, file=sys.stderr) as bar:
        try:
            for block in read_blocks(path):
                detections += detector.process(block)
                bar.update(round(block.shape[0] / info.sample_rate, 3))
        except AudioInputError as error:
            damage = f"{error}, {detector.time_s:.1f} s into {info.duration_s:.1f} s"
    if damage is None and info.missing_s > 0:
        damage = (f"{path}: ends {info.missing_s:.1f} s before its header says it does (a "
                  f"truncated copy?)")
    return FileScan(str(path), tuple(detections), detector.sanitised_samples, error=damage,
                    partial=damage is not None, notes_heard=detector.notes_heard)


def scan_one(path: str, themes: Sequence[Theme], progress: bool = False,
             mode: str = "auto") -> FileScan:
    """scan_file as a worker runs it: a file that cannot be read, or fails in any other way,
    becomes a FileScan with its error, so that it never stops the others."""
    try:
        return scan_file(Path(path), themes, progress, mode)
    except AudioInputError as error:
        return FileScan(path, error=str(error))
    except Exception as error:  # an archive's odd file must not cost the other files' results
        return FileScan(path, error=f"{path}: failed ({type(error).__name__}: {error})")


def default_jobs() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def scan_files(paths: Sequence[str], themes: Sequence[Theme], jobs: int = 1,
               dask_address: str | None = None, progress: bool = False,
               mode: str = "auto") -> Iterator[FileScan]:
    """Scan every file, yielding a FileScan for each as it finishes.

    jobs: processes on this machine (1 scans in this process, in order). dask_address: a Dask
    scheduler ("tcp://host:8786") whose workers scan instead; they need theme-detector installed
    and the files at the same paths. progress: a bar of files done on stderr. mode: the
    Detector's (auto, melody or ensemble).
    """
    with tqdm(total=len(paths), unit="file", desc="scan", disable=not progress,
              file=sys.stderr) as bar:
        if not dask_address and (jobs <= 1 or len(paths) <= 1):
            for path in paths:
                yield scan_one(path, themes, progress, mode)
                bar.update()
            return
        with _executor(jobs, dask_address, themes) as (executor, shared_themes):
            futures = [executor.submit(scan_one, path, shared_themes, False, mode)
                       for path in paths]
            try:
                for future in as_completed(futures):
                    bar.update()
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()


@contextmanager
def _executor(jobs: int, dask_address: str | None, themes: Sequence[Theme]
              ) -> Iterator[tuple[Executor, object]]:
    """(executor, what to pass as the themes argument): a process pool (themes pickled with each
    task), or a Dask client's executor (themes scattered to every worker once)."""
    if dask_address is None:
        # spawn: a fresh interpreter per worker, never a fork of a process holding threads.
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                                 initializer=_leave_interrupts_to_the_parent) as pool:
            yield pool, tuple(themes)
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise OutputError("--dask needs dask.distributed; install it with: "
                          "pip install 'theme-detector[distributed]'") from None
    try:
        client = Client(dask_address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ThemeDetectorError(f"cannot reach the Dask scheduler at {dask_address} "
                                 f"({error})") from None
    with client:
        [shared] = client.scatter([tuple(themes)], broadcast=True)
        yield client.get_executor(), shared


def _leave_interrupts_to_the_parent() -> None:
    """A pool process ignores Ctrl-C: the terminal sends it to every process, and the parent
    alone stops the scan, tidily (no traceback from each worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def scan_archive(items: Sequence[ArchiveFile], themes: Sequence[Theme], outputs: Sink,
                 out_dir: Path | None = None, resume: bool = False, jobs: int = 1,
                 dask_address: str | None = None, progress: bool = False,
                 mode: str = "auto") -> int:
    """`scan`: every file (`find_audio_files`), detections to `outputs` as each file finishes;
    with out_dir, a cue sheet per file and summary.csv; with resume, files whose cue sheet exists
    are skipped. Unreadable files are reported on stderr and skipped, and a file damaged part
    way keeps the detections made before the damage. A line on stderr closes the scan (what was
    scanned and found, so that a scan that found nothing says so). Returns the number of files
    unreadable or damaged."""
    sheets = CueSheets(out_dir) if out_dir is not None else None
    resumed = sheets.finished(items) if resume and sheets else {}
    status = dict.fromkeys(resumed, "resumed")
    todo = {str(item.path): item for item in items if item.path not in status}
    if resumed:
        print(f"theme-detector: resuming: {len(resumed)} of {len(items)} file(s) already have "
              "a cue sheet; their detections go to the outputs again", file=sys.stderr)
    found = 0
    for path, detections in resumed.items():  # so that the run's outputs hold the whole archive
        for detection in detections:
            outputs.emit(detection, str(path))
            found += 1
    errors: dict[Path, str] = {}
    try:
        for result in scan_files(list(todo), themes, jobs, dask_address, progress, mode):
            item = todo[result.path]
            with tqdm.external_write_mode():  # a line printed under a bar would be garbled
                _deliver(result, item, outputs, sheets)
            # Counted once delivered: Ctrl-C during the delivery leaves the file "not scanned".
            status[item.path] = result.status
            if result.error:
                errors[item.path] = result.error
            found += len(result.detections)
    finally:  # interrupted too: the summary of what was done, the rest "not scanned"
        scanned = sum(state in ("scanned", "partial") for state in status.values())
        closing = (f"{scanned} of {len(items)} file(s) scanned"
                   + (f", {len(resumed)} resumed" if resumed else "") + f", {found} detection(s)")
        if errors:
            closing += f"; {len(errors)} file(s) unreadable or damaged (above)"
        if sheets:
            summary = sheets.write_summary(items, status, errors)
            closing += f"; cue sheets and {summary.name} in {sheets.folder}"
        print(f"theme-detector: {closing}", file=sys.stderr)
    return len(errors)


def _deliver(result: FileScan, item: ArchiveFile, outputs: Sink, sheets: CueSheets | None) -> None:
    """One file's scan: what went wrong with it on stderr, and unless it failed outright, its
    detections to the outputs and its cue sheet."""
    if result.status == "failed":
        print(f"theme-detector: skipped: {result.error}", file=sys.stderr)
        return
    if result.partial:
        print(f"theme-detector: {result.error}; the detections before it are kept", file=sys.stderr)
    if result.sanitised_samples:
        print(f"theme-detector: {result.path}: {result.sanitised_samples} invalid samples "
              "(NaN, Inf or absurd values) were replaced by silence", file=sys.stderr)
    if not result.notes_heard:  # not a clean negative: nothing to find a theme in
        print(f"theme-detector: {result.path}: no note heard (silent, empty, or no pitched "
              "sound)", file=sys.stderr)
    for detection in result.detections:
        outputs.emit(detection, result.path)
    if sheets:
        sheets.write(item, result.detections, result.error if result.partial else None)


class CueSheets:
    """The per-file cue sheets and the summary in an output folder.

    A file's sheet is written whole once the file is scanned (via a temporary name, so a sheet
    that exists is complete): with `resume`, a file whose sheet exists is not scanned again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"--out {folder}: is a file; --out takes a folder for the cue sheets "
                              "(made if missing)")
        probe = folder / f".theme-detector-{os.getpid()}.probe"  # writable, before hours of work?
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise OutputError(f"{folder}: cannot be written ({reason(error)})") from None

    def path(self, item: ArchiveFile) -> Path:
        return self.folder / item.cue_name

    def finished(self, items: Sequence[ArchiveFile]) -> dict[Path, list[Detection]]:
        """The files whose cue sheet is here, with the detections it holds. A sheet that cannot
        be read back (edited by hand, say) is reported, and its file is left to be scanned again;
        so is a file that was damaged part way when its sheet was written (`damage_note`: a
        new copy may be whole, and an old one is reported as damaged again)."""
        finished = {}
        for item in items:
            sheet = self.path(item)
            if not sheet.is_file():
                continue
            if self.damage_note(item).is_file():
                print(f"theme-detector: {item.path}: damaged part way when last scanned; it is "
                      "scanned again", file=sys.stderr)
                continue
            try:
                finished[item.path] = _detections_in(sheet)
            except ValueError as error:
                print(f"theme-detector: {sheet}: not a cue sheet as this program writes them "
                      f"({error}); {item.path} is scanned again", file=sys.stderr)
        return finished

    def damage_note(self, item: ArchiveFile) -> Path:
        """Beside the sheet of a file damaged part way, what the damage was: while it is there,
        the sheet holds only what came before the damage, and --resume scans the file again."""
        sheet = self.path(item)
        return sheet.with_name(sheet.name + ".damaged")

    def write(self, item: ArchiveFile, detections: Sequence[Detection], damage: str | None = None
              ) -> None:
        """The file's cue sheet, and its `damage_note` if it was damaged part way (removed once
        it scans whole); OutputError if they cannot be written (the disk is full...): the
        sheets written before stay, and --resume goes on from there."""
        target = self.path(item)
        partial = target.with_name(target.name + ".part")
        note = self.damage_note(item)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if damage:  # first: an interruption after it leaves the file to be scanned again
                note.write_text(damage + "\n", encoding="utf-8", errors=FILE_NAMES)
            with open(partial, "w", newline="", encoding="utf-8", errors=FILE_NAMES) as stream:
                write_cue_sheet(((detection, str(item.path)) for detection in detections), stream)
            os.replace(partial, target)
            if not damage:
                note.unlink(missing_ok=True)
        except OSError as error:
            raise OutputError(f"{target}: cannot be written ({reason(error)}); the cue "
                              "sheets written so far are complete, and --resume goes on from "
                              "there") from None

    def write_summary(self, items: Sequence[ArchiveFile], status: dict[Path, str],
                      errors: dict[Path, str]) -> Path:
        """summary.csv: per file its status ("scanned", "resumed", "partial", "failed" or "not
        scanned"), how many detections and which themes its cue sheet holds, and the error if
        there was one."""
        summary = self.folder / SUMMARY_NAME
        with open(summary, "w", newline="", encoding="utf-8", errors=FILE_NAMES) as stream:
            writer = csv.DictWriter(stream, fieldnames=SUMMARY_FIELDS)
            writer.writeheader()
            for item in items:
                sheet = self.path(item)
                state = status.get(item.path, "not scanned")  # the scan was interrupted
                rows = _read_rows(sheet) if state != "failed" else []
                writer.writerow({
                    "file": str(item.path), "status": state,
                    "detections": len(rows),
                    "themes": ";".join(dict.fromkeys(row.get("theme", "?") for row in rows)),
                    "cue_sheet": str(sheet.relative_to(self.folder)) if sheet.is_file() else "",
                    "error": errors.get(item.path, ""),
                })
        return summary


def _detections_in(sheet: Path) -> list[Detection]:
    """The detections a cue sheet holds; ValueError, saying why, if it is not one as
    `write_cue_sheet` writes them: its header first (a file with no detection has only that),
    then a row per detection."""
    with open(sheet, newline="", encoding="utf-8", errors=FILE_NAMES) as stream:
        reader = csv.DictReader(stream)
        if tuple(reader.fieldnames or ()) != CUE_FIELDS:
            raise ValueError(f"its first line is not the header {','.join(CUE_FIELDS)}")
        return [Detection.from_cue(row) for row in reader]


def _read_rows(sheet: Path) -> list[dict[str, str]]:
    if not sheet.is_file():
        return []
    with open(sheet, newline="", encoding="utf-8", errors=FILE_NAMES) as stream:  # as written
        return list(csv.DictReader(stream))
