"""The device application: sample, commit, push, sleep, for months.

    from app import boot
    app = boot([])          # /board.json, /board.py, /secrets.json on a board
    app.run()               # forever (or profile "run_for" seconds)
    app.status()            # at the REPL after Ctrl-C: what the device is doing

One cycle (App.step): feed the watchdog; take a sample when it is due and
commit it to the journal (durable before anything else happens); when a
batch is due or the backlog grows, bring up WiFi, set the clock, get a CIK
(activation) and push. Every network failure backs off exponentially up to
a cap and keeps the data in the journal; no exception ends the loop.

The board glue (boards/NAME/board.py) is the only hardware-specific part;
App gets it, the clock and the sleep function injected, so tests drive it
one step at a time on a simulated clock.
"""

import gc
import sys
import time

import appconfig
from uonep import Client, forward, provision
from uonep import clock as clocks
from uonep.errors import (AuthError, HTTPError, JournalFullError, ProtocolError,
                          ProvisionError)
from uonep.transport import Transport

# Sent in place of a CIK before activation; never leaves the device because
# nothing is pushed until a real CIK is set.
_NO_CIK = "0" * 40
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


def iso(seconds):
    """Unix seconds as 2024-05-01T12:00:00Z."""
    fields = time.gmtime(int(seconds) - clocks.epoch_offset())
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % fields[:6]


class App:
    """The device loop over injected parts.

    profile: the merged board profile (appconfig.load_profile). secrets_path:
    the secrets file (re-read until it is usable). board: the glue object
    (boards/NAME/board.py Board). clock: uonep.clock.Clock-like (default
    board.clock()). sleep: function(mode, seconds) (default board.sleep).
    journal_factory: function(path, capacity_bytes, policy) -> Journal.
    log: function(text) (default print).
    """

    def __init__(self, profile, secrets_path, board, clock=None, sleep=None,
                 journal_factory=None, log=None):
        self.profile = profile
        self.secrets_path = secrets_path
        self.cik_path = appconfig.cik_path(secrets_path)
        self.board = board
        self.clock = clock or board.clock()
        self.sleep_function = sleep or board.sleep
        self.journal_factory = journal_factory
        self.print = log or print
        wifi = profile["wifi"]
        self.backoff = Backoff(wifi["backoff_base"], wifi["backoff_cap"])
        self.client = None
        self.journal = None
        self.watchdog = None
        self.secrets = None
        self.config_error = None
        self.cik = None
        self.sensors = []
        self.remote = []
        self.state = "boot"
        self.boots = 0
        self.samples = 0
        self.committed = 0
        self.refused = 0
        self.pushes = 0
        self.errors = 0
        self.last_error = None
        self.last_push = None
        self.last_push_time = None
        self._started = 0
        self._next_sample = 0
        self._next_network = 0
        self._last_status = None
        self.push_bytes = forward.MAX_BYTES

    # -- life cycle ----------------------------------------------------------

    def start(self):
        """Mount storage, open the journal, read the secrets, start the
        watchdog: everything a boot does before the first sample."""
        self.boots += 1
        self._started = self.clock.ticks_ms()
        self._next_sample = self._started
        self._next_network = self._started
        self.state = "boot"
        profile = self.profile
        self.board.mount_storage(profile["storage"]["mount"])
        self.journal = self._open_journal()
        self.client = self._new_client()
        self.sensors = self._build_sensors()
        self.remote = remote_jobs(profile)
        self.load_secrets()
        if profile["watchdog"]:
            self.watchdog = self.board.watchdog(profile["watchdog"])
        stats = self.journal.stats()
        self.log("boot %d: board %s, a sample every %ss; journal %s: %d commits pending, "
                 "%d dropped so far" % (self.boots, profile["name"], profile["sample_interval"],
                                        profile["journal"]["path"], stats["pending"],
                                        stats["dropped"]))

    def close(self):
        """Close the journal and release the storage (tests, simulated reboots)."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        unmount = getattr(self.board, "unmount_storage", None)
        if unmount is not None:
            unmount(self.profile["storage"]["mount"])

    def restart(self):
        """What waking from deep sleep does: RAM state gone, flash kept."""
        self.close()
        self.start()

    def run(self, run_for=None):
        """Loop until run_for seconds have passed on the clock (the profile's
        run_for by default: None runs forever). Never raises an Exception:
        a device that stops looping is lost until someone presses reset."""
        if run_for is None:
            run_for = self.profile["run_for"]
        started = self.clock.ticks_ms()
        while run_for is None or self._since(started) < run_for * 1000:
            try:
                self._rest_safely(self.cycle())
            except Exception as failure:
                self._survive(failure)
        self.finish()

    def _survive(self, failure):
        """A failure inside the failure handling (a value no check foresaw,
        a bug): log it, then wait for the next sample slot, the network a
        sample interval; the loop goes on and never spins."""
        try:
            self._note_error("loop", failure)
            self._schedule_network(self.profile["sample_interval"])
            self.rest(max(1, self.seconds_to_next()))
        except Exception:
            time.sleep(1)

    def cycle(self):
        """(Re)start when needed (first boot, after a deep sleep), then one
        step. Returns the seconds to rest; logs whatever failed."""
        try:
            if self.journal is None:
                self.start()
            return self.step()
        except Exception as failure:
            # Keep sampling on schedule whatever failed; only the network
            # side waits out the backoff.
            self._note_error("cycle", failure)
            gc.collect()
            delay = self.backoff.fail()
            self._schedule_network(delay)
            if self.journal is None:
                # No storage to sample into: try the start again later,
                # not in a loop that floods the log.
                return delay
            # Never a tight loop: whatever failed may fail again at once.
            return max(1, min(self.seconds_to_next(), self.profile["sample_interval"]))

    def finish(self):
        """End of a bounded run (the unix port, tests): push what is left,
        once, and report."""
        try:
            if self.journal is None:
                # The run ended in a (simulated) deep sleep: wake up first.
                self.start()
            if self.config_error is None and self.journal.stats()["pending"]:
                self.log("run over: pushing the rest of the backlog")
                self.network()
        except Exception as failure:
            self._note_error("final push", failure)
        self.log("run over: %s" % _summary(self.status()))

    def step(self):
        """One cycle: sample if due, network work if due. Returns the seconds
        until something is due again."""
        self.feed()
        if self._since(self._next_sample) >= 0:
            # The slot is used up whatever becomes of the sample: a commit
            # that fails is tried again at the next slot, not every second.
            self._schedule_sample()
            self.sample()
        if self.config_error is not None:
            self.load_secrets()
        if self.network_due():
            self.network()
        return self.seconds_to_next()

    def rest(self, seconds):
        """Sleep as the profile says, in pieces short enough for the watchdog.
        Deep sleep ends in a reset; on a simulated board it returns, and the
        next cycle boots again from what is on flash."""
        mode = self.profile["sleep"]
        if mode == "deep" and self.clock.valid() and seconds >= 10:
            self.log("deep sleep %ds" % seconds)
            self.close()
            self.sleep_function("deep", seconds)
            return
        # A clock that is not set yet would lose the untimed samples at the
        # reset a deep sleep is: stay awake (light) until it is set.
        mode = "light" if mode == "deep" else mode
        piece = self._watchdog_piece()
        while seconds > 0:
            self.sleep_function(mode, min(seconds, piece))
            seconds -= piece
            self.feed()

    def _rest_safely(self, seconds):
        try:
            self.rest(seconds)
        except Exception as failure:
            # A sleep mode the chip refuses must not end the loop: wait awake.
            self._note_error("sleep", failure)
            self.sleep_function("none", max(1, seconds))

    def feed(self):
        if self.watchdog is not None:
            self.watchdog.feed()

    # -- sampling ------------------------------------------------------------

    def sample(self):
        """Read every sensor and commit the values as one journal record."""
        self.samples += 1
        shown = []
        for alias, read in self.sensors:
            try:
                value = read()
                if value is not None:
                    self.client.add_value(alias, value)
                    shown.append("%s=%s" % (alias, value))
            except Exception as failure:
                # One broken sensor must not cost the others' readings.
                self._note_error("sensor %s" % alias, failure)
        try:
            self.client.commit()
        except JournalFullError:
            self.refused += 1
            self.log("journal full (policy refuse): sample %d not stored, %s" % (
                self.samples, self.journal.stats()))
            return
        self.committed += 1
        self.log("sample %d committed: %s" % (self.samples, " ".join(shown)))

    def _schedule_sample(self):
        interval = int(self.profile["sample_interval"] * 1000)
        self._next_sample = self._add(self._next_sample, interval)
        if self._since(self._next_sample) > interval:
            # Fell far behind (a long push, a stall): skip, do not burst.
            self._next_sample = self._add(self.clock.ticks_ms(), interval)

    def _build_sensors(self):
        sensors = []
        for spec in self.profile["sensors"]:
            if not spec.get("enabled", True):
                continue
            try:
                sensors.append((spec["alias"], self._sensor(spec)))
            except Exception as failure:
                self._note_error("sensor %s (%s)" % (spec["alias"], spec["kind"]), failure)
        return sensors

    def _sensor(self, spec):
        kind = spec["kind"]
        if kind == "counter":
            return lambda: self.samples
        if kind == "uptime":
            return lambda: self._since(self._started) // 1000
        if kind == "status":
            return self._status_change
        return self.board.sensor(spec)

    def _status_change(self):
        """The app's state word, committed only when it changed."""
        if self.state == self._last_status:
            return None
        self._last_status = self.state
        return self.state

    # -- network ---------------------------------------------------------------

    def network_due(self):
        """Whether to bring the network up now: a batch is due, the backlog
        grew, the clock or the CIK is missing; never during a backoff."""
        if self.config_error is not None or self._since(self._next_network) < 0:
            return False
        if self.cik is None or not self.clock.valid():
            return True
        push = self.profile["push"]
        stats = self.journal.stats()
        if not stats["pending"]:
            return False
        # Counted in the journal, not in RAM: a deep-sleep board reboots
        # every cycle and remembers only what is on flash.
        if stats["pending"] >= push["every_samples"] or self.backoff.failures:
            return True
        if stats["pending_bytes"] >= push["backlog_bytes"]:
            return True
        last = self.last_push_time if self.last_push_time is not None else self._started
        return self._since(last) >= push["max_interval"] * 1000

    def network(self):
        """WiFi, clock, CIK, push, in that order; a failure backs off."""
        try:
            if not self.connect_wifi():
                return
            if not self.clock.valid():
                self.set_clock()
            if self.cik is None:
                self.activate()
            self.push()
        except MemoryError as failure:
            # A fragmented heap: smaller requests need smaller buffers.
            self.push_bytes = max(MIN_PUSH_BYTES, self.push_bytes // 2)
            self.log("low memory: pushing in requests of at most %d bytes" % self.push_bytes)
            self._network_failed(failure)
        except Exception as failure:
            # OnepError, or anything a network library raised unwrapped:
            # either way the data stays in the journal and the retry waits.
            self._network_failed(failure)

    def connect_wifi(self):
        if self.board.wifi_connected():
            return True
        ssid = self.secrets["wifi"]["ssid"]
        self.log("wifi: connecting to %s" % ssid)
        if self.board.wifi_connect(ssid, self.secrets["wifi"].get("password", ""),
                                   self.profile["wifi"]["timeout"]):
            self.log("wifi: connected")
            return True
        self.state = "offline"
        delay = self.backoff.fail()
        self._schedule_network(delay)
        self.log("wifi: cannot connect to %s; retry in %ds, backlog %d commits kept" % (
            ssid, delay, self.journal.stats()["pending"]))
        return False

    def set_clock(self):
        """NTP first; else the server's /timestamp."""
        try:
            if self.board.sync_time(self.profile["ntp"]["host"]):
                self.log("clock: set from NTP, %s" % iso(self.clock.now()))
                return
        except Exception as failure:
            self.log("clock: NTP failed (%s); asking the server" % failure)
        try:
            seconds = provision.server_time(self.client.transport)
        except (HTTPError, ProtocolError) as failure:
            # The server is there but will not tell the time: push anyway,
            # with times relative to the server's "now" (see uonep.forward).
            self.log("clock: no time from the server (%s); pushing with relative times"
                     % failure)
            return
        setter = getattr(self.clock, "set_unix_time", None)
        if setter is not None:
            setter(seconds)
        else:
            clocks.set_unix_time(seconds)
        self.log("clock: set from the server, %s" % iso(seconds))

    def activate(self):
        """Get a CIK with /provision/activate and keep it next to the secrets."""
        vendor = self.secrets.get("vendor") or self.profile["vendor"]
        model = self.secrets.get("model") or self.profile["model"]
        if not vendor or not model:
            raise ProvisionError(0, "no CIK: put \"cik\" in %s, or vendor and model in "
                                 "it or in the profile to activate" % self.secrets_path)
        serial = self.board.unique_id()
        self.log("provision: activating vendor %s model %s serial %s" % (vendor, model, serial))
        cik = provision.activate(self.client.transport, vendor, model, serial)
        appconfig.store_cik(self.cik_path, cik)
        self.use_cik(cik)
        self.log("provision: activated, CIK %s stored in %s" % (appconfig.mask(cik),
                                                               self.cik_path))

    def push(self):
        gc.collect()
        report = self.client.push(self.profile["push"]["max_points"], self.push_bytes)
        self.pushes += 1
        self.last_push = report
        self.last_push_time = self.clock.ticks_ms()
        if self.backoff.failures:
            self.log("network back after %d failures" % self.backoff.failures)
        self.backoff.reset()
        self._next_network = self.last_push_time
        self.state = "ok"
        if self.push_bytes != forward.MAX_BYTES:
            # The shortage that shrank the requests has passed (or was one
            # large answer): full-size requests again.
            self.push_bytes = forward.MAX_BYTES
            self.log("memory: requests back to %d bytes" % self.push_bytes)
        self.log("push: %d points in %d requests (%d bytes), %d remaining" % (
            report["sent"], report["requests"], report["bytes"], report["remaining"]))
        # Remote settings, app update (issue 13): each job logs its own failures.
        for job in self.remote:
            job.after_push(self)

    def _network_failed(self, failure):
        self.state = "offline"
        delay = self.backoff.fail()
        if isinstance(failure, ProvisionError):
            delay = self.backoff.cap
            self.log("provision: " + _activation_advice(failure, self.board.unique_id()))
        elif isinstance(failure, AuthError):
            delay = self.backoff.cap
            self.log("auth: the server refused CIK %s; fix \"cik\" in %s (data is kept)" % (
                appconfig.mask(self.cik), self.secrets_path))
        self._note_error("network", failure, delay)
        self._schedule_network(delay)

    def _schedule_network(self, delay):
        self._next_network = self._add(self.clock.ticks_ms(), delay * 1000)

    def seconds_to_next(self):
        """Seconds until the next sample or network retry (at least 0)."""
        wait = -self._since(self._next_sample)
        retry = -self._since(self._next_network)
        # Wake early only for a retry still ahead: a retry time in the past
        # that network_due() declined (nothing to push) would spin the loop.
        if self.backoff.failures and self.config_error is None and retry > 0:
            wait = min(wait, retry)
        return max(0, wait) / 1000

    # -- credentials -------------------------------------------------------------

    def load_secrets(self):
        """(Re)read the secrets file: a missing or broken one is reported,
        sampling goes on offline, and the file is read again every cycle so
        that writing a fixed one (mpremote cp) is enough."""
        try:
            secrets = appconfig.load_secrets(self.secrets_path)
        except Exception as failure:
            if not isinstance(failure, appconfig.ConfigError):
                # Whatever it was (MemoryError ...): the file is read again next cycle.
                failure = "secrets file %s cannot be read (%s)" % (self.secrets_path,
                                                                   type(failure).__name__)
            message = "%s; sampling goes on offline. Write it as %s" % (
                failure, appconfig.SECRETS_EXAMPLE)
            if message != self.config_error:
                self.log("config: " + message)
            self.config_error = message
            self.state = "unconfigured"
            return False
        was_broken = self.config_error is not None
        self.secrets = secrets
        self.config_error = None
        self._configure_server(secrets)
        cik = secrets.get("cik") or appconfig.load_cik(self.cik_path)
        if cik is not None:
            self.use_cik(cik)
        if was_broken:
            self.state = "offline"
            self.log("config: secrets loaded from %s" % self.secrets_path)
        return True

    def use_cik(self, cik):
        self.cik = cik
        # The Client is built before there is a CIK (commits need it from
        # the first sample); its credentials are replaced here.
        self.client.set_credentials(cik)

    def _configure_server(self, secrets):
        host, port, https = appconfig.parse_server(secrets.get("server") or
                                                   self.profile["server"])
        verify = appconfig.verify_of(self.profile, secrets)
        self.client.transport = Transport(host, port, https, self.profile["timeout"],
                                          http=self.board.http(verify), verify=verify)

    def _new_client(self):
        host, port, https = appconfig.parse_server(self.profile["server"])
        client = Client(_NO_CIK, host=host, port=port, https=https,
                        timeout=self.profile["timeout"], journal=self.journal,
                        clock=self.clock, http=self.board.http(self.profile["verify"]),
                        verify=self.profile["verify"])
        if self.cik is not None:
            client.set_credentials(self.cik)
        return client

    def _open_journal(self):
        settings = self.profile["journal"]
        factory = self.journal_factory
        if factory is None:
            from uonep.journal import Journal
            factory = Journal
        appconfig.makedirs(appconfig.parent(settings["path"]))
        return factory(settings["path"], capacity_bytes=settings["capacity_bytes"],
                       policy=settings["policy"])

    # -- reporting -----------------------------------------------------------------

    def status(self):
        """What the device is doing, for the REPL: a dict. mem_free: bytes
        free in the Python heap now (after a collection); mem_grow: bytes it
        could still take from the system on demand (ESP32), else 0."""
        valid = self.clock.valid()
        gc.collect()
        free, grow = self.board.memory()
        return {
            "board": self.profile["name"],
            "state": self.state,
            "uptime": self._since(self._started) // 1000,
            "time": iso(self.clock.now()) if valid else None,
            "clock_valid": valid,
            "wifi": "connected" if self.board.wifi_connected() else "down",
            "cik": appconfig.mask(self.cik),
            "config_error": self.config_error,
            "samples": self.samples,
            "committed": self.committed,
            "refused": self.refused,
            "journal": self.journal.stats() if self.journal is not None else None,
            "pushes": self.pushes,
            "last_push": self.last_push,
            "network_failures": self.backoff.failures,
            "errors": self.errors,
            "last_error": self.last_error,
            "mem_free": free,
            "mem_grow": grow,
        }

    def log(self, message):
        """One log line, stamped with UTC time (or uptime while the clock is unset)."""
        if self.clock.valid():
            stamp = iso(self.clock.now())
        else:
            stamp = "+%ds" % (self._since(self._started) // 1000)
        self.print("%s %s" % (stamp, message))

    def _note_error(self, where, failure, retry=None):
        """Count and log an error (uonep messages hold no credentials);
        returns retry for the caller's wait."""
        self.errors += 1
        # One line per error: some libraries' messages quote a raw status line.
        reason = " ".join(str(failure).split())
        self.last_error = "%s: %s: %s" % (where, type(failure).__name__, reason)
        self.log("error in %s%s" % (self.last_error,
                                    "" if retry is None else "; retry in %ds" % retry))
        return retry

    def _watchdog_piece(self):
        timeout = self.profile["watchdog"]
        # Never zero or less, whatever the profile says: rest() must end.
        return max(1, timeout / 2) if timeout > 0 else 3600

    def _since(self, ticks):
        return self.clock.ticks_diff(self.clock.ticks_ms(), ticks)

    def _add(self, ticks, milliseconds):
        # Board tick counters wrap around: add the way the clock counts.
        adder = getattr(self.clock, "ticks_add", None) or getattr(time, "ticks_add", None)
        if adder is None:
            return ticks + int(milliseconds)
        return adder(ticks, int(milliseconds))


def remote_jobs(profile):
    """The jobs App.push runs after a push (settings.Settings,
    update.Updater), their modules loaded only when the profile names them."""
    jobs = []
    if profile["settings"]["alias"]:
        from settings import Settings
        jobs.append(Settings(profile["settings"]))
    if profile["update"]["content_id"]:
        from update import Updater
        jobs.append(Updater(profile["update"]))
    return jobs


def _summary(status):
    """A status dict as one stable line (dict order differs between runtimes)."""
    return ", ".join("%s=%s" % (key, status[key]) for key in sorted(status))


def _activation_advice(failure, serial):
    if failure.code == 409:
        return ("activation refused (409): not enabled for activation, or already "
                "activated. If it was activated before, put its CIK in the secrets "
                "(\"cik\"); else re-enable serial %s in the portal" % serial)
    if failure.code == 404:
        return ("unknown device (404): add serial number %s to this vendor/model in "
                "the portal" % serial)
    return str(failure)


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
    """Build the App from the command line (unix port) or the board's files:
    profile and glue in --board (default /), secrets at --secrets (default
    /secrets.json). Returns None, after one line saying why, when the
    profile is unusable. log: function(text) (default print)."""
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
    app = App(profile, options["secrets"], board, log=log)
    # The board's own messages (simulated outages, ...) get the app's timestamps.
    board.log = app.log
    return app
