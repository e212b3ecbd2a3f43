# The reliability campaign's corruption cases, inside MicroPython: a journal
# with known contents on LittleFS over a simulated flash (segments, the
# ring, the ack state, dead letters), then bit and byte damage, bursts,
# cuts, extensions and fills in any of its files (ring files r*/N, segments
# s/N, ack state s/a and s/b, dead letters d), alone or several at once, then a
# reopen. After each: nothing raised but a JournalError naming a format
# version (and only when the ack state was damaged), nothing delivered
# that was not committed, byte for byte and in order, damage to a pending
# commit counted in stats()["corrupt"], every undamaged pending commit and
# dead letter still there, and the journal takes and delivers a new commit.
import binascii
import gc
import os
import struct

import campaign
from flashsim import FlashSim, file_names, mount, xorshift
from uonep.errors import JournalError
from uonep.journal import DATA, Journal, _slot
from uonep.journal_open import frames as _segment_frames

HEAPSIZE = "16m"    # the simulated flash and its images live in the heap too
BLOCKS = 48
MOUNT = "/corrupt"
PATH = MOUNT + "/j"

# (capacity, commits, ack after commit n, which pending commit to ack there,
#  rounds per ring file and kind)
SCENARIOS = (
    # Full at four blocks: three segments (the oldest dropped before) and a
    # wrapped ring, frames of acknowledged commits and of older laps
    # around the pending ones, an ack point inside a segment.
    (4 * 4096, 296, 280, 40, 1),
    # The ring's first lap: the log ends at a missing file.
    (65536, 40, 20, 5, 2),
)
KINDS = ("bit", "byte", "burst", "cut", "extend", "zeros", "erased")
ROUNDS = 4                  # cases per kind for each segment, state and letter file
MULTI = 120                 # cases with two or three damaged files, per scenario
LOST_STATES = 30            # both ack states lost, per scenario


class Random:
    def __init__(self, seed):
        self.state = seed or 1

    def below(self, bound):
        self.state = xorshift(self.state)
        return self.state % bound if bound > 0 else 0

    def bytes(self, count):
        return bytes(self.below(256) for _ in range(count))


def _payload(n):
    text = b"commit %d;" % n
    return text + bytes(b"abcdefgh"[(n + i) % 8] for i in range(n * 37 % 300))


def _read(name):
    with open(PATH + "/" + name, "rb") as f:
        return f.read()


def _write(name, data):
    with open(PATH + "/" + name, "wb") as f:
        f.write(data)


def _frames(payload):
    return (len(payload) + DATA - 1) // DATA or 1


def _build(capacity, commits, ack_after, ack_index, rounds):
    """A journal image and what it holds: commits (index -> payload),
    pending [(index, names of the files its frames are in)], dead letters
    [(letter, start, end)]."""
    device = FlashSim(BLOCKS)
    os.VfsLfs2.mkfs(device)
    mount(device, MOUNT)
    journal = Journal(PATH, capacity_bytes=capacity)
    committed = {}
    for n in range(commits):
        committed[n] = _payload(n)
        journal.commit(committed[n])
        if n == ack_after:
            journal.ack([position for position, _ in journal.pending()][ack_index])
    letters = [(b"letter %d" % n + b"." * (n * 50), "reason %d \u00e9" % n) for n in range(3)]
    for payload, reason in letters:
        journal.dead_letter(payload, reason)
    index = dict((payload, n) for n, payload in committed.items())
    # Which file holds each frame of each pending commit: a ring file, or
    # the segment that holds its sequence numbers.
    segments = {}
    for number in range(journal._first, journal._next):
        for seq, _, _, _ in _segment_frames(_read("s/%d" % number)):
            segments[seq] = "s/%d" % number
    pending = []
    for position, payload in journal.pending():
        sequences = range(position - _frames(payload) + 1, position + 1)
        names = [segments.get(seq) or _slot(seq) for seq in sequences]
        pending.append((index[payload], names))
    assert journal.stats()["corrupt"] == 0
    journal.close()
    files = dict((name, _read(name)) for name in file_names(PATH))
    spans = []
    offset = 0
    for payload, reason in letters:
        end = offset + 10 + len(payload) + len(reason.encode("utf-8"))
        spans.append(((payload, reason), offset, end))
        offset = end
    assert offset == len(files["d"])
    os.umount(MOUNT)
    gc.collect()
    return {"image": device.snapshot(), "capacity": capacity, "committed": committed,
            "index": index, "pending": pending, "letters": spans, "files": files,
            "names": sorted(files), "rounds": rounds}


def _mutate(data, kind, random):
    data = bytearray(data)
    if kind == "bit" and data:
        where = random.below(len(data))
        data[where] ^= 1 << random.below(8)
    elif kind == "byte" and data:
        data[random.below(len(data))] ^= 1 + random.below(255)
    elif kind == "burst" and data:
        start = random.below(len(data))
        for where in range(start, min(len(data), start + 2 + random.below(15))):
            data[where] = random.below(256)
    elif kind == "cut":
        data = data[:random.below(len(data))] if data else data
    elif kind == "extend":
        data += random.bytes(1 + random.below(140))
    elif kind == "zeros":
        data = bytearray(len(data) or 1 + random.below(128))
    elif kind == "erased":
        data = bytearray(b"\xff" * (len(data) or 1 + random.below(128)))
    return bytes(data)


class Tally:
    def __init__(self):
        self.cases = 0
        self.refused = 0
        self.lost = 0
        self.corrupt_delivered = 0
        self.redelivered = 0
        self.kinds = {}
        self.targets = {}      # damaged files by kind: ring, segment, a, b, d
        self.failures = []

    def fail(self, case, message):
        if len(self.failures) < 8:
            self.failures.append("%s: %s" % (case, message))


def _check(scenario, damage, capacity, tally, case):
    """Reopen after damage (name -> new bytes) and check everything."""
    files = scenario["files"]
    changed = set(name for name, data in damage.items() if data != files[name])
    try:
        journal = Journal(PATH, capacity_bytes=capacity)
    except JournalError as error:
        text = str(error)
        if not changed & {"s/a", "s/b"} or "format version" not in text:
            tally.fail(case, "refused: %s" % text)
        tally.refused += 1
        return
    try:
        _check_open(scenario, journal, changed, damage, tally, case)
    finally:
        journal.close()
    # What recovery wrote down reopens cleanly, and only the new commit is left.
    again = Journal(PATH, capacity_bytes=capacity)
    left = [payload for _, payload in again.pending()]
    if left != [b"fresh"]:
        tally.fail(case, "after reopen: %r" % left[:3])
    again.close()


def _check_open(scenario, journal, changed, damage, tally, case):
    index = scenario["index"]
    delivered = []
    last = None
    previous = -1
    for position, payload in journal.pending():
        n = index.get(payload)
        if n is None:
            tally.corrupt_delivered += 1
            tally.fail(case, "delivered a payload never committed: %r" % payload[:20])
            continue
        if n <= previous:
            tally.fail(case, "out of order: %d after %d" % (n, previous))
        previous = n
        delivered.append(n)
        last = position
    seen = set(delivered)
    damaged = False
    for n, names in scenario["pending"]:
        if any(name in changed for name in names):
            damaged = damaged or n not in seen
        elif n not in seen:
            tally.lost += 1
            tally.fail(case, "undamaged pending commit %d not delivered" % n)
    stats = journal.stats()
    if stats["pending"] != len(delivered):
        tally.fail(case, "stats say %d pending, %d delivered" % (stats["pending"],
                                                                len(delivered)))
    pending_indexes = set(n for n, _ in scenario["pending"])
    tally.redelivered += len([n for n in delivered if n not in pending_indexes])
    if damaged and stats["corrupt"] < 1:
        tally.fail(case, "damage not counted: %r" % stats)
    _check_letters(scenario, journal, damage, tally, case)
    if last is not None:
        journal.ack(last)
    journal.commit(b"fresh")
    after = [payload for _, payload in journal.pending()]
    if after != [b"fresh"]:
        tally.fail(case, "after recovery: %r" % after[:3])
    if journal.stats()["pending"] != 1:
        tally.fail(case, "stats after recovery: %r" % journal.stats())


def _check_letters(scenario, journal, damage, tally, case):
    letters = list(journal.dead_letters())
    if journal.stats()["dead_lettered"] != len(letters):
        tally.fail(case, "dead letters counted %d, read %d" % (
            journal.stats()["dead_lettered"], len(letters)))
    original = scenario["files"]["d"]
    now = damage.get("d", original)
    expected = [letter for letter, start, end in scenario["letters"]
                if now[start:end] == original[start:end]]
    known = [letter for letter, _, _ in scenario["letters"]]
    for letter in letters:
        if letter not in known:
            tally.fail(case, "a damaged dead letter was read: %r" % (letter,))
    for letter in expected:
        if letter not in letters:
            tally.lost += 1
            tally.fail(case, "undamaged dead letter lost: %r" % (letter[1],))


def _run_case(device, scenario, damage, capacity, tally, case, kind):
    device.load(scenario["image"])
    mount(device, MOUNT)
    try:
        for name, data in damage.items():
            _write(name, data)
        try:
            _check(scenario, damage, capacity, tally, case)
        except Exception as error:   # anything escaping is a failure of the journal
            tally.fail(case, "%s: %s" % (type(error).__name__, error))
    finally:
        os.umount(MOUNT)
    tally.cases += 1
    tally.kinds[kind] = tally.kinds.get(kind, 0) + 1
    for name in damage:
        target = "ring" if name[0] == "r" else "segment" if name[2:].isdigit() else name
        tally.targets[target] = tally.targets.get(target, 0) + 1


def _campaign(scenario, seed, tally):
    device = FlashSim(BLOCKS)
    random = Random(seed)
    files = scenario["files"]
    names = scenario["names"]
    capacity = scenario["capacity"]
    for name in names:
        # The ring files are many: they get fewer rounds than the files
        # that hold many commits or describe the journal.
        ring = name[0] == "r"
        for round_number in range(scenario["rounds"] if ring else ROUNDS):
            for kind in KINDS:
                damage = {name: _mutate(files[name], kind, random)}
                case = "%s %s round %d" % (name, kind, round_number)
                _run_case(device, scenario, damage, capacity, tally, case, kind)
        gc.collect()
    for number in range(MULTI):
        damage = {}
        for _ in range(2 + random.below(2)):
            name = names[random.below(len(names))]
            kind = KINDS[random.below(len(KINDS))]
            damage[name] = _mutate(damage.get(name, files[name]), kind, random)
        case = "multi %d %r" % (number, sorted(damage))
        _run_case(device, scenario, damage, capacity, tally, case, "multi")
    # Both ack states lost: everything still on flash is delivered (again),
    # whatever capacity the caller now gives.
    for number in range(LOST_STATES):
        damage = {}
        for name in ("s/a", "s/b"):
            damage[name] = _mutate(files[name], KINDS[3 + random.below(4)], random)
        if number % 2:
            others = [name for name in names if name not in ("s/a", "s/b", "d")]
            name = others[random.below(len(others))]
            damage[name] = _mutate(files[name], "bit", random)
        guess = (capacity, "auto", capacity // 2)[number % 3]
        case = "lost state %d, capacity %s" % (number, guess)
        _run_case(device, scenario, damage, guess, tally, case, "lost state")


def test_corruption_campaign():
    tally = Tally()
    for number, settings in enumerate(SCENARIOS):
        scenario = _build(*settings)
        _campaign(scenario, 2654435761 + number * 97, tally)
        scenario = None
        gc.collect()
    print("journal corruption: %d cases, %d refused (ack state), %d lost, %d corrupt "
          "delivered, %d acknowledged commits delivered again" % (
              tally.cases, tally.refused, tally.lost, tally.corrupt_delivered,
              tally.redelivered))
    print("  cases by kind: %r" % tally.kinds)
    print("  files damaged: %r" % tally.targets)
    campaign.report("reliability", corruptions=tally.cases, lost=tally.lost)
    assert not tally.failures, "\n".join(tally.failures)
    assert tally.cases >= 2540 and tally.lost == 0 and tally.corrupt_delivered == 0


def _state(version, acked):
    data = bytearray(27)
    struct.pack_into("<BHIIIII", data, 4, version, 40000, acked, 0, 0, 0, 0)
    struct.pack_into("<I", data, 0, binascii.crc32(data[4:]) & 0xFFFFFFFF)
    return data


def test_other_version_refused_and_kept():
    """An ack state of another format version, valid CRC and all, is
    refused with a message naming both versions, and nothing in the
    journal is touched: a newer firmware's journal survives a downgrade."""
    device = FlashSim(BLOCKS)
    for settings in SCENARIOS:
        scenario = _build(*settings)
        for version in (0, 1, 3, 255):
            device.load(scenario["image"])
            mount(device, MOUNT)
            try:
                _write("s/a", _state(version, 0))
                try:
                    Journal(PATH, capacity_bytes=settings[0])
                except JournalError as error:
                    text = str(error)
                    assert "format version %d" % version in text and "version 2" in text, text
                else:
                    raise AssertionError("a version %d journal was opened" % version)
                for name, data in scenario["files"].items():
                    if name != "s/a":
                        assert _read(name) == data, name
            finally:
                os.umount(MOUNT)
        scenario = None
        gc.collect()
