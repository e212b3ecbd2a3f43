"""The commit journal: durable, crash-safe, dense storage of commits in flash.

    j = Journal("/data/journal", capacity_bytes="auto", policy="drop_oldest")
    j.commit(payload)                    # atomic and durable when it returns
    for position, payload in j.pending():
        ...                              # oldest first
    j.ack(position)                      # that commit and all before it are done
    j.dead_letter(payload, "reason")     # kept (bounded), never sent again
    j.stats(); j.close()

What survives a power cut: every commit whose commit() returned, until an
ack() covering it returns (or the policy drops it to make room, counted in
"dropped"); every dead letter whose dead_letter() returned, until the
bounded store drops it for newer ones (counted in "dead_dropped"). A commit
cut short is whole or absent, never delivered in part; an ack cut short is
done or not (its commits are then delivered again). Damaged records are
skipped and counted in "corrupt", never delivered. With the ack state lost,
every commit still on flash is delivered again: duplicates, never losses.

The layout follows LittleFS as ESP32 MicroPython mounts it (4096-byte
blocks, 128-byte cache). A file of at most 128 bytes lives inline in its
folder's metadata: rewriting one is a single metadata commit (64 bytes
programmed for up to 28 bytes of data, 96 for up to 60), and erases come
only when a metadata block fills and is compacted. A bigger file takes
whole blocks, and appending to one after a sync copies its last block. So
each commit lands in one small file of a hot ring, and the ring's commits
are packed, a block's worth at a time, into segment files written once:

    r0/0 .. r7/15  the ring: the frame of sequence number s is in file
                   r(s % 128 // 16)/(s % 16), 16 files a folder (one
                   metadata pair each: a lookup reads little)
    s/0, s/1, ...  segments, numbered in order: the frames of consecutive
                   sequence numbers and their crc32, 4096 bytes at most,
                   written in one go
    s/a, s/b       ack state, written alternately (the newer generation wins)
    d              dead letters, appended; past dead_bytes the oldest go
    c              the capacity asked for and the one it came to

    frame:  crc32 (4) | size (1) | seq (4) | flags (1) | data (<= 118)
            crc32 covers size to the end; flags: 0x80 on the first frame
            of a commit, and in the low 7 bits the frames still to come
    state:  crc32 (4) | version (1) | generation (2) | acked (4) |
            dropped (4) | corrupt (4) | corrupt_through (4) | dead_dropped (4)
    letter: 0xde "L" | payload length (2) | reason length (2) | crc32 (4) |
            payload | reason (UTF-8)

A commit is one frame (two or more for payloads over 118 bytes): one small
file rewritten, nothing created or deleted once the ring has gone round.
The ring's pending frames are mirrored in RAM (4 KB), so push and packing
never read the ring back; it is read only at open. When the ring holds 128
pending frames or a block's worth of bytes, they are written as the next
segment; no state is written then: the newest segment says how far packing
got. An ack writes one state file, and deletes the segments acknowledged
through. A position is the sequence number of a commit's last frame.

The journal finds its commits by sequence number, from the ack point
through the segments and then the ring. Each frame read from a segment is
checked against its crc32 (the segment's own crc32 is written, for the
format's sake, but not needed to read it), and a damaged one costs its
commit only. A gap is counted once in "corrupt" (runs are counted in
order of sequence number); a commit cut short at the head is counted,
removed, and its sequence numbers used again.

RAM: the journal keeps nothing whose size grows with what it holds beyond
the mirror, and allocates so as not to split a small heap. The mirror,
once opening's garbage is collected, is allocated again low down when it is
small; packing empties it in place (a bytearray keeps its capacity on
MicroPython) and writes its crc32 as the file's tail, not a 4 KB copy. A
walk (pending(), push) reads segments 1 KB at a time into one buffer of
its own. The last two commits it yielded are kept in lists changed in
place ([ack point, position, commits, bytes, segment + 1, offset after
it] each): ack() takes its counts from there, and the next walk starts
reading that segment after a commit acknowledged, not from its start.

Capacity: capacity_bytes bounds the pending frames: segments (one 4 KB
block each, about 115 one-value commits) plus the ring's block's worth.
The folders take OVERHEAD bytes of flash beyond that (80 KB), the
dead-letter store up to dead_bytes. A capacity is checked against the free
space when it is first given (a journal made, or given another figure) and
refused if the filesystem cannot hold it; "auto" is sized then: three
quarters of the room (free space plus what the journal holds), less
OVERHEAD, in whole blocks. LittleFS counts each folder twice in its free
space, so the figure errs low. When the journal is full, or the filesystem
has no space (ENOSPC) for a write of it, "drop_oldest" drops the oldest
pending commits (a segment at a time, or ring commits when there is no
segment to drop), "refuse" raises JournalFullError.

A journal of format 1 (uonep 0.1: a ring of slot files) is carried over at
open, crash-safely. Opening (and making a new journal) lives in
uonep.journal_open, let go of once the journal is open; the carrying over
and the other rare paths (dead letters, dropping, failed writes, errors)
in uonep.journal_rare, imported when one is taken.
"""

import gc
import os
import struct
from binascii import crc32

from .errors import JournalError

try:
    from micropython import const
except ImportError:          # CPython
    const = int  # type: ignore[assignment]

VERSION = const(2)
BLOCK = const(4096)          # a segment: one LittleFS block, written once
RING = const(128)            # files in the ring
GROUP = const(16)            # ring files per folder
_FRAME = const(128)          # LittleFS keeps files up to its cache size inline
_HEAD = const(10)            # crc32, size, seq, flags
DATA = const(_FRAME - _HEAD)  # payload bytes per frame
_SPACE = const(BLOCK - 4)    # a segment's frames; its crc32 follows them
_LARGEST = const(_SPACE - 34 * _HEAD)   # a commit fits one segment
_FIRST = const(0x80)
_CHUNK = const(1024)         # bytes of a segment read at a time
# Flash beyond the capacity: the journal's folders (the ring's eight, the
# segments', its own), a metadata pair of two blocks each.
OVERHEAD = const((RING // GROUP + 2) * 2 * BLOCK)
_STATE = "<BHIIIII"
_STATE_SIZE = const(27)      # with its crc32: 28 at most is one 64-byte write


def _slot(number):
    """The ring file of sequence number `number`."""
    slot = number % RING
    return "r%d/%d" % (slot // GROUP, slot % GROUP)


class Journal:
    """Commits in a ring of small files packed into segments (see the module doc).

    capacity_bytes: "auto" or the bytes of pending frames to keep (at least
    512); policy: "drop_oldest" (make room by dropping the oldest pending
    commits, counted) or "refuse" (JournalFullError, nothing stored);
    dead_bytes: the bound of the dead-letter store."""

    # Set by opening (uonep.journal_open); annotations only, they cost
    # nothing on a board.
    path: str
    policy: str
    dead_bytes: int
    capacity: int            # bytes of pending frames
    _mirror: bytearray       # frames of [_start, _head) ("RAM"); None: closed
    _changes: int            # counts moves of the mirror's frames
    _start: int
    _head: int
    _first: int              # segment files are [_first, _next)
    _next: int
    _end: list               # [segment, sequence number]: where a walk read to its end
                             # of that segment reached (its last + 1, or the ack point)
    # The ack state (format: "state")
    _generation: int
    _acked: int
    _corrupt_through: int    # damage before this sequence number is counted
    _dirty: bool             # the state changed since it was written
    _counts: dict            # what stats() reports of the commits (some in the state)
    _dead_size: int
    _memo: list              # the last two commits pending() yielded ("RAM")

    def __init__(self, path, capacity_bytes="auto", policy="drop_oldest", dead_bytes=8192):
        from .journal_open import journal_open
        journal_open(self, path, capacity_bytes, policy, dead_bytes)
        # Opening leaves garbage (and its code, let go of) all over a small
        # heap; a small mirror is allocated again once that is collected,
        # low down (a large one stays: moving it would need it twice).
        gc.collect()
        if len(self._mirror) < BLOCK // 2:
            self._mirror = bytearray(self._mirror)

    # -- public API ---------------------------------------------------------
    def commit(self, payload):
        """Store payload (bytes) as one commit: atomic, durable on return."""
        self._check(payload)
        size = len(payload)
        count = (size + DATA - 1) // DATA or 1
        framed = size + count * _HEAD
        if size > _LARGEST or framed > min(_SPACE, self.capacity):
            raise JournalError("a commit of %d bytes is too large" % size)
        self._room(count, framed)
        frames = bytearray(framed)
        view = memoryview(frames)
        source = memoryview(payload)
        at = 0
        for part in range(count):
            offset = part * DATA
            end = at + _HEAD + min(DATA, size - offset)
            struct.pack_into("<BIB", frames, at + 4, end - at, self._head + part,
                             (0 if part else _FIRST) | (count - 1 - part))
            frames[at + _HEAD:end] = source[offset:offset + end - at - _HEAD]
            struct.pack_into("<I", frames, at, crc32(view[at + 4:end]))
            self._store(_slot(self._head + part), view[at:end])
            at = end
        self._mirror.extend(frames)
        self._head += count
        counts = self._counts
        counts["pending"] += 1
        counts["pending_bytes"] += size
        counts["committed"] += 1

    def pending(self):
        """Yield (position, payload) for every pending commit, oldest first.
        Commits acknowledged or dropped while iterating are skipped."""
        for position, data, start, end in self.pending_slices():
            yield position, bytes(data[start:end])

    def pending_slices(self):
        """pending() without a copy of each payload: yield (position, data,
        start, end), the payload being data[start:end] (bytes or bytearray,
        good until the next step)."""
        self._check()
        return self._records(True)

    def ack(self, position):
        """Acknowledge the commit at position and every one before it."""
        self._check()
        if position >= self._head:
            raise JournalError("no commit at position %d" % position)
        if position >= self._acked:
            # The counts of the walk's memo (see "RAM"), or counted again.
            counted = None
            for memo in self._memo:
                if memo[0] == self._acked and memo[1] == position:
                    counted = memo[2], memo[3]
            if counted is None:
                from .journal_rare import count
                counted = count(self, position)
            self._advance(position + 1, 0, *counted)

    def dead_letter(self, payload, reason):
        """Keep payload with a reason in the dead-letter store, durably."""
        self._check(payload)
        from .journal_rare import dead_letter
        dead_letter(self, payload, reason)

    def dead_letters(self):
        """Yield (payload, reason) for every dead letter, oldest first."""
        self._check()
        from .journal_rare import dead_letters
        return dead_letters(self)

    def stats(self):
        return dict(self._counts, capacity=self.capacity, segments=self._next - self._first)

    def close(self):
        if self._mirror is not None and self._dirty:
            try:
                self._write_state()
            except JournalError:
                pass
        self._mirror = None      # closed (and its RAM let go of)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- records ----------------------------------------------------------------
    def _records(self, assemble, stop=None):
        """Yield (position, data, start, end) for each whole, undamaged
        commit from the ack point on, its payload data[start:end] (a commit
        of several frames is put together only when assemble):
        the segments in order (up to segment stop when given), then the
        ring's mirror (whose frames were checked when they were read)."""
        start = expected = self._acked
        commits = total = first = left = flip = offset = 0
        parts = None
        number = self._first
        memo = self._memo
        unpack = struct.unpack_from
        segment = None
        while number != stop:
            ring = number >= self._next
            at = 0
            if ring:
                # The mirror itself: a commit may add to it, an ack or a
                # packing change it (changes), while this iterates.
                data = self._mirror
                changes = self._changes
                number = 0               # no segment, for the memo
            else:
                # A chunk at a time, into one small buffer (see "RAM").
                data = segment = segment or bytearray(_CHUNK)
                view = memoryview(data)
                name = "s/%d" % number
                number += 1
                offset = 0               # or past a commit acknowledged
                for entry in memo:
                    if entry[1] < start and entry[4] == number:
                        offset = entry[5]
                length = self._read_into(name, data, offset)
            while True:
                if ring:
                    if changes != self._changes:
                        data = self._mirror      # look again from its start
                        changes = self._changes
                        at = 0
                    length = len(data)
                elif length - at < _FRAME and length == _CHUNK:
                    # The chunk's end may cut the next frame: read on from it.
                    offset += at
                    at = 0
                    length = self._read_into(name, data, offset)
                if at + _HEAD > length:
                    if not ring:
                        # All of it read (for _reclaim).
                        self._end[0], self._end[1] = number - 1, expected
                    break
                size, seq, flags = unpack("<BIB", data, at + 4)
                end = at + size
                # Each frame of a segment is checked as it is read (its
                # crc32 over the whole would need the whole in RAM).
                if not ring and (size < _HEAD or end > length or unpack(
                        "<I", data, at)[0] != crc32(view[at + 4:end])):
                    at += 1                  # damage: look for the next frame
                    continue
                begin = at + _HEAD
                at = end
                if seq == expected and flags == _FIRST and parts is None:
                    # The common case: the next commit, in one frame.
                    expected += 1
                    out = data
                elif seq < expected:
                    continue                 # delivered or acknowledged already
                elif parts is not None and seq == expected and flags == left - 1:
                    expected += 1
                    left -= 1
                    if assemble:
                        parts.extend(data[begin:end])
                    else:
                        parts += end - begin
                    if left:
                        continue
                    if assemble:
                        out, begin, end = bytes(parts), 0, len(parts)
                    else:
                        out, begin, end = None, 0, parts
                    parts = None
                else:
                    if parts is not None:
                        self._note_corrupt(first, seq)   # a commit broken off
                        parts = None
                    if seq > expected:
                        self._note_corrupt(expected, seq)
                    expected = seq + 1
                    if not flags & _FIRST:
                        self._note_corrupt(seq, expected)
                        continue
                    left = flags & 0x7F
                    if left:
                        first = seq
                        parts = bytearray(data[begin:end]) if assemble else end - begin
                        continue
                    out = data
                if assemble:
                    commits += 1
                    total += end - begin
                    entry = memo[flip]
                    entry[0], entry[1], entry[2] = start, seq, commits
                    entry[3], entry[4], entry[5] = total, number, offset + at
                    flip ^= 1               # the last two, in turn
                yield seq, out, begin, end
                if self._acked > expected:   # acknowledged (or dropped) meanwhile
                    expected = self._acked
            if ring:
                return

    def _note_corrupt(self, start, end):
        """Count the damaged run [start, end) unless it was counted before
        (runs are noticed in order of sequence number)."""
        if end > self._corrupt_through:
            if start > self._corrupt_through:     # not the run counted last
                self._counts["corrupt"] += 1
            self._corrupt_through = end
            self._dirty = True

    # -- making room ------------------------------------------------------------
    def _room(self, count, size):
        """Make the ring take `count` frames of `size` bytes in all."""
        while self._head - self._start + count > RING or \
                len(self._mirror) + size > min(_SPACE, self.capacity):
            error = None
            if self.capacity >= 2 * BLOCK:
                try:
                    self._pack()
                    continue
                except OSError as failed:
                    error = failed
            from .journal_rare import make_room
            make_room(self, count, size, error)

    def _pack(self):
        """Write the ring's pending frames as the next segment file."""
        if self._next - self._first >= self.capacity // BLOCK - 1:
            from .journal_rare import drop_segment
            drop_segment(self)
        self._end[0] = -1
        frames = self._mirror
        # Its crc32 written after it: no block-sized copy of the frames.
        self._write("s/%d" % self._next, frames, "wb", struct.pack("<I", crc32(frames)))
        self._next += 1
        self._start = self._head
        frames[0:] = b""
        self._changes += 1

    def _advance(self, start, dropped, commits, total):
        """Move the ack point to start, past `commits` commits of `total` bytes,
        `dropped` of them to make room: durably first, then the mirror and
        the segments."""
        before = self._acked
        counts = self._counts
        self._acked = start
        counts["dropped"] += dropped
        try:
            self._write_state()
        except JournalError:
            self._acked = before
            counts["dropped"] -= dropped
            raise
        counts["pending"] = max(0, counts["pending"] - commits)
        counts["pending_bytes"] = max(0, counts["pending_bytes"] - total)
        for memo in self._memo:
            memo[0] = -1
        self._start = max(self._start, start)
        mirror = self._mirror
        at = len(mirror) if start >= self._head else 0
        while at < len(mirror) and struct.unpack_from("<I", mirror, at + 5)[0] < start:
            at += mirror[at + 4]
        if at:
            mirror[0:at] = b""
            self._changes += 1
        self._reclaim()

    def _reclaim(self):
        """Delete the segments acknowledged through (a walk of the oldest
        tells where it ends)."""
        end = self._end
        while self._next > self._first:
            if end[0] != self._first:
                for _ in self._records(False, self._first + 1):
                    pass
            if end[1] > self._acked:
                break
            self._remove("s/%d" % self._first)
            self._first += 1

    # -- files --------------------------------------------------------------------
    def _file(self, name):
        return self.path + "/" + name

    def _read_into(self, name, buffer, at):
        """Read file `name` from offset `at` into buffer: the bytes read (0
        when it cannot be read)."""
        try:
            with open(self._file(name), "rb") as f:
                f.seek(at)
                return f.readinto(buffer)
        except OSError:
            return 0

    def _remove(self, name):
        self._end[0] = -1
        try:
            os.remove(self._file(name))
        except OSError:
            pass   # gone already, or removed at the next open

    def _store(self, name, data, mode="wb"):
        try:
            self._write(name, data, mode)
        except OSError as error:
            from .journal_rare import failure
            raise failure(self, error)

    def _write(self, name, data, mode="wb", end=b""):
        """Write a file (data, then end; data may be a function that writes
        to the open file) durably; out of space, make room by the policy and
        try again (a folder gone is made again, once). Raises OSError."""
        folder = "/" in name
        while True:
            try:
                with open(self._file(name), mode) as f:
                    if callable(data):
                        data(f)
                    else:
                        f.write(data)
                    f.write(end)
                    f.flush()
                    if hasattr(os, "fsync"):
                        os.fsync(f.fileno())    # CPython; LittleFS commits on flush
                return
            except OSError as error:
                from .journal_rare import recover
                folder = recover(self, name, error, folder)

    def _write_state(self):
        """Write the ack state into the file not written last."""
        self._generation = (self._generation + 1) & 0xFFFF
        data = bytearray(_STATE_SIZE)
        counts = self._counts
        struct.pack_into(_STATE, data, 4, VERSION, self._generation, self._acked,
                         counts["dropped"], counts["corrupt"], self._corrupt_through,
                         counts["dead_dropped"])
        struct.pack_into("<I", data, 0, crc32(memoryview(data)[4:]))
        self._store(("s/a", "s/b")[self._generation & 1], data)
        self._dirty = False

    def _check(self, payload=b""):
        if self._mirror is None or not isinstance(payload, (bytes, bytearray, memoryview)):
            from .journal_rare import misuse
            raise misuse(self)
