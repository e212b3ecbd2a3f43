"""What a board does once a boot, before the first sample: read the
secrets, mount storage, build the Client, open the journal, build the Uplink,
start the watchdog. (Building the App and loading the glue: launch.py.)

The app (appconfig.once) loads this module for each of these jobs and drops it
after: its code costs a board's heap only while it boots, and while a
broken secrets file is read again every cycle.
"""

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
    # The secrets, then the journal's storage, the journal and the Client,
    # built once: each passing need (the file reader, the journal's opening
    # code) comes while little else is loaded yet, and what the mount keeps
    # (the file system's buffers) takes the holes the file reader left.
    # The secrets and the stored CIK are on the file system the board
    # booted from (boardbase.Board.mount_storage).
    load_secrets(app, False)
    app.board.mount_storage(profile["storage"]["mount"])
    settings = profile["journal"]
    appconfig.makedirs(appconfig.parent(settings["path"]))
    # The file functions (configfiles, see appconfig) are done with: let go
    # of before the journal opens and uonep.http loads, the boot's peak.
    sys.modules.pop("configfiles", None)
    app.journal = (app.journal_factory or Journal)(
        settings["path"], capacity_bytes=settings["capacity_bytes"], policy=settings["policy"])
    _client(app)
    app.uplink = Uplink(app._send, app.journal, app.clock)
    app.sampler.sensors = sensors(app)
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


def sensors(app):
    """The profile's sensors as [(alias, function() -> value or None)]; a
    broken one is logged and left out. (A boot's job: its code does not stay.)"""
    found = []
    for spec in app.profile["sensors"]:
        if not spec.get("enabled", True):
            continue
        try:
            found.append((spec["alias"], _sensor(app, spec)))
        except Exception as failure:
            app.note_error("sensor %s (%s)" % (spec["alias"], spec["kind"]), failure)
    return found


def _sensor(app, spec):
    # Bound methods of what stays loaded, never a function made here: it
    # would keep this module's globals, so all its code, for good.
    kind = spec["kind"]
    if kind == "counter":
        return app.sampler.counter
    if kind == "uptime":
        return app.uptime
    if kind == "status":
        return app.sampler.status_change
    return app.board.sensor(spec)
