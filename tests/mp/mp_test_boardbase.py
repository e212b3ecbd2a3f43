"""The board contract (firmware/boardbase.py) as code: a glue that
overrides nothing still runs the app, offline, and every board glue of the
repository subclasses it."""
import os

import app
import appconfig
import boardbase

from uonep.manualclock import ManualClock

HEAPSIZE = "512k"
NOW = 1790000000


class Counted(boardbase.Board):
    """The defaults, plus the one sensor the profile names."""

    def sensor(self, spec):
        return lambda: 21.5


def test_a_glue_that_overrides_nothing_runs_the_app():
    folder = os.getenv("UONEP_TMP") + "/bare"
    profile = appconfig.load_profile("boards/unix", {
        "journal.path": folder + "/journal", "sensors": [{"alias": "temp", "kind": "simulated"}],
        "watchdog": 0, "sleep": "light"})
    board = Counted(profile)
    clock = ManualClock(NOW)
    lines = []
    device = app.App(profile, folder + "/no-secrets.json", board, clock=clock,
                     sleep=lambda mode, seconds: clock.advance(seconds), log=lines.append)
    device.run(10 * profile["sample_interval"])
    # No secrets: sampling goes on offline, into the journal; close() calls
    # the default unmount_storage.
    assert device.committed >= 10, lines
    assert device.journal is None or device.journal.stats()["pending"] >= 10
    device.close()
    assert board.memory()[0] > 0 and board.watchdog(5) is None and not board.sync_time("x")
    try:
        boardbase.Board(profile).sensor({"kind": "adc"})
    except ValueError as failure:
        assert "adc" in str(failure)
    else:
        raise AssertionError("an unknown sensor kind was accepted")


def test_every_glue_subclasses_the_contract():
    import sys
    sys.path.insert(0, "boards/unix")
    try:
        import board
    finally:
        sys.path.pop(0)
    assert issubclass(board.Board, boardbase.Board)
    with open("boards/esp32/board.py") as source:
        assert "class Board(boardbase.Board):" in source.read()
