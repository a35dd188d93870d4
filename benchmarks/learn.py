"""Learn benchmark: themes learned from one recording find the other performances of the set.

    python -m benchmarks.learn [--size quick|full] [--seed N] [--program 73] [--out benchmarks/results]

For every theme of the accuracy test set (benchmarks.data), renders its template alone with
FluidSynth on one instrument (General MIDI `--program`), in its own key and tempo, and learns a
theme from that audio exactly as `theme-detector learn` does (detector.learn). Then scans every
clip of the set (other instruments, keys and tempi, a voice, noise, accompaniment, ...) twice,
with the templates and with the learned themes, and reports per condition the event F1 of both,
and how many learned themes hold the template's notes exactly (the same intervals and count).
Writes learn.json into --out.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from benchmarks.accuracy import evaluate, overall, run
from benchmarks.data import ARTICULATION, SAMPLE_RATE, SIZES, build_set
from benchmarks.render import Part, render
from benchmarks.report import RESULTS_DIR, table, write_json
from detector.learn import learn_theme
from detector.themes import Theme

#: Silence before the theme in the rendering learned from.
LEAD_IN_S = 0.5
#: Flute: a plain instrument, as someone would play a theme to teach it.
DEFAULT_PROGRAM = 73


def learned_from_rendering(theme: Theme, program: int) -> Theme:
    """The theme as learned from a FluidSynth rendering of its template on `program`, each note
    articulated as the set's performances are (repeated notes are heard as separate notes)."""
    part = Part([(n.pitch, LEAD_IN_S + n.onset_s, n.duration_s * ARTICULATION, 90)
                 for n in theme.notes], program)
    return learn_theme(render([part], SAMPLE_RATE), SAMPLE_RATE, theme.name).theme


def same_notes(learned: Theme, template: Theme) -> bool:
    """Whether the learned theme has the template's notes: the same count and intervals."""
    def intervals(theme: Theme) -> list[int]:
        return [round(b.pitch - a.pitch) for a, b in zip(theme.notes, theme.notes[1:])]
    return intervals(learned) == intervals(template)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick", help="test-set size (default quick)")
    parser.add_argument("--seed", type=int, default=0, help="test-set seed (default 0)")
    parser.add_argument("--program", type=int, default=DEFAULT_PROGRAM,
                        help=f"General MIDI program the themes are learned from (default {DEFAULT_PROGRAM}, flute)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for learn.json")
    args = parser.parse_args(argv)

    test_set = build_set(args.size, args.seed)
    learned = tuple(learned_from_rendering(theme, args.program) for theme in test_set.themes)
    exact = [same_notes(a, b) for a, b in zip(learned, test_set.themes)]
    results = {}
    for label, themes in (("templates", test_set.themes), ("learned", learned)):
        detections, _ = run(replace(test_set, themes=themes))
        results[label] = [*evaluate(test_set, detections), overall(test_set, detections)]

    rows = [[t.condition, str(t.n_occurrences), f"{t.f1:.2f}", f"{l_.f1:.2f}",
             f"{t.false_alarms_per_hour:.1f}", f"{l_.false_alarms_per_hour:.1f}"]
            for t, l_ in zip(results["templates"], results["learned"])]
    print(f"\n{len(learned)} themes learned from General MIDI program {args.program}; "
          f"{sum(exact)} with exactly the template's notes (size {args.size}, seed {args.seed})\n")
    print(table(("condition", "occ", "F1 templates", "F1 learned", "FA/h templates", "FA/h learned"), rows))
    path = write_json(args.out, "learn.json", {
        "size": args.size, "seed": args.seed, "program": args.program,
        "themes": [{"name": theme.name, "template_notes": len(theme.notes), "learned_notes": len(got.notes),
                    "same_notes": ok, "learned_pitches": [n.pitch for n in got.notes]}
                   for theme, got, ok in zip(test_set.themes, learned, exact)],
        "conditions": {label: [asdict(summary) for summary in summaries]
                       for label, summaries in results.items()},
        "mean_f1": {label: float(np.mean([s.f1 for s in summaries[:-1] if s.n_occurrences]))
                    for label, summaries in results.items()},
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
