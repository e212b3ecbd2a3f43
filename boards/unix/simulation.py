"""The unix board's simulated world (board.Board.simulate loads it when the
profile's "simulation" schedules anything; tests always do):

- WiFi outages ("outages": [[start, seconds], ...], in seconds after
  power-on), start_outage() and drop_wifi_after(); HTTP fails while WiFi is
  down, as it would on a board, and a kept connection does not survive;
- an emulator control URL ("control") whose clock is kept in step with the
  simulated one (the world starts at "world_start", default 2025-01-01), and
  faults posted to it at given times ("faults": [[at, {...}], ...]);
- watchdogs that count the times they would have reset the board.
"""

# Where the simulated world starts when the profile does not say: 2025-01-01.
WORLD_START = 1735689600


class Watchdog:
    """Counts the times it would have reset the board (starved)."""

    def __init__(self, clock, timeout, log):
        self.clock = clock
        self.timeout_ms = int(timeout * 1000)
        self.last = clock.ticks_ms()
        self.starved = 0
        self.log = log

    def feed(self):
        if self.clock.ticks_ms() - self.last > self.timeout_ms:
            self.starved += 1
            self.log("sim: the watchdog would have reset the board")
        self.last = self.clock.ticks_ms()


class World:
    """The simulated world around `board` (a board.Board). It is also the
    board's HTTP client while loaded: request() sends through the board's
    uonep.http.HTTP (or `requests`, a test's requests-like object) while
    WiFi is up, and counts the requests it let through (`sent`)."""

    def __init__(self, board):
        simulation = board.profile["simulation"]
        self.board = board
        self.clock = board.clock()
        self.start = simulation.get("world_start", WORLD_START)
        self.outages = [list(item) for item in simulation.get("outages", [])]
        self.faults = [list(item) for item in simulation.get("faults", [])]
        self.control = simulation.get("control")
        self.up = False
        self.in_outage = False
        self.fail_after = None
        self.fail_outage = 0
        self.sent = 0
        self.requests = None
        self.watchdogs = []
        self.synced = None

    def now(self):
        """The simulated world's true time (what the server's clock says)."""
        return self.start + self.clock.ticks // 1000

    # -- WiFi --------------------------------------------------------------------

    def connect(self, timeout):
        self.follow()
        if self.in_outage:
            # A failed association takes the whole timeout on a board.
            self.clock.advance(timeout)
            self.follow()
            return False
        self.up = True
        return True

    def connected(self):
        self.follow()
        return self.up and not self.in_outage

    def start_outage(self, seconds):
        """Take WiFi down now for `seconds` of simulated time."""
        self.outages.append([self.clock.ticks // 1000, seconds])
        self.follow()

    def drop_wifi_after(self, requests, seconds=600):
        """Let `requests` more HTTP requests through, then lose WiFi for
        `seconds` (WiFi lost in the middle of a push)."""
        self.fail_after = self.sent + requests
        self.fail_outage = seconds

    def request(self, method, url, **options):
        if self.fail_after is not None and self.sent >= self.fail_after:
            self.fail_after = None
            self.start_outage(self.fail_outage)
        if not self.connected():
            raise OSError(113, "EHOSTUNREACH (simulated WiFi down)")
        self.sent += 1
        return (self.requests or self.board.own_http).request(
            method, url, **options)

    def watchdog(self, timeout):
        dog = Watchdog(self.clock, timeout, self.board.log)
        self.watchdogs.append(dog)
        return dog

    # -- the schedule ------------------------------------------------------------

    def follow(self):
        """Start and end outages, post faults and move the emulator's clock
        as the simulated time says."""
        now = self.clock.ticks // 1000
        inside = False
        for start, length in self.outages:
            if start <= now < start + length:
                inside = True
                if not self.in_outage:
                    self.board.log("sim: WiFi outage begins, down for %d s" % length)
        if self.in_outage and not inside:
            self.board.log("sim: outage over, WiFi back")
            self.up = False
            if self.board.own_http is not None:
                # A board's kept connection does not survive the outage.
                self.board.own_http.close()
        self.in_outage = inside
        self._post_faults(now)
        self._sync_emulator()

    def _post_faults(self, now):
        while self.faults and self.faults[0][0] <= now and self.control:
            fault = self.faults.pop(0)[1]
            self.board.log("sim: emulator fault %s" % fault.get("kind"))
            self._control("/_emulator/faults", fault)

    def _sync_emulator(self):
        world = self.now()
        if self.control and world != self.synced:
            self.synced = world
            self._control("/_emulator/clock", {"now": world})

    def _control(self, path, document):
        import requests
        response = requests.post(self.control + path, json=document)
        response.close()
