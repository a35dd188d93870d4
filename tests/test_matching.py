"""The matcher finds a theme however it is disguised, and stays silent on other music.

Note-level tests drive the Matcher with performed notes directly (fast, so hypothesis can
explore); audio-level tests go through the whole Detector.
"""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.demo import perform, random_melody
from detector.matching import ALTERNATIVE_COST, CHORD_NOTE_COST, Matcher
from detector.notes import Note
from detector.themes import Theme

from conftest import SAMPLE_RATE, detect, render_performance


def feed(matcher: Matcher, notes: list[Note], in_ensemble: bool | None = None) -> list[tuple]:
    """Every announcement from the notes; heard in an ensemble's frames if so told, and by
    default where the matcher's line comes from (a line of an ensemble, or a solo)."""
    if in_ensemble is None:
        in_ensemble = matcher.ensemble_line
    found = []
    for note in notes:
        found += matcher.add_note(note.pitch, note.onset_s, in_ensemble=in_ensemble)
    return found


def names(matcher: Matcher, found: list[tuple]) -> list[str]:
    return [matcher.themes[f[0]].name for f in found]


def announced_at(matcher: Matcher, notes: list[Note], in_ensemble: bool) -> int | None:
    """The index of the performed note that announced a theme (None: none did)."""
    for k, note in enumerate(notes):
        if matcher.add_note(note.pitch, note.onset_s, in_ensemble=in_ensemble):
            return k
    return None


@settings(max_examples=60, deadline=None)
@given(transpose=st.integers(-30, 30), tempo=st.floats(0.5, 2.0), name_index=st.integers(0, 4))
def test_any_key_and_tempo_is_found_once_with_its_transposition(themes, transpose, tempo, name_index):
    theme = themes[name_index]
    matcher = Matcher(themes)
    found = feed(matcher, perform(theme, 1.0, transpose, tempo))
    assert names(matcher, found) == [theme.name]
    _, _, start_s, _, found_transpose, found_tempo, _ = found[0]
    assert found_transpose == transpose
    assert found_tempo == pytest.approx(tempo, rel=0.05)
    assert start_s == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), name_index=st.integers(0, 4))
def test_rubato_and_intonation_off_by_up_to_50_cents_are_tolerated(themes, seed, name_index):
    """The whole performance up to 50 cents off, each note a further +-25 cents, +-15 % rubato."""
    rng = np.random.default_rng(seed)
    theme = themes[name_index]
    notes, t = [], 0.0
    tuning = rng.uniform(-0.5, 0.5)
    for a, b in zip(theme.notes, theme.notes[1:] + (None,)):
        notes.append(Note(a.pitch + 5 + tuning + rng.uniform(-0.25, 0.25), t, a.duration_s))
        if b is not None:
            t += (b.onset_s - a.onset_s) * rng.uniform(0.85, 1.15)
    matcher = Matcher(themes)
    assert names(matcher, feed(matcher, notes)) == [theme.name]


@pytest.mark.parametrize("dropped", [2, 5, 8])
def test_a_dropped_note_is_tolerated(themes, theme_named, dropped):
    theme = theme_named("Ode to Joy")
    notes = perform(theme, 0.0, -2, 1.1)
    del notes[dropped]
    matcher = Matcher(themes)
    assert names(matcher, feed(matcher, notes)) == ["Ode to Joy"]


def test_a_lost_note_earns_no_evidence_the_notes_heard_do_not_give():
    """A performance that loses a theme's dip an octave down hears the notes either side of
    it as a step: the path that passes over the dip earns a step's evidence, not the leap's
    back up, so the theme is announced no sooner than a theme that repeats the note before
    where the dip was (a repeat that legato playing merges), from the very same notes."""
    steps = [60, 62, 64, 65, 67, 65, 64, 62, 60, 62, 64, 65,
             67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
    with_dip = steps[:5] + [55] + steps[5:]  # 67 55 65: the dip, then a leap back up
    with_repeat = steps[:5] + [67] + steps[5:]

    def notes(pitches: list[int], beat_s: float) -> tuple[Note, ...]:
        return tuple(Note(p, beat_s * k, beat_s) for k, p in enumerate(pitches))

    played = notes(with_dip, 0.5)
    heard = played[:5] + played[6:]  # the dip's note lost: a rest where it was

    def heard_as(template: Theme) -> int | None:
        return announced_at(Matcher([template]), list(heard), in_ensemble=False)

    after_dip = heard_as(Theme("with a dip", notes(with_dip, 0.4)))
    after_repeat = heard_as(Theme("with a repeat", notes(with_repeat, 0.4)))
    assert after_dip is not None and after_repeat is not None
    assert after_dip >= after_repeat, (after_dip, after_repeat)


def test_an_added_ornament_is_tolerated(themes, theme_named):
    theme = theme_named("Greensleeves")
    notes = perform(theme, 0.0, 0, 1.0)
    grace = notes[4]
    notes.insert(4, Note(grace.pitch + 2, grace.onset_s - 0.08, 0.08))
    matcher = Matcher(themes)
    assert names(matcher, feed(matcher, notes)) == ["Greensleeves"]


def test_another_lines_simultaneous_note_may_stand_for_a_wrong_one(themes, theme_named):
    """Every third note heard a fourth too low (the line took another voice there): the theme
    is lost, unless another line began the right note at the same time."""
    played = perform(theme_named("Ode to Joy"), 1.0, 0, 1.0)
    wrong = [Note(n.pitch - 5, n.onset_s, n.duration_s) if k % 3 == 1 else n for k, n in enumerate(played)]
    alone, helped = Matcher(themes), Matcher(themes)
    found_alone = feed(alone, wrong)
    found_helped = []
    for heard, right in zip(wrong, played):
        others = np.array([[right.pitch, ALTERNATIVE_COST]]) if heard is not right else np.zeros((0, 2))
        found_helped += helped.add_note(heard.pitch, heard.onset_s, others)
    assert names(alone, found_alone) == []
    assert names(helped, found_helped) == ["Ode to Joy"]


def chord_around(pitch: float, steps: tuple[int, ...] = (-7, -3, 4)) -> np.ndarray:
    """The notes of a chord heard with `pitch` (steps from it), as alternatives that may stand
    for it at CHORD_NOTE_COST."""
    return np.array([[pitch + step, CHORD_NOTE_COST] for step in steps])


def test_a_note_a_chord_stood_for_is_worth_fewer_bits(themes, theme_named):
    """Every third note heard a fourth too high, the right one among the chord sounding with
    it: the theme is still found, but later than when every note is heard right, since among
    four pitches one fits by chance four times as often."""
    played = perform(theme_named("Ode to Joy"), 1.0, 0, 1.0)
    direct, through_chords = (Matcher(themes, ensemble_line=True) for _ in range(2))
    found_direct, found_through_chords = feed(direct, played), []
    for k, note in enumerate(played):
        if k % 3 == 1:
            chord = chord_around(note.pitch, (0, -7, 4))
            found_through_chords += through_chords.add_note(note.pitch + 5, note.onset_s, chord,
                                                            in_ensemble=True)
        else:
            found_through_chords += through_chords.add_note(note.pitch, note.onset_s, in_ensemble=True)
    assert names(direct, found_direct) == names(through_chords, found_through_chords) == ["Ode to Joy"]
    progress_direct, progress_through_chords = found_direct[0][6], found_through_chords[0][6]
    assert progress_through_chords >= progress_direct + 0.1, (progress_direct, progress_through_chords)


def with_other_voice(notes: list[Note], after: dict[int, list[tuple[int, float]]]) -> list[Note]:
    """The notes a line read out of a mixture hears: after note k, for a moment (0.1 s), the
    other voices' notes of after[k], each (semitones off note k, when: a fraction of its
    duration)."""
    heard = []
    for k, note in enumerate(notes):
        heard.append(note)
        heard += [Note(note.pitch + step, note.onset_s + at * note.duration_s, 0.1)
                  for step, at in after.get(k, ())]
    return heard


def test_a_line_of_an_ensemble_passes_other_voices_notes_between_the_themes(themes, theme_named):
    """After every second note, a line read out of a mixture hears two other voices' notes (a
    sixth and a fourth below) for a moment: too many extra notes for a solo line, not for a
    line of an ensemble."""
    played = perform(theme_named("Ode to Joy"), 1.0, 0, 1.0)
    heard = with_other_voice(played, {k: [(-9, 0.6), (-5, 0.8)] for k in range(1, len(played), 2)})
    solo, line = Matcher(themes), Matcher(themes, ensemble_line=True)
    assert names(solo, feed(solo, heard)) == []
    assert names(line, feed(line, heard)) == ["Ode to Joy"]


@pytest.mark.parametrize("name", ["Dies irae", "Greensleeves", "In the Hall of the Mountain King",
                                  "Ode to Joy"])
def test_a_line_finds_a_theme_another_voice_breaks_into_at_once(themes, theme_named, name):
    """Another voice's note comes straight after each of the theme's first two notes (a sixth,
    then a fourth below): each begins a path in a wrong key where the theme's own path was,
    and without paths that wait for their second note the theme would never begin."""
    heard = with_other_voice(perform(theme_named(name), 1.0, 0, 1.0), {0: [(-9, 0.5)], 1: [(-5, 0.5)]})
    line = Matcher(themes, ensemble_line=True)
    assert names(line, feed(line, heard)) == [name]


@pytest.mark.parametrize("name_index", range(5))
@pytest.mark.parametrize("n_heard_up", [1, 2])
def test_a_line_takes_the_octave_most_of_the_themes_notes_were_heard_in(themes, name_index, n_heard_up):
    """The front end hears the first notes of a bass whose fundamental is weak an octave up: the
    theme is still found, and in the octave of the rest of its notes."""
    played = perform(themes[name_index], 1.0, -14, 1.0)
    heard = [replace(note, pitch=note.pitch + 12) if k < n_heard_up else note
             for k, note in enumerate(played)]
    line = Matcher(themes, ensemble_line=True)
    found = feed(line, heard)
    assert names(line, found) == [themes[name_index].name]
    assert found[0][4] == -14  # the transposition


@pytest.mark.parametrize("name", ["Dies irae", "Greensleeves", "In the Hall of the Mountain King",
                                  "Ode to Joy"])
def test_the_transposition_is_in_the_octave_most_of_the_notes_were_heard_in(themes, theme_named, name):
    """A solo whose first note the tracker heard an octave up (a slip at the attack): the
    transposition reported, and where the display draws the theme, is that of the others."""
    played = perform(theme_named(name), 1.0, -14, 1.0)
    heard = [replace(played[0], pitch=played[0].pitch + 12), *played[1:]]
    solo = Matcher(themes)
    found = feed(solo, heard)
    assert names(solo, found) == [name]
    assert found[0][4] == -14


def test_the_first_two_thirds_of_a_theme_are_enough(themes, theme_named):
    theme = theme_named("In the Hall of the Mountain King")
    notes = perform(theme, 0.0, 4, 0.9)[: int(0.7 * len(theme.notes))]
    matcher = Matcher(themes)
    assert names(matcher, feed(matcher, notes)) == [theme.name]


def test_a_scale_fragment_at_the_start_of_a_theme_is_not_enough(themes, theme_named):
    theme = theme_named("In the Hall of the Mountain King")
    notes = perform(theme, 0.0, 4, 0.9)[:6]  # A B C D E C: steps anyone might play
    matcher = Matcher(themes)
    assert feed(matcher, notes) == []


def an_hour_of_other_music() -> list[Note]:
    """An hour of seeded random tonal melodies, 30 s each, 2 s apart."""
    t, notes = 0.0, []
    while t < 3600.0:
        notes += random_melody(np.random.default_rng(int(t)), t, 30.0)
        t = notes[-1].end_s + 2.0
    return notes


@pytest.mark.parametrize("ensemble_line", [False, True])
def test_an_hour_of_other_tonal_music_raises_at_most_one_false_alarm(themes, ensemble_line):
    """The target is at most one false alarm per hour: an hour of seeded random melodies, heard
    as a solo line or as a line of an ensemble (where extra notes cost less)."""
    matcher = Matcher(themes, ensemble_line=ensemble_line)
    assert len(feed(matcher, an_hour_of_other_music())) <= 1


def test_an_hour_of_other_music_with_chords_to_choose_from_raises_at_most_one_false_alarm(themes):
    """A line of an ensemble whose every note comes with three chord notes that may stand for
    it: an hour of seeded random melodies so heard raises at most one false alarm."""
    matcher, false_alarms = Matcher(themes, ensemble_line=True), []
    for note in an_hour_of_other_music():
        false_alarms += matcher.add_note(note.pitch, note.onset_s, chord_around(note.pitch),
                                         in_ensemble=True)
    assert len(false_alarms) <= 1


def test_a_theme_repeated_is_announced_twice(themes, theme_named):
    theme = theme_named("Dies irae")
    first = perform(theme, 0.0, 0, 1.0)
    second = perform(theme, first[-1].end_s + 1.0, 7, 1.3)
    matcher = Matcher(themes)
    found = feed(matcher, first + second)
    assert names(matcher, found) == ["Dies irae", "Dies irae"]
    assert [f[4] for f in found] == [0, 7]


def test_display_state_shows_progress_through_the_theme(themes, theme_named):
    theme = theme_named("Greensleeves")
    index = [t.name for t in themes].index("Greensleeves")
    matcher = Matcher(themes)
    notes = perform(theme, 0.0, 0, 1.0)
    feed(matcher, notes[:6])
    early_score, early_progress = matcher.theme_score[index], matcher.theme_progress[index]
    feed(matcher, notes[6:12])
    assert matcher.theme_progress[index] > early_progress >= 6 / len(theme.notes) - 1e-9
    assert matcher.theme_score[index] > early_score
    assert matcher.theme_score[index] == max(matcher.theme_score)


# ------------------------------------------------------------------ through audio


def test_theme_found_a_fifth_up_at_double_speed_among_other_music(themes, theme_named):
    theme = theme_named("Ode to Joy")
    audio, start_s, end_s = render_performance(theme, transpose=7, tempo=2.0, timbre="clarinet",
                                               before_s=6.0, seed=3)
    found = detect(themes, audio)
    assert [d.theme for d in found] == ["Ode to Joy"]
    detection = found[0]
    assert detection.transpose == 7
    assert detection.tempo == pytest.approx(2.0, rel=0.08)
    assert start_s - 0.1 <= detection.start_s <= start_s + 0.1
    assert start_s < detection.time_s < end_s, "announced before the theme ends"


def test_theme_found_two_octaves_down_at_half_speed_hummed(themes, theme_named):
    theme = theme_named("Greensleeves")
    audio, start_s, end_s = render_performance(theme, transpose=-24, tempo=0.5, timbre="hum")
    found = detect(themes, audio)
    assert [(d.theme, d.transpose) for d in found] == [("Greensleeves", -24)]
    assert start_s < found[0].time_s < end_s


def test_no_detection_in_music_without_a_theme(themes):
    rng = np.random.default_rng(11)
    from detector.synth import render_notes
    audio = render_notes(random_melody(rng, 0.0, 40.0), SAMPLE_RATE, "oboe", seed=11)
    assert detect(themes, audio) == []


@pytest.mark.parametrize("name", ["Dies irae", "Greensleeves", "In the Hall of the Mountain King",
                                  "Ode to Joy"])
def test_two_readings_forked_and_joined_keep_the_better_path_into_each_state(themes, theme_named, name):
    """Auto mode's main line and its solo branch (detector/solo_branch.py): two matchers read
    one passage differently after a fork, and the joined matcher goes on from the better
    reading. Heard wrong by the main matcher and right by its branch, the theme's middle lets
    the joined main matcher announce the theme in its last notes; without the join, or joined
    with a branch that heard the middle no better, it does not; heard right by the main matcher,
    a wrong branch joined changes nothing."""
    notes = perform(theme_named(name), 0.0, 0, 1.0)
    head, middle, tail = notes[:2], notes[2:6], notes[6:]
    wrong = [replace(note, pitch=note.pitch + (6 if k % 2 else -5)) for k, note in enumerate(middle)]

    def announced_by_main(main_middle: list[Note], branch_middle: list[Note] | None) -> list[str]:
        main, branch = Matcher(themes), Matcher(themes)
        found = feed(main, head)
        branch.fork_from(main)
        found += feed(main, main_middle)
        if branch_middle is not None:
            assert not feed(branch, branch_middle), "announced in the tail, not in the middle"
            main.join(branch)
        return names(main, found + feed(main, tail))

    assert announced_by_main(wrong, middle) == [name]
    assert announced_by_main(wrong, None) == []
    assert announced_by_main(wrong, wrong) == []
    assert announced_by_main(middle, wrong) == [name]


def test_two_readings_of_one_line_keep_one_theme_per_passage_between_them(themes, theme_named):
    """While auto mode's main line and its solo branch read one passage two ways, a theme one
    of them announced keeps the other from announcing another theme over the same passage with
    no better a score, as one matcher keeps one theme per passage: they are one line."""
    heard_by_main = perform(theme_named("Ode to Joy"), 0.0, 0, 1.0)
    heard_by_branch = perform(theme_named("Greensleeves"), 0.0, 0, 1.0)
    heard_by_branch[5] = replace(heard_by_branch[5], pitch=heard_by_branch[5].pitch + 1)  # a wrong note

    def announced_by_branch(sharing: bool) -> list[str]:
        main, branch = Matcher(themes), Matcher(themes)
        branch.fork_from(main)
        assert names(main, feed(main, heard_by_main)) == ["Ode to Joy"]
        if sharing:
            branch.take_last_event(main)
        return names(branch, feed(branch, heard_by_branch))

    assert announced_by_branch(sharing=False) == ["Greensleeves"]
    assert announced_by_branch(sharing=True) == []


def test_only_matchers_of_the_same_themes_and_kind_fork_and_join(themes):
    with pytest.raises(ValueError, match="same themes and kind"):
        Matcher(themes).join(Matcher(themes[:2]))
    with pytest.raises(ValueError, match="same themes and kind"):
        Matcher(themes).fork_from(Matcher(themes, ensemble_line=True))


@pytest.mark.parametrize("ensemble_line", [False, True])
def test_a_note_passed_over_in_a_single_line_costs_evidence_but_not_in_an_ensemble(
        themes, theme_named, ensemble_line):
    """Music with extra notes between a theme's matches it in more ways than one: in a single
    line each such note takes INSERT_BITS of the evidence, so the theme needs more of its notes
    before it is announced. In an ensemble other voices' notes come between the theme's anyway,
    and the same notes announce it sooner. A line of an ensemble heard where auto mode read
    the music as a single line (its notes are then a solo's) pays as a solo line does."""
    theme = theme_named("Dies irae")  # announced well before its end: 28 of its 52 bits
    # After notes 1-3, a note a minor sixth up, halfway through: neither a repeat nor a neighbour.
    played = with_other_voice(perform(theme, 1.0, 0, 1.0), {k: [(8, 0.5)] for k in (1, 2, 3)})
    single_line = announced_at(Matcher(themes, ensemble_line=ensemble_line), played, in_ensemble=False)
    in_ensemble = announced_at(Matcher(themes, ensemble_line=ensemble_line), played, in_ensemble=True)
    assert in_ensemble is not None and single_line is not None
    assert single_line > in_ensemble
