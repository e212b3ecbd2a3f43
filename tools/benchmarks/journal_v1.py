"""A copy of uonep 0.1's journal (format version 1), kept for the bench
and the migration tests only: the commit journal: durable, crash-safe storage of commits in flash.

    j = Journal("/data/uonep", capacity_bytes=65536, policy="drop_oldest")
    j.commit(payload)                    # atomic and durable when it returns
    for position, payload in j.pending():
        ...                              # oldest first, read from flash one by one
    j.ack(position)                      # that commit and all before it are done
    j.dead_letter(payload, "reason")     # kept for good, never sent again
    j.stats(); j.close()

What survives a power cut: every commit whose commit() returned, until an
ack() covering it returns; every dead letter whose dead_letter() returned.
A commit cut short is either whole or absent (never delivered in part), an
ack cut short is either done or not (its commits are then delivered again).
Damaged records are skipped and counted, never delivered.

The on-flash layout is shaped by LittleFS, which ESP32 MicroPython mounts
with 4096-byte blocks and a 128-byte cache. LittleFS keeps a file of at most
128 bytes (its cache size) inline in the directory's metadata log: writing
one is a single metadata commit of about 160 bytes, and blocks are only
erased when a metadata block fills up and is compacted. A bigger file gets a
block of its own, and appending to it copies its last block: one erase per
durable append. Creating a file costs a second commit, deleting one a third.
So the journal is a ring of K fixed slot files, each at most 128 bytes,
rewritten in place (one inline metadata commit per chunk, no create, no
delete), plus a tiny ack state rewritten once per ack:

    J        header: b"uoJ", format version, K, CRC32
    A, B     ack state, written alternately (generation counter, CRC32):
             next unacknowledged sequence number, dropped, corrupt counters
    G/S      slot files, in GROUP (16) slots per directory: chunk number
             `seq` lives in slot seq % K, file "(slot // 16)/(slot % 16)":
             crc32 (4) | seq (4) | part (1) | more (1) | data (<= 118)
             crc32 covers everything after itself; a commit is 1..256
             consecutive chunks (part counts up from 0, more counts down to 0)
    D        dead letters, appended: b"\\xdeL" | payload length (2) |
             reason length (2) | crc32 (4) | payload | reason (UTF-8)

Slots are grouped in small directories because LittleFS finds a file by
walking its directory's metadata blocks: with every slot in one directory,
reading one commit read about 40 KB of flash; with 16 per directory, 12 KB
(and, measured, 15-25% fewer bytes programmed per commit).

A position is the sequence number of a commit's last chunk. Acking writes
the state file not written last, so a torn state write leaves the previous
one. Slots between the ack point and the head are pending; the others are
free and simply overwritten later (reclaim costs nothing). At open the
journal walks from the ack point to find the head (a chunk of an older lap,
or a missing slot, ends the log), skipping chunks whose CRC fails; anything
damaged inside the pending range is counted once in "corrupt" (the count and
how far it reached are kept in the state file). With the header and both
state files lost, the slot files tell K and the head; commits still in
their slots are delivered again (duplicates, never losses). A header of
another format version is refused (JournalError), a damaged one repaired
from the state. When dropping to make room, the new ack point is written
before any of its slots is reused.

Measured on the simulated flash (tools/flashcost.py 500 40 50: 40-byte
commits, a push and ack every 50): 166 bytes programmed and 0.062 block
erases per commit, ack and reclaim included (100-byte commits: 292 and
0.126; one file per commit: 280 and 0.090). The cost in flash space
is high: LittleFS keeps at most about half of each two-block metadata pair
live, so a full journal takes roughly 8 times capacity_bytes of flash
(65536 -> about 130 blocks of 4 KB).
"""

import binascii
import os
import struct

from uonep.errors import JournalError, JournalFullError, ValidationError

VERSION = 1
_MAGIC = b"uoJ"
# LittleFS keeps a file inline in its directory's metadata up to its cache
# size, 128 bytes at the ESP32 port's settings: one byte more and every
# write of the file costs a block erase.
CHUNK = 128
_CHUNK_HEAD = 10                     # crc32, seq, part, more
DATA = CHUNK - _CHUNK_HEAD           # payload bytes per chunk
MAX_CHUNKS = 256                     # part and more are one byte each
GROUP = 16                           # slot files per directory (0: all in one)
_MASK = 0xFFFFFFFF

_HEADER_FORMAT = "<3sBI"              # magic, version, K (then crc32)
_STATE_FORMAT = "<BIIIIII"            # version, generation, K, acked, dropped,
_STATE_SIZE = struct.calcsize(_STATE_FORMAT)  # corrupt, corrupt_through
_DEAD_MAGIC = b"\xdeL"
_DEAD_HEAD = 10                       # magic, payload length, reason length, crc32

_NO_MEMO = (-1, -1, 0, 0)

_MISSING = 0
_BAD = 1
_GOOD = 2

POLICIES = ("drop_oldest", "refuse")


def _crc(data, value=0):
    return binascii.crc32(data, value) & _MASK


def _sync(f):
    """Make a write durable: LittleFS commits on flush; CPython needs fsync."""
    f.flush()
    fsync = getattr(os, "fsync", None)
    if fsync is not None:
        fsync(f.fileno())


def _numbers(folder):
    """The numeric names in folder (slot files, group folders), highest first."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted((int(name) for name in names if name.isdigit()), reverse=True)


def _is_missing(error):
    return error.args and error.args[0] == 2  # ENOENT


class Journal:
    """A ring of commits in a directory of small files (see the module doc).

    capacity_bytes: flash the pending commits may occupy, in 128-byte slots
    (a commit takes ceil(len / 118) of them); fixed when the journal is
    created, the stored value wins at reopen. policy: "drop_oldest" makes
    room by dropping the oldest pending commits (counted), "refuse" raises
    JournalFullError and stores nothing."""

    def __init__(self, path, capacity_bytes=65536, policy="drop_oldest"):
        if policy not in POLICIES:
            raise ValidationError("journal policy must be 'drop_oldest' or 'refuse'")
        if capacity_bytes < 4 * CHUNK:
            raise ValidationError("journal capacity must be at least %d bytes" % (4 * CHUNK))
        self.path = path.rstrip("/") or "/"
        self.policy = policy
        self._buffer = bytearray(CHUNK + 1)   # one spare byte detects oversize files
        self._view = memoryview(self._buffer)
        self._seq = 0          # header of the chunk last read by _read
        self._part = 0
        self._more = 0
        self._length = 0
        self._slots = capacity_bytes // CHUNK
        self._acked = 0        # first sequence number not yet acknowledged
        self._head = 0         # sequence number the next chunk gets
        self._generation = 0
        self._dropped = 0
        self._corrupt = 0
        self._corrupt_through = 0   # damage before this sequence is counted
        self._dirty = False
        self._pending = 0
        self._pending_bytes = 0
        self._committed = 0
        self._dead = 0
        # (ack point, position, commits, bytes) of the last two commits
        # pending() yielded: what ack() needs without reading them again.
        self._memo = [_NO_MEMO, _NO_MEMO]
        self._closed = True
        self._open()
        self._closed = False

    # -- public API ---------------------------------------------------------
    def commit(self, payload):
        """Store payload (bytes) as one commit: atomic, durable on return."""
        self._check_open()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise ValidationError("a journal payload must be bytes")
        size = len(payload)
        chunks = (size + DATA - 1) // DATA or 1
        if chunks > MAX_CHUNKS or chunks > self._slots:
            raise JournalError("a payload of %d bytes is larger than the journal can hold" % size)
        if self._head - self._acked + chunks > self._slots:
            if self.policy == "refuse":
                raise JournalFullError("journal full: %d commits pending" % self._pending)
            self._drop(chunks)
        source = memoryview(payload)
        offset = 0
        for part in range(chunks):
            count = min(DATA, size - offset)
            self._write_chunk(self._head + part, part, chunks - 1 - part,
                              source[offset:offset + count])
            offset += count
        self._head += chunks
        self._pending += 1
        self._pending_bytes += size
        self._committed += 1

    def pending(self):
        """Yield (position, payload) for every pending commit, oldest first.
        Reads one commit at a time from flash; commits acknowledged or
        dropped while iterating are skipped."""
        self._check_open()
        start = self._acked
        commits = 0
        total = 0
        for position, payload in self._records(True):
            commits += 1
            total += len(payload)
            memo = self._memo
            memo[0] = memo[1]
            memo[1] = (start, position, commits, total)
            yield position, payload

    def ack(self, position):
        """Acknowledge the commit at position and every one before it."""
        self._check_open()
        if position < self._acked:
            return
        if position >= self._head:
            raise JournalError("cannot acknowledge position %d: nothing was committed there"
                               % position)
        commits, total = self._count(position)
        before = self._acked
        self._acked = position + 1
        try:
            self._write_state()
        except JournalError:
            self._acked = before
            raise
        self._pending = max(0, self._pending - commits)
        self._pending_bytes = max(0, self._pending_bytes - total)
        self._memo[0] = self._memo[1] = _NO_MEMO

    def dead_letter(self, payload, reason):
        """Keep payload with a reason in the dead-letter store, durably."""
        self._check_open()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise ValidationError("a dead-letter payload must be bytes")
        text = str(reason).encode("utf-8")[:1024]
        if len(payload) > 0xFFFF:
            raise JournalError("a dead letter of %d bytes is too large" % len(payload))
        head = bytearray(_DEAD_HEAD)
        head[0:2] = _DEAD_MAGIC
        struct.pack_into("<HH", head, 2, len(payload), len(text))
        crc = _crc(payload, _crc(memoryview(head)[2:6]))
        struct.pack_into("<I", head, 6, _crc(text, crc))
        try:
            with open(self._file("D"), "ab") as f:
                f.write(head)
                f.write(payload)
                f.write(text)
                _sync(f)
        except OSError as error:
            raise JournalError("cannot write the dead-letter store: %s" % error)
        self._dead += 1

    def dead_letters(self):
        """Yield (payload, reason) for every dead letter, oldest first."""
        self._check_open()
        try:
            f = open(self._file("D"), "rb")
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
                "dead_lettered": self._dead, "committed": self._committed}

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
    def _open(self):
        try:
            os.mkdir(self.path)
        except OSError:
            pass   # it exists (or cannot be made: then reading below says so)
        header = self._read_header()
        state = self._read_state()
        if header is not None:
            self._slots = header
        if header is None and state is None:
            if self._has_slots():
                # Header and state both damaged: the slots are still worth
                # reading, and they tell K (the caller's may have changed).
                self._slots = self._stored_slots()
                self._recover_unknown()
            self._write_header()
            if self._generation == 0:
                self._write_state()
        else:
            if header is None:
                self._write_header()   # repair from the state's K
            if state is None:
                self._recover_unknown()
                self._write_state()
            else:
                self._find_head()
        self._count_damage()
        self._dead = self._count_dead()

    def _read_header(self):
        """None when missing or damaged; refuses a journal of another version."""
        data = self._read_small(self._file("J"), 64)
        if data is None:
            return None
        if len(data) >= 4 and data[0:3] == _MAGIC and data[3] != VERSION:
            # Another version's header -- unless it is a version 1 header
            # (always 12 bytes) whose CRC shows the version byte is damaged.
            if len(data) != 12 or _crc(data[0:8]) == struct.unpack("<I", data[8:12])[0]:
                raise JournalError("journal at %s has format version %d; this uonep reads "
                                   "version %d only" % (self.path, data[3], VERSION))
        if len(data) != 12 or _crc(data[0:8]) != struct.unpack("<I", data[8:12])[0]:
            return None
        magic, version, slots = struct.unpack(_HEADER_FORMAT, data[0:8])
        if magic != _MAGIC or version != VERSION or slots < 4:
            return None
        self._slots = slots
        return slots

    def _read_state(self):
        best = None
        foreign = 0
        for name in ("A", "B"):
            data = self._read_small(self._file(name), 64)
            if data is None or len(data) != _STATE_SIZE + 4:
                continue
            if _crc(data[4:]) != struct.unpack("<I", data[0:4])[0]:
                continue
            fields = struct.unpack(_STATE_FORMAT, data[4:])
            if fields[0] != VERSION:
                foreign = fields[0]
                continue
            if fields[2] < 4:
                continue
            if best is None or fields[1] > best[1]:
                best = fields
        if best is None:
            if foreign:
                raise JournalError("journal at %s has format version %d; this uonep reads "
                                   "version %d only" % (self.path, foreign, VERSION))
            return None
        (_, self._generation, slots, self._acked, self._dropped, self._corrupt,
         self._corrupt_through) = best
        self._slots = slots
        return best

    def _has_slots(self):
        try:
            return len(os.listdir(self.path)) > 1
        except OSError:
            return False

    def _stored_slots(self):
        """K of a journal whose header and state are both lost. Slot files
        are written in order and never removed: once the ring has wrapped
        (a chunk in a slot other than its sequence number), the highest
        slot file is K - 1; before that, any K above it reads the same."""
        highest = -1
        if GROUP:
            for group in _numbers(self.path):
                found = _numbers("%s/%d" % (self.path, group))
                if found:
                    highest = group * GROUP + found[0]
                    break
        else:
            found = _numbers(self.path)
            highest = found[0] if found else -1
        guess = max(self._slots, highest + 1)
        self._slots = highest + 1
        for slot in range(highest + 1):
            if self._read(slot) == _GOOD and self._seq != slot:
                return max(highest + 1, 4)
        return guess

    def _find_head(self):
        """Walk from the ack point to the end of the log."""
        sequence = self._acked
        self._head = sequence
        limit = sequence + self._slots
        while sequence < limit:
            status = self._read(sequence)
            if status == _MISSING:
                break
            if status == _GOOD:
                if self._seq == sequence:
                    sequence += 1
                    self._head = sequence
                    continue
                if self._seq > sequence and (self._seq - sequence) % self._slots == 0:
                    # A later lap than the state knows: the state is stale
                    # (an older generation survived); find the head by scan.
                    self._recover_unknown()
                    return
                break   # an older lap: the log ends here
            sequence += 1   # damaged: its neighbours tell whether the log goes on
        if sequence > self._head:
            # Damaged chunks right after the head: a torn or corrupt tail.
            # Counted once; the next commits overwrite them.
            self._note_corrupt(self._head, sequence)

    def _recover_unknown(self):
        """No trustworthy ack point: the head is after the newest chunk in
        any slot, and nothing older than one lap can still be there."""
        newest = -1
        for slot in range(self._slots):
            if self._read(slot) == _GOOD and self._seq % self._slots == slot:
                if self._seq > newest:
                    newest = self._seq
        self._head = max(self._head, newest + 1)
        self._acked = max(self._acked, self._head - self._slots, 0)
        if self._acked > self._head:
            self._acked = self._head

    def _count_damage(self):
        """Count pending commits and bytes, noting damage once; persist if any."""
        commits = 0
        total = 0
        for _, size in self._records(False):
            commits += 1
            total += size
        self._pending = commits
        self._pending_bytes = total
        if self._dirty:
            try:
                self._write_state()
            except JournalError:
                pass   # counted again next time; nothing else is at stake

    # -- records ----------------------------------------------------------------
    def _records(self, assemble):
        """Yield (position, payload) -- or (position, size) when not
        assemble -- for each whole, undamaged commit from the ack point on."""
        sequence = self._acked
        while sequence < self._head:
            if sequence < self._acked:
                sequence = self._acked     # acknowledged or dropped meanwhile
                continue
            status = self._read(sequence)
            if status != _GOOD or self._seq != sequence or self._part != 0:
                self._note_corrupt(sequence, sequence + 1)
                sequence += 1
                continue
            first = sequence
            last = first + self._more
            if last == first:
                sequence += 1
                if assemble:
                    yield last, bytes(self._view[_CHUNK_HEAD:self._length])
                else:
                    yield last, self._length - _CHUNK_HEAD
                continue
            # A commit of several chunks: every one must be there, in order,
            # all full but the last, none past the head.
            result = bytearray((last - first + 1) * DATA) if assemble else None
            size = 0
            index = first
            whole = False
            while True:
                chunk = self._length - _CHUNK_HEAD
                if index < last and chunk != DATA:
                    break
                if assemble:
                    result[size:size + chunk] = self._view[_CHUNK_HEAD:self._length]
                size += chunk
                if index == last:
                    whole = True
                    break
                index += 1
                if index >= self._head:
                    break
                status = self._read(index)
                if (status != _GOOD or self._seq != index or self._part != index - first
                        or self._more != last - index):
                    break
            if whole:
                sequence = last + 1
                if assemble:
                    yield last, bytes(memoryview(result)[0:size])
                else:
                    yield last, size
                continue
            # A broken commit: resume at the chunk that broke it if that one
            # starts a commit of its own, else after it.
            if index < self._head and index > first and status == _GOOD and \
                    self._seq == index and self._part == 0:
                sequence = index
            else:
                sequence = min(index + 1, self._head) if index > first else first + 1
            self._note_corrupt(first, sequence)

    def _note_corrupt(self, start, end):
        """Count the damaged run [start, end) unless it was counted before."""
        if end <= self._corrupt_through:
            return
        if start >= self._corrupt_through:
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

    def _drop(self, chunks):
        """Drop the oldest commits until `chunks` more fit; persist first."""
        dropped = 0
        sequence = self._acked
        total = 0
        while self._head - sequence + chunks > self._slots and sequence < self._head:
            step = 1
            if self._read(sequence) == _GOOD and self._seq == sequence and self._part == 0:
                step = self._more + 1
                dropped += 1
                total += self._length - _CHUNK_HEAD + self._more * DATA
            sequence = min(sequence + step, self._head)
        # The new ack point must be on flash before its slots are reused,
        # or a crash could leave a log that skips from old to new laps.
        before = self._acked
        self._acked = sequence
        self._dropped += dropped
        try:
            self._write_state()
        except JournalError:
            self._acked = before
            self._dropped -= dropped
            raise
        self._pending = max(0, self._pending - dropped)
        self._pending_bytes = max(0, self._pending_bytes - total)
        self._memo[0] = self._memo[1] = _NO_MEMO

    # -- files --------------------------------------------------------------------
    def _file(self, name):
        return "%s/%s" % (self.path, name)

    def _read_small(self, path, limit):
        try:
            with open(path, "rb") as f:
                return f.read(limit)
        except OSError:
            return None

    def _read(self, sequence):
        """Read the chunk for sequence into the buffer: _GOOD (header fields
        set), _BAD (damaged or unreadable) or _MISSING (never written)."""
        try:
            f = open(self._slot_path(sequence), "rb")
        except OSError as error:
            return _MISSING if _is_missing(error) else _BAD
        try:
            length = f.readinto(self._buffer)
        except OSError:
            return _BAD
        finally:
            f.close()
        if not length or length < _CHUNK_HEAD or length > CHUNK:
            return _BAD
        view = self._view
        if _crc(view[4:length]) != struct.unpack_from("<I", self._buffer, 0)[0]:
            return _BAD
        self._seq, self._part, self._more = struct.unpack_from("<IBB", self._buffer, 4)
        self._length = length
        return _GOOD

    def _write_chunk(self, sequence, part, more, data):
        buffer = self._buffer
        length = _CHUNK_HEAD + len(data)
        struct.pack_into("<IBB", buffer, 4, sequence & _MASK, part, more)
        buffer[_CHUNK_HEAD:length] = data
        view = self._view
        struct.pack_into("<I", buffer, 0, _crc(view[4:length]))
        path = self._slot_path(sequence)
        try:
            self._write(path, view[0:length], False)
        except OSError as error:
            if not _is_missing(error) or not GROUP:
                raise JournalError("cannot write the journal at %s: %s" % (self.path, error))
            # The first chunk of its group: make the group's directory.
            try:
                os.mkdir(path[0:path.rfind("/")])
            except OSError:
                pass
            self._write(path, view[0:length])

    def _slot_path(self, sequence):
        slot = sequence % self._slots
        if GROUP:
            return "%s/%d/%d" % (self.path, slot // GROUP, slot % GROUP)
        return "%s/%d" % (self.path, slot)

    def _write(self, path, data, wrap=True):
        try:
            with open(path, "wb") as f:
                f.write(data)
                _sync(f)
        except OSError as error:
            if not wrap:
                raise
            raise JournalError("cannot write the journal at %s: %s" % (self.path, error))

    def _write_header(self):
        data = bytearray(12)
        struct.pack_into(_HEADER_FORMAT, data, 0, _MAGIC, VERSION, self._slots)
        struct.pack_into("<I", data, 8, _crc(memoryview(data)[0:8]))
        self._write(self._file("J"), data)

    def _write_state(self):
        """Write the ack state into the file not written last."""
        self._generation += 1
        data = bytearray(4 + _STATE_SIZE)
        struct.pack_into(_STATE_FORMAT, data, 4, VERSION, self._generation & _MASK,
                         self._slots, self._acked, self._dropped, self._corrupt,
                         self._corrupt_through)
        struct.pack_into("<I", data, 0, _crc(memoryview(data)[4:]))
        self._write(self._file("AB"[self._generation & 1]), data)
        self._dirty = False

    def _check_open(self):
        if self._closed:
            raise JournalError("the journal at %s is closed" % self.path)

    # -- dead letters -------------------------------------------------------------
    def _count_dead(self):
        try:
            f = open(self._file("D"), "rb")
        except OSError:
            return 0
        count = 0
        offset = 0
        try:
            while True:
                offset, found = self._next_dead(f, offset, False)
                if found is None:
                    break
                count += 1
        except OSError:
            pass
        finally:
            f.close()
        return count

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
            ok = True
            while remaining:
                piece = f.readinto(memoryview(head)[0:min(CHUNK, remaining)])
                if not piece:
                    ok = False
                    break
                crc = _crc(memoryview(head)[0:piece], crc)
                remaining -= piece
            if not ok or crc != expected:
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
