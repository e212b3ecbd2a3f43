# Power loss at every program and erase of a journal workload, on LittleFS
# over the simulated NOR flash. For each cut point: a fresh flash, the
# workload runs until power goes (the cut operation is done only partly),
# power comes back, LittleFS remounts, the journal reopens, and then:
#   - every commit whose commit() returned is pending, unless acked;
#   - nothing pending differs from what was committed (no corruption
#     delivered), and pending is in commit order;
#   - acked commits are not pending again, unless that ack was the one cut;
#   - every dead letter whose dead_letter() returned is readable;
#   - the journal accepts and delivers a new commit.
# Scale: UONEP_POWERLOSS_COMMITS (commits per scenario, default 200) and
# UONEP_POWERLOSS_STRIDE (test every n-th cut point, default 1).
import gc
import os

import campaign
from flashsim import FlashSim, mount, unmount
from uonep.errors import JournalError
from uonep.journal import Journal

HEAPSIZE = "2m"

BLOCKS = 64
CAPACITY = 16384         # 128 slots: the ring wraps about three times per scenario
MOUNT = "/powerloss"


def _setting(name, default):
    value = os.getenv(name) if hasattr(os, "getenv") else None
    return int(value) if value else default


COMMITS = _setting("UONEP_POWERLOSS_COMMITS", 200)
STRIDE = _setting("UONEP_POWERLOSS_STRIDE", 1)


def payload(index):
    # One to three chunks (a chunk holds 118 bytes), unique per index.
    text = b"c%d;" % index
    return text + bytes([97 + index % 26]) * (12 + (index * 53) % 300 - len(text))


def index_of(data):
    if not data.startswith(b"c") or b";" not in data[:12]:
        return None
    try:
        return int(data[1:data.index(b";")])
    except ValueError:
        return None


def letter(index):
    return b"letter %d" % index, "refused %d" % index


def workload(progress, commits, push_every, batch):
    """Commits, pushes of at most `batch` commits every `push_every`, and a
    dead letter now and then; progress records what returned."""
    journal = Journal(MOUNT + "/j", capacity_bytes=CAPACITY)
    progress["opened"] = True
    for index in range(commits):
        journal.commit(payload(index))
        progress["committed"] = index + 1
        if index % push_every == push_every - 1:
            last = None
            seen = 0
            for position, data in journal.pending():
                last = position, index_of(data)
                seen += 1
                if seen == batch:
                    break
            if last is not None:
                progress["acking"] = last[1] + 1
                journal.ack(last[0])
                progress["acked"] = last[1] + 1
                progress["acking"] = None
        if index % 50 == 25:
            data, reason = letter(index)
            progress["lettering"] = index
            journal.dead_letter(data, reason)
            progress["letters"].append(index)
            progress["lettering"] = None
    journal.close()


def new_progress():
    return {"opened": False, "committed": 0, "acked": 0, "acking": None, "letters": [],
            "lettering": None}


def check(progress, counts):
    """Reopen after the cut and count what was lost or delivered corrupt."""
    journal = Journal(MOUNT + "/j", capacity_bytes=CAPACITY)
    indexes = []
    corrupt = 0
    for _, data in journal.pending():
        index = index_of(data)
        if index is None or data != payload(index) or index > progress["committed"] or \
                (indexes and index <= indexes[-1]):
            corrupt += 1
            continue
        indexes.append(index)
    present = set(indexes)
    committed = progress["committed"]
    acked = progress["acked"]
    # An ack cut short may or may not have happened, but all or nothing.
    if progress["acking"] is not None:
        window = range(acked, progress["acking"])
        if any(index in present for index in window):
            acked_at = acked
        else:
            acked_at = progress["acking"]
    else:
        acked_at = acked
    lost = sum(1 for index in range(acked_at, committed) if index not in present)
    for index in indexes:
        if index < acked:
            corrupt += 1            # an acknowledged commit came back
    # Dead letters: all that returned, maybe the one cut short, nothing else.
    letters = list(journal.dead_letters())
    expected = [letter(index) for index in progress["letters"]]
    if progress["lettering"] is not None and len(letters) == len(expected) + 1:
        expected.append(letter(progress["lettering"]))
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


def campaign_run(commits, push_every, batch, stride, seed):
    device = FlashSim(BLOCKS, seed=seed)
    os.VfsLfs2.mkfs(device)
    template = device.snapshot()
    # A clean run counts the program and erase operations: the cut points.
    device.load(template)
    mount(device, MOUNT)
    progress = new_progress()
    workload(progress, commits, push_every, batch)
    unmount(MOUNT)
    total = device.ops
    counts = {"cuts": 0, "lost": 0, "corrupt": 0, "kinds": {}}
    mount(device, MOUNT)
    check(progress, counts)       # the clean run passes the same checks
    unmount(MOUNT)
    assert counts["lost"] == 0 and counts["corrupt"] == 0, counts
    for cut in range(1, total + 1, stride):
        # A new device each time: files the cut left open in the dead
        # LittleFS instance are closed by the GC later, and must flush
        # into their own (dead) flash, not into this run's.
        device = None
        gc.collect()
        device = FlashSim(BLOCKS, data=template, seed=seed + cut)
        mount(device, MOUNT)
        progress = new_progress()
        device.cut_after(cut)
        try:
            workload(progress, commits, push_every, batch)
        except (OSError, JournalError):
            pass
        else:
            raise AssertionError("power cut %d of %d did not stop the workload" % (cut, total))
        unmount(MOUNT)
        kind = device.cut_op
        counts["kinds"][kind] = counts["kinds"].get(kind, 0) + 1
        # Power comes back on a copy of the flash: the dead device stays
        # dead, so the old LittleFS instance (whose open files the GC may
        # still close) can never write into the recovered flash.
        device = FlashSim(BLOCKS, data=device.data)
        mount(device, MOUNT)
        lost, corrupt = check(progress, counts)
        unmount(MOUNT)
        if lost or corrupt:
            print("cut %d (%s): %d lost, %d corrupt delivered, progress %r" % (
                cut, kind, lost, corrupt, progress))
        counts["cuts"] += 1
    return total, counts


def _report(name, total, counts):
    print("journal power-loss: %d cut points, %d lost, %d corrupt delivered" % (
        counts["cuts"], counts["lost"], counts["corrupt"]))
    print("  (%s: %d operations in a clean run, cuts by kind %r)" % (
        name, total, counts["kinds"]))
    campaign.report("power-loss", cut_points=counts["cuts"], lost=counts["lost"],
                    corrupt_delivered=counts["corrupt"])


def test_powerloss_pushes_of_ten():
    # Frequent small pushes: acks interleave with nearly every commit.
    total, counts = campaign_run(COMMITS, 7, 10, STRIDE, 11)
    _report("pushes of ten", total, counts)
    assert counts["lost"] == 0 and counts["corrupt"] == 0, counts


def test_powerloss_backlog_and_wrap():
    # Rarer pushes of a longer backlog: the ring wraps with commits pending.
    total, counts = campaign_run(COMMITS, 40, 38, STRIDE, 23)
    _report("backlog and wrap", total, counts)
    assert counts["lost"] == 0 and counts["corrupt"] == 0, counts
