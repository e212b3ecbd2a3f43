"""A copy of uonep 0.1's store and forward (JSON records), kept for the
bench only: store and forward: commits go to the Journal, push drains it in batches.

A commit is one journal record, written atomically: the JSON text
    [timestamp, boot, ticks, [[resource, value], ...]]
where timestamp is Unix seconds, or null when the clock was not valid yet;
then boot (a random id of the boot that made it) and ticks (its ms counter)
let push date the points once the clock is valid. A point may carry its own
timestamp as a third item (points kept back from a failed call).

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

from uonep import rpc
from uonep.errors import CallError, RecordBatchError

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


def new_boot_id():
    """A random id telling this boot's untimed commits from earlier boots'."""
    return int(binascii.hexlify(os.urandom(4)), 16)


def encode_commit(timestamp, boot, ticks, points):
    """The journal record of one commit (bytes)."""
    return rpc.dumps([timestamp, boot, ticks, points]).encode("utf-8")


def decode_commit(payload):
    """(timestamp, boot, ticks, points) or None when the record is unreadable."""
    try:
        timestamp, boot, ticks, points = json.loads(payload)
    except Exception:
        return None
    if not isinstance(points, list):
        return None
    for point in points:
        if not isinstance(point, list) or len(point) not in (2, 3):
            return None
    return timestamp, boot, ticks, points


def _unpack(point, timestamp):
    """(resource, value, timestamp) of a journal point: [resource, value]
    takes its commit's timestamp; [resource, value, ts] (a point kept back
    from a failed call) has its own."""
    if len(point) > 2:
        return point[0], point[1], point[2]
    return point[0], point[1], timestamp


class _Batch:
    """One request's worth of points, grouped by resource, each group's
    points already encoded as the wire wants them ("[ts,v],[ts,v]"): about
    20 bytes of heap per point."""

    def __init__(self):
        self.groups = []      # [resource, bytearray of encoded points]
        self.index = {}       # resource key -> position in groups
        self.size = _ENVELOPE
        self.count = 0
        self.last = None      # journal position of the last commit taken
        self.undatable = []   # (resource, value, record) with no timestamp

    def take(self, position, record, timestamp, max_bytes, max_points):
        """Add a commit's points unless that would break a limit (a batch
        always takes its first commit). Returns False when it did not fit."""
        encoded = []
        size = self.size
        fresh = {}
        for point in record[3]:
            resource, value, stamp = _unpack(point, timestamp)
            if stamp is None:
                encoded.append((None, resource, value))
                continue
            key = resource if isinstance(resource, str) else rpc.dumps(resource)
            text = rpc.point_bytes(stamp, value)
            size += len(text) + 1
            if key not in self.index and key not in fresh:
                fresh[key] = True
                size += _PER_CALL + len(key)
            encoded.append((key, resource, text))
        points = len(record[3])
        if self.last is not None and self.count and (size > max_bytes or (
                max_points is not None and self.count + points > max_points)):
            return False
        for key, resource, item in encoded:
            if key is None:
                self.undatable.append((resource, item, record))
                continue
            where = self.index.get(key)
            if where is None:
                where = self.index[key] = len(self.groups)
                self.groups.append([resource, bytearray()])
            buffer = self.groups[where][1]
            if buffer:
                buffer.extend(b",")
            buffer.extend(item)
        self.size = size
        self.count += points
        self.last = position
        return True


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
        for position, payload in self.journal.pending():
            record = decode_commit(payload)
            if record is None:
                # A record the journal's CRC passed but that is not ours:
                # keep it out of the wire, keep it on flash.
                self.journal.dead_letter(payload, "unreadable commit")
                batch.last = position
                continue
            if not batch.take(position, record, self._date(record), max_bytes, max_points):
                break
        return batch

    def _date(self, record):
        """The commit's timestamp for the wire: as stored; for an untimed
        commit of this boot, its time measured back from now (absolute when
        the clock is valid, else a negative offset, which the server reads as
        "seconds before now"); None for an untimed commit of an earlier boot,
        whose time nothing can tell any more."""
        timestamp, boot, ticks = record[0], record[1], record[2]
        if timestamp is not None:
            return timestamp
        if boot != self.boot or ticks is None:
            return None
        elapsed = self.clock.ticks_diff(self.clock.ticks_ms(), ticks) // 1000
        if self.clock.valid():
            return self.clock.now() - elapsed
        # Never 0: the server would read 0 as 1970, not as "now".
        return -max(1, elapsed)

    def _send(self, batch, report):
        failure = None
        kept = []
        if batch.groups:
            # (The Client's send_recordbatches answers (outcomes, body bytes) now.)
            outcomes, size = self.client.send_recordbatches(batch.groups)
            report["requests"] += 1
            report["bytes"] += size
            for (resource, encoded), outcome in zip(batch.groups, outcomes):
                if _may_pass(outcome):
                    failure = failure or outcome
                    kept.extend([resource, point[1], point[0]] for point in _points(encoded))
                elif outcome is not None:
                    report["dead_lettered"] += self._settle(resource, _points(encoded), outcome)
        for resource, value, record in batch.undatable:
            self.journal.dead_letter(
                encode_commit(None, record[1], record[2], [[resource, value]]),
                "no timestamp: committed before the clock was set, in an earlier boot")
            report["dead_lettered"] += 1
        if kept:
            # The calls that failed but may pass later are committed again on
            # their own, so the batch can be acknowledged without sending the
            # points the server did take a second time.
            self.journal.commit(encode_commit(None, self.boot, None, kept))
        self.journal.ack(batch.last)
        report["sent"] += batch.count - len(kept)
        if failure is not None:
            raise failure

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
