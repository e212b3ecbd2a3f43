"""The paths of uonep.forward that a push going well never takes, imported
on first use: points the server refused for good (dead-lettered) or may
take later (committed again), commits no one can date, and reading a
commit record back (decode_commit, for tests and tools)."""

import json
import struct

from . import forward
from .errors import CallError, RecordBatchError

# Whole-call statuses that will fail the same way on every retry: the points
# go to the dead-letter store instead of blocking the queue forever.
REFUSED = ("invalid", "restricted", "notfound")
# A record of points kept back is split past this many bytes (a journal
# commit holds a little less than 4 KB).
KEPT_BYTES = 3000
UNDATABLE = "no timestamp: committed before the clock was set, in an earlier boot"


def decode_commit(payload):
    """(timestamp, boot, ticks, points) or None when the record is
    unreadable; points are [resource, value], or [resource, value,
    timestamp] when the commit's points have timestamps of their own."""
    try:
        kind = payload[0]
        boot = ticks = None
        if kind == 2:
            boot, ticks = struct.unpack_from("<Iq", payload, 1)
        elif kind != 1:
            return None
        at = 13 if boot is not None else 1
        points = []
        while at < len(payload):
            start, at = forward._field(payload, at)
            resource = bytes(payload[start:at]).decode("utf-8")
            start, at = forward._field(payload, at)
            text = bytes(payload[start:at])
            if kind == 1:
                stamp, value = json.loads(text[1:])
                points.append([resource, value, stamp])
            else:
                points.append([resource, json.loads(text)])
        if at != len(payload):
            return None
        timestamp = None
        if kind == 1 and all(point[2] == points[0][2] for point in points):
            timestamp = points[0][2] if points else None
            points = [point[0:2] for point in points]
        return timestamp, boot, ticks, points
    except Exception:
        return None


def encode_groups(groups):
    """The record of points with their own timestamps: [(resource, [[ts, value], ...])]."""
    out = bytearray([1])
    for resource, points in groups:
        for point in points:
            # A timed commit of the one point, less its kind byte.
            out.extend(forward.encode_commit(point[0], None, None, [[resource, point[1]]])[1:])
    return bytes(out)


def undatable(record):
    """Dead-letter records, one per point, of an untimed commit no one can
    date any more."""
    letters = []
    at = 13
    while at < len(record):
        start = at
        at = forward._field(record, at)[1]
        at = forward._field(record, at)[1]
        letters.append(record[0:13] + record[start:at])
    if at != len(record):
        raise ValueError
    return letters


def settle(uplink, groups, outcomes, untimed, report):
    """What is due before a batch is acknowledged when not all of it went
    "ok": calls that may pass later are committed again, points refused for
    good dead-lettered, and those of untimed commits no one can date.
    Returns (the first CallError that may pass or None, points not
    delivered)."""
    failure = None
    kept = []
    unsent = 0
    for (resource, encoded), outcome in zip(groups, outcomes):
        if _may_pass(outcome):
            failure = failure or outcome
            points = _points(encoded)
            kept.append((resource, points))
            unsent += len(points)
        elif outcome is not None:
            refused = _settle(uplink, resource, _points(encoded), outcome)
            report["dead_lettered"] += refused
            unsent += refused
    for record in untimed:
        try:
            letters = undatable(record)
        except Exception:
            # Not ours after all: kept on flash as it is.
            uplink.journal.dead_letter(record, "unreadable commit")
            continue
        for letter in letters:
            uplink.journal.dead_letter(letter, UNDATABLE)
            report["dead_lettered"] += 1
    if kept:
        # Committed again on their own, so the batch can be acknowledged
        # without sending the points the server did take a second time.
        _keep(uplink.journal, kept)
    return failure, unsent


def _points(encoded):
    """[[ts, value], ...] back from a group's encoded points."""
    return json.loads(b"[" + bytes(encoded) + b"]")


def _may_pass(outcome):
    """A whole-call failure the server may not repeat ("fail", "error",
    "expire"...): worth sending again, unlike "invalid" or "restricted"."""
    return (isinstance(outcome, CallError) and not isinstance(outcome, RecordBatchError)
            and outcome.status not in REFUSED)


def _keep(journal, kept):
    """Commit points kept back, with their timestamps, in records small
    enough for the journal."""
    groups = []
    size = 0
    for resource, points in kept:
        for point in points:
            if size > KEPT_BYTES:
                journal.commit(encode_groups(groups))
                groups = []
                size = 0
            groups.append((resource, [point]))
            size += len(resource) + len(forward.rpc.dumps(point)) + 4
    journal.commit(encode_groups(groups))


def _settle(uplink, resource, points, outcome):
    """Dead-letter what the server refused for good. Returns points moved."""
    if isinstance(outcome, RecordBatchError):
        refused = {}
        for item in outcome.rejected:
            refused[item[0]] = str(item[1])
        rejected = [point for point in points if point[0] in refused]
        for point in rejected:
            _dead_letter(uplink, resource, point, refused[point[0]])
        return len(rejected)
    if isinstance(outcome, CallError):
        for point in points:
            _dead_letter(uplink, resource, point, outcome.status)
        return len(points)
    return 0


def _dead_letter(uplink, resource, point, reason):
    uplink.journal.dead_letter(
        forward.encode_commit(point[0], uplink.boot, None, [[resource, point[1]]]), reason)
