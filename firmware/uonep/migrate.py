"""Carry a journal of format version 1 (uonep 0.1: a ring of slot files in
group folders, header J, ack state A/B, dead letters D) over to the
current format. Imported by Journal only when it finds one.

Crash-safe in three steps, each of which the next open resumes:
1. the pending commits and the dead letters are written to a new journal
   at PATH.v2 (made again from nothing if a cut left one);
2. PATH (version 1) is renamed PATH.v1 and removed;
3. PATH.v2 is renamed PATH.
Until step 2 the version 1 journal is whole, and step 1 starts over; from
step 2 on PATH.v2 is whole, and finish() completes steps 2 and 3. Nothing
is lost and nothing is delivered twice.
"""

import binascii
import os
import struct

from .journal import _names

GROUP = 16          # version 1 slot files per folder


def migrate(path, capacity, policy, dead_bytes):
    from .journal import Journal

    _remove_tree(path + ".v2")
    slots, acked, dropped = _state(path)
    journal = Journal(path + ".v2", capacity, policy, dead_bytes)
    for payload in _pending(path, slots, acked):
        journal.commit(_convert(payload))
    journal._dropped += dropped
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


def _crc(data):
    return binascii.crc32(data) & 0xFFFFFFFF


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
    if data and len(data) == 12 and _crc(data[0:8]) == struct.unpack("<I", data[8:12])[0]:
        slots = struct.unpack("<3sBI", data[0:8])[2]
    best = None
    for name in ("A", "B"):
        data = _read(path + "/" + name)
        if data and len(data) == 29 and _crc(data[4:]) == struct.unpack("<I", data[0:4])[0]:
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
                slots = max(slots, group * GROUP + slot + 1)
    return slots, None, 0


def _numbers(folder):
    try:
        return [int(name) for name in os.listdir(folder) if name.isdigit()]
    except OSError:
        return []


def _chunk(path, slots, sequence):
    """(seq, part, more, data) of the slot for sequence, or None."""
    slot = sequence % slots
    data = _read("%s/%d/%d" % (path, slot // GROUP, slot % GROUP))
    if not data or len(data) < 10 or len(data) > 128 or \
            _crc(data[4:]) != struct.unpack("<I", data[0:4])[0]:
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
    try:
        names = list(_names(path))
    except OSError:
        return
    for name in names:
        name = path + "/" + name
        try:
            os.remove(name)
        except OSError:
            _remove_tree(name)      # a folder
    os.rmdir(path)
