"""Store and forward: commits go to the Journal, push drains it in batches.

A commit is one journal record (format 2), its points encoded for the wire
when they are committed, so that push copies bytes instead of encoding:
    1 | (resource | ",[ts,value]")...     each point as recordbatch sends it
    2 | boot (u32) | ticks (i64) | (resource | value)...
                                         no valid clock yet: dated at push
where each field is a length (1 byte below 128, else 2 bytes, high bit
set) and its bytes, the value its JSON text. boot (a random id of the boot
that made it) and ticks (its ms counter) let push date an untimed commit
once the clock is valid. (uonep 0.1 wrote JSON text: uonep.journal_rare
converts such a journal when it carries it over.)

push reads the journal oldest first, a bounded batch at a time, groups the
points of a batch by resource into recordbatch calls, sends them in one
HTTP request and acknowledges the batch only after the answer:
- every call "ok": the batch is acknowledged;
- points refused for good ("invalid", "restricted", recordbatch's partial
  status): moved to the dead-letter store with the reason, then acknowledged;
- a call failing in a way that may pass ("fail", ...): its points are
  committed again on their own, the batch is acknowledged, the CallError raised;
- no usable answer (network, 5xx, garbled, 401): nothing is acknowledged,
  the error is raised, everything stays in the journal.
Those paths past the first, reading a record back (decode_commit) and
commits no one can date are in uonep.forward_rare, imported on first use;
its names can be had from here too (uonep.forward.decode_commit).
"""

import gc
import struct

from . import rpc

try:
    from micropython import const
except ImportError:          # CPython
    const = int  # type: ignore[assignment]

# Bytes of request body per HTTP request; bounded so a push needs the same
# heap for 100 points as for 10,000. (The points are sent from their own
# buffer, never copied into a body: see Client.send_recordbatches.)
MAX_BYTES = 4096
# The envelope around the calls (auth, brackets) and around each call (id,
# procedure name, alias object): upper bounds, so a batch stays in budget.
_ENVELOPE = const(112)
_PER_CALL = const(64)
_TIMED = const(1)
_UNTIMED = const(2)


def __getattr__(name):
    # decode_commit, encode_groups, REFUSED: the rare paths' module.
    from . import forward_rare
    return getattr(forward_rare, name)


def _put(out, data):
    """Append a length and data to out."""
    size = len(data)
    if size > 0x7F:
        out.append(0x80 | size >> 8)
    out.append(size & 0xFF)
    out.extend(data)


def _field(data, at):
    """(start, end) of the field at offset at."""
    size = data[at]
    if size < 0x80:
        return at + 1, at + 1 + size
    size = (size & 0x7F) << 8 | data[at + 1]
    return at + 2, at + 2 + size


def encode_commit(timestamp, boot, ticks, points):
    """The journal record of one commit (bytes); points: [[resource, value], ...]."""
    if timestamp is None:
        out = bytearray(struct.pack("<BIq", _UNTIMED, boot & 0xFFFFFFFF, ticks or 0))
    else:
        out = bytearray([_TIMED])
    for resource, value in points:
        _put(out, resource.encode())
        _put(out, rpc.dumps(value).encode() if timestamp is None else
             b"," + rpc.point_bytes(timestamp, value))
    return bytes(out)


class Uplink:
    """Store and forward over one Journal: add_value stages values, commit
    writes them to the journal as one record, push sends what is committed.

    sender: a Client, or any function(groups) -> (outcomes, body bytes)
    sending [(resource, b"[ts,v],..."), ...] as recordbatch calls in one
    request (Client.send_recordbatches); tests give a fake. journal: a
    uonep.Journal. clock: a uonep.clock.Clock (the board's by default).
    boot: this boot's id (random by default), which dates untimed commits."""

    def __init__(self, sender, journal, clock=None, boot=None):
        # Imported here, not as globals of the module: fewer names in its
        # dict on a board's heap, for what only a new Uplink needs.
        import os

        from .clock import Clock
        self.send = sender if callable(sender) else sender.send_recordbatches
        self.journal = journal
        self.clock = clock or Clock()
        self.boot = int.from_bytes(os.urandom(4), "little") if boot is None else boot
        self.values = {}

    def add_value(self, resource, value):
        """Stage a value for the next commit; the same resource twice before
        a commit: the last value wins. Bad input is refused here, so nothing
        unsendable ever reaches the journal."""
        if isinstance(resource, dict):
            resource = rpc.resource(resource)["alias"]
        rpc.resource(resource)
        self.values[resource] = rpc.value(value)

    def commit(self, timestamp=None):
        """Write the staged values to the journal as one record: all or none,
        durable when this returns. timestamp: Unix seconds (default: now, or
        "not known yet" when the clock is not valid, dated at push time).
        Returns the number of values committed (0: nothing was staged)."""
        if not self.values:
            return 0
        clock = self.clock
        if timestamp is not None:
            timestamp = rpc.timestamp(timestamp)
        elif clock.valid():
            timestamp = clock.now()
        points = list(self.values.items())
        self.journal.commit(encode_commit(timestamp, self.boot, clock.ticks_ms(), points))
        # Only now: a refused commit (journal full) keeps the values staged.
        self.values = {}
        return len(points)

    def push(self, max_points=None, max_bytes=MAX_BYTES):
        """Send committed values, oldest first, in recordbatch calls packed
        into requests of at most max_bytes; acknowledge only what the server
        answered "ok". Returns {"sent": points delivered, "requests",
        "bytes": request bodies sent, "dead_lettered": points moved to the
        dead-letter store, "remaining": commits pending}. Raises
        TransportError/HTTPError/ProtocolError/ServerError (retry later),
        AuthError (fix the CIK) or CallError with every unsent value still in
        the journal."""
        report = {"sent": 0, "requests": 0, "bytes": 0, "dead_lettered": 0, "remaining": 0}
        taken = 0
        if max_points is None:
            max_points = 1 << 30
        # One buffer for the points of every batch (emptied, a bytearray
        # keeps its capacity on MicroPython): what is pending, up to a
        # request's worth. The points of a one-resource push are then
        # appended without it being reallocated across a small heap.
        room = bytearray(min(max_bytes - _ENVELOPE - _PER_CALL,
                             self.journal.stats()["pending_bytes"]))
        while taken < max_points:
            groups, count, last, full, untimed = self._collect(max_points - taken, max_bytes,
                                                               room)
            if last is None:
                break
            taken += count
            if full or taken > count:
                # A push of several requests (one that fits a request pays
                # nothing): each body is built on a collected heap, where the
                # request-sized blocks of the batch before are free runs
                # again, not amid what reading this batch left.
                gc.collect()
            self._send(groups, count, last, untimed, report)
            # The rest of the batch is let go of, and collected when a next
            # batch follows, before it is read: its objects then take the
            # lowest holes, not the free runs the bodies need.
            if full:
                groups = untimed = None
                gc.collect()
        report["remaining"] = self.journal.stats()["pending"]
        return report

    def _collect(self, max_points, max_bytes, room):
        """The next batch, read from the journal up to what fits in one
        request and max_points: (groups [(resource, its points encoded,
        b"[ts,v],[ts,v]")], points, journal position of its last commit,
        whether it stopped at a limit, untimed commits no one can date any
        more). room: the buffer for its first group, emptied."""
        room[0:] = b""
        groups = []
        index = {}            # resource -> its group's buffer
        untimed = []
        marks = []            # (buffer, its length before) to take a record back
        size = _ENVELOPE
        count = 0
        last = key = None     # key: the field of the resource of the point before
        full = False
        for position, data, begin, end in self.journal.pending_slices():
            first = len(groups)
            before = size
            taken = extra = 0    # extra: what an untimed point's text adds to its value
            failure = None
            try:
                at = begin + 1
                kind = data[begin]
                if kind == _UNTIMED:
                    stamp = self.date(*struct.unpack_from("<Iq", data, at))
                    at += 12
                    if stamp is None:
                        # No points to send; dead-lettered point by point once
                        # the batch is answered, unless it is over a limit.
                        full = count and (size > max_bytes or count > max_points)
                        if not full:
                            untimed.append(bytes(data[begin:end]))
                        at = end
                    else:
                        stamp = b",[%d," % stamp
                        extra = len(stamp) + 1
                elif kind != _TIMED:
                    raise ValueError
                while at < end:
                    if key and data.startswith(key, at):
                        # Most points are of the resource of the point
                        # before: compared in place, no key object made.
                        at += len(key)
                    else:
                        start, end_key = _field(data, at)
                        resource = data[start:end_key].decode()
                        buffer = index.get(resource)
                        if buffer is None:
                            # The first group gets the push's buffer (see push).
                            buffer = index[resource] = bytearray() if groups else room
                            groups.append((resource, buffer))
                            size += _PER_CALL + end_key - start
                        key = bytes(data[at:end_key])
                        at = end_key
                    start, at = _field(data, at)
                    if at > end:
                        raise ValueError
                    skip = 0 if buffer else 1    # no comma before a group's first point
                    size += at - start + extra - skip
                    taken += 1
                    if count and (size > max_bytes or count + taken > max_points):
                        full = True
                        break
                    if at < end:
                        # Not the record's last point: what comes after may
                        # not fit.
                        marks.append((buffer, len(buffer)))
                    if kind == _TIMED:
                        buffer.extend(data[start + skip:at])
                    else:
                        buffer.extend(stamp[skip:])
                        buffer.extend(data[start:at])
                        buffer.append(0x5D)    # "]"
            except Exception as error:
                failure = error
            if not (failure or full):
                count += taken
                last = position
                if marks:
                    marks.clear()
                continue
            # Taken back: what the record added to buffers, the groups it opened.
            for buffer, length in marks:
                buffer[length:] = b""
            marks.clear()
            for resource, _ in groups[first:]:
                del index[resource]
            del groups[first:]
            size = before
            key = None
            if full:
                break
            if isinstance(failure, MemoryError):
                # The heap, not the record: it stays in the journal (the app
                # then pushes in smaller requests).
                raise failure
            # A record the journal's CRC passed but that is not ours: keep
            # it out of the wire, keep it on flash.
            self.journal.dead_letter(bytes(data[begin:end]), "unreadable commit")
            last = position
        return groups, count, last, full, untimed

    def date(self, boot, ticks):
        """The wire timestamp of an untimed commit: for one of this boot,
        its time measured back from now (absolute when the clock is valid,
        else a negative offset, which the server reads as "seconds before
        now"); None for one of an earlier boot, whose time nothing can tell
        any more."""
        if boot != self.boot & 0xFFFFFFFF:
            return None
        clock = self.clock
        elapsed = clock.ticks_diff(clock.ticks_ms(), ticks) // 1000
        if clock.valid():
            return clock.now() - elapsed
        # Never 0: the server would read 0 as 1970, not as "now".
        return -max(1, elapsed)

    def _send(self, groups, count, last, untimed, report):
        """Send a batch, settle what was not "ok", acknowledge it."""
        outcomes = ()
        if groups:
            outcomes, size = self.send(groups)
            report["requests"] += 1
            report["bytes"] += size
        failure = None
        if untimed or outcomes.count(None) < len(outcomes):
            from .forward_rare import settle
            failure, unsent = settle(self, groups, outcomes, untimed, report)
            count -= unsent
        self.journal.ack(last)
        report["sent"] += count
        if failure is not None:
            raise failure
