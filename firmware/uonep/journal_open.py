"""Opening a journal: its ack state, its segments, its capacity (sized
and the folders made for a new journal), the ring read into the mirror,
the recovery from a cut short write, the dead letters counted. A boot's
job: Journal() imports this module and lets go of it once open, so its
code does not sit in the heap while the journal runs (see uonep.journal);
a first boot does not load uonep.journal_rare either."""

import os
import struct
from binascii import crc32

from .errors import JournalError, ValidationError
from .journal import _STATE, BLOCK, DATA, GROUP, OVERHEAD, RING, VERSION, _slot

try:
    from micropython import const
except ImportError:          # CPython
    const = int  # type: ignore[assignment]

_PIECE = const(256)          # bytes of the dead-letter store read at a time


def journal_open(journal, path, capacity, policy, dead_bytes):
    """Open a journal at path (see Journal), then let go of this module's
    and journal_rare's code: they are imported again when needed."""
    if policy not in ("drop_oldest", "refuse") or type(dead_bytes) is not int or \
            dead_bytes < 1024 or capacity != "auto" and (type(capacity) is not int or
                                                        capacity < 512):
        raise ValidationError('journal: policy "drop_oldest" or "refuse", capacity_bytes '
                              '"auto" or 512 and up, dead_bytes 1024 and up')
    journal.path = path.rstrip("/") or "/"
    journal.policy = policy
    journal.dead_bytes = dead_bytes
    journal.capacity = journal._changes = 0
    journal._acked = journal._start = journal._head = journal._first = journal._next = 0
    journal._end = [-1, 0]
    journal._generation = journal._corrupt_through = journal._dead_size = 0
    journal._counts = {"pending": 0, "pending_bytes": 0, "dropped": 0, "corrupt": 0,
                       "dead_lettered": 0, "dead_dropped": 0, "committed": 0}
    journal._dirty = False
    journal._memo = [[-1] * 6, [-1] * 6]
    _open(journal, capacity)
    import sys
    for name in ("journal_open", "journal_rare"):
        if sys.modules.pop("uonep." + name, None) is not None:
            try:
                delattr(sys.modules["uonep"], name)
            except (KeyError, AttributeError):
                pass


def names(path):
    """The names in a folder (os.ilistdir where there is one: no list)."""
    if hasattr(os, "ilistdir"):
        for entry in os.ilistdir(path):
            yield entry[0]
    else:
        yield from os.listdir(path)


def frames(data, at=0, length=None):
    """(seq, flags, data start, end) of each valid frame in data[at:length],
    skipping damage."""
    view = memoryview(data)
    length = len(data) if length is None else length
    while at + 10 <= length:
        crc, size, seq, flags = struct.unpack_from("<IBIB", data, at)
        end = at + size
        if size < 10 or end > length or crc != crc32(view[at + 4:end]):
            at += 1
            continue
        yield seq, flags, at + 10, end
        at = end


def segment_end(journal, number):
    """The sequence number after segment `number`'s last frame (0: none)."""
    end = offset = 0
    data = bytearray(1024)       # a piece at a time
    while True:
        length = journal._read_into("s/%d" % number, data, offset)
        for frame in frames(data, 0, length):
            end = max(end, frame[0] + 1)
        if length < len(data):
            return end
        # Read on from where a frame the piece's end cut may start (a
        # frame, 10 + DATA bytes at most, read twice counts once).
        offset += length - (10 + DATA - 1)


def _open(journal, capacity):
    state = _read_state(journal)
    fresh = False
    if state is None:       # new, of format 1, or its ack state lost
        fresh = _prepare(journal, capacity)
        if fresh is None:
            return _open(journal, capacity)
    first = last = -1
    for name in names(journal._file("s")):
        if name.isdigit():
            number = int(name)
            first = number if first < 0 else min(first, number)
            last = max(last, number)
    journal._first = max(first, 0)
    journal._next = last + 1
    _size(journal, capacity)
    # The newest segment tells how far packing got; one without a
    # frame is a packing cut short: its frames are in the ring.
    packed = 0
    while journal._next > journal._first and not packed:
        packed = segment_end(journal, journal._next - 1)
        if not packed:
            journal._next -= 1
            journal._remove("s/%d" % journal._next)
    if state is None and not fresh:
        from .journal_rare import oldest
        journal._acked = oldest(journal)
    _load_ring(journal, max(journal._acked, packed))
    if state is None:
        journal._write_state()
    counts = journal._counts
    for _, _, begin, end in journal._records(False):
        counts["pending"] += 1
        counts["pending_bytes"] += end - begin
    journal._reclaim()
    if journal._dirty:
        try:
            journal._write_state()
        except JournalError:
            pass     # counted again next time; nothing else is at stake
    # The dead letters are counted a piece at a time: a full store read
    # whole (and its letters sliced) would take twice dead_bytes of heap
    # at boot, when the boot's other modules are loaded.
    try:
        journal._dead_size = os.stat(journal._file("d"))[6]
    except OSError:
        return          # no dead letters
    for _ in letters(journal, bytearray(_PIECE)):
        counts["dead_lettered"] += 1


def read(journal, name):
    """A file's bytes, or None when it cannot be read."""
    try:
        with open(journal._file(name), "rb") as f:
            return f.read()
    except OSError:
        return None


def read_slot(journal, seq):
    """(the sequence number of the frame in the ring file of seq, -1 when
    damaged, -2 when missing; its bytes)."""
    data = read(journal, _slot(seq))
    if data is None:
        return -2, data
    if len(data) < 10 or data[4] != len(data) or \
            crc32(data[4:]) != struct.unpack_from("<I", data)[0]:
        return -1, data
    return struct.unpack_from("<I", data, 5)[0], data


def letters(journal, buffer):
    """The start of each valid dead letter in the store (file d), oldest
    first, skipping damage. The store is read into buffer a piece at a
    time, a letter's crc32 summed as it is read, with little garbage (a
    boot counts them); the file is opened for each piece, so the store may
    be rewritten between steps (what is yielded then is not defined, but
    nothing breaks)."""
    view = memoryview(buffer)
    head = bytearray(12)            # a letter's lengths and crc32, the crc32 found
    lengths = memoryview(head)[0:4]
    at = base = length = 0          # buffer holds the bytes [base, base + length)
    while True:
        if at < base or at + 10 > base + length:
            base = at
            length = journal._read_into("d", buffer, at)
            if length < 10:
                return
        index = at - base
        if buffer[index] != 0xDE or buffer[index + 1] != 0x4C:     # "\xdeL"
            at += 1
            continue
        # Its lengths and crc32 copied out of the buffer (which may move
        # on): bytes compared, not numbers made (a boot counts letters).
        for place in range(8):
            head[place] = buffer[index + 2 + place]
        end = at + 10 + head[0] + (head[1] << 8) + head[2] + (head[3] << 8)
        crc = crc32(lengths)
        offset = at + 10
        while offset < end:
            if offset >= base + length:
                if length < len(buffer):
                    break           # the file ends before the letter does
                base = offset
                length = journal._read_into("d", buffer, offset)
                if not length:
                    break
            stop = min(end, base + length)
            crc = crc32(view[offset - base:stop - base], crc)
            offset = stop
        struct.pack_into("<I", head, 8, crc)
        same = offset == end
        for place in range(4, 8):
            same = same and head[place] == head[place + 4]
        if same:
            yield at
            at = end
        else:
            at += 1


def _size(journal, capacity):
    """Set journal.capacity: the one found for this figure before (file
    c), else sized now: as given, refused when the filesystem cannot hold
    it; or "auto", three quarters of the room (the free space and what the
    journal holds) less its folders, in whole blocks."""
    asked = ("%s " % capacity).encode()
    known = read(journal, "c") or b""
    try:
        found = int(known[len(asked):]) if known.startswith(asked) else 0
        # (A damaged file: an "auto" capacity is whole blocks, another
        # the figure given.)
        if found == capacity or capacity == "auto" and found >= BLOCK and not found % BLOCK:
            journal.capacity = found
            return
    except ValueError:
        pass
    room = None
    try:
        fs = os.statvfs(journal.path)
        # LittleFS counts each folder's two blocks twice, so its free space
        # may come out below zero (a 32-bit wrap): the journal's own folders
        # and segments are added back as it counts them.
        room = (fs[4] - (fs[4] >> 31 << 32) + journal._next - journal._first) * fs[1] + \
            2 * OVERHEAD
    except (AttributeError, OSError):
        pass        # no statvfs (Windows): trust the caller
    if capacity == "auto":
        capacity = (1 << 22 if room is None else room) * 3 // 4 - OVERHEAD
        capacity = max(BLOCK, capacity // BLOCK * BLOCK)
    elif room is not None and capacity + OVERHEAD > room:
        raise JournalError("journal capacity of %d bytes (and %d for its folders) does not "
                           "fit the %d bytes free at %s" % (capacity, OVERHEAD, room,
                                                            journal.path))
    journal.capacity = capacity
    journal._store("c", asked + str(capacity).encode())


def makedirs(path):
    """Make path and its missing parents."""
    at = 0
    while at >= 0:
        at = path.find("/", at + 1)
        try:
            os.mkdir(path if at < 0 else path[:at])
        except OSError as error:
            if error.args[0] != 17 and (at < 0 or error.args[0] == 28):   # EEXIST, ENOSPC
                from .journal_rare import cause
                raise JournalError("cannot make %s: %s" % (path, cause(error)))


def _prepare(journal, capacity):
    """A journal without an ack state: True when it is new (made now),
    False when its state is lost, None when it was of format 1 (carried
    over, or the carrying over finished: open it again)."""
    path = journal.path
    try:
        found = list(names(path))
    except OSError:
        try:
            os.stat(path + ".v2")
        except OSError:
            makedirs(path)
            found = []
        else:
            from .journal_rare import finish
            finish(path)                 # a carrying over cut short
            return None
    if [name for name in found if name in ("J", "A", "B", "D") or name.isdigit()]:
        from .journal_rare import migrate
        migrate(path, capacity, journal.policy, journal.dead_bytes)
        return None
    if "s" not in found:
        for group in range(RING // GROUP):
            makedirs(journal._file("r%d" % group))
        makedirs(journal._file("s"))
    return not found


def _read_state(journal):
    best = None
    for name in ("s/a", "s/b"):
        data = read(journal, name)
        if data and len(data) == struct.calcsize(_STATE) + 4 and \
                crc32(data[4:]) == struct.unpack_from("<I", data)[0]:
            fields = struct.unpack_from(_STATE, data, 4)
            if fields[0] != VERSION:
                from .journal_rare import foreign
                raise foreign(journal, fields[0])
            if best is None or (fields[1] - best[1]) & 0xFFFF < 0x8000:
                best = fields
    if best:
        counts = journal._counts
        (_, journal._generation, journal._acked, counts["dropped"], counts["corrupt"],
         journal._corrupt_through, counts["dead_dropped"]) = best
    return best


def _load_ring(journal, start):
    """Read the ring's frames from start to the end of the log into the mirror."""
    seq = start
    mirror = journal._mirror = bytearray()
    while seq < start + RING:
        found, data = read_slot(journal, seq)
        if found == -2 or 0 <= found < seq:
            break                       # never written, or an older lap
        if found > seq:
            # A later lap than the ack state knows (an older generation
            # of it survived): the ring starts one lap before its newest.
            from .journal_rare import oldest
            return _load_ring(journal, oldest(journal, True))
        if found == seq:
            # (With the ack state lost, acknowledged commits come too,
            # more than a block's worth maybe: the next commit packs
            # them, or drops them.)
            mirror.extend(data)
        seq += 1
    # Whole commits only: one cut short at the head (or damaged files
    # there) is counted, removed, and its sequence numbers used again.
    journal._start = journal._head = start
    high = 0
    for found, flags, _, end in frames(mirror):
        if not flags & 0x7F:
            journal._head = found + 1
            high = end
    mirror[high:] = b""
    if seq > journal._head:
        journal._note_corrupt(journal._head, seq)
        journal._corrupt_through = journal._head
        for found in range(journal._head, seq):
            journal._remove(_slot(found))
