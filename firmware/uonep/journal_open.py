"""Opening a journal: its ack state, its segments, its capacity, the ring
read into the mirror, and the recovery from a cut short write. A boot's
job: Journal() imports this module and lets go of it once open, so its
code does not sit in the heap between boots (see uonep.journal)."""

import os
import struct

from .errors import JournalError
from .journal import (_STATE, _STATE_SIZE, BLOCK, RING, VERSION, _crc, _frames, _names,
                      _slot, read_into)

PIECE = 256                  # bytes of the dead-letter store read at a time


def open_journal(journal, capacity):
    """Open journal (its path, policy and dead_bytes set) at capacity."""
    state = _read_state(journal)
    fresh = False
    if state is None:       # new, of format 1, or its ack state lost
        from .journal_rare import prepare
        fresh = prepare(journal, capacity)
        if fresh is None:
            return open_journal(journal, capacity)
    first = last = -1
    for name in _names(journal._file("s")):
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
        packed = journal._segment_end(journal._next - 1)
        if not packed:
            journal._next -= 1
            journal._remove("s/%d" % journal._next)
    if state is None and not fresh:
        from .journal_rare import oldest
        journal._acked = oldest(journal)
    _load_ring(journal, max(journal._acked, packed))
    if state is None:
        journal._write_state()
    for _, _, begin, end in journal._records(False):
        journal._pending += 1
        journal._pending_bytes += end - begin
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
    for _ in letters(journal, bytearray(PIECE)):
        journal._dead += 1


def letters(journal, buffer):
    """The start of each valid dead letter in the store (file d), oldest
    first, skipping damage. The store is read into buffer a piece at a
    time, a letter's crc32 summed as it is read, with little garbage (a
    boot counts them); the file is opened for each piece, so the store may
    be rewritten between steps (what is yielded then is not defined, but
    nothing breaks)."""
    view = memoryview(buffer)
    name = journal._file("d")
    head = bytearray(12)            # a letter's lengths and crc32, the crc32 found
    lengths = memoryview(head)[0:4]
    at = base = length = 0          # buffer holds the bytes [base, base + length)
    while True:
        if at < base or at + 10 > base + length:
            base = at
            length = read_into(name, buffer, at)
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
        crc = _crc(lengths)
        offset = at + 10
        while offset < end:
            if offset >= base + length:
                if length < len(buffer):
                    break           # the file ends before the letter does
                base = offset
                length = read_into(name, buffer, offset)
                if not length:
                    break
            stop = min(end, base + length)
            crc = _crc(view[offset - base:stop - base], crc)
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
    c), else sized now (uonep.journal_rare.size)."""
    asked = ("%s " % capacity).encode()
    known = journal._read("c") or b""
    try:
        found = int(known[len(asked):]) if known.startswith(asked) else 0
        # (A damaged file: an "auto" capacity is whole blocks, another
        # the figure given.)
        if found != capacity and (capacity != "auto" or found < BLOCK or found % BLOCK):
            raise ValueError
        journal.capacity = found
    except ValueError:
        from .journal_rare import size
        journal.capacity = size(journal, capacity)
        journal._store("c", asked + str(journal.capacity).encode())


def _read_state(journal):
    best = None
    for name in ("s/a", "s/b"):
        data = journal._read(name)
        if data and len(data) == _STATE_SIZE and \
                _crc(data[4:]) == struct.unpack_from("<I", data)[0]:
            fields = struct.unpack_from(_STATE, data, 4)
            if fields[0] != VERSION:
                from .journal_rare import foreign
                raise foreign(journal, fields[0])
            if best is None or (fields[1] - best[1]) & 0xFFFF < 0x8000:
                best = fields
    if best:
        (_, journal._generation, journal._acked, journal._dropped, journal._corrupt,
         journal._corrupt_through, journal._dead_dropped) = best
    return best


def _load_ring(journal, start):
    """Read the ring's frames from start to the end of the log into the mirror."""
    seq = start
    mirror = journal._mirror = bytearray()
    while seq < start + RING:
        found = journal._read_slot(seq)
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
            mirror.extend(journal._buffer)
        seq += 1
    # Whole commits only: one cut short at the head (or damaged files
    # there) is counted, removed, and its sequence numbers used again.
    journal._start = journal._head = start
    high = 0
    for found, flags, _, end in _frames(mirror):
        if not flags & 0x7F:
            journal._head = found + 1
            high = end
    mirror[high:] = b""
    if seq > journal._head:
        journal._note_corrupt(journal._head, seq)
        journal._corrupt_through = journal._head
        for found in range(journal._head, seq):
            journal._remove(_slot(found))
