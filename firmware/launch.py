"""What a board does once at power-on, before App.start: the App built from
the command line (unix port) or the board's files, and the board's glue
loaded (boot, load_board).

The app (appconfig.once) loads this module for each of these jobs and drops it
after, as it does startup.py: kept apart from startup (storage, secrets,
journal, Client), so that what App.start loads is only what it runs.
"""

import gc
import sys

import appconfig


def load_board(folder, profile, log=None):
    """The glue object of the board: board.py in folder, or in the sibling
    folder named by the profile's "glue" (several profiles, one glue)."""
    places = [folder]
    if profile["glue"]:
        places.append(appconfig.join(appconfig.parent(folder.rstrip("/") or "/"),
                                     profile["glue"]))
    for place in places:
        if appconfig.exists(appconfig.join(place, "board.py")) or \
                appconfig.exists(appconfig.join(place, "board.mpy")):
            sys.path.insert(0, place)
            try:
                module = __import__("board")
            finally:
                sys.path.pop(0)
            return module.Board(profile, log)
    try:
        # Frozen into the firmware image (firmware/manifest.py)?
        return __import__("board").Board(profile, log)
    except ImportError:
        raise appconfig.ConfigError("no board.py in %s" % " or ".join(places))


def boot(argv=None, log=None):
    """app.boot: the App from the command line, or None after one line
    saying why the profile or the glue is unusable."""
    from app import App
    log = log or print
    try:
        options = appconfig.parse_args(argv or [])
        profile = appconfig.load_profile(options["board"], options["overrides"])
        board = load_board(options["board"], profile)
    except appconfig.ConfigError as failure:
        log("uonep app cannot start: %s" % failure)
        return None
    except Exception as failure:
        # Broken glue (a missing hardware module, a typo): say which, and
        # stop at the REPL rather than reset over and over. No secret has
        # been read yet, so none can be in the message.
        log("uonep app cannot start: the board glue failed: %s: %s" % (
            type(failure).__name__, failure))
        return None
    gc.collect()
    app = App(profile, options["secrets"], board, log=log)
    # The board's own messages (simulated outages, ...) get the app's timestamps.
    board.log = app.log
    return app
