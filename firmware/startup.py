"""What a board does once a boot, before the first sample: build the App
from the command line and the board's files, mount storage, read the
secrets, build the Client, open the journal, build the Uplink, start the
watchdog.

The app (appconfig.once) loads this module for each of these jobs and drops it
after: its code costs a board's heap only while it boots, and while a
broken secrets file is read again every cycle.
"""

import gc
import sys

import appconfig
from uonep import Client
from uonep.forward import Uplink
from uonep.journal import Journal

def start(app):
    """App.start: everything a boot does before the first sample."""
    app.boots += 1
    app.started = app.clock.ticks_ms()
    app.scheduler.at("sample", app.started)
    app.scheduler.at("network", app.started)
    app.state = "boot"
    profile = app.profile
    app.board.mount_storage(profile["storage"]["mount"])
    # The secrets, then the journal, then the Client, built once: each
    # passing need (the file reader, the journal's opening code) comes while
    # little else is loaded yet.
    load_secrets(app, False)
    settings = profile["journal"]
    appconfig.makedirs(appconfig.parent(settings["path"]))
    app.journal = (app.journal_factory or Journal)(
        settings["path"], capacity_bytes=settings["capacity_bytes"], policy=settings["policy"])
    _client(app)
    app.uplink = Uplink(app._send, app.journal, app.clock)
    app.sampler.build()
    # The jobs Connection.push runs after a push, their modules loaded only
    # when the profile names them.
    app.remote = []
    if profile["settings"]["alias"]:
        from settings import Settings
        app.remote.append(Settings(profile["settings"]))
    if profile["update"]["content_id"]:
        from update import Updater
        app.remote.append(Updater(profile["update"]))
    if profile["watchdog"]:
        app.watchdog = app.board.watchdog(profile["watchdog"])
    stats = app.journal.stats()
    app.log("boot %d: board %s, a sample every %ss; journal %s: %d commits pending, "
            "%d dropped so far" % (app.boots, profile["name"], profile["sample_interval"],
                                   settings["path"], stats["pending"], stats["dropped"]))


def load_secrets(app, client=True):
    """(Re)read the secrets file into app.secrets and app.cik (the one
    stored after an activation when the file has none): a missing or broken
    one is reported (app.unconfigured), sampling goes on offline, and the
    file is read again every cycle so that writing a fixed one (mpremote cp)
    is enough. True when it is usable; then, unless client is False, the
    Client is made anew with its server and credentials."""
    try:
        secrets = appconfig.load_secrets(app.secrets_path)
    except Exception as failure:
        return app.unconfigured(failure)
    was_broken = app.config_error is not None
    app.secrets = secrets
    app.config_error = None
    cik = secrets.get("cik") or appconfig.load_cik(appconfig.cik_path(app.secrets_path))
    if cik is not None:
        app.cik = cik
    if client:
        _client(app)
    if was_broken:
        app.state = "offline"
        app.log("config: secrets loaded from %s" % app.secrets_path)
    return True


def _client(app):
    """app.client, made anew (the one of a previous boot or secrets file
    closed) with the secrets' server and TLS check, or the profile's while
    the secrets are unusable."""
    profile = app.profile
    secrets = app.secrets if app.config_error is None else None
    if app.client is not None:
        app.client.close()
        app.client = None
    # The TLS check: the secrets file's "verify" if it has one, else the profile's.
    verify = secrets.get("verify", profile["verify"]) if secrets else profile["verify"]
    # Before activation the CIK is a placeholder; it never leaves the device
    # because nothing is pushed until a real CIK is set.
    app.client = Client(app.cik or "0" * 40, secrets and secrets.get("server") or profile["server"],
                        profile["timeout"], http=app.board.http(verify), verify=verify)


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
