"""The errors a user can act on.

Each is raised where the problem is found, names the file or device, and says what is wrong;
the command line and the GUI turn them into one clear line, never a traceback.
"""


def reason(error: BaseException) -> str:
    """What went wrong, for a message: an OSError's words without its number and path ("No
    space left on device"), otherwise the error's own message, otherwise its kind."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


class ThemeDetectorError(Exception):
    """Base class: something the user can fix (a file, a device, a setting)."""


class ThemeError(ThemeDetectorError):
    """A theme file that cannot be used: unreadable, not MIDI, no notes, too short, drums only."""


class RenamedTheme(ThemeError):
    """Not a failure: a theme loaded under a numbered name, since an earlier one had its name.
    It travels with the errors of `load_themes` so that every caller says it."""


class AudioInputError(ThemeDetectorError):
    """An audio file or device that cannot be read or opened."""


class OutputError(ThemeDetectorError):
    """An output that cannot be opened: a file, an OSC host, a MIDI port, a missing library."""
