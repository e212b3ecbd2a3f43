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

This module holds only what runs every cycle. What a board does once a
boot (launch.py: profile, glue; startup.py: storage, journal, secrets; bringup.py:
activation and the rare ways of setting the clock) or only at the REPL (report.py: status) is loaded for the
job and dropped after (appconfig.once), so its code does not sit in the heap for
months.
"""

import gc
import time

from appconfig import SECRETS_EXAMPLE, ConfigError, once
from connection import Connection
from sampling import Sampler
from scheduler import Scheduler
from uonep.clock import epoch_offset


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
    after start(). The counters status() reports (samples, committed,
    refused, last_push) are plain attributes, kept by the jobs.
    """

    def __init__(self, profile, secrets_path, board, clock=None, sleep=None,
                 journal_factory=None, log=None):
        self.profile = profile
        self.secrets_path = secrets_path
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
        self.samples = 0
        self.committed = 0
        self.refused = 0
        self.last_push = None

    # -- life cycle ----------------------------------------------------------

    def start(self):
        """Read the secrets, mount storage, open the journal, start the
        watchdog: everything a boot does before the first sample (startup.py)."""
        once("startup", "start", self)

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
                seconds = self.cycle()
                try:
                    self.rest(seconds)
                except Exception as failure:
                    # A sleep mode the chip refuses must not end the loop: wait awake.
                    self.note_error("sleep", failure)
                    self.sleep_function("none", max(1, seconds))
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
        once, and report (report.py)."""
        once("report", "finish", self)

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
        timeout = self.profile["watchdog"]
        # Never zero or less, whatever the profile says: rest() must end.
        piece = max(1, timeout / 2) if timeout > 0 else 3600
        while seconds > 0:
            self.sleep_function(mode, min(seconds, piece))
            seconds -= piece
            self.feed()

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
        """(Re)read the secrets file (startup.load_secrets): False, after a
        log line, while it is missing or broken; sampling goes on offline
        and the file is read again every cycle."""
        try:
            return once("startup", "load_secrets", self)
        except MemoryError as failure:
            # Not even the code that reads it found room: as a file that
            # cannot be read now, tried again next cycle.
            return self.unconfigured(failure)

    def unconfigured(self, failure):
        """The secrets file could not be used (failure: a ConfigError, or
        whatever reading it raised): say how to fix it, once; False."""
        if not isinstance(failure, ConfigError):
            # Whatever it was (MemoryError ...): the file is read again next cycle.
            failure = "secrets file %s cannot be read (%s)" % (self.secrets_path,
                                                               type(failure).__name__)
        message = "%s; sampling goes on offline. Write it as %s" % (failure, SECRETS_EXAMPLE)
        if message != self.config_error:
            self.log("config: " + message)
        self.config_error = message
        self.state = "unconfigured"
        return False

    def use_cik(self, cik):
        self.cik = cik
        # The Client is built before there is a CIK (commits need it from
        # the first sample); its credentials are replaced here.
        self.client.set_credentials(cik)

    def _send(self, groups):
        # The uplink's sender: through whichever Client the secrets configured.
        # What reading the batch left is collected first: the body and the
        # request around it then take the lowest holes they fit, not the
        # few free runs of a board's small heap that the request's head and
        # body need as one block.
        gc.collect()
        return self.client.send_recordbatches(groups)

    # -- reporting -----------------------------------------------------------------

    def status(self):
        """What the device is doing, for the REPL: a dict (report.status)."""
        return once("report", "status", self)

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


def iso(seconds):
    """Unix seconds as 2024-05-01T12:00:00Z."""
    fields = time.gmtime(int(seconds) - epoch_offset())
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % fields[:6]


def load_board(folder, profile, log=None):
    """The glue object of the board: board.py in folder, or in the sibling
    folder named by the profile's "glue" (launch.load_board)."""
    return once("launch", "load_board", folder, profile, log)


def boot(argv=None, log=None):
    """Build the App from the command line (unix port) or the board's files:
    profile and glue in --board (default /), secrets at --secrets (default
    /secrets.json). Returns None, after one line saying why, when the
    profile is unusable. log: function(text) (default print). (launch.boot)"""
    return once("launch", "boot", argv, log)
