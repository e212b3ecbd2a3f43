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
"""

import binascii
import gc
import json
import os
import struct

from . import rpc
from .clock import Clock
from .errors import CallError, RecordBatchError

try:
    from micropython import const
except ImportError:          # CPython
    const = int  # type: ignore[assignment]

# Whole-call statuses that will fail the same way on every retry: the points
# go to the dead-letter store instead of blocking the queue forever.
REFUSED = ("invalid", "restricted", "notfound")
# Bytes of request body per HTTP request; bounded so a push needs the same
# heap for 100 points as for 10,000.
MAX_BYTES = 4096
# The envelope around the calls (auth, brackets) and around each call (id,
# procedure name, alias object): upper bounds, so a batch stays in budget.
_ENVELOPE = const(112)
_PER_CALL = const(64)
# A record of points kept back is split past this many bytes (a journal
# commit holds a little less than 4 KB).
_KEPT_BYTES = const(3000)
_TIMED = const(1)
_UNTIMED = const(2)


def new_boot_id():
    """A random id telling this boot's untimed commits from earlier boots'."""
    return int(binascii.hexlify(os.urandom(4)), 16)


def _put(out, data):
    """Append a length and data to out."""
    size = len(data)
    if size < 0x80:
        out.append(size)
    else:
        out.extend(struct.pack(">H", 0x8000 | size))
    out.extend(data)


def _field(payload, at):
    """(start, end) of the field at offset at."""
    size = payload[at]
    if size < 0x80:
        return at + 1, at + 1 + size
    size = (size & 0x7F) << 8 | payload[at + 1]
    return at + 2, at + 2 + size


def encode_commit(timestamp, boot, ticks, points):
    """The journal record of one commit (bytes); points: [[resource, value], ...]."""
    if timestamp is None:
        out = bytearray(struct.pack("<BIq", _UNTIMED, boot & 0xFFFFFFFF, ticks or 0))
        for resource, value in points:
            _put(out, resource.encode("utf-8"))
            _put(out, rpc.dumps(value).encode("utf-8"))
        return bytes(out)
    return encode_groups([(resource, [[timestamp, value]]) for resource, value in points])


def encode_groups(groups):
    """The record of points with their own timestamps: [(resource, [[ts, value], ...])]."""
    out = bytearray([_TIMED])
    for resource, points in groups:
        key = resource.encode("utf-8")
        for point in points:
            _put(out, key)
            _put(out, b"," + rpc.point_bytes(point[0], point[1]))
    return bytes(out)


def decode_commit(payload):
    """(timestamp, boot, ticks, points) or None when the record is
    unreadable; points are [resource, value], or [resource, value,
    timestamp] when the commit's points have timestamps of their own."""
    try:
        kind = payload[0]
        boot = ticks = None
        if kind == _UNTIMED:
            boot, ticks = struct.unpack_from("<Iq", payload, 1)
        elif kind != _TIMED:
            return None
        at = 13 if boot is not None else 1
        points = []
        while at < len(payload):
            start, at = _field(payload, at)
            resource = bytes(payload[start:at]).decode("utf-8")
            start, at = _field(payload, at)
            text = bytes(payload[start:at])
            if kind == _TIMED:
                stamp, value = json.loads(text[1:])
                points.append([resource, value, stamp])
            else:
                points.append([resource, json.loads(text)])
        if at != len(payload):
            return None
        timestamp = None
        if kind == _TIMED and all(point[2] == points[0][2] for point in points):
            timestamp = points[0][2] if points else None
            points = [point[0:2] for point in points]
        return timestamp, boot, ticks, points
    except Exception:
        return None


class _Batch:
    """One request's worth of points, grouped by resource, each group's
    points already encoded as the wire wants them ("[ts,v],[ts,v]")."""

    def __init__(self, room):
        self.groups = []      # [resource, bytearray of encoded points]
        self.index = {}       # resource (bytes) -> its group
        self.size = _ENVELOPE
        self.count = 0
        self.last = None      # journal position of the last commit taken
        self.undatable = []   # dead-letter records of points with no timestamp
        self.key = None       # length and resource of the last one-point commit
        self.buffer = None    # and its group
        self.room = room      # the first group's buffer: empty, with room
        self.full = False     # stopped at a limit: more is pending

    def take(self, position, payload, forwarder, max_bytes, max_points):
        """Add a commit's points unless that would break a limit (a batch
        always takes its first commit). True when taken, False when it
        did not fit, None when the record is unreadable."""
        groups = len(self.groups)
        size = self.size
        marks = []            # (group, its length before) to take it back
        try:
            count = self._add(payload, forwarder, marks)
        except MemoryError:
            # The heap, not the record: it stays in the journal (the app
            # then pushes in smaller requests).
            self._undo(groups, size, marks)
            raise
        except Exception:
            count = None
        if count is None or (self.count and (self.size > max_bytes or (
                max_points is not None and self.count + count > max_points))):
            self._undo(groups, size, marks)
            return None if count is None else False
        self.count += count
        self.last = position
        return True

    def _undo(self, groups, size, marks):
        """Take back what the last record added."""
        for buffer, length in marks:
            buffer[length:] = b""
        if len(self.groups) > groups:
            for resource, _ in self.groups[groups:]:
                del self.index[resource.encode("utf-8")]
            self.groups[groups:] = []
        self.size = size

    def _add(self, payload, forwarder, marks):
        """Append the record's points; returns how many."""
        kind = payload[0]
        at = 1
        if kind == _UNTIMED:
            at = 13
            timestamp = forwarder.date(*struct.unpack_from("<Iq", payload, 1))
            if timestamp is None:
                self._undatable(payload, at)
                return 0
            stamp = b",[%d," % timestamp
        elif kind != _TIMED:
            raise ValueError
        count = 0
        size = self.size
        index = self.index
        length = len(payload)
        self.key = None
        while at < length:
            begin = at
            start, at = _field(payload, at)
            key = payload[start:at]
            prefix = payload[begin:at]
            buffer = index.get(key)
            if buffer is None:
                # The first group gets the push's buffer (see push).
                buffer = index[key] = bytearray() if self.groups else self.room
                self.groups.append([bytes(key).decode("utf-8"), buffer])
                size += _PER_CALL + at - start
            marks.append((buffer, len(buffer)))
            start, at = _field(payload, at)
            if kind == _TIMED:
                # ",[ts,v]": without its comma at the start of a group.
                text = payload[start + (0 if buffer else 1):at]
            else:
                text = stamp + payload[start:at] + b"]"
                if not buffer:
                    text = text[1:]
            buffer.extend(text)
            size += len(text)
            count += 1
            if kind == _TIMED and at == length and count == 1:
                self.key = prefix
                self.buffer = buffer
        if at != length:
            raise ValueError
        self.size = size
        return count

    def _undatable(self, payload, at):
        """Dead-letter records, one per point, of a commit no one can date."""
        letters = []
        while at < len(payload):
            start = at
            at = _field(payload, at)[1]
            at = _field(payload, at)[1]
            letters.append(bytes(payload[0:13]) + bytes(payload[start:at]))
        if at != len(payload):
            raise ValueError
        self.undatable.extend(letters)


def _points(encoded):
    """[[ts, value], ...] back from a group's encoded points (failure paths only)."""
    return json.loads(b"[" + bytes(encoded) + b"]")


class Uplink:
    """Store and forward over one Journal: add_value stages values, commit
    writes them to the journal as one record, push sends what is committed.

    sender: a Client, or any function(groups) -> (outcomes, body bytes)
    sending [(resource, b"[ts,v],..."), ...] as recordbatch calls in one
    request (Client.send_recordbatches); tests give a fake. journal: a
    uonep.Journal. clock: a uonep.clock.Clock (the board's by default).
    boot: this boot's id (random by default), which dates untimed commits."""

    def __init__(self, sender, journal, clock=None, boot=None):
        self.send = sender if callable(sender) else sender.send_recordbatches
        self.journal = journal
        self.clock = clock or Clock()
        self.boot = new_boot_id() if boot is None else boot
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
        # One buffer for the points of every batch (emptied, a bytearray
        # keeps its capacity on MicroPython): what is pending, up to a
        # request's worth. The points of a one-resource push are then
        # appended without it being reallocated across a small heap.
        room = bytearray(min(max_bytes - _ENVELOPE - _PER_CALL,
                             self.journal.stats()["pending_bytes"]))
        while max_points is None or taken < max_points:
            budget = None if max_points is None else max_points - taken
            batch = self._collect(budget, max_bytes, room)
            if batch.last is None:
                break
            taken += batch.count
            if batch.full or taken > batch.count:
                # A push of several requests (one that fits a request pays
                # nothing): each body is built on a collected heap, where the
                # request-sized blocks of the batch before are free runs
                # again, not amid what reading this batch left.
                gc.collect()
            self._send(batch, report)
            # The rest of the batch is let go of, and collected when a next
            # batch follows, before it is read: its objects then take the
            # lowest holes, not the free runs the bodies need.
            if batch.full:
                batch = None
                gc.collect()
        report["remaining"] = self.journal.stats()["pending"]
        return report

    def _collect(self, max_points, max_bytes, room):
        """The next batch, read from the journal up to what fits in one
        request; room: the buffer for its first group."""
        room[0:] = b""
        batch = _Batch(room)
        limit = 1 << 30 if max_points is None else max_points
        # The batch's running figures, kept in locals for the common case.
        key = buffer = last = None
        size = batch.size
        count = klen = 0
        for position, data, start, end in self.journal.pending_slices():
            if key and data[start] == _TIMED and data.startswith(key, start + 1) and \
                    count < limit:
                # The common case, kept short: one timed point, of the
                # resource of the commit before: its text as it is.
                at = start + 2 + klen
                if data[at - 1] + at == end:
                    if size + end - at > max_bytes:
                        batch.full = True
                        break
                    buffer.extend(data[at:end])
                    size += end - at
                    count += 1
                    last = position
                    continue
            payload = bytes(data[start:end])
            batch.size, batch.count, batch.last = size, count, last
            taken = batch.take(position, payload, self, max_bytes, max_points)
            if taken is None:
                # A record the journal's CRC passed but that is not ours:
                # keep it out of the wire, keep it on flash.
                self.journal.dead_letter(payload, "unreadable commit")
                batch.last = position
            size, count, last, key, buffer = (batch.size, batch.count, batch.last, batch.key,
                                              batch.buffer)
            klen = len(key) if key else 0
            if taken is False:
                batch.full = True
                break
        batch.size, batch.count, batch.last = size, count, last
        return batch

    def date(self, boot, ticks):
        """The wire timestamp of an untimed commit: for one of this boot,
        its time measured back from now (absolute when the clock is valid,
        else a negative offset, which the server reads as "seconds before
        now"); None for one of an earlier boot, whose time nothing can tell
        any more."""
        if boot != self.boot & 0xFFFFFFFF:
            return None
        elapsed = self.clock.ticks_diff(self.clock.ticks_ms(), ticks) // 1000
        if self.clock.valid():
            return self.clock.now() - elapsed
        # Never 0: the server would read 0 as 1970, not as "now".
        return -max(1, elapsed)

    def _send(self, batch, report):
        failure = None
        kept = []
        sent = batch.count
        if batch.groups:
            outcomes, size = self.send(batch.groups)
            report["requests"] += 1
            report["bytes"] += size
            for (resource, encoded), outcome in zip(batch.groups, outcomes):
                if _may_pass(outcome):
                    failure = failure or outcome
                    points = _points(encoded)
                    kept.append((resource, points))
                    sent -= len(points)
                elif outcome is not None:
                    refused = self._settle(resource, _points(encoded), outcome)
                    report["dead_lettered"] += refused
                    sent -= refused
        for letter in batch.undatable:
            self.journal.dead_letter(
                letter, "no timestamp: committed before the clock was set, in an earlier boot")
            report["dead_lettered"] += 1
        if kept:
            # The calls that failed but may pass later are committed again on
            # their own, so the batch can be acknowledged without sending the
            # points the server did take a second time.
            self._keep(kept)
        self.journal.ack(batch.last)
        report["sent"] += sent
        if failure is not None:
            raise failure

    def _keep(self, kept):
        """Commit points kept back, with their timestamps, in records small
        enough for the journal."""
        groups = []
        size = 0
        for resource, points in kept:
            for point in points:
                if size > _KEPT_BYTES:
                    self.journal.commit(encode_groups(groups))
                    groups = []
                    size = 0
                groups.append((resource, [point]))
                size += len(resource) + len(rpc.dumps(point)) + 4
        self.journal.commit(encode_groups(groups))

    def _settle(self, resource, points, outcome):
        """Dead-letter what the server refused for good. Returns points moved."""
        if isinstance(outcome, RecordBatchError):
            refused = {}
            for item in outcome.rejected:
                refused[item[0]] = str(item[1])
            rejected = [point for point in points if point[0] in refused]
            for point in rejected:
                self._dead_letter(resource, point, refused[point[0]])
            return len(rejected)
        if isinstance(outcome, CallError):
            for point in points:
                self._dead_letter(resource, point, outcome.status)
            return len(points)
        return 0

    def _dead_letter(self, resource, point, reason):
        self.journal.dead_letter(
            encode_commit(point[0], self.boot, None, [[resource, point[1]]]), reason)


def _may_pass(outcome):
    """A whole-call failure the server may not repeat ("fail", "error",
    "expire"...): worth sending again, unlike "invalid" or "restricted"."""
    return (isinstance(outcome, CallError) and not isinstance(outcome, RecordBatchError)
            and outcome.status not in REFUSED)
