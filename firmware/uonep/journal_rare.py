"""The journal's rare paths, imported only when one is taken (a sampling
device does not load them): carrying a journal of format 1 over, finding
the ack point of a journal whose ack state is lost, the dead-letter store,
making room by dropping, failed writes (out of space, a folder gone),
errors, counting what a walk did not.

Carrying over a journal of format 1 (uonep 0.1: a ring of slot files in
group folders, header J, ack state A/B, dead letters D) is crash-safe in
three steps, each of which the next open resumes:
1. the pending commits (converted to today's records) and the dead letters
   are written to a new journal at PATH.v2 (made again from nothing if a
   cut left one);
2. PATH (format 1) is renamed PATH.v1 and removed;
3. PATH.v2 is renamed PATH.
Until step 2 the format 1 journal is whole, and step 1 starts over; from
step 2 on PATH.v2 is whole, and finish() completes steps 2 and 3. Nothing
is lost and nothing is delivered twice.
"""

import os
import struct
from binascii import crc32

from .errors import JournalError, JournalFullError, ValidationError
from .journal import BLOCK, RING, VERSION

try:
    from micropython import const
except ImportError:          # CPython
    const = int  # type: ignore[assignment]

_GROUP = const(16)           # format 1 slot files per folder
_ENOSPC = const(28)
_PIECE = const(256)          # bytes of the dead-letter store read at a time


def cause(error):
    """An OSError, named (MicroPython has no name for ENOSPC)."""
    if error.args[0] == _ENOSPC:
        return "[Errno 28] ENOSPC, no space left on the filesystem"
    return str(error)


def failure(journal, error):
    """The error to raise for a write that failed (error None: the journal
    is full and its policy is "refuse")."""
    if error is None or error.args[0] == _ENOSPC and journal.policy == "refuse":
        return JournalFullError("journal full at %s: %d commits pending%s" % (
            journal.path, journal._counts["pending"], "" if error is None else "; " + cause(error)))
    return JournalError("cannot write the journal at %s: %s" % (journal.path, cause(error)))


def misuse(journal):
    """The error for a call on a closed journal, or else with a payload
    that is not bytes."""
    if journal._mirror is None:
        return JournalError("the journal at %s is closed" % journal.path)
    return ValidationError("a journal payload must be bytes")


def foreign(journal, version):
    return JournalError("journal at %s has format version %d; this uonep reads version %d"
                        % (journal.path, version, VERSION))


def make_room(journal, count, framed, error):
    """The ring cannot take count frames of framed bytes and packing it
    failed (error) or is not done (None, a journal of the ring alone):
    drop by the policy, or raise."""
    if error is None and journal.policy == "refuse" or error is not None and (
            error.args[0] != _ENOSPC or journal.policy == "refuse"):
        raise failure(journal, error)
    drop_ring(journal, count, framed)


def recover(journal, name, error, folder):
    """After writing file name failed with error: make its folder again
    when it is gone and folder (returns False: it is made once), or make
    room by the policy when out of space; else raise error."""
    if error.args[0] == 2 and folder:    # ENOENT
        from .journal_open import makedirs
        makedirs(journal._file(name[0:name.find("/")]))
        return False
    if error.args[0] != _ENOSPC or journal.policy == "refuse" or journal._next <= journal._first:
        raise error
    drop_segment(journal)
    return folder


def drop_segment(journal):
    """Drop the oldest segment: its pending commits are counted as dropped
    (under "refuse", JournalFullError instead)."""
    if journal.policy == "refuse":
        raise failure(journal, None)
    commits, total = count(journal, journal._head, journal._first + 1)
    # That walk read the segment to its end: journal._end says where it ends.
    journal._advance(journal._end[1], commits, commits, total)


def count(journal, position, stop=None):
    """(commits, payload bytes) from the ack point through position (in
    the segments before stop, when given)."""
    commits = total = 0
    for last, _, begin, end in journal._records(False, stop):
        if last > position:
            break
        commits += 1
        total += end - begin
    return commits, total


def drop_ring(journal, count, framed):
    """Drop the ring's oldest commits until count frames of framed bytes
    fit (a journal of the ring alone, or one the filesystem has no room
    for a segment of)."""
    commits = total = low = at = 0
    start = journal._start
    mirror = journal._mirror
    # (The mirror's frames were checked when they were read.)
    while at < len(mirror):
        if journal._head - start + count <= RING and \
                len(mirror) - low + framed <= min(BLOCK - 4, journal.capacity):
            break
        size = mirror[at + 4]
        total += size - 10
        at += size
        if not mirror[at - size + 9] & 0x7F:
            commits += 1
            start = struct.unpack_from("<I", mirror, at - size + 5)[0] + 1
            low = at
    journal._advance(start, commits, commits, total)


def oldest(journal, ring=False):
    """The ack point when the state is lost: the oldest commit on flash
    (ring: in the ring, whose newest frame is a lap at most ahead)."""
    from .journal_open import frames, read_slot
    for number in range(journal._next if ring else journal._first, journal._next):
        for seq, flags, _, _ in frames(_read(journal._file("s/%d" % number)) or b""):
            if flags & 0x80:
                return seq
    found = [read_slot(journal, seq)[0] for seq in range(RING)]
    found = [seq for seq in found if seq >= 0] or [0]
    return max(min(found), max(found) + 1 - RING)


def dead_letters(journal):
    """(payload, reason) of each valid dead letter, oldest first, one letter
    in RAM at a time."""
    from .journal_open import letters
    head = bytearray(10)
    for start in letters(journal, bytearray(_PIECE)):
        payload, text = _lengths(journal, start, head)
        letter = bytearray(payload + text)
        journal._read_into("d", letter, start + 10)
        view = memoryview(letter)
        yield bytes(view[:payload]), _reason(bytes(view[payload:]))


def _reason(data):
    try:
        return data.decode("utf-8")
    except UnicodeError:
        # A reason an older uonep cut inside a character: its ASCII is kept
        # rather than the letter made unreadable.
        return bytes(byte if byte < 128 else 63 for byte in data).decode()


def _lengths(journal, start, head):
    """(payload length, reason length) of the letter at start."""
    journal._read_into("d", head, start)
    return struct.unpack_from("<HH", head, 2)


def dead_letter(journal, payload, reason):
    """Append a dead letter (trimming the store first if it would pass
    its bound)."""
    # 256 characters are at most 1,024 bytes, and never cut inside one.
    text = str(reason)[:256].encode("utf-8")
    letter = bytearray(struct.pack("<2sHH4x", b"\xdeL", len(payload), len(text)))
    letter += payload
    letter += text
    struct.pack_into("<I", letter, 6, crc32(letter[10:], crc32(letter[2:6])))
    if len(letter) > journal.dead_bytes // 2:
        raise JournalError("a dead letter of %d bytes is too large" % len(letter))
    if journal._dead_size + len(letter) > journal.dead_bytes:
        trim_dead(journal, len(letter))
    journal._store("d", letter, "ab")
    journal._counts["dead_lettered"] += 1
    journal._dead_size += len(letter)


def trim_dead(journal, size):
    """Drop the oldest dead letters until size more bytes leave the store
    at most half full (the rest copied a piece at a time to a new file,
    then renamed over the old)."""
    from .journal_open import letters
    try:
        total = os.stat(journal._file("d"))[6]
    except OSError:
        total = 0
    half = journal.dead_bytes // 2
    buffer = bytearray(_PIECE)
    head = bytearray(10)
    dropped = start = 0
    for begin in letters(journal, buffer):
        if total - start + size <= half:
            break
        payload, text = _lengths(journal, begin, head)
        start = begin + 10 + payload + text
        dropped += 1
    if total - start + size > half:
        start = total
    _copy_dead(journal, start, buffer)
    try:
        os.rename(journal._file("d~"), journal._file("d"))
    except OSError as error:
        raise failure(journal, error)
    journal._counts["dead_lettered"] -= dropped
    journal._dead_size = total - start
    journal._counts["dead_dropped"] += dropped
    journal._write_state()


def _copy_dead(journal, start, buffer):
    """Write the store from start on as file d~, durably, a piece at a time."""
    view = memoryview(buffer)

    def copy(out):
        offset = start
        length = journal._read_into("d", buffer, offset)
        while length:
            out.write(view[:length])
            offset += length
            length = journal._read_into("d", buffer, offset)
    journal._store("d~", copy)


def migrate(path, capacity, policy, dead_bytes):
    from .journal import Journal

    _remove_tree(path + ".v2")
    slots, acked, dropped = _state(path)
    journal = Journal(path + ".v2", capacity, policy, dead_bytes)
    for payload in _pending(path, slots, acked):
        journal.commit(_convert(payload))
    journal._counts["dropped"] += dropped
    journal._dirty = True
    journal.close()
    try:
        _copy(path + "/D", path + ".v2/d")
    except OSError:
        pass      # no dead letters
    os.rename(path, path + ".v1")
    finish(path)


def finish(path):
    """Steps 2 and 3, once PATH.v2 is whole and PATH renamed PATH.v1."""
    _remove_tree(path + ".v1")
    os.rename(path + ".v2", path)


def _convert(payload):
    """A version 1 record (JSON [timestamp, boot, ticks, points]) in
    today's format; as it was when it cannot be read (push dead-letters it)."""
    import json

    from . import forward
    try:
        timestamp, boot, ticks, points = json.loads(payload)
        if any(len(point) > 2 for point in points):
            # Points kept back from a failed call, each with its own time.
            return forward.encode_groups([(point[0], [[point[2] if len(point) > 2 else
                                                        timestamp, point[1]]])
                                          for point in points])
        return forward.encode_commit(timestamp, boot, ticks, points)
    except Exception:
        return payload


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read(4096)
    except OSError:
        return None


def _state(path):
    """(slots, first unacknowledged sequence number or None, dropped)."""
    slots = None
    data = _read(path + "/J")
    if data and len(data) == 12 and crc32(data[0:8]) == struct.unpack("<I", data[8:12])[0]:
        slots = struct.unpack("<3sBI", data[0:8])[2]
    best = None
    for name in ("A", "B"):
        data = _read(path + "/" + name)
        if data and len(data) == 29 and crc32(data[4:]) == struct.unpack("<I", data[0:4])[0]:
            fields = struct.unpack("<BIIIIII", data[4:])
            if fields[0] == 1 and (best is None or fields[1] > best[1]):
                best = fields
    if best is not None:
        slots = slots or best[2]
        return slots, best[3], best[4]
    if slots is None:
        slots = 0
        for group in _numbers(path):
            for slot in _numbers("%s/%d" % (path, group)):
                slots = max(slots, group * _GROUP + slot + 1)
    return slots, None, 0


def _numbers(folder):
    try:
        return [int(name) for name in os.listdir(folder) if name.isdigit()]
    except OSError:
        return []


def _chunk(path, slots, sequence):
    """(seq, part, more, data) of the slot for sequence, or None."""
    slot = sequence % slots
    data = _read("%s/%d/%d" % (path, slot // _GROUP, slot % _GROUP))
    if not data or len(data) < 10 or len(data) > 128 or \
            crc32(data[4:]) != struct.unpack("<I", data[0:4])[0]:
        return None
    seq, part, more = struct.unpack("<IBB", data[4:10])
    return seq, part, more, data[10:]


def _pending(path, slots, acked):
    """The version 1 pending commits, oldest first; damage skipped."""
    if slots < 1:
        return
    if acked is None:
        newest = -1
        for sequence in range(slots):
            chunk = _chunk(path, slots, sequence)
            if chunk and chunk[0] % slots == sequence:
                newest = max(newest, chunk[0])
        acked = max(0, newest + 1 - slots)
    parts = None
    for sequence in range(acked, acked + slots):
        chunk = _chunk(path, slots, sequence)
        if chunk is None or chunk[0] != sequence:
            if chunk is not None and chunk[0] < sequence:
                return        # an older lap: the end of the log
            parts = None
            continue
        _, part, more, data = chunk
        if part == 0:
            parts = data
        elif parts is None or len(parts) != part * 118:
            parts = None
            continue
        else:
            parts += data
        if more == 0:
            yield parts
            parts = None


def _copy(source, target):
    with open(source, "rb") as f, open(target, "wb") as out:
        while True:
            data = f.read(512)
            if not data:
                break
            out.write(data)


def _remove_tree(path):
    from .journal_open import names as listing
    try:
        names = list(listing(path))
    except OSError:
        return
    for name in names:
        name = path + "/" + name
        try:
            os.remove(name)
        except OSError:
            _remove_tree(name)      # a folder
    os.rmdir(path)
