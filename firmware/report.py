"""What the device is doing, for the REPL (App.status) and for the end of a
bounded run (App.finish): loaded for the call and dropped after
(appconfig.once), so a sampling device does not keep its code in the heap."""

import gc

import appconfig
from app import iso


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
