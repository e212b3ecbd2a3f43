# Pushing a week of backlog must not need more RAM than pushing one point:
# push streams the journal a bounded batch at a time. A 100-point and a
# 10,000-point backlog (three dataports per commit) are committed to a
# Journal on the host filesystem -- outside MicroPython's heap, as flash is
# on a board -- and pushed to the emulator, under a small -X heapsize.
#   - the live heap (after gc.collect()) is sampled at every request, before
#     it goes and once its answer is in, and at every commit push reads: the
#     10,000-point high-water mark stays within a small factor of the
#     100-point one;
#   - the backlog's points as the wire carries them are more than the whole
#     heap, so a push that built one request of them would fail here with
#     MemoryError;
#   - every point arrives: read back, page by page, and compared.
import gc
import os

import requests
from emulator_control import CIK, url

from uonep import Client, forward
from uonep.clock import Clock
from uonep.forward import Uplink
from uonep.journal import BLOCK, Journal

NEEDS_EMULATOR = True
# The modules, compiled from source at import, need about 160 KB; the
# 10,000-point push then peaks at a few KB above what was live before it
# (the journal's segments are read 1 KB at a time). The backlog's points
# on the wire (about 240 KB) are more than this whole heap.
HEAPSIZE = "192k"

BASE = 1600000000
ALIASES = ("temp", "count", "status")
PAGE = 200            # points per read when checking what arrived


def value_of(alias, index):
    if alias == "temp":
        return (index * 37 % 4000) / 8
    if alias == "count":
        return index * 7919 % 1000003
    return "reading %04d ok" % (index % 10000)


class Meter:
    """The live heap's high-water mark above a baseline."""

    def __init__(self):
        self.base = 0
        self.high = 0
        self.samples = 0

    def start(self):
        gc.collect()
        self.base = gc.mem_alloc()
        self.high = 0
        self.samples = 0

    def sample(self):
        gc.collect()
        self.high = max(self.high, gc.mem_alloc() - self.base)
        self.samples += 1


METER = Meter()


class MeteredHTTP:
    """`requests`, sampling the heap with the body built and with the answer in."""

    def request(self, method, url, data=None, headers=None, timeout=None):
        METER.sample()
        response = requests.request(method, url, data=data, headers=headers, timeout=timeout)
        response.content      # read the answer now, while it is counted
        METER.sample()
        return response


class MeteredJournal(Journal):
    def pending(self):
        for item in Journal.pending(self):
            METER.sample()
            yield item


def _client():
    return Client(CIK, url(), timeout=10, http=MeteredHTTP())


def commit_backlog(client, points, base):
    """`points` points, three dataports per commit, one second apart."""
    commits = (points + len(ALIASES) - 1) // len(ALIASES)
    for index in range(commits):
        for number, alias in enumerate(ALIASES):
            if index * len(ALIASES) + number < points:
                client.add_value(alias, value_of(alias, index))
        client.commit(base + index)
    return commits


def arrived(client, commits, base):
    """How many of the committed points the server has, right value at the
    right time (read back in pages, so the check itself fits the heap)."""
    count = 0
    for alias in ALIASES:
        start = base
        while start < base + commits:
            page = client.read(alias, starttime=start, endtime=start + PAGE - 1, sort="asc",
                               limit=PAGE)
            for timestamp, value in page:
                if value == value_of(alias, timestamp - base):
                    count += 1
            page = None
            start += PAGE
    return count


def push_backlog(name, points, base):
    path = os.getenv("UONEP_TMP") + "/" + name
    # Capacity for the whole backlog: nothing may be dropped to make room.
    journal = MeteredJournal(path, capacity_bytes=(points // len(ALIASES) + 256) * 128,
                             policy="refuse")
    client = _client()
    uplink = Uplink(client, journal, Clock())   # commits carry their own timestamps
    commits = commit_backlog(uplink, points, base)
    backlog = journal.stats()["pending_bytes"]
    METER.start()
    free = gc.mem_free()
    report = uplink.push()
    METER.sample()
    high, samples = METER.high, METER.samples
    assert report["sent"] == points and report["remaining"] == 0, report
    assert journal.stats()["pending"] == 0
    journal.close()
    count = arrived(client, commits, base)
    assert count == points, (name, count, points)
    print("push of %d points (%d commits, %d bytes of backlog): %d requests, "
          "live heap high-water %d bytes above the start (%d samples, %d bytes were free)" % (
              points, commits, backlog, report["requests"], high, samples, free))
    return high, backlog, report


def test_push_heap_does_not_grow_with_backlog():
    small, _, _ = push_backlog("small", 100, BASE)
    large, backlog, report = push_backlog("large", 10000, BASE + 100000)
    heap = gc.mem_alloc() + gc.mem_free()
    print("heap %d bytes; high-water 100 points %d, 10,000 points %d (x%.2f)" % (
        heap, small, large, large / max(1, small)))
    assert report["requests"] > 10
    # A push that held the whole backlog, ready to send, could not even
    # fit it in this heap.
    assert report["bytes"] > heap, (report["bytes"], heap)
    # The constant: the 100-point push sends one request of about 2.6 KB,
    # the long one fills its requests to the byte budget and reads the
    # journal's segments (4 KB, one at a time) where the short one reads
    # only the ring's commits, already in RAM.
    assert large < 1.5 * small + forward.MAX_BYTES // 2 + BLOCK, (small, large)
