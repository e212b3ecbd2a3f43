"""What the device says about itself: what it is doing, for the REPL
(App.status), the end of a bounded run (App.finish), and what to do about
a failure no retry fixes (advice). Loaded for the call and dropped after
(appconfig.once), so a sampling device does not keep its code in the heap."""

import gc

import appconfig
from app import iso
from uonep.errors import AuthError, ProvisionError


def status(app):
    """A dict. mem_free: bytes free in the Python heap now (after a
    collection); mem_grow: bytes it could still take from the system on
    demand (ESP32), else 0."""
    valid = app.clock.valid()
    gc.collect()
    free, grow = app.board.memory()
    connection = app.connection
    return {
        "board": app.profile["name"],
        "state": app.state,
        "uptime": app.uptime(),
        "time": iso(app.clock.now()) if valid else None,
        "clock_valid": valid,
        "wifi": "connected" if app.board.wifi_connected() else "down",
        "cik": appconfig.mask(app.cik),
        "config_error": app.config_error,
        "samples": app.samples,
        "committed": app.committed,
        "refused": app.refused,
        "journal": app.journal.stats() if app.journal is not None else None,
        "pushes": connection.pushes,
        "last_push": app.last_push,
        "network_failures": connection.backoff.failures,
        "errors": app.errors,
        "last_error": app.last_error,
        "mem_free": free,
        "mem_grow": grow,
    }


def finish(app):
    """End of a bounded run (the unix port, tests): push what is left,
    once, and report in one line."""
    try:
        if app.journal is None:
            # The run ended in a (simulated) deep sleep: wake up first.
            app.start()
        if app.config_error is None and app.journal.stats()["pending"]:
            app.log("run over: pushing the rest of the backlog")
            app.connection.run()
    except Exception as failure:
        app.note_error("final push", failure)
    found = status(app)
    # Sorted: dict order differs between runtimes.
    app.log("run over: %s" % ", ".join("%s=%s" % (key, found[key]) for key in sorted(found)))


def advice(failure, app):
    """What to do about a failure that will not pass by itself."""
    if isinstance(failure, ProvisionError):
        serial = app.board.unique_id()
        if failure.code == 409:
            return ("provision: activation refused (409): not enabled for activation, or "
                    "already activated. If it was activated before, put its CIK in the "
                    "secrets (\"cik\"); else re-enable serial %s in the portal" % serial)
        if failure.code == 404:
            return ("provision: unknown device (404): add serial number %s to this "
                    "vendor/model in the portal" % serial)
    if isinstance(failure, AuthError):
        return "auth: the server refused CIK %s; fix \"cik\" in %s (data is kept)" % (
            appconfig.mask(app.cik), app.secrets_path)
    return "network: %s will not pass by itself; next try in %ds" % (
        type(failure).__name__, app.connection.backoff.cap)
