"""Flash cost per durable commit of journal layouts on LittleFS (MicroPython).

    micropython -X heapsize=4m tools/flashcost.py [commits] [payload bytes] [push every] [layout ...]

Mounts os.VfsLfs2 at the ESP32 port's stock settings (4096-byte blocks,
read/prog/lookahead 32, cache 128) on the simulated NOR flash of
tests/flashsim.py and runs the same workload on each layout: `commits`
durable commits of `payload` bytes, and every `push every` commits a push
(read everything pending, ack it). After a warm-up of the same length (so
metadata compaction reaches its steady state), it prints bytes programmed
and blocks erased per commit, the ack and reclaim included.

Layouts:
  journal   uonep.journal.Journal: a ring of inline files packed into
            segments ("journal:8192" gives its capacity_bytes)
  v1        uonep 0.1's journal (tools/benchmarks/journal_v1.py): a ring of
            inline slot files + ack state
  (and "segment:512" gives a segment layout's size)
  file      one file per commit, deleted on ack
  segment   segment files of several commits (appended), ack pointer file,
            a segment deleted once wholly acknowledged
  append    one append-only log file, ack pointer file, log removed when
            everything in it is acknowledged
"""
import os
import sys

_here = __file__.rpartition("/")[0] or "."
sys.path[:0] = [_here + "/../firmware", _here + "/../tests", _here + "/benchmarks"]

import journal_v1  # noqa: E402
from flashsim import FlashSim  # noqa: E402
from uonep import journal  # noqa: E402

MOUNT = "/flashcost"
SEGMENT_BYTES = 1024


def _write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


class FilePerCommit:
    def __init__(self, path):
        self.path = path
        os.mkdir(path)
        self.next = 0
        self.first = 0

    def commit(self, payload):
        _write("%s/%x" % (self.path, self.next), payload)
        self.next += 1

    def push(self):
        for n in range(self.first, self.next):
            with open("%s/%x" % (self.path, n), "rb") as f:
                f.read()
        for n in range(self.first, self.next):
            os.remove("%s/%x" % (self.path, n))
        self.first = self.next


class Segments:
    def __init__(self, path, limit=SEGMENT_BYTES):
        self.path = path
        self.limit = limit
        os.mkdir(path)
        self.segment = 0
        self.size = 0
        self.first = 0

    def commit(self, payload):
        if self.size + len(payload) + 8 > self.limit:
            self.segment += 1
            self.size = 0
        _write("%s/%x" % (self.path, self.segment), b"hdr:len8" + payload, "ab")
        self.size += len(payload) + 8

    def push(self):
        for n in range(self.first, self.segment + 1):
            with open("%s/%x" % (self.path, n), "rb") as f:
                f.read()
        _write(self.path + "/ack", b"%d:%d" % (self.segment, self.size))
        for n in range(self.first, self.segment):
            os.remove("%s/%x" % (self.path, n))
        self.first = self.segment


class AppendLog:
    def __init__(self, path):
        self.path = path
        os.mkdir(path)
        self.size = 0

    def commit(self, payload):
        _write(self.path + "/log", b"hdr:len8" + payload, "ab")
        self.size += len(payload) + 8

    def push(self):
        with open(self.path + "/log", "rb") as f:
            while f.read(512):
                pass
        _write(self.path + "/ack", b"%d" % self.size)
        # Everything is acknowledged: start a new log (the ack pointer
        # alone would do, but the file would grow forever).
        os.remove(self.path + "/log")
        self.size = 0


class JournalLayout:
    module = journal

    def __init__(self, path, capacity=65536):
        self.journal = self.module.Journal(path, capacity_bytes=capacity)

    def commit(self, payload):
        self.journal.commit(payload)

    def push(self):
        last = None
        for position, _ in self.journal.pending():
            last = position
        if last is not None:
            self.journal.ack(last)


class JournalV1Layout(JournalLayout):
    module = journal_v1


LAYOUTS = {"journal": JournalLayout, "v1": JournalV1Layout, "file": FilePerCommit,
           "segment": Segments, "append": AppendLog}


def payload_for(n, size):
    text = b"%d:" % n
    return text + b"v" * max(0, size - len(text))


def measure(layout, commits, size, push_every, blocks=512):
    device = FlashSim(blocks)
    os.VfsLfs2.mkfs(device)
    os.mount(os.VfsLfs2(device), MOUNT)
    try:
        name, _, option = layout.partition(":")
        store = LAYOUTS[name](MOUNT + "/j", *([int(option)] if option else []))
        n = 0
        for phase in range(2):       # warm-up, then measured
            device.reset_counters()
            for _ in range(commits):
                store.commit(payload_for(n, size))
                n += 1
                if n % push_every == 0:
                    store.push()
        return device.bytes_programmed / commits, device.erases / commits
    finally:
        os.umount(MOUNT)


def main(argv):
    commits = int(argv[1]) if len(argv) > 1 else 2000
    size = int(argv[2]) if len(argv) > 2 else 100
    push_every = int(argv[3]) if len(argv) > 3 else 50
    layouts = argv[4:] or ["journal", "v1", "file", "segment", "append"]
    print("flash cost per commit: %d commits of %d bytes, push+ack every %d"
          % (commits, size, push_every))
    for layout in layouts:
        try:
            programmed, erased = measure(layout, commits, size, push_every)
        except OSError as error:
            # e.g. one block per file: a big backlog no longer fits the flash
            print("  %-8s failed: %r" % (layout, error))
            continue
        print("  %-8s %7.1f bytes programmed  %6.3f erases" % (layout, programmed, erased))


main(sys.argv)
