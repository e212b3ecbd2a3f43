"""Store and forward: commits go to the Journal, push drains it in batches.

A commit is one journal record (format 2), its points pre-encoded for the
wire so that push copies bytes instead of parsing JSON:
    1 | timestamp (u32) | points            Unix seconds
    2 | boot (u32) | ticks (i64) | points   no valid clock yet: dated at push
    3 | groups                             points with their own timestamps
where a point is resource | value (its JSON text), a group is resource |
count (u16) | b"[ts,v],[ts,v]" (recordbatch's own text), and each of these
fields is a length (1 byte below 128, else 2 bytes, high bit set) and its
bytes. boot (a random id of the boot that made it) and ticks (its ms
counter) let push date an untimed commit once the clock is valid. (uonep
0.1 wrote JSON text: uonep.migrate converts its journal.)

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
import json
import os
import struct

from . import rpc
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
_ENVELOPE = 112
_PER_CALL = 64
# A record of points kept back is split past this many bytes (a journal
# commit holds a little less than 4 KB).
_KEPT_BYTES = 3000
_TIMED = const(1)
_UNTIMED = const(2)
_GROUPS = const(3)


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
    elif 0 <= timestamp <= 0xFFFFFFFF:
        out = bytearray(struct.pack("<BI", _TIMED, timestamp))
    else:
        return encode_groups([(resource, [[timestamp, value]]) for resource, value in points])
    for resource, value in points:
        _put(out, resource.encode("utf-8"))
        _put(out, rpc.dumps(value).encode("utf-8"))
    return bytes(out)


def encode_groups(groups):
    """The record of points with their own timestamps: [(resource, [[ts, value], ...])]."""
    out = bytearray([_GROUPS])
    for resource, points in groups:
        _put(out, resource.encode("utf-8"))
        out.extend(struct.pack("<H", len(points)))
        _put(out, rpc.dumps(points)[1:-1].encode("utf-8"))
    return bytes(out)


def decode_commit(payload):
    """(timestamp, boot, ticks, points) or None when the record is
    unreadable; points are [resource, value] or, with their own
    timestamp, [resource, value, timestamp]."""
    try:
        kind = payload[0]
        timestamp = boot = ticks = None
        if kind == _TIMED:
            timestamp = struct.unpack_from("<I", payload, 1)[0]
            at = 5
        elif kind == _UNTIMED:
            boot, ticks = struct.unpack_from("<Iq", payload, 1)
            at = 13
        elif kind == _GROUPS:
            at = 1
        else:
            return None
        points = []
        while at < len(payload):
            start, at = _field(payload, at)
            resource = bytes(payload[start:at]).decode("utf-8")
            if kind == _GROUPS:
                at += 2
            start, at = _field(payload, at)
            text = bytes(payload[start:at])
            if kind == _GROUPS:
                points.extend([resource, item[1], item[0]] for item in json.loads(b"[" + text + b"]"))
            else:
                points.append([resource, json.loads(text)])
        if at != len(payload):
            return None
        return timestamp, boot, ticks, points
    except Exception:
        return None


class _Batch:
    """One request's worth of points, grouped by resource, each group's
    points already encoded as the wire wants them ("[ts,v],[ts,v]")."""

    def __init__(self):
        self.groups = []      # [resource, bytearray of encoded points]
        self.index = {}       # resource (bytes) -> its group
        self.size = _ENVELOPE
        self.count = 0
        self.last = None      # journal position of the last commit taken
        self.undatable = []   # dead-letter records of points with no timestamp
        self.key = None       # length and resource of the last one-point commit
        self.buffer = None    # and its group

    def take(self, position, payload, forwarder, max_bytes, max_points):
        """Add a commit's points unless that would break a limit (a batch
        always takes its first commit). True when taken, False when it
        did not fit, None when the record is unreadable."""
        groups = len(self.groups)
        size = self.size
        marks = []            # (group, its length before) to take it back
        try:
            count = self._add(payload, forwarder, marks)
        except Exception:
            count = None
        if count is None or (self.count and (self.size > max_bytes or (
                max_points is not None and self.count + count > max_points))):
            for buffer, length in marks:
                buffer[length:] = b""
            if len(self.groups) > groups:
                for resource, _ in self.groups[groups:]:
                    del self.index[resource.encode("utf-8")]
                self.groups[groups:] = []
            self.size = size
            return None if count is None else False
        self.count += count
        self.last = position
        return True

    def _add(self, payload, forwarder, marks):
        """Append the record's points; returns how many."""
        kind = payload[0]
        if kind == _TIMED:
            stamp = b"[%d," % struct.unpack_from("<I", payload, 1)[0]
            at = 5
        elif kind == _UNTIMED:
            at = 13
            timestamp = forwarder.date(*struct.unpack_from("<Iq", payload, 1))
            if timestamp is None:
                self._undatable(payload, at)
                return 0
            stamp = b"[%d," % timestamp
        elif kind == _GROUPS:
            at = 1
        else:
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
                buffer = index[key] = bytearray()
                self.groups.append([bytes(key).decode("utf-8"), buffer])
                size += _PER_CALL + at - start
            marks.append((buffer, len(buffer)))
            if buffer:
                buffer.extend(b",")
                size += 1
            if kind == _GROUPS:
                count += struct.unpack_from("<H", payload, at)[0]
                start, at = _field(payload, at + 2)
                buffer.extend(payload[start:at])
                size += at - start
                continue
            start, at = _field(payload, at)
            buffer.extend(stamp)
            buffer.extend(payload[start:at])
            buffer.extend(b"]")
            size += len(stamp) + at - start + 1
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


class Forwarder:
    """The push side, given a Client (to send) and its Journal."""

    def __init__(self, client, journal, boot, clock):
        self.client = client
        self.journal = journal
        self.boot = boot
        self.clock = clock

    def push(self, max_points=None, max_bytes=MAX_BYTES):
        """Send pending commits; return a report dict. Raises TransportError
        (retry later), AuthError or another OnepError with all unsent data
        still in the journal."""
        report = {"sent": 0, "requests": 0, "bytes": 0, "dead_lettered": 0, "remaining": 0}
        while max_points is None or report["sent"] < max_points:
            budget = None if max_points is None else max_points - report["sent"]
            batch = self._collect(budget, max_bytes)
            if batch.last is None:
                break
            self._send(batch, report)
        report["remaining"] = self.journal.stats()["pending"]
        return report

    def _collect(self, max_points, max_bytes):
        """The next batch, read from the journal up to what fits in one request."""
        batch = _Batch()
        limit = 1 << 30 if max_points is None else max_points
        unpack = struct.unpack_from
        # The batch's running figures, kept in locals for the common case.
        key = buffer = last = None
        size = batch.size
        count = 0
        for position, payload in self.journal.pending():
            if key and payload[0] == _TIMED and payload.startswith(key, 5) and count < limit:
                # The common case, kept short: one timed point, of the
                # resource of the commit before.
                at = 6 + len(key)
                if payload[at - 1] + at == len(payload):
                    text = b",[%d,%s]" % (unpack("<I", payload, 1)[0], payload[at:])
                    if size + len(text) > max_bytes:
                        break
                    buffer.extend(text)
                    size += len(text)
                    count += 1
                    last = position
                    continue
            batch.size, batch.count, batch.last = size, count, last
            taken = batch.take(position, payload, self, max_bytes, max_points)
            if taken is None:
                # A record the journal's CRC passed but that is not ours:
                # keep it out of the wire, keep it on flash.
                self.journal.dead_letter(payload, "unreadable commit")
                batch.last = position
            size, count, last, key, buffer = (batch.size, batch.count, batch.last, batch.key,
                                              batch.buffer)
            if taken is False:
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
            outcomes = self.client.send_recordbatches(batch.groups)
            report["requests"] += 1
            report["bytes"] += self.client.last_body_bytes
            for (resource, encoded), outcome in zip(batch.groups, outcomes):
                if _may_pass(outcome):
                    failure = failure or outcome
                    points = _points(encoded)
                    kept.append((resource, points))
                    sent -= len(points)
                elif outcome is not None:
                    report["dead_lettered"] += self._settle(resource, _points(encoded), outcome)
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
                if groups and size > _KEPT_BYTES:
                    self.journal.commit(encode_groups(groups))
                    groups = []
                    size = 0
                if not groups or groups[-1][0] != resource:
                    groups.append((resource, []))
                    size += len(resource) + 6
                groups[-1][1].append(point)
                size += len(rpc.dumps(point)) + 1
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
