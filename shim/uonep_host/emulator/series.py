"""Time series procedures: read, write, writegroup, record, recordbatch,
flush, wait. Each is a pair parse(arguments) -> parsed, run(context, parsed)."""

import math
import time

from . import timeseries
from .calls import (NOTHING, SERIES, arity, entries, lookup, options, spec, timestamp,
                    whole)
from .errors import ArgumentError, CallFailure, invalid
from .ingest import prepare, store_points

WAIT_DEFAULT_MS = 30000
WAIT_MAX_MS = 300000


def _writable(context, resource_spec, procedure):
    """(rid, resource) of a dataport a value can be written to."""
    rid, found = lookup(context, resource_spec, procedure, SERIES, "dataport")
    if found["type"] != "dataport":
        raise invalid("%s is a %s: %ss do not run in the emulator, so it takes no points"
                      % (rid, found["type"], found["type"]))
    return rid, found


def _prepared(context, dataport, value):
    try:
        return prepare(context.store, dataport, value)
    except timeseries.Invalid as problem:
        raise invalid(str(problem))


def _absolute(stamp, now):
    """Negative timestamps count back from now."""
    return now + stamp if stamp < 0 else stamp


# -- read -----------------------------------------------------------------------

def parse_read(arguments):
    resource, given = arity(arguments, 1, 2)
    given = options(given)
    sort = given.get("sort", "desc")
    limit = given.get("limit", 1)
    selection = given.get("selection", "all")
    if sort not in ("asc", "desc"):
        raise ArgumentError("sort is \"asc\" or \"desc\", not %s" % timeseries.show(sort))
    if selection not in ("all", "givenwindow", "autowindow"):
        raise ArgumentError("selection is \"all\", \"givenwindow\" or \"autowindow\", not %s"
                            % timeseries.show(selection))
    if type(limit) is not int or limit < 0:
        raise ArgumentError("limit is a whole number >= 0, not %s" % timeseries.show(limit))
    starttime = timestamp(given.get("starttime", 0))
    endtime = timestamp(given.get("endtime"), optional=True)
    return spec(resource), starttime, endtime, sort, limit, selection


def run_read(context, parsed):
    resource, starttime, endtime, sort, limit, selection = parsed
    rid, _ = lookup(context, resource, "read", SERIES, "dataport")
    endtime = context.now if endtime is None else endtime
    points = context.store.points(rid, starttime, endtime)
    return timeseries.select(points, starttime, endtime, sort, limit, selection)


# -- write, writegroup ------------------------------------------------------------

def parse_write(arguments):
    resource, value, given = arity(arguments, 2, 3)
    options(given)
    return spec(resource), value


def run_write(context, parsed):
    resource, value = parsed
    rid, dataport = _writable(context, resource, "write")
    store_points(context.store, context.now, rid, dataport,
                 [(context.now, _prepared(context, dataport, value))])
    return NOTHING


def parse_writegroup(arguments):
    (group,) = arity(arguments, 1)
    if not isinstance(group, list) or not group:
        raise ArgumentError("writegroup takes [[resource, value], ...]")
    for pair in group:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ArgumentError("a writegroup entry is [resource, value], not %s"
                                % timeseries.show(pair))
        spec(pair[0])
    return group


def run_writegroup(context, group):
    """All or nothing: every value is checked before any is stored."""
    checked = []
    for resource, value in group:
        rid, dataport = _writable(context, resource, "writegroup")
        checked.append((rid, dataport, _prepared(context, dataport, value)))
    for rid, dataport, value in checked:
        store_points(context.store, context.now, rid, dataport, [(context.now, value)])
    return NOTHING


# -- record, recordbatch ------------------------------------------------------------

def parse_record(arguments):
    resource, points, given = arity(arguments, 2, 3)
    options(given)
    return spec(resource), entries(points)


def run_record(context, parsed):
    """The deprecated record is all or nothing: one bad point -> "invalid", nothing stored."""
    resource, points = parsed
    rid, dataport = _writable(context, resource, "record")
    stamped, rejected = _stamp(context, points, dataport)
    if rejected:
        raise invalid("nothing recorded: %s" % rejected[0][1])
    store_points(context.store, context.now, rid, dataport, stamped)
    return NOTHING


def parse_recordbatch(arguments):
    resource, points = arity(arguments, 2)
    return spec(resource), entries(points)


def run_recordbatch(context, parsed):
    """Stores every acceptable point; the others are listed in the status as
    [timestamp as sent, "invalid"], and the error message gives the first reason."""
    resource, points = parsed
    rid, dataport = _writable(context, resource, "recordbatch")
    stamped, rejected = _stamp(context, points, dataport)
    store_points(context.store, context.now, rid, dataport, stamped)
    if rejected:
        raise CallFailure([[stamp, "invalid"] for stamp, _ in rejected],
                          "%d of %d points not stored; the first: %s"
                          % (len(rejected), len(points), rejected[0][1]))
    return NOTHING


def _stamp(context, points, dataport):
    """([(absolute timestamp, stored value)], [(timestamp as sent, why refused)])."""
    stamped, rejected = [], []
    for stamp, value in points:
        if whole(stamp) is None:
            rejected.append((stamp, "%s is not a timestamp" % timeseries.show(stamp)))
            continue
        try:
            stored = prepare(context.store, dataport, value)
        except timeseries.Invalid as problem:
            rejected.append((stamp, str(problem)))
            continue
        stamped.append((_absolute(whole(stamp), context.now), stored))
    return stamped, rejected


# -- flush, wait ----------------------------------------------------------------

def parse_flush(arguments):
    resource, window = arity(arguments, 1, 2)
    window = options(window)
    if set(window) - {"newerthan", "olderthan"}:
        raise ArgumentError("flush takes newerthan and olderthan, not %s"
                            % ", ".join(sorted(set(window) - {"newerthan", "olderthan"})))
    return (spec(resource), timestamp(window.get("newerthan"), optional=True),
            timestamp(window.get("olderthan"), optional=True))


def run_flush(context, parsed):
    resource, newerthan, olderthan = parsed
    rid, _ = lookup(context, resource, "flush", SERIES, "dataport")
    context.store.delete_points(rid, newerthan, olderthan)
    return NOTHING


def parse_wait(arguments):
    resource, given = arity(arguments, 1, 2)
    given = options(given)
    timeout = given.get("timeout", WAIT_DEFAULT_MS)
    if type(timeout) not in (int, float) or not 0 <= timeout < math.inf:
        raise ArgumentError("timeout is a number of milliseconds, not %s"
                            % timeseries.show(timeout))
    return (spec(resource), min(timeout, WAIT_MAX_MS),
            timestamp(given.get("since"), optional=True))


def run_wait(context, parsed):
    """Long poll. With `since`: the newest point with a timestamp after it (at
    once if one is already stored). Without: the newest point written after
    the call started. Status "expire" when the timeout passes first."""
    resource, timeout, since = parsed
    store = context.store
    rid, _ = lookup(context, resource, "wait", SERIES, "dataport")
    deadline = time.monotonic() + timeout / 1000.0
    start_seq = store.last_seq(rid) if since is None else None
    # condition shares the store lock, so waiting releases it for writers
    with store.condition:
        while True:
            point = store.newest_point_after(rid, since=since, seq=start_seq)
            if point is not None:
                return point
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (context.stopping is not None and context.stopping.is_set()):
                raise CallFailure("expire", "no new point within %g ms" % timeout, 408)
            store.condition.wait(remaining)


PROCEDURES = {
    "read": (parse_read, run_read),
    "write": (parse_write, run_write),
    "writegroup": (parse_writegroup, run_writegroup),
    "record": (parse_record, run_record),
    "recordbatch": (parse_recordbatch, run_recordbatch),
    "flush": (parse_flush, run_flush),
    "wait": (parse_wait, run_wait),
}
