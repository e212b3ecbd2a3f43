# Power loss at every program and erase of journal workloads, on LittleFS
# over the simulated NOR flash: commits landing in the ring, packing into
# segments, pushes and acknowledgements (reclaiming segments), drops by the
# capacity policy (a segment, or ring commits), dead letters, and a journal
# of format 1 carried over at open. For each cut point the flash is as the
# workload left it when power went during that operation (one clean run is
# logged; see flashsim.cut_images), then LittleFS mounts, the journal
# reopens, and:
#   - every commit whose commit() returned is pending, unless acknowledged
#     (or dropped by the policy, counted);
#   - nothing pending differs from what was committed (no corruption
#     delivered), and pending is in commit order, each commit once;
#   - acknowledged (or dropped) commits are not pending again, unless that
#     ack (or the commit that dropped them) was the one cut, and then all
#     of them or none;
#   - every dead letter whose dead_letter() returned is readable;
#   - the journal accepts and delivers a new commit.
# Scale: UONEP_POWERLOSS_STRIDE (test every n-th cut point, default 1).
import gc
import os
import sys

import campaign
from flashsim import FlashSim, Progress, cut_images, mount, unmount
from uonep import forward, rpc
from uonep.journal import BLOCK, Journal

sys.path.append(sys.path[0].rsplit("/", 2)[0] + "/tools/benchmarks")
import journal_v1  # noqa: E402  (uonep 0.1's journal, for the carrying-over scenario)

HEAPSIZE = "10m"

BLOCKS = 64
MOUNT = "/powerloss"
PATH = MOUNT + "/j"
BASE = 1790000000


def _setting(name, default):
    value = os.getenv(name) if hasattr(os, "getenv") else None
    return int(value) if value else default


STRIDE = _setting("UONEP_POWERLOSS_STRIDE", 1)


def record(index, big=False):
    """Commit `index`: one value (a 27-byte frame) most of the time, now
    and then a string long enough for two or three frames; with big, a
    sample of three values and a status (about 90 bytes: a segment holds
    about 40 of them, so packing comes often)."""
    if index % 9 == 4:
        return [BASE + index, 5, index, [["s", "%d:" % index + "x" * (100 + index * 37 % 200)]]]
    if big:
        return [BASE + index, 5, index, [["t", index % 100 / 4], ["count", index],
                                         ["status", "ok %d" % index + "." * (index % 40)]]]
    return [BASE + index, 5, index, [["t", index % 100 / 4]]]


BIG = [False]           # the scenario running has big records
PAYLOADS = {}           # index -> payload, made once per scenario


def payload(index):
    data = PAYLOADS.get(index)
    if data is None:
        data = PAYLOADS[index] = forward.encode_commit(*record(index, BIG[0]))
    return data


def index_of(data):
    """The commit index a record was made for (its timestamp), or None."""
    # A timed record: 1 | key length | key | text length | ",[ts,value]".
    if len(data) < 4 or data[0] != 1:
        return None
    at = 2 + data[1]                            # the text's length: 1 or 2 bytes
    start = at + (2 if data[at] & 0x80 else 1) + 2
    end = data.find(b",", start)
    return int(data[start:end]) - BASE if end > start else None


def letter(index):
    return b"letter %d" % index, "refused %d" % index


class Scenario:
    def __init__(self, name, commits, push_every, batch, capacity, seed, old=0, big=False):
        self.name = name
        self.commits = commits
        self.push_every = push_every
        self.batch = batch
        self.capacity = capacity
        self.seed = seed
        self.old = old          # pending commits made first by uonep 0.1's journal
        self.big = big


SCENARIOS = (
    # Frequent small pushes: acks interleave with nearly every commit.
    Scenario("pushes of ten", 170, 7, 10, 16384, 11),
    # A backlog past the ring: packing, pushes that end inside a segment,
    # segments reclaimed once acknowledged through.
    Scenario("backlog, packing and reclaim", 130, 70, 55, 65536, 23, big=True),
    # Full at three blocks: the oldest segment dropped to make room.
    Scenario("full, segments dropped", 150, 100, 20, 3 * BLOCK, 37, big=True),
    # Full with the ring alone: its oldest commits dropped one by one.
    Scenario("full, ring commits dropped", 100, 60, 25, 1024, 41),
    # A journal of format 1 with 25 pending commits carried over at open.
    Scenario("carried over from format 1", 60, 20, 15, 16384, 53, old=25),
)


def initial(scenario):
    """What was done before the logged run: nothing, or the format 1
    journal's commits (the first 10 acknowledged) and one dead letter."""
    old = scenario.old + 10 if scenario.old else 0
    return {"committed": old, "committing": False, "acked": min(old, 10), "acking": None,
            "floor": min(old, 10), "letters": (-1,) if old else (), "lettering": None}


# The simulated flashes and images, made once: 256 KB allocations made
# again and again fragment MicroPython's heap.
SIZE = BLOCKS * BLOCK
DEVICES = []
BUFFERS = []


def _devices():
    if not DEVICES:
        DEVICES.extend([FlashSim(BLOCKS), FlashSim(BLOCKS)])
        BUFFERS.extend([bytearray(SIZE), bytearray(SIZE), bytearray(SIZE)])
    return DEVICES


def setup(scenario):
    """The flash before the logged run (in DEVICES[0], a copy in
    BUFFERS[2]): empty, or holding a format 1 journal."""
    BIG[0] = scenario.big
    PAYLOADS.clear()
    device = _devices()[0]
    for block in range(BLOCKS):
        device.erase(block)
    device.log = None
    device.reset_counters()
    os.VfsLfs2.mkfs(device)
    if scenario.old:
        mount(device, MOUNT)
        old = journal_v1.Journal(PATH, capacity_bytes=16384)
        for index in range(scenario.old + 10):
            old.commit(rpc.dumps(record(index, BIG[0])).encode("utf-8"))
        old.ack([position for position, _ in old.pending()][9])     # 10 acknowledged
        old.dead_letter(*letter(-1))
        old.close()
        unmount(MOUNT)
    BUFFERS[2][:] = device.data
    device.reset_counters()
    return device


def workload(scenario, progress):
    """Commits, pushes of at most `batch` commits every `push_every`, and a
    dead letter now and then; progress notes what returned."""
    journal = Journal(PATH, capacity_bytes=scenario.capacity)
    first = progress.initial["committed"]
    letters = progress.initial["letters"]
    segments = 0
    for index in range(first, first + scenario.commits):
        progress.set("committing", True)
        journal.commit(payload(index))
        progress.set("committed", index + 1)
        stats = journal.stats()
        segments = max(segments, stats["segments"])
        # Pending commits are always the newest ones: what is below was
        # acknowledged or dropped.
        progress.set("floor", index + 1 - stats["pending"])
        progress.set("committing", False)
        if index % scenario.push_every == scenario.push_every - 1:
            last = None
            seen = 0
            for position, data in journal.pending():
                last = position, index_of(data)
                seen += 1
                if seen == scenario.batch:
                    break
            if last is not None:
                progress.set("acking", last[1] + 1)
                journal.ack(last[0])
                progress.set("acked", last[1] + 1)
                progress.set("acking", None)
        if index % 50 == 25:
            progress.set("lettering", index)
            journal.dead_letter(*letter(index))
            letters = letters + (index,)
            progress.set("letters", letters)
            progress.set("lettering", None)
    progress.exercised = {"segments": segments, "dropped": journal.stats()["dropped"]}
    journal.close()


def _window(low, high, present):
    """An operation cut short covered [low, high): all there or none."""
    if high is None or high <= low:
        return low, 0
    inside = sum(1 for index in range(low, high) if index in present)
    if inside == 0:
        return high, 0
    return low, (high - low) - inside       # any there: all must be


def check(progress, cut, counts):
    """Reopen after the cut and count what was lost or delivered corrupt."""
    state = progress.state(cut)
    journal = Journal(PATH, capacity_bytes=progress.scenario.capacity)
    indexes = []
    corrupt = 0
    committed = state["committed"]
    for _, data in journal.pending():
        index = index_of(data)
        # The commit cut short may be there, whole.
        limit = committed + (1 if state["committing"] else 0)
        if index is None or index >= limit or data != payload(index) or \
                (indexes and index <= indexes[-1]):
            corrupt += 1
            continue
        indexes.append(index)
    present = set(indexes)
    floor = state["floor"]
    missing_drop = 0
    if state["committing"]:
        # A commit that dropped the oldest to make room was cut.
        floor, missing_drop = _window(floor, progress.after(cut, "floor"), present)
    acked, missing_ack = _window(max(state["acked"], floor), state["acking"], present)
    lower = max(acked, floor)
    lost = missing_ack + missing_drop
    lost += sum(1 for index in range(lower, committed) if index not in present)
    corrupt += sum(1 for index in indexes if index < lower)   # came back
    # Dead letters: all that returned, maybe the one cut short, nothing else.
    letters = list(journal.dead_letters())
    expected = [letter(index) for index in state["letters"]]
    if state["lettering"] is not None and len(letters) == len(expected) + 1:
        expected.append(letter(state["lettering"]))
    if letters != expected:
        corrupt += sum(1 for item in letters if item not in expected)
        lost += sum(1 for item in expected if item not in letters)
    # Still a working journal.
    if indexes:
        journal.ack([position for position, _ in journal.pending()][-1])
    journal.commit(b"after the cut")
    if [data for _, data in journal.pending()] != [b"after the cut"]:
        lost += 1
    journal.close()
    counts["lost"] += lost
    counts["corrupt"] += corrupt
    return lost, corrupt


class Noted(Progress):
    def after(self, cut, key):
        """The value `key` takes next, at or after cut (the clean run's)."""
        for ops, name, value in self.events:
            if ops >= cut and name == key:
                return value
        return None


def campaign_run(scenario, stride=STRIDE):
    gc.collect()
    device = setup(scenario)
    template = BUFFERS[2]
    # The clean run, logged.
    device.log = []
    device.reset_counters()
    progress = Noted(device, initial(scenario))
    progress.scenario = scenario
    mount(device, MOUNT)
    workload(scenario, progress)
    unmount(MOUNT)
    log = device.log
    device.log = None
    total = len(log)
    counts = {"cuts": 0, "lost": 0, "corrupt": 0, "kinds": {}, "exercised": progress.exercised}
    recovered = DEVICES[1]
    recovered.load(device.data)
    mount(recovered, MOUNT)
    check(progress, total + 1, counts)       # the clean run passes the same checks
    unmount(MOUNT)
    assert counts["lost"] == 0 and counts["corrupt"] == 0, counts
    progress.state(0)
    for cut, kind, image in cut_images(template, log, scenario.seed, stride,
                                       buffers=BUFFERS[0:2]):
        recovered.load(image)
        mount(recovered, MOUNT)
        lost, corrupt = check(progress, cut, counts)
        unmount(MOUNT)
        counts["kinds"][kind] = counts["kinds"].get(kind, 0) + 1
        counts["cuts"] += 1
        if lost or corrupt:
            print("cut %d (%s): %d lost, %d corrupt delivered, progress %r" % (
                cut, kind, lost, corrupt, progress.state(cut)))
        if cut % 256 == 0:
            gc.collect()
    return total, counts


def _report(name, total, counts):
    print("journal power-loss, %s: %d cut points, %d lost, %d corrupt delivered "
          "(%d operations in the clean run, cuts by kind %r)" % (
              name, counts["cuts"], counts["lost"], counts["corrupt"], total, counts["kinds"]))
    campaign.report("power-loss", cut_points=counts["cuts"], lost=counts["lost"],
                    corrupt_delivered=counts["corrupt"])


def _run(number):
    scenario = SCENARIOS[number]
    total, counts = campaign_run(scenario)
    _report(scenario.name, total, counts)
    assert counts["cuts"] > 0
    assert counts["lost"] == 0 and counts["corrupt"] == 0, counts
    return counts["exercised"]


def test_powerloss_pushes_of_ten():
    _run(0)


def test_powerloss_backlog_packing_reclaim():
    assert _run(1)["segments"] >= 2          # packed, pushed from, reclaimed


def test_powerloss_full_segments_dropped():
    exercised = _run(2)
    assert exercised["segments"] == 2 and exercised["dropped"] > 30, exercised   # two drops at least


def test_powerloss_full_ring_dropped():
    exercised = _run(3)
    assert exercised["segments"] == 0 and exercised["dropped"] > 10, exercised


def test_powerloss_carried_over_from_format_1():
    _run(4)


def test_replay_equals_a_real_cut():
    """The flash cut_images() builds for a cut point is, byte for byte,
    the flash a real power cut leaves after the workload runs into it."""
    scenario = SCENARIOS[1]
    device = setup(scenario)
    template = BUFFERS[2]
    device.log = []
    progress = Noted(device, initial(scenario))
    # Without file times: LittleFS writes the clock's time with each file.
    mount(device, MOUNT, mtime=False)
    workload(scenario, progress)
    unmount(MOUNT)
    log = device.log
    checked = 0
    real = DEVICES[1]
    for cut, kind, image in cut_images(template, log, scenario.seed, 97,
                                       buffers=BUFFERS[0:2]):
        real.load(template)
        real._seed = scenario.seed + cut
        # FlashSim draws the cut's length from its seed as cut_images does.
        real.cut_after(cut)
        mount(real, MOUNT, mtime=False)
        try:
            workload(scenario, Noted(real, initial(scenario)))
        except OSError:
            pass
        except Exception:
            pass
        unmount(MOUNT)
        assert real.data == image, "cut %d (%s) differs" % (cut, kind)
        checked += 1
    assert checked > 5
