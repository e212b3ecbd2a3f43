# End-to-end power loss: Client.add_value/commit/push over a Journal on
# LittleFS (os.VfsLfs2, stock settings) on the simulated NOR flash, pushing
# to the emulator. A scenario of COMMITS commits (known values and
# timestamps; now and then a long string that spans several journal frames,
# a resource staged twice, a value the server refuses) with pushes in
# between, some of them split over several requests, one plan with a
# backlog long enough to be packed into segments and pushed from them.
# Power is cut at every program and erase of the scenario in turn. One
# clean run is logged (flash operations, commits, requests and what the
# server took, acknowledgements); for each cut point the flash is as the
# scenario left it when power went during that operation (see
# flashsim.cut_images), the server's window holds what the scenario had
# sent by then, LittleFS mounts, the journal reopens, a new Client pushes
# the rest, and:
#   - every commit whose commit() returned is on the server (lost otherwise);
#   - the commit cut short is there whole or not at all;
#   - everything on the server and everything sent is what was committed,
#     at its own timestamp (corrupt delivered otherwise);
#   - a point was sent again only if its acknowledgement was lost: the
#     server took it ("ok") and the cut came before ack() returned;
#   - a value the server refused is in the dead-letter store, twice at most
#     and then only when its acknowledgement was lost.
# Three push plans, each with every cut point counted in the power-loss
# campaign; self-tests show that the checker flags each kind of failure,
# that the campaign fails on a Forwarder that acks too early, and that a
# replayed cut point is the flash a real cut leaves.
# Scale: UONEP_POWERLOSS_COMMITS (default 200), UONEP_POWERLOSS_STRIDE (test
# every n-th cut point, default 1).
import gc
import json
import os
import time

import campaign
from emulator_control import CIK, url
from flashsim import FlashSim, cut_images, mount, unmount

from uonep import Client, forward
from uonep.errors import CallError, JournalError, RecordBatchError
from uonep.forward import Uplink, decode_commit
from uonep.journal import Journal
from uonep.manualclock import ManualClock

NEEDS_EMULATOR = True
HEAPSIZE = "6m"

BLOCKS = 48              # the journal's folders take 20 blocks
MOUNT = "/pushloss"
BASE = 1500000000
STEP = 10                # seconds between commits
SMALL_REQUEST = 420      # bytes: a push of a few commits takes several requests
ALIASES = ("temp", "count", "status")
COUNT = 1                # ALIASES.index("count")


def _setting(name, default):
    value = os.getenv(name) if hasattr(os, "getenv") else None
    return int(value) if value else default


COMMITS = _setting("UONEP_POWERLOSS_COMMITS", 150)
STRIDE = _setting("UONEP_POWERLOSS_STRIDE", 1)
SPAN = max(COMMITS, 64)                  # commit indexes a run may use
WINDOW = STEP * SPAN + 1000              # seconds of server time per run


class Plan:
    """How a scenario pushes: every `push_every` commits, with small
    requests on the pushes whose number is a multiple of `small_every`."""

    def __init__(self, name, push_every, small_every, capacity):
        self.name = name
        self.push_every = push_every
        self.small_every = small_every
        self.capacity = capacity


# Frequent pushes, one in three split over several requests: the ring
# alone (a capacity below two blocks), wrapping again and again.
FREQUENT = Plan("frequent pushes", 8, 3, 4096)
# A backlog of 24 commits pushed in requests of two or three commits, each
# acknowledged on its own.
BACKLOG = Plan("backlog in small requests", 24, 1, 8192)
# Offline for a while: a backlog of 90 commits is packed into segments,
# then pushed from them (and the ring) and the segments reclaimed.
OFFLINE = Plan("backlog packed into segments", 90, 2, 32768)


# -- the scenario's values: a pure function of the commit index -------------

def value_of(alias, index):
    """The value commit `index` stores for alias, or None when it has none."""
    if alias == "temp":
        return None if index % 5 == 3 else (index * 37 % 1000) / 4
    if alias == "count":
        if index % 50 == 33:
            return "bad%d" % index       # an integer dataport refuses this
        return index * 7919 % 100003
    if index % 9 == 4:
        # 130 to 330 characters: the commit takes two or three chunks.
        return ("s%d:" % index) + chr(97 + index % 26) * (130 + index * 53 % 200)
    return None


def refused(alias, index):
    return alias == "count" and index % 50 == 33


def delivered(alias, index):
    """The value the server must end up with for this commit, or None."""
    return None if refused(alias, index) else value_of(alias, index)


class Tracker:
    """What the current run has done, in flat preallocated arrays. During
    the logged clean run, every step is also noted with the flash
    operation count (events), so that the state at any cut point can be
    rebuilt (at())."""

    def __init__(self, commits):
        self.sent = [bytearray(commits) for _ in ALIASES]   # times sent and taken
        self.zero = bytes(commits)
        self.base = BASE
        self.device = None        # the logged run's flash
        self.events = []
        self.reset()

    def reset(self):
        """A new run in the window (its points on the server flushed)."""
        self.committed = 0        # commits whose commit() returned
        self.committing = False   # power went during commit number `committed`
        for counts in self.sent:
            counts[:] = self.zero
        self.inflight = []        # (alias number, index) answered, ack not returned
        self.allowed = []         # the inflight list at the cut
        self.foreign = 0          # points sent that were never committed

    def note(self, kind, value=None):
        if self.device is not None:
            self.events.append((self.device.ops, kind, value))

    def note_sent(self, resource, encoded, outcome):
        """A recordbatch call the server answered: count what it took."""
        if isinstance(outcome, CallError) and not isinstance(outcome, RecordBatchError):
            return
        skip = ()
        if isinstance(outcome, RecordBatchError):
            skip = [item[0] for item in outcome.rejected]
        number = ALIASES.index(resource)
        counts = self.sent[number]
        answered = []
        for timestamp, value in json.loads(b"[" + bytes(encoded) + b"]"):
            index = self.index_of(timestamp)
            if index is None or index > self.committed or value != value_of(resource, index):
                self.foreign += 1
                continue
            answered.append((index, timestamp not in skip))
            self.inflight.append((number, index))
            if timestamp not in skip:
                # (A refused point is dead-lettered instead: again if this ack is lost.)
                counts[index] = min(255, counts[index] + 1)
        self.note("sent", (number, answered))

    def index_of(self, timestamp):
        offset = timestamp - self.base
        if offset < 0 or offset % STEP or offset // STEP >= len(self.zero):
            return None
        return offset // STEP

    def taken(self, cut):
        """[(alias number, index)] the server had taken from the logged run
        when operation `cut` was cut short."""
        taken = []
        for ops, kind, value in self.events:
            if ops >= cut:
                break
            if kind == "sent":
                taken.extend((value[0], index) for index, took in value[1] if took)
        return taken

    def at(self, cut):
        """This tracker as it was when operation `cut` of the logged run
        was cut short."""
        self.reset()
        for ops, kind, value in self.events:
            if ops >= cut:
                break
            if kind == "committing":
                self.committing = value
            elif kind == "committed":
                self.committed = value
            elif kind == "acked":
                self.inflight = []
            elif kind == "sent":
                number, answered = value
                for index, took in answered:
                    self.inflight.append((number, index))
                    if took:
                        self.sent[number][index] += 1
        self.allowed = self.inflight
        self.inflight = []


TRACK = Tracker(SPAN)


# Set to a FlashSim to note its operation count as each dead letter starts.
WATCH = {"device": None, "letters": []}


class TrackedJournal(Journal):
    def ack(self, position):
        Journal.ack(self, position)
        TRACK.inflight = []
        TRACK.note("acked")

    def dead_letter(self, payload, reason):
        if WATCH["device"] is not None:
            WATCH["letters"].append(WATCH["device"].ops)
        Journal.dead_letter(self, payload, reason)


class TrackedClient(Client):
    def send_recordbatches(self, batches):
        outcomes, size = Client.send_recordbatches(self, batches)
        for (resource, encoded), outcome in zip(batches, outcomes):
            TRACK.note_sent(resource, encoded, outcome)
        return outcomes, size


CLOCK = ManualClock(BASE)


# Fixed, so that every replay writes the same records and so makes the
# same program and erase operations.
BOOT = 3000000000


def new_client():
    return TrackedClient(CIK, url(), timeout=10)


def new_uplink(plan):
    return Uplink(new_client(), TrackedJournal(MOUNT + "/j", capacity_bytes=plan.capacity),
                  CLOCK, BOOT)


def scenario(plan, commits, last_push=True):
    """Commit and push; TRACK says how far it got."""
    client = new_uplink(plan)
    pushes = 0
    for index in range(commits):
        if index % 7 == 0 and value_of("temp", index) is not None:
            client.add_value("temp", -1.0)      # staged twice: the last value wins
        for alias in ALIASES:
            value = value_of(alias, index)
            if value is not None:
                client.add_value(alias, value)
        TRACK.committing = True
        TRACK.note("committing", True)
        client.commit(BASE + index * STEP)
        TRACK.committed = index + 1
        TRACK.note("committed", index + 1)
        TRACK.committing = False
        TRACK.note("committing", False)
        if index % plan.push_every == plan.push_every - 1 or (
                last_push and index == commits - 1):
            pushes += 1
            client.push(max_bytes=SMALL_REQUEST if pushes % plan.small_every == 0 else 4096)
    client.journal.close()


# -- after the cut -------------------------------------------------------------

def finish(plan, flush=True, refill=None):
    """Power is back: reopen, push the rest. Returns the push report, the
    journal's stats and dead letters (decoded), and the server's points of
    the window, per alias; then (flush) the window is emptied and given
    the points of refill, what the next run had sent before its cut."""
    uplink = new_uplink(plan)
    report = uplink.push()
    journal = uplink.journal
    stats = journal.stats()
    letters = [decode_commit(payload) for payload, _ in journal.dead_letters()]
    journal.close()
    return report, stats, letters, read_window(new_client(), flush, refill)


def read_window(client, flush=False, refill=None):
    """The window's points per alias; with flush, then emptied (and given
    the points refill lists: [(alias number, index)]), in the same request."""
    with client.batch() as batch:
        for alias in ALIASES:
            batch.read(alias, starttime=BASE, endtime=BASE + WINDOW - 1,
                       sort="asc", limit=SPAN + 10)
        if flush:
            for alias in ALIASES:
                batch.flush(alias, newerthan=BASE - 1, olderthan=BASE + WINDOW)
        for number, alias in enumerate(ALIASES):
            points = [[BASE + index * STEP, value_of(alias, index)]
                      for taken, index in refill or () if taken == number]
            if points:
                batch.recordbatch(alias, points)
    return batch.results[0:len(ALIASES)]


def put_back(taken):
    """Store what a run had sent before its cut, as it was."""
    if taken:
        read_window(new_client(), False, taken)


def check(report, stats, letters, points):
    """(lost, corrupt delivered, duplicates not explained by a lost ack)."""
    lost = corrupt = duplicates = 0
    committed = TRACK.committed
    # The commit cut short may be there whole, or not at all.
    last = committed + 1 if TRACK.committing else committed
    present = bytearray(last + 1)
    for number, alias in enumerate(ALIASES):
        seen = bytearray(last + 1)
        for timestamp, value in points[number]:
            index = TRACK.index_of(timestamp)
            if index is None or index >= last or seen[index] or \
                    value != delivered(alias, index):
                corrupt += 1
                continue
            seen[index] = 1
            present[index] += 1
        for index in range(committed):
            if delivered(alias, index) is not None and not seen[index]:
                lost += 1
    if TRACK.committing:
        whole = sum(1 for alias in ALIASES if delivered(alias, committed) is not None)
        if present[committed] not in (0, whole):
            corrupt += 1        # part of a commit delivered
    corrupt += TRACK.foreign
    # Sent twice: only what the server answered before the cut and whose
    # ack() had not returned; never three times.
    for number in range(len(ALIASES)):
        counts = TRACK.sent[number]
        for index in range(len(counts)):
            if counts[index] > 2 or (counts[index] == 2 and
                                     (number, index) not in TRACK.allowed):
                duplicates += 1
    # Refused values: dead-lettered, once (twice only when the ack was lost).
    found = {}
    for record in letters:
        if record is None or len(record[3]) != 1:
            corrupt += 1
            continue
        alias, value = record[3][0][0], record[3][0][1]
        index = TRACK.index_of(record[0])
        if index is None or index >= last or not refused(alias, index) or \
                value != value_of(alias, index):
            corrupt += 1
            continue
        found[index] = found.get(index, 0) + 1
    for index in range(last):
        if refused("count", index):
            times = found.get(index, 0)
            if index < committed and times == 0:
                lost += 1
            if times > 2 or (times == 2 and (COUNT, index) not in TRACK.allowed):
                duplicates += 1
    if report["remaining"] or stats["pending"] or stats["dropped"]:
        lost += max(1, stats["pending"] + stats["dropped"])
    return lost, corrupt, duplicates


# -- the campaign ----------------------------------------------------------------

# The simulated flashes and images, made once (big allocations made again
# and again fragment MicroPython's heap).
SIZE = BLOCKS * 4096
DEVICES = []
BUFFERS = []


def _devices():
    if not DEVICES:
        DEVICES.extend([FlashSim(BLOCKS), FlashSim(BLOCKS)])
        BUFFERS.extend([bytearray(SIZE), bytearray(SIZE), bytearray(SIZE)])
        device = DEVICES[0]
        os.VfsLfs2.mkfs(device)
        BUFFERS[2][:] = device.data
    return DEVICES


def clean_run(plan, commits=None):
    """The scenario without a cut, logged: (its log of flash operations,
    its own check, which must pass)."""
    device = _devices()[0]
    device.load(BUFFERS[2])
    device.log = []
    TRACK.reset()
    TRACK.device = device
    TRACK.events = []
    mount(device, MOUNT)
    try:
        scenario(plan, commits or COMMITS)
    finally:
        unmount(MOUNT)
        TRACK.device = None
    log = device.log
    device.log = None
    DEVICES[1].load(device.data)
    mount(DEVICES[1], MOUNT)
    try:
        outcome = check(*finish(plan))
    finally:
        unmount(MOUNT)
    return log, outcome


def cut_runs(plan, log, stride=1, first=1, last=None):
    """Yield (cut, kind, lost, corrupt, duplicates) for every stride-th
    cut point from first through last."""
    recovered = DEVICES[1]
    last = len(log) if last is None else min(last, len(log))
    put_back(TRACK.taken(first))
    for cut, kind, image in cut_images(BUFFERS[2], log, 1, stride, buffers=BUFFERS[0:2]):
        if cut > last:
            break
        if cut < first:
            continue
        # The window is flushed and refilled for the next cut point in the
        # request that reads this one's points: one request fewer per cut.
        refill = TRACK.taken(cut + stride) if cut + stride <= last else None
        TRACK.at(cut)
        recovered.load(image)
        mount(recovered, MOUNT)
        try:
            lost, corrupt, duplicates = check(*finish(plan, True, refill))
        finally:
            unmount(MOUNT)
        yield cut, kind, lost, corrupt, duplicates
        if cut % 128 == 0:
            gc.collect()


def campaign_run(plan):
    started = time.time()
    log, outcome = clean_run(plan)
    assert outcome == (0, 0, 0), outcome
    counts = {"cuts": 0, "lost": 0, "corrupt": 0, "duplicates": 0, "resent": 0, "kinds": {}}
    for cut, kind, lost, corrupt, duplicates in cut_runs(plan, log, STRIDE):
        counts["kinds"][kind] = counts["kinds"].get(kind, 0) + 1
        counts["cuts"] += 1
        counts["lost"] += lost
        counts["corrupt"] += corrupt
        counts["duplicates"] += duplicates
        if TRACK.allowed:
            counts["resent"] += 1
        if lost or corrupt or duplicates:
            print("cut %d (%s): %d lost, %d corrupt delivered, %d duplicates; committed %d%s" % (
                cut, kind, lost, corrupt, duplicates, TRACK.committed,
                " (cut during a commit)" if TRACK.committing else ""))
    print("push power-loss, %s: %d cut points, %d lost, %d corrupt delivered, "
          "%d unexplained duplicates" % (plan.name, counts["cuts"], counts["lost"],
                                         counts["corrupt"], counts["duplicates"]))
    print("  (%d commits, %d operations in a clean run, cuts by kind %r, %d cut with "
          "an ack outstanding, %d s)" % (COMMITS, len(log), counts["kinds"], counts["resent"],
                                         time.time() - started))
    campaign.report("power-loss", cut_points=counts["cuts"], lost=counts["lost"],
                    corrupt_delivered=counts["corrupt"])
    assert counts["cuts"] > 0
    assert counts["lost"] == 0 and counts["corrupt"] == 0 and counts["duplicates"] == 0, counts
    return counts


def test_powerloss_push_frequent():
    campaign_run(FREQUENT)


def test_powerloss_push_backlog():
    counts = campaign_run(BACKLOG)
    # The cases the duplicate rule is about did happen.
    assert counts["resent"] > 0, counts


def test_powerloss_push_packed_backlog():
    campaign_run(OFFLINE)


# -- the checker itself ------------------------------------------------------------

def test_checker_flags_loss_corruption_and_duplicates():
    """A check that passes everything proves nothing: break each rule once."""
    from uonep.journal import _slot
    device = _devices()[0]
    device.load(BUFFERS[2])
    TRACK.reset()
    mount(device, MOUNT)
    # Commits 32..35 stay pending (no push after them); then one of them
    # is damaged on flash, so recovery skips it.
    scenario(FREQUENT, 36, last_push=False)
    journal = Journal(MOUNT + "/j", capacity_bytes=FREQUENT.capacity)
    positions = [position for position, _ in journal.pending()]
    journal.close()
    assert len(positions) == 4, positions
    path = MOUNT + "/j/" + _slot(positions[2])          # commit 34: temp, count
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[-1] ^= 1
    with open(path, "wb") as f:
        f.write(data)
    report, stats, letters, points = finish(FREQUENT, flush=False)
    unmount(MOUNT)
    assert check(report, stats, letters, points) == (2, 0, 0)
    # Lost on the server.
    client = new_client()
    client.flush("count", newerthan=BASE + 2 * STEP - 1, olderthan=BASE + 2 * STEP + 1)
    points = read_window(client)
    assert check(report, stats, letters, points) == (3, 0, 0)
    # A wrong value, a point never committed, a half-delivered commit.
    # (The wrong value replaced the right one: that one is lost too.)
    client.recordbatch("count", [[BASE + 5 * STEP, 1], [BASE + 45 * STEP, 7]])
    points = read_window(client)
    assert check(report, stats, letters, points) == (4, 2, 0)
    # Commit 36 was cut short: whole or absent, never its count without its temp.
    TRACK.committing = True
    client.recordbatch("count", [[BASE + 36 * STEP, delivered("count", 36)]])
    points = read_window(client)
    assert check(report, stats, letters, points) == (4, 3, 0)
    client.recordbatch("temp", [[BASE + 36 * STEP, delivered("temp", 36)]])
    points = read_window(client)
    assert check(report, stats, letters, points) == (4, 2, 0)
    TRACK.committing = False
    # A refused value (commit 33's count) missing from the dead-letter store.
    assert len(letters) == 1
    assert check(report, stats, [], points)[0] == 5
    # Sent twice without a lost ack; then with one.
    TRACK.sent[0][3] = 2
    assert check(report, stats, letters, points)[2] == 1
    TRACK.allowed = [(0, 3)]
    assert check(report, stats, letters, points)[2] == 0
    TRACK.sent[0][3] = 3
    assert check(report, stats, letters, points)[2] == 1
    read_window(client, True)


def _ack_first_send(self, groups, count, last, letters, report):
    """A broken Uplink._send: acknowledges before it dead-letters what
    the server refused, so a cut in between loses the refused value."""
    from uonep import forward_rare
    outcomes, _ = self.send(groups)
    report["requests"] += 1
    self.journal.ack(last)
    for (resource, encoded), outcome in zip(groups, outcomes):
        if outcome is not None:
            report["dead_lettered"] += forward_rare._settle(
                self, resource, forward_rare._points(encoded), outcome)
    report["sent"] += count


def test_campaign_catches_a_broken_forwarder():
    """The campaign itself, not only its checker, fails on a real bug."""
    original = forward.Uplink._send
    forward.Uplink._send = _ack_first_send
    try:
        WATCH["device"] = _devices()[0]
        WATCH["letters"] = []
        log, _ = clean_run(FREQUENT, 40)
        WATCH["device"] = None
        assert WATCH["letters"], "the scenario made no dead letter"
        start = WATCH["letters"][0]
        lost = 0
        for _, _, cut_lost, _, _ in cut_runs(FREQUENT, log, 1, start + 1, start + 3):
            lost += cut_lost
    finally:
        forward.Uplink._send = original
        WATCH["device"] = None
    assert lost > 0
