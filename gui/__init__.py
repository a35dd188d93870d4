"""The live display: a window that shows what the detector hears and finds, as it happens.

    source (live input or file player) ──► worker thread: Detector ──► events, display state
                                                                                  │
    GUI thread: a timer (≤ 60 Hz) pulls the new events and the latest state, redraws ◄┘

The GUI thread never calls into the worker and never waits for it (friture's lesson: the
display pulls). Modules: app (window, timer, wiring), sources and player (what the window
listens to), roll, lamps, detection_log, meters, controls (the widgets), overlay (where a
detected theme's notes lie), palette (colours), screenshot (the README's picture),
window_check (whether Qt can open a window here, asked before it starts).
"""
