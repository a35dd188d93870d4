"""The display's colours: one per theme, and a scale for pitch confidence."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QColor, QPalette

from detector.themes import Theme

BACKGROUND = QColor("#15171c")
PANEL = QColor("#1f232b")
GRID = QColor("#3a3f4a")
BLACK_KEY_ROW = QColor(255, 255, 255, 10)
TEXT = QColor("#d8dce4")
DIM_TEXT = QColor("#8a909c")
ERROR = QColor("#ff6b6b")

#: Periodicity (0-1) edges between the confidence colours of the pitch trace; voiced frames
#: of clean tones sit above 0.95, noisy or breathy ones lower.
CONFIDENCE_EDGES = (0.8, 0.9, 0.95, 0.98)
#: The same edges for a frame read as an ensemble, whose confidence is the share of the
#: spectrum's peak energy the melody's harmonics explain (voiced from 0.3; in the ensemble
#: benchmark's chorales half the voiced frames explain over 0.5, a tune over a folk song's
#: chords over 0.75): on the solo's edges nearly every one would take the dimmest colour.
ENSEMBLE_CONFIDENCE_EDGES = (0.35, 0.45, 0.55, 0.7)
#: From doubtful (dim blue) to certain (bright yellow-white), one more than the edges.
CONFIDENCE_COLORS = tuple(QColor(c) for c in ("#34507a", "#3f86b5", "#4fc1c0", "#b9e27a", "#fff6b0"))

_GOLDEN_ANGLE_DEG = 137.508


def theme_colors(themes: Sequence[Theme]) -> list[QColor]:
    """A colour per theme: its own (`Theme.color`, '#rrggbb') when valid, otherwise hues a
    golden angle apart, so neighbouring lamps never look alike however many themes there are."""
    colors = []
    for index, theme in enumerate(themes):
        own = _own_color(theme)
        if own.isValid():
            colors.append(own)
        else:
            hue = int(index * _GOLDEN_ANGLE_DEG + 20) % 360
            colors.append(QColor.fromHsv(hue, 170, 240))
    return colors


def _own_color(theme: Theme) -> QColor:
    """The theme's own colour; not valid where it has none, or one Qt does not know."""
    return QColor(theme.color) if theme.color else QColor()


def unknown_colors(themes: Sequence[Theme]) -> list[str]:
    """A line for each theme whose own colour Qt does not know (a typo in a library's `color`),
    which `theme_colors` quietly replaces by a hue: so that the user hears of it."""
    return [f"{theme.name}: '{theme.color}' is not a colour ('#rrggbb', or a name like "
            "'orange'); its lamp takes a hue of its own"
            for theme in themes if theme.color and not _own_color(theme).isValid()]


def with_alpha(color: QColor, alpha: int) -> QColor:
    """A copy of color with alpha 0-255."""
    copy = QColor(color)
    copy.setAlpha(alpha)
    return copy


def dark_palette() -> QPalette:
    """The window's palette: light text on dark panels, to match the roll and the lamps."""
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, color in ((roles.Window, BACKGROUND), (roles.Base, PANEL), (roles.AlternateBase, BACKGROUND),
                        (roles.Button, PANEL), (roles.WindowText, TEXT), (roles.Text, TEXT),
                        (roles.ButtonText, TEXT), (roles.ToolTipBase, PANEL), (roles.ToolTipText, TEXT),
                        (roles.Highlight, QColor("#3f6fb5")), (roles.HighlightedText, QColor("#ffffff"))):
        palette.setColor(role, color)
    palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, DIM_TEXT)
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, DIM_TEXT)
    return palette
