"""The network side of the device loop, a state machine run when a push is
due: WiFi, then the clock, then a CIK, then the push. Every failure backs
off exponentially up to a cap; what the error says about retrying
(.retryable) decides whether the next try comes soon or only after the cap.
Data always stays in the journal until the server took it."""

import gc
import sys

import appconfig
from uonep import clock as clocks
from uonep.errors import (AuthError, CertificateError, HTTPError, OnepError, ProtocolError,
                          ProvisionError)
from uonep.forward import MAX_BYTES

# Request body bounds for push: the core's default, halved on MemoryError
# down to this floor, back to the default once a push succeeds.
MIN_PUSH_BYTES = 512



def _let_go(name):
    """Drop a core module from sys.modules (and its package): imported
    again when next needed, its code is garbage once nothing uses it."""
    if sys.modules.pop("uonep." + name, None) is not None:
        try:
            delattr(sys.modules["uonep"], name)
        except (KeyError, AttributeError):
            pass

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
    secrets, Client and Uplink). state: "offline" after a failure, "ok"
    after a push."""

    def __init__(self, app):
        self.app = app
        wifi = app.profile["wifi"]
        self.backoff = Backoff(wifi["backoff_base"], wifi["backoff_cap"])
        self.push_bytes = MAX_BYTES
        self.pushes = 0
        self.last_push = None
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
            if not self.connect_wifi():
                return
            try:
                if not app.clock.valid():
                    self.set_clock()
                if app.cik is None:
                    self.activate()
            finally:
                # The clock and the CIK are a boot's business: provision's
                # code does not stay in the heap for the pushes after.
                _let_go("provision")
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

    def connect_wifi(self):
        app = self.app
        if app.board.wifi_connected():
            return True
        ssid = app.secrets["wifi"]["ssid"]
        app.log("wifi: connecting to %s" % ssid)
        if app.board.wifi_connect(ssid, app.secrets["wifi"].get("password", ""),
                                  app.profile["wifi"]["timeout"]):
            app.log("wifi: connected")
            return True
        app.state = "offline"
        delay = self.backoff.fail()
        app.scheduler.after("network", delay)
        app.log("wifi: cannot connect to %s; retry in %ds, backlog %d commits kept" % (
            ssid, delay, app.journal.stats()["pending"]))
        return False

    def set_clock(self):
        """NTP first; else the server's /timestamp."""
        app = self.app
        try:
            if app.board.sync_time(app.profile["ntp"]["host"]):
                app.log("clock: set from NTP, %s" % iso(app.clock.now()))
                return
        except Exception as failure:
            app.log("clock: NTP failed (%s); asking the server" % failure)
        try:
            seconds = self.server_time()
        except (HTTPError, ProtocolError) as failure:
            # The server is there but will not tell the time: push anyway,
            # with times relative to the server's "now" (see uonep.forward).
            app.log("clock: no time from the server (%s); pushing with relative times"
                    % failure)
            return
        app.clock.set_unix_time(seconds)
        app.log("clock: set from the server, %s" % iso(seconds))

    def server_time(self):
        """The server's /timestamp. A board whose clock is unset (2000)
        fails every certificate's date check (mbedTLS compares them with
        its clock), so then the time is asked once more without a
        certificate check: a GET that carries no credential, whose answer
        only sets a rough clock; every request after it is verified (see
        the README's Security section)."""
        # provision and Transport are loaded for the clock and activation
        # only: most boots never need them.
        from uonep import provision
        from uonep.transport import Transport
        app = self.app
        try:
            return provision.server_time(app.client)
        except CertificateError:
            if app.clock.valid():
                raise
        transport = Transport(app.client.transport.base, app.profile["timeout"], verify=False)
        try:
            seconds = provision.server_time(transport)
        finally:
            transport.close()
        if not clocks.is_valid(seconds):
            raise ProtocolError("/timestamp answered a time before 2024")
        app.log("clock: time asked without a certificate check (the clock was unset)")
        return seconds

    def activate(self):
        """Get a CIK with /provision/activate and keep it next to the secrets."""
        app = self.app
        vendor = app.secrets.get("vendor") or app.profile["vendor"]
        model = app.secrets.get("model") or app.profile["model"]
        if not vendor or not model:
            raise appconfig.ConfigError(
                "no CIK: put \"cik\" in %s, or vendor and model in it or in the profile "
                "to activate" % app.secrets_path)
        from uonep import provision
        serial = app.board.unique_id()
        app.log("provision: activating vendor %s model %s serial %s" % (vendor, model, serial))
        cik = provision.activate(app.client, vendor, model, serial)
        appconfig.store_cik(app.cik_path, cik)
        app.use_cik(cik)
        app.log("provision: activated, CIK %s stored in %s" % (appconfig.mask(cik),
                                                              app.cik_path))

    def push(self):
        app = self.app
        gc.collect()
        report = app.uplink.push(app.profile["push"]["max_points"], self.push_bytes)
        self.pushes += 1
        self.last_push = report
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
        # Remote settings, app update (app.remote_jobs): each logs its own failures.
        for job in app.remote:
            job.after_push(app)

    def failed(self, failure):
        """Back off: by the base for what may pass by itself (the network, a
        5xx, a garbled answer), by the cap for what will fail the same way
        until someone acts (a refused CIK or certificate, a 4xx, a
        configuration gap)."""
        app = self.app
        app.state = "offline"
        delay = self.backoff.fail()
        # Exceptions from outside uonep (a library's OSError): the network.
        if isinstance(failure, (OnepError, appconfig.ConfigError)) and not failure.retryable:
            delay = self.backoff.cap
            app.log(advice(failure, app))
        app.note_error("network", failure, delay)
        app.scheduler.after("network", delay)


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


def iso(seconds):
    """Unix seconds as 2024-05-01T12:00:00Z."""
    import time
    fields = time.gmtime(int(seconds) - clocks.epoch_offset())
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % fields[:6]
