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
from connection import Connection, iso
from sampling import Sampler
from scheduler import Scheduler
from uonep import Client
from uonep.forward import Uplink
from uonep.journal import Journal

# Sent in place of a CIK before activation; never leaves the device because
# nothing is pushed until a real CIK is set.
_NO_CIK = "0" * 40


class App:
    """The device loop over injected parts.

    profile: the merged board profile (appconfig.load_profile). secrets_path:
    the secrets file (re-read until it is usable). board: the glue object
    (a boardbase.Board). clock: a uonep.clock.Clock (default board.clock()).
    sleep: function(mode, seconds) (default board.sleep).
    journal_factory: function(path, capacity_bytes, policy) -> Journal.
    log: function(text) (default print).

    The loop's jobs, each a module: sampling (Sampler), the network state
    machine (Connection: WiFi, clock, CIK, push, backoff) and the
    Scheduler that says when each is due. `steps` lists what each cycle
    runs, in order, as (due, run) pairs of functions: a new job (a
    firmware update check, remote settings) is one more pair appended
    after start().
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
        self.scheduler = Scheduler(self.clock)
        self.sampler = Sampler(self)
        self.connection = Connection(self)
        self.steps = [(self.sample_due, self.sample), (self.secrets_due, self.load_secrets),
                      (self.connection.due, self.connection.run)]
        self.client = None
        self.uplink = None
        self.journal = None
        self.watchdog = None
        self.secrets = None
        self.config_error = None
        self.cik = None
        self.remote = []
        self.state = "boot"
        self.boots = 0
        self.errors = 0
        self.last_error = None
        self.started = 0

    # -- life cycle ----------------------------------------------------------

    def start(self):
        """Mount storage, open the journal, read the secrets, start the
        watchdog: everything a boot does before the first sample."""
        self.boots += 1
        self.started = self.clock.ticks_ms()
        self.scheduler.at("sample", self.started)
        self.scheduler.at("network", self.started)
        self.state = "boot"
        profile = self.profile
        self.board.mount_storage(profile["storage"]["mount"])
        self.journal = self._open_journal()
        self.client = self._new_client(profile["server"], profile["verify"])
        self.uplink = Uplink(self._send, self.journal, self.clock)
        self.sampler.build()
        self.remote = remote_jobs(profile)
        self.load_secrets()
        if profile["watchdog"]:
            self.watchdog = self.board.watchdog(profile["watchdog"])
        # What booting read and parsed is garbage now: collected before the
        # first sample, its space is reused instead of fragmenting the heap.
        gc.collect()
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
        self.board.unmount_storage(self.profile["storage"]["mount"])

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
        while run_for is None or self.scheduler.since(started) < run_for * 1000:
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
            self.note_error("loop", failure)
            self.scheduler.after("network", self.profile["sample_interval"])
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
            self.note_error("cycle", failure)
            gc.collect()
            delay = self.connection.backoff.fail()
            self.scheduler.after("network", delay)
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
                self.connection.run()
        except Exception as failure:
            self.note_error("final push", failure)
        self.log("run over: %s" % _summary(self.status()))

    def step(self):
        """One cycle: feed the watchdog, then every step that is due.
        Returns the seconds until something is due again."""
        self.feed()
        for due, run in self.steps:
            if due():
                run()
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
            self.note_error("sleep", failure)
            self.sleep_function("none", max(1, seconds))

    def feed(self):
        if self.watchdog is not None:
            self.watchdog.feed()

    def seconds_to_next(self):
        """Seconds until the next sample or network retry (at least 0)."""
        wait = self.scheduler.wait("sample")
        retry = self.scheduler.wait("network")
        # Wake early only for a retry still ahead: a retry time in the past
        # that the network step declined (nothing to push) would spin the loop.
        if self.connection.backoff.failures and self.config_error is None and retry > 0:
            wait = min(wait, retry)
        return max(0, wait) / 1000

    def uptime(self):
        return self.scheduler.since(self.started) // 1000

    # -- the steps -------------------------------------------------------------

    def sample_due(self):
        return self.scheduler.due("sample")

    def sample(self):
        """Take a sample now and book the next slot."""
        # The slot is used up whatever becomes of the sample: a commit that
        # fails is tried again at the next slot, not every second.
        interval = self.profile["sample_interval"]
        scheduler = self.scheduler
        scheduler.after("sample", interval, scheduler.deadline("sample"))
        if scheduler.since(scheduler.deadline("sample")) > interval * 1000:
            # Fell far behind (a long push, a stall): skip, do not burst.
            scheduler.after("sample", interval)
        self.sampler.sample()

    def secrets_due(self):
        return self.config_error is not None

    def network(self):
        """WiFi, clock, CIK, push (see connection.Connection)."""
        self.connection.run()

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
        if self.client is not None:
            self.client.close()
        self.client = self._new_client(secrets.get("server") or self.profile["server"],
                                       appconfig.verify_of(self.profile, secrets))

    def _new_client(self, server, verify):
        return Client(self.cik or _NO_CIK, server, self.profile["timeout"],
                      http=self.board.http(verify), verify=verify)

    def _send(self, groups):
        # The uplink's sender: through whichever Client the secrets configured.
        return self.client.send_recordbatches(groups)

    def _open_journal(self):
        settings = self.profile["journal"]
        factory = self.journal_factory or Journal
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
        sampler = self.sampler
        connection = self.connection
        return {
            "board": self.profile["name"],
            "state": self.state,
            "uptime": self.uptime(),
            "time": iso(self.clock.now()) if valid else None,
            "clock_valid": valid,
            "wifi": "connected" if self.board.wifi_connected() else "down",
            "cik": appconfig.mask(self.cik),
            "config_error": self.config_error,
            "samples": sampler.samples,
            "committed": sampler.committed,
            "refused": sampler.refused,
            "journal": self.journal.stats() if self.journal is not None else None,
            "pushes": connection.pushes,
            "last_push": connection.last_push,
            "network_failures": connection.backoff.failures,
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
            stamp = "+%ds" % self.uptime()
        self.print("%s %s" % (stamp, message))

    def note_error(self, where, failure, retry=None):
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

    # The counters tests and the REPL read on the App itself.
    @property
    def samples(self):
        return self.sampler.samples

    @property
    def committed(self):
        return self.sampler.committed

    @property
    def refused(self):
        return self.sampler.refused

    @property
    def last_push(self):
        return self.connection.last_push


def remote_jobs(profile):
    """The jobs Connection.push runs after a push (settings.Settings,
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
