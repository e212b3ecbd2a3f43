"""The network side of the device loop, a state machine run when a push is
due: WiFi, then the clock, then a CIK, then the push. Every failure backs
off exponentially up to a cap; what the error says about retrying
(.retryable) decides whether the next try comes soon or only after the cap.
Data always stays in the journal until the server took it.

Joining the WiFi, setting the clock (NTP, else the server's /timestamp)
and getting a CIK (activation) are once-a-boot jobs: bringup.py does them, loaded for the
job and dropped after."""

import gc

from appconfig import once
from uonep.errors import OnepError
from uonep.forward import MAX_BYTES

# Request body bounds for push: the core's default, halved on MemoryError
# down to this floor, back to the default once a push succeeds.
MIN_PUSH_BYTES = 512


class Backoff:
    """Capped exponential backoff: base, 2*base, 4*base ... cap seconds."""

    def __init__(self, base, cap):
        self.base = base
        self.cap = cap
        self.failures = 0

    def fail(self):
        """Count a failure; return the seconds to wait before the next try."""
        self.failures += 1
        return self.delay()

    def delay(self):
        if not self.failures:
            return 0
        return min(self.cap, self.base * (1 << min(self.failures - 1, 16)))

    def reset(self):
        self.failures = 0


class Connection:
    """WiFi, clock, CIK and push for the app (its board, profile, clock,
    secrets, Client and Uplink). The app's state: "offline" after a
    failure, "ok" after a push; its last_push: the Uplink's last report."""

    def __init__(self, app):
        self.app = app
        wifi = app.profile["wifi"]
        self.backoff = Backoff(wifi["backoff_base"], wifi["backoff_cap"])
        self.push_bytes = MAX_BYTES
        self.pushes = 0
        self.last_push_time = None

    def due(self):
        """Whether to bring the network up now: a batch is due, the backlog
        grew, the clock or the CIK is missing; never during a backoff."""
        app = self.app
        if app.config_error is not None or not app.scheduler.due("network"):
            return False
        if app.cik is None or not app.clock.valid():
            return True
        push = app.profile["push"]
        stats = app.journal.stats()
        if not stats["pending"]:
            return False
        # Counted in the journal, not in RAM: a deep-sleep board reboots
        # every cycle and remembers only what is on flash.
        if stats["pending"] >= push["every_samples"] or self.backoff.failures:
            return True
        if stats["pending_bytes"] >= push["backlog_bytes"]:
            return True
        last = self.last_push_time if self.last_push_time is not None else app.started
        return app.scheduler.since(last) >= push["max_interval"] * 1000

    def run(self):
        """WiFi, clock, CIK, push, in that order; a failure backs off."""
        app = self.app
        try:
            # Joining the network is a boot's job (or an outage's): bringup's.
            if not app.board.wifi_connected() and not once("bringup", "connect_wifi", app):
                return
            if not app.clock.valid():
                once("bringup", "set_clock", app)
            if app.cik is None:
                once("bringup", "activate", app)
            self.push()
        except MemoryError as failure:
            # A fragmented heap: smaller requests need smaller buffers.
            self.push_bytes = max(MIN_PUSH_BYTES, self.push_bytes // 2)
            app.log("low memory: pushing in requests of at most %d bytes" % self.push_bytes)
            self.failed(failure)
        except Exception as failure:
            # OnepError, or anything a network library raised unwrapped:
            # either way the data stays in the journal and the retry waits.
            self.failed(failure)

    def push(self):
        app = self.app
        gc.collect()
        report = app.uplink.push(app.profile["push"]["max_points"], self.push_bytes)
        self.pushes += 1
        app.last_push = report
        self.last_push_time = app.scheduler.now()
        if self.backoff.failures:
            app.log("network back after %d failures" % self.backoff.failures)
        self.backoff.reset()
        app.scheduler.at("network", self.last_push_time)
        app.state = "ok"
        if self.push_bytes != MAX_BYTES:
            # The shortage that shrank the requests has passed (or was one
            # large answer): full-size requests again.
            self.push_bytes = MAX_BYTES
            app.log("memory: requests back to %d bytes" % self.push_bytes)
        app.log("push: %d points in %d requests (%d bytes), %d remaining" % (
            report["sent"], report["requests"], report["bytes"], report["remaining"]))
        # Remote settings, app update (startup's remote jobs): each logs its own failures.
        for job in app.remote:
            job.after_push(app)

    def failed(self, failure):
        """Back off: by the base for what may pass by itself (the network, a
        5xx, a garbled answer), by the cap for what will fail the same way
        until someone acts (a refused CIK or certificate, a 4xx, a
        configuration gap: appconfig.ConfigError is a ValidationError)."""
        app = self.app
        app.state = "offline"
        delay = self.backoff.fail()
        # Exceptions from outside uonep (a library's OSError): the network.
        if isinstance(failure, OnepError) and not failure.retryable:
            delay = self.backoff.cap
            app.log(once("report", "advice", failure, app))
        app.note_error("network", failure, delay)
        app.scheduler.after("network", delay)
