"""The commit journal: durable, crash-safe, dense storage of commits in flash.

    j = Journal("/data/journal", capacity_bytes="auto", policy="drop_oldest")
    j.commit(payload)                    # atomic and durable when it returns
    for position, payload in j.pending():
        ...                              # oldest first
    j.ack(position)                      # that commit and all before it are done
    j.dead_letter(payload, "reason")     # kept (bounded), never sent again
    j.stats(); j.close()

What survives a power cut: every commit whose commit() returned, until an
ack() covering it returns (or the policy drops it, counted in "dropped");
every dead letter whose dead_letter() returned, until the bounded store
drops it for a newer one (counted in "dead_dropped"). A commit cut short is
whole or absent, never delivered in part; an ack cut short is done or not
(its commits are then delivered again). Damaged records are skipped and
counted in "corrupt", never delivered. With the ack state lost, every
commit still on flash is delivered again (duplicates, never losses).

The layout follows LittleFS as ESP32 MicroPython mounts it (4096-byte
blocks, 128-byte cache): a file of at most 128 bytes lives inline in its
directory's metadata, and rewriting it is one metadata commit (64 bytes
programmed for up to 28 bytes of data); a bigger file takes whole blocks,
and appending to it after a sync copies its last block. So each commit
lands in one small inline file of a hot ring, and the ring's commits are
packed, a block at a time, into segment files written once:

    r0 .. r127   the ring: the frame of sequence number s in file r(s % 128)
    0, 1, ...    segments, numbered in order: the frames of consecutive
                 sequence numbers, 4096 bytes at most, written in one go
    a, b         ack state, written alternately (the newer generation wins)
    d            dead letters, appended; past dead_bytes the oldest go

    frame:  crc32 (4) | size (1) | seq (4) | flags (1) | data (<= 118)
            crc32 covers size to the end; flags: 0x80 on the first frame
            of a commit, and in the low 7 bits the frames still to come
    state:  crc32 (4) | version (1) | generation (2) | acked (4) |
            dropped (4) | corrupt (4) | corrupt_through (4) | dead_dropped (4)

A commit is one frame (two or more for payloads over 118 bytes): one inline
file written, nothing created or deleted once the ring has gone round. The
ring's pending frames are mirrored in RAM (4 KB), so push and packing never
read the ring back. When the ring is full (128 frames or a block's worth of
bytes), the pending frames go into the next segment file; no state is
written, since the segment itself says how far packing got. An ack writes
one state file; a segment is deleted once acknowledged through. The ring is
read back only at open.

A position is the sequence number of a commit's last frame. The journal
finds its commits by sequence number: from the ack point through the
segments, then the ring; a frame of an older lap, a missing file or a gap
ends nothing but that frame, and a gap is counted once as corrupt.

Capacity: capacity_bytes bounds the pending frames: segments (one 4 KB
block each, about 150 one-value commits) plus the ring's block's worth.
The journal takes about OVERHEAD bytes of flash beyond that (the ring's
metadata), and the dead-letter store up to dead_bytes. A capacity the
filesystem cannot hold is refused at open; "auto" takes three quarters of
the space free for the journal (free space plus what it holds), less
OVERHEAD, at every open. When full, or when the filesystem runs out of
space (ENOSPC) anywhere, "drop_oldest" drops the oldest pending commits (a
segment at a time), "refuse" raises JournalFullError.

A journal of format version 1 (ring of slot files, uonep 0.1) is carried
over at open, crash-safely (see uonep.migrate).
"""

import binascii
import os
import struct

from .errors import JournalError, JournalFullError, ValidationError

VERSION = 2
BLOCK = 4096                 # a segment: one LittleFS block, written once
RING = 128                   # slot files in the ring
GROUP = 16                   # ring files per folder: one metadata pair each
FRAME = 128                  # LittleFS keeps files up to its cache size inline
_HEAD = 10                   # crc32, size, seq, flags
DATA = FRAME - _HEAD         # payload bytes per frame
MAX_PAYLOAD = BLOCK - 34 * _HEAD   # a commit must fit one segment
_FIRST = 0x80
_MASK = 0xFFFFFFFF
# Flash beyond the capacity: the journal's folders (the ring's groups, the
# segments', its own), one metadata pair of two blocks each.
OVERHEAD = (RING // GROUP + 2) * 2 * BLOCK
SHARE = 4                    # "auto": (SHARE - 1) / SHARE of the free space
_STATE = "<BHIIIII"          # version, generation, acked, dropped, corrupt,
_STATE_SIZE = 27             # corrupt_through, dead_dropped; crc32 first
_DEAD_MAGIC = b"\xdeL"
_DEAD_HEAD = 10              # magic, payload length, reason length, crc32
_ENOENT = 2
_ENOSPC = 28

POLICIES = ("drop_oldest", "refuse")


def _crc(data, value=0):
    return binascii.crc32(data, value) & _MASK


def _makedirs(path):
    """Create path and its missing parents."""
    at = 0
    while at >= 0:
        at = path.find("/", at + 1)
        try:
            os.mkdir(path if at < 0 else path[:at])
        except OSError as error:
            if error.args[0] != 17 and (at < 0 or error.args[0] == _ENOSPC):   # EEXIST
                raise JournalError("cannot create the journal at %s: %s" % (path, _cause(error)))


def _cause(error):
    """An OSError as a message names it (MicroPython has no name for ENOSPC)."""
    if error.args[0] == _ENOSPC:
        return "[Errno 28] ENOSPC, no space left on the filesystem"
    return str(error)


def entries(path):
    """(name, is a folder) of each entry in path: os.ilistdir on
    MicroPython, os.listdir and os.stat on CPython."""
    if hasattr(os, "ilistdir"):
        for entry in os.ilistdir(path):
            yield entry[0], entry[1] == 0x4000
    else:
        for name in os.listdir(path):
            yield name, os.stat(path + "/" + name)[0] & 0x4000 != 0


class Journal:
    """Commits in a ring of small files packed into segments (see the module doc).

    capacity_bytes: "auto" or the bytes of pending frames to keep (at least
    512); policy: "drop_oldest" (make room by dropping the oldest pending
    commits, counted) or "refuse" (JournalFullError, nothing stored);
    dead_bytes: the bound of the dead-letter store."""

    def __init__(self, path, capacity_bytes="auto", policy="drop_oldest", dead_bytes=8192):
        if policy not in POLICIES:
            raise ValidationError("journal policy must be 'drop_oldest' or 'refuse'")
        if capacity_bytes != "auto" and (type(capacity_bytes) is not int or
                                         capacity_bytes < 512):
            raise ValidationError('journal capacity must be "auto" or at least 512 bytes')
        if type(dead_bytes) is not int or dead_bytes < 1024:
            raise ValidationError("dead_bytes must be at least 1024")
        self.path = path.rstrip("/") or "/"
        self.policy = policy
        self.dead_bytes = dead_bytes
        self._mirror = bytearray(BLOCK)    # the ring's pending frames
        self._view = memoryview(self._mirror)
        self._buffer = bytearray(FRAME + 1)  # one spare byte shows an oversize file
        self._low = 0            # mirror[_low:_high]: frames of [_start(), _head)
        self._high = 0
        self._moves = 0          # counts moves of the mirror's frames
        self._acked = 0          # first sequence number not acknowledged
        self._start = 0          # first sequence number in the mirror
        self._packed = 0         # first sequence number not in a segment
        self._head = 0           # sequence number of the next frame
        self._first = 0          # segment files: [_first, _next)
        self._next = 0
        self._end = (-1, 0)      # (segment, last sequence number in it + 1)
        self._generation = 0
        self._dropped = 0
        self._corrupt = 0
        self._corrupt_through = 0   # damage before this sequence is counted
        self._dead_dropped = 0
        self._dirty = False
        self._pending = 0
        self._pending_bytes = 0
        self._committed = 0
        self._dead = 0
        self._dead_size = 0
        # (ack point, position, commits, bytes) of the last two commits
        # pending() yielded: what ack() needs without reading them again.
        self._memo = [(-1, -1, 0, 0), (-1, -1, 0, 0)]
        self._closed = True
        self._open(capacity_bytes)
        self._closed = False

    # -- public API ---------------------------------------------------------
    def commit(self, payload):
        """Store payload (bytes) as one commit: atomic, durable on return."""
        self._check_open()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise ValidationError("a journal payload must be bytes")
        size = len(payload)
        count = (size + DATA - 1) // DATA or 1
        framed = size + count * _HEAD
        if size > MAX_PAYLOAD or framed > self._ring_bytes:
            raise JournalError("a payload of %d bytes is larger than the journal can hold" % size)
        self._room(count, framed)
        mirror = self._mirror
        view = self._view
        source = memoryview(payload)
        at = self._high
        for part in range(count):
            piece = min(DATA, size - part * DATA)
            end = at + _HEAD + piece
            struct.pack_into("<BIB", mirror, at + 4, _HEAD + piece, self._head + part,
                             (_FIRST if part == 0 else 0) | (count - 1 - part))
            mirror[at + _HEAD:end] = source[part * DATA:part * DATA + piece]
            struct.pack_into("<I", mirror, at, _crc(view[at + 4:end]))
            self._store(_slot(self._head + part), view[at:end])
            at = end
        self._high = at
        self._head += count
        self._pending += 1
        self._pending_bytes += size
        self._committed += 1

    def pending(self):
        """Yield (position, payload) for every pending commit, oldest first.
        Commits acknowledged or dropped while iterating are skipped."""
        self._check_open()
        return self._records(True)

    def ack(self, position):
        """Acknowledge the commit at position and every one before it."""
        self._check_open()
        if position < self._acked:
            return
        if position >= self._head:
            raise JournalError("cannot acknowledge position %d: nothing was committed there"
                               % position)
        commits, total = self._count(position)
        self._advance(position + 1, 0)
        self._pending = max(0, self._pending - commits)
        self._pending_bytes = max(0, self._pending_bytes - total)

    def dead_letter(self, payload, reason):
        """Keep payload with a reason in the dead-letter store, durably."""
        self._check_open()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise ValidationError("a dead-letter payload must be bytes")
        text = str(reason).encode("utf-8")[:1024]
        size = _DEAD_HEAD + len(payload) + len(text)
        if size > self.dead_bytes // 2:
            raise JournalError("a dead letter of %d bytes is larger than half the store" % size)
        if self._dead_size + size > self.dead_bytes:
            self._trim_dead(size)
        head = bytearray(_DEAD_HEAD)
        head[0:2] = _DEAD_MAGIC
        struct.pack_into("<HH", head, 2, len(payload), len(text))
        crc = _crc(payload, _crc(memoryview(head)[2:6]))
        struct.pack_into("<I", head, 6, _crc(text, crc))
        self._store("d", head + payload + text, "ab")
        self._dead += 1
        self._dead_size += size

    def dead_letters(self):
        """Yield (payload, reason) for every dead letter, oldest first."""
        self._check_open()
        try:
            f = open(self._file("d"), "rb")
        except OSError:
            return
        try:
            offset = 0
            while True:
                try:
                    offset, found = self._next_dead(f, offset, True)
                except OSError as error:
                    raise JournalError("cannot read the dead-letter store: %s" % error)
                if found is None:
                    break
                yield found
        finally:
            f.close()

    def stats(self):
        return {"pending": self._pending, "pending_bytes": self._pending_bytes,
                "dropped": self._dropped, "corrupt": self._corrupt,
                "dead_lettered": self._dead, "dead_dropped": self._dead_dropped,
                "committed": self._committed, "capacity": self.capacity,
                "segments": self._next - self._first}

    def close(self):
        if self._closed:
            return
        if self._dirty:
            try:
                self._write_state()
            except JournalError:
                pass
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- opening and recovery -------------------------------------------------
    def _open(self, capacity):
        path = self.path
        state = self._read_state()
        names = self._listing(state is None)
        fresh = names is None
        if fresh:
            try:
                os.stat(path + ".v2")
            except OSError:
                _makedirs(path)
            else:
                from .migrate import finish
                finish(path)                 # a migration cut short at its end
                state = self._read_state()
            names = self._listing(True)
        if names is None:
            raise JournalError("cannot open the journal at %s" % path)
        if names[0]:
            from .migrate import migrate
            migrate(path, capacity, self.policy, self.dead_bytes)
            state = self._read_state()
            names = self._listing(False)
        _, self._first, self._next = names
        self._size(capacity)
        # The newest segment tells how far packing got (nothing else does);
        # one without a frame is a packing cut short: its frames are in the ring.
        while self._next > self._first:
            self._packed = self._segment_end(self._next - 1)
            if self._packed:
                break
            self._remove(self._next - 1)
            self._next -= 1
        if state is None:
            self._acked = self._oldest(fresh)
        self._load_ring(max(self._acked, self._packed))
        if state is None:
            self._write_state()
        commits = 0
        total = 0
        for _, size in self._records(False):
            commits += 1
            total += size
        self._pending = commits
        self._pending_bytes = total
        self._reclaim()
        if self._dirty:
            try:
                self._write_state()
            except JournalError:
                pass     # counted again next time; nothing else is at stake
        self._count_dead()

    def _listing(self, look):
        """(holds version 1, first segment, next segment), or None when
        there is no journal folder. With look, the journal's folder is
        looked through: for version 1 files, and folders to make."""
        if look:
            folders = 0
            try:
                for name, kind in entries(self.path):
                    if name in ("J", "A", "B", "D") or kind and name.isdigit():
                        return True, 0, 0
                    folders += kind
            except OSError:
                return None
            if folders < RING // GROUP + 1:
                for group in range(RING // GROUP):
                    _makedirs(self._file("r%d" % group))
                _makedirs(self._file("s"))
        first = None
        last = -1
        try:
            for name, _ in entries(self._file("s")):
                if name.isdigit():
                    number = int(name)
                    first = number if first is None else min(first, number)
                    last = max(last, number)
        except OSError:
            if not look:
                return self._listing(True)
        return False, last + 1 if first is None else first, last + 1

    def _size(self, capacity):
        """Set self.capacity: as given (refused when the filesystem cannot
        hold it) or from the free space ("auto")."""
        checked = b"%d" % capacity if capacity != "auto" else None
        try:
            if checked and checked == self._read_small("c"):
                raise OSError     # a capacity found to fit before: kept
            fs = os.statvfs(self.path)
            # LittleFS counts each folder's two blocks twice (so free space
            # may even come out below zero, as a 32-bit wrap): the journal's
            # folders and segments are added back as it counts them.
            free = fs[4] - (fs[4] >> 31 << 32)
            room = (free + self._next - self._first) * fs[1] + 2 * OVERHEAD
        except (AttributeError, OSError):
            room = None     # no statvfs (Windows): trust the caller
        if capacity == "auto":
            capacity = (1 << 22 if room is None else room) * (SHARE - 1) // SHARE - OVERHEAD
            capacity = max(BLOCK, capacity // BLOCK * BLOCK)
        elif room is not None and capacity + OVERHEAD > room:
            raise JournalError("journal capacity of %d bytes (and %d for its folders) does not "
                               "fit the %d bytes free at %s" % (capacity, OVERHEAD, room,
                                                                self.path))
        elif room is not None:
            self._store("c", checked)
        self.capacity = capacity
        self._segments = capacity // BLOCK - 1     # the ring holds a block's worth
        self._ring_bytes = min(BLOCK, capacity)

    def _read_state(self):
        best = None
        for name in ("s/a", "s/b"):
            data = self._read_small(name)
            if data is None or len(data) != _STATE_SIZE or \
                    _crc(data[4:]) != struct.unpack_from("<I", data)[0]:
                continue
            fields = struct.unpack_from(_STATE, data, 4)
            if fields[0] != VERSION:
                raise JournalError("journal at %s has format version %d; this uonep reads "
                                   "version %d (and carries version 1 over)"
                                   % (self.path, fields[0], VERSION))
            if best is None or (fields[1] - best[1]) & 0xFFFF < 0x8000:
                best = fields
        if best is not None:
            (_, self._generation, self._acked, self._dropped, self._corrupt,
             self._corrupt_through, self._dead_dropped) = best
        return best

    def _oldest(self, fresh):
        """The ack point when the state is lost: the oldest commit on flash."""
        for number in range(self._first, self._next):
            data = self._read_segment(number)
            for seq, flags, _, _ in _frames(data, 0):
                if flags & _FIRST:
                    return seq
        newest = -1
        oldest = None
        for slot in range(0 if fresh else RING):
            seq = self._read_slot(slot)
            if seq >= 0:
                newest = max(newest, seq)
                oldest = seq if oldest is None else min(oldest, seq)
        return max(oldest or 0, newest + 1 - RING)

    def _load_ring(self, start):
        """Read the ring's frames from start to the end of the log into the mirror."""
        seq = start
        at = 0
        while seq < start + RING:
            found = self._read_slot(seq)
            if found == -2 or 0 <= found < seq:
                break                       # never written, or an older lap
            if found > seq:
                # A later lap than the ack state knows (an older generation
                # of it survived): the ring starts one lap before its newest.
                newest = max(self._read_slot(slot) for slot in range(RING))
                return self._load_ring(newest + 1 - RING)
            if found == seq:
                size = self._buffer[4]
                if at + size > len(self._mirror):
                    # Only with the ack state lost: acknowledged commits are
                    # read too. The next commit packs them (or drops them).
                    self._mirror.extend(bytes(BLOCK))
                    self._view = memoryview(self._mirror)
                self._mirror[at:at + size] = memoryview(self._buffer)[0:size]
                at += size
            seq += 1
        # Whole commits only: one cut short at the head (or damaged files
        # there) is counted, removed, and its sequence numbers used again.
        self._start = self._head = start
        self._low = self._high = 0
        for found, flags, _, end in _frames(self._mirror, 0, at):
            if not flags & 0x7F:
                self._head = found + 1
                self._high = end
        if seq > self._head:
            self._note_corrupt(self._head, seq)
            self._corrupt_through = self._head
            for found in range(self._head, seq):
                try:
                    os.remove(self._file(_slot(found)))
                except OSError:
                    pass

    # -- records ----------------------------------------------------------------
    def _records(self, assemble, stop=None):
        """Yield (position, payload) -- or (position, size) when not
        assemble -- for each whole, undamaged commit from the ack point on:
        the segments in order (up to segment stop when given), then the
        ring's mirror (whose frames were checked when they were read)."""
        start = expected = self._acked
        commits = total = first = left = 0
        parts = None
        number = self._first
        memo = self._memo
        while True:
            if stop is not None and number >= stop:
                return
            ring = number >= self._next
            if ring:
                data = self._mirror
                at = self._low
                moves = self._moves
            else:
                data = self._read_segment(number)
                at = 0
                number += 1
            view = memoryview(data)
            while True:
                if ring:
                    if moves != self._moves:
                        if self._next > number:
                            break            # packed meanwhile: read on there
                        at = self._low
                        moves = self._moves
                    length = self._high
                else:
                    length = len(data)
                if at + _HEAD > length:
                    break
                crc, size, seq, flags = struct.unpack_from("<IBIB", data, at)
                end = at + size
                if not ring and (size < _HEAD or end > length or
                                 crc != _crc(view[at + 4:end])):
                    at += 1                  # damage: look for the next frame
                    continue
                begin = at + _HEAD
                at = end
                if seq < expected or seq < self._acked:
                    expected = max(expected, self._acked)
                    continue                 # delivered or acknowledged already
                if parts is not None and seq == expected and flags == left - 1:
                    expected += 1
                    left -= 1
                    if assemble:
                        parts.extend(view[begin:end])
                    else:
                        parts += size - _HEAD
                    if left:
                        continue
                    payload = bytes(parts) if assemble else parts
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
                        parts = bytearray(view[begin:end]) if assemble else size - _HEAD
                        continue
                    payload = bytes(view[begin:end]) if assemble else size - _HEAD
                if assemble:
                    # What ack() needs without reading these commits again.
                    commits += 1
                    total += len(payload)
                    memo[0] = memo[1]
                    memo[1] = (start, seq, commits, total)
                yield seq, payload
            if ring and moves == self._moves:
                return

    def _note_corrupt(self, start, end):
        """Count the damaged run [start, end) unless it was counted before
    (runs are noticed in order of sequence number)."""
        if end <= self._corrupt_through:
            return
        if start > self._corrupt_through:   # not the run counted last
            self._corrupt += 1
        self._corrupt_through = end
        self._dirty = True

    def _count(self, position):
        """(commits, payload bytes) from the ack point through position."""
        for memo in self._memo:
            if memo[0] == self._acked and memo[1] == position:
                return memo[2], memo[3]
        commits = 0
        total = 0
        for last, size in self._records(False):
            if last > position:
                break
            commits += 1
            total += size
        return commits, total

    # -- making room ------------------------------------------------------------
    def _room(self, count, framed):
        """Make the ring take `count` frames of `framed` bytes in all."""
        while self._head - self._start + count > RING or \
                self._high - self._low + framed > self._ring_bytes:
            if self._segments > 0:
                try:
                    self._pack()
                    continue
                except OSError as error:
                    if error.args[0] != _ENOSPC or self.policy == "refuse":
                        raise self._failure(error)
            elif self.policy == "refuse":
                raise JournalFullError("journal full: %d commits pending" % self._pending)
            self._drop_ring(count, framed)
        if self._high + framed > BLOCK:
            # Move the pending frames to the front, in pieces that never
            # overlap (and back to a block's worth of RAM).
            step = self._low
            for at in range(self._low, self._high, step):
                end = min(at + step, self._high)
                self._mirror[at - step:end - step] = self._view[at:end]
            self._high -= step
            self._low = 0
            self._moves += 1
            if len(self._mirror) > BLOCK:
                self._mirror = self._mirror[0:BLOCK]
                self._view = memoryview(self._mirror)

    def _pack(self):
        """Write the ring's pending frames as the next segment file."""
        if self._next - self._first >= self._segments:
            if self.policy == "refuse":
                raise JournalFullError("journal full: %d commits pending" % self._pending)
            self._drop_segment()
        self._end = (-1, 0)
        self._write("s/%d" % self._next, self._view[self._low:self._high])
        self._next += 1
        self._start = self._packed = self._head
        self._low = self._high = 0
        self._moves += 1
        if len(self._mirror) > BLOCK:
            self._mirror = bytearray(BLOCK)
            self._view = memoryview(self._mirror)

    def _drop_segment(self):
        """Drop the oldest segment: its pending commits are counted as dropped."""
        commits = 0
        total = 0
        for _, size in self._records(False, self._first + 1):
            commits += 1
            total += size
        self._advance(max(self._acked, self._segment_end(self._first)), commits)
        self._pending = max(0, self._pending - commits)
        self._pending_bytes = max(0, self._pending_bytes - total)

    def _drop_ring(self, count, framed):
        """Drop the ring's oldest commits until count frames of framed bytes fit."""
        commits = 0
        total = 0
        start = self._start
        low = self._low
        for seq, flags, begin, end in _frames(self._mirror, self._low, self._high):
            if self._head - start + count <= RING and \
                    self._high - low + framed <= self._ring_bytes:
                break
            total += end - begin
            if not flags & 0x7F:
                commits += 1
                start = seq + 1
                low = end
        self._advance(start, commits)
        self._pending = max(0, self._pending - commits)
        self._pending_bytes = max(0, self._pending_bytes - total)

    def _free(self):
        """Out of space: drop the oldest segment if the policy allows. True
        when something was freed."""
        if self.policy == "refuse" or self._next <= self._first:
            return False
        self._drop_segment()
        return True

    def _advance(self, acked, dropped):
        """Move the ack point (durably first), then the mirror and segments."""
        before = self._acked
        self._acked = acked
        self._dropped += dropped
        try:
            self._write_state()
        except JournalError:
            self._acked = before
            self._dropped -= dropped
            raise
        self._memo[0] = self._memo[1] = (-1, -1, 0, 0)
        self._start = max(self._start, acked)
        while self._low < self._high and \
                struct.unpack_from("<I", self._mirror, self._low + 5)[0] < acked:
            self._low += self._mirror[self._low + 4]
        if self._low == self._high:
            self._low = self._high = 0
            self._moves += 1
        self._reclaim()

    def _reclaim(self):
        """Delete the segments acknowledged through."""
        while self._next > self._first and self._segment_end(self._first) <= self._acked:
            self._remove(self._first)
            self._first += 1

    # -- files --------------------------------------------------------------------
    def _file(self, name):
        return "%s/%s" % (self.path, name)

    def _read_small(self, name):
        try:
            with open(self._file(name), "rb") as f:
                return f.read(64)
        except OSError:
            return None

    def _read_slot(self, seq):
        """Read ring file r(seq % RING) into the buffer: the sequence number
        of its frame, -1 when damaged or unreadable, -2 when missing."""
        try:
            f = open(self._file(_slot(seq)), "rb")
        except OSError as error:
            return -2 if error.args[0] == _ENOENT else -1
        try:
            length = f.readinto(self._buffer)
        except OSError:
            return -1
        finally:
            f.close()
        data = self._buffer
        if not length or length < _HEAD or data[4] != length or \
                _crc(memoryview(data)[4:length]) != struct.unpack_from("<I", data)[0]:
            return -1
        return struct.unpack_from("<I", data, 5)[0]

    def _read_segment(self, number):
        try:
            with open(self._file("s/%d" % number), "rb") as f:
                return f.read()
        except OSError:
            return b""

    def _segment_end(self, number):
        """The sequence number after segment `number`'s last frame (0: none)."""
        if self._end[0] != number:
            end = 0
            for seq, _, _, _ in _frames(self._read_segment(number), 0):
                end = max(end, seq + 1)
            self._end = (number, end)
        return self._end[1]

    def _remove(self, number):
        self._end = (-1, 0)
        try:
            os.remove(self._file("s/%d" % number))
        except OSError:
            pass   # gone already, or removed at the next open

    def _store(self, name, data, mode="wb"):
        try:
            self._write(name, data, mode)
        except OSError as error:
            raise self._failure(error)

    def _write(self, name, data, mode="wb"):
        """Write a file durably; out of space, make room by the policy and
        try again. Raises OSError."""
        folder = "/" in name
        while True:
            try:
                with open(self._file(name), mode) as f:
                    f.write(data)
                    f.flush()
                    if hasattr(os, "fsync"):
                        os.fsync(f.fileno())    # CPython; LittleFS commits on flush
                return
            except OSError as error:
                if error.args[0] == _ENOENT and folder:
                    folder = False                # a folder gone: made again, once
                    _makedirs(self._file(name.split("/")[0]))
                elif error.args[0] != _ENOSPC or not self._free():
                    raise

    def _failure(self, error):
        if error.args[0] == _ENOSPC and self.policy == "refuse":
            return JournalFullError("journal full at %s: %s" % (self.path, _cause(error)))
        return JournalError("cannot write the journal at %s: %s" % (self.path, _cause(error)))

    def _write_state(self):
        """Write the ack state into the file not written last."""
        self._generation = (self._generation + 1) & 0xFFFF
        data = bytearray(_STATE_SIZE)
        struct.pack_into(_STATE, data, 4, VERSION, self._generation, self._acked,
                         self._dropped, self._corrupt, self._corrupt_through,
                         self._dead_dropped)
        struct.pack_into("<I", data, 0, _crc(memoryview(data)[4:]))
        self._store("s/" + "ab"[self._generation & 1], data)
        self._dirty = False

    def _check_open(self):
        if self._closed:
            raise JournalError("the journal at %s is closed" % self.path)

    # -- dead letters -------------------------------------------------------------
    def _count_dead(self):
        count = 0
        offset = 0
        try:
            with open(self._file("d"), "rb") as f:
                while True:
                    offset, found = self._next_dead(f, offset, False)
                    if found is None:
                        break
                    count += 1
                self._dead_size = f.seek(0, 2)
        except OSError:
            pass
        self._dead = count

    def _trim_dead(self, size):
        """Drop the oldest dead letters until size more bytes leave the
        store at most half full (copied to a new file, then renamed)."""
        while True:
            dropped = 0
            offset = 0
            try:
                with open(self._file("d"), "rb") as f:
                    while self._dead_size - offset + size > self.dead_bytes // 2:
                        offset, found = self._next_dead(f, offset, False)
                        if found is None:
                            offset = self._dead_size
                            break
                        dropped += 1
                    with open(self._file("d~"), "wb") as out:
                        f.seek(offset)
                        while True:
                            got = f.readinto(self._buffer)
                            if not got:
                                break
                            out.write(memoryview(self._buffer)[0:got])
                os.rename(self._file("d~"), self._file("d"))
                break
            except OSError as error:
                if error.args[0] != _ENOSPC or not self._free():
                    raise self._failure(error)
        self._dead -= dropped
        self._dead_size -= offset
        self._dead_dropped += dropped
        self._write_state()

    def _next_dead(self, f, offset, assemble):
        """(offset after it, (payload, reason) or True) for the next valid
        dead letter at or after offset, skipping damage; (offset, None) at the end."""
        head = self._buffer
        while True:
            f.seek(offset)
            got = f.readinto(memoryview(head)[0:_DEAD_HEAD])
            if not got or got < _DEAD_HEAD:
                return offset, None
            if head[0:2] != _DEAD_MAGIC:
                offset += 1
                continue
            size, text = struct.unpack_from("<HH", head, 2)
            expected = struct.unpack_from("<I", head, 6)[0]
            crc = _crc(memoryview(head)[2:6])
            # The body is checked in buffer-sized pieces: no allocation for
            # counting, one for the payload and reason when assembling.
            remaining = size + text
            while remaining:
                piece = f.readinto(memoryview(head)[0:min(FRAME, remaining)])
                if not piece:
                    break
                crc = _crc(memoryview(head)[0:piece], crc)
                remaining -= piece
            if remaining or crc != expected:
                offset += 1
                continue
            end = offset + _DEAD_HEAD + size + text
            if not assemble:
                return end, True
            f.seek(offset + _DEAD_HEAD)
            payload = f.read(size)
            reason = f.read(text)
            try:
                reason = reason.decode("utf-8")
            except Exception:
                reason = repr(reason)
            return end, (payload, reason)


def _slot(seq):
    slot = seq % RING
    return "r%d/%d" % (slot // GROUP, slot % GROUP)


def _frames(data, at, length=None):
    """Yield (seq, flags, data start, end) for each valid frame in
    data[at:length], skipping damage."""
    view = memoryview(data)
    if length is None:
        length = len(data)
    while at + _HEAD <= length:
        size = data[at + 4]
        end = at + size
        if size < _HEAD or end > length or \
                _crc(view[at + 4:end]) != struct.unpack_from("<I", data, at)[0]:
            at += 1
            continue
        seq, flags = struct.unpack_from("<IB", data, at + 5)
        yield seq, flags, at + _HEAD, end
        at = end
