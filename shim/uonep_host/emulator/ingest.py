"""How points get into a resource: each value runs through the resource's
preprocess steps, is stored in its format, retention is applied, and the
stored points are copied into every dataport subscribed to it (through that
dataport's own preprocess and format, and on to its subscribers).

Datarules and dispatches keep their descriptions but do not run (the
emulator has no Lua): nothing is copied into them.
"""

import math

from . import arrivals, preprocess, timeseries
from .timeseries import Invalid, show


def prepare(store, resource, value):
    """The value as `resource` stores it, or raise Invalid saying why.

    After preprocess, an integer dataport keeps the whole part of a
    fractional result (5 div 2 is stored as 2) and a string dataport stores
    a numeric result as its text ("28.8").
    """
    description = resource["description"]
    steps = description.get("preprocess") or []
    fmt = description.get("format")
    if steps:
        # a database from an older emulator may hold steps it never checked
        trouble = preprocess.problem(steps)
        if trouble:
            raise Invalid(trouble)
        value = preprocess.apply(steps, value,
                                 lambda reference: _latest(store, resource, reference))
        if fmt == "integer" and type(value) is float and math.isfinite(value):
            value = math.trunc(value)
        if fmt == "string" and type(value) in (int, float):
            value = repr(value)
    return timeseries.coerce(value, fmt)


def _latest(store, resource, reference):
    """The latest value of a preprocess operand, a resource named from the
    dataport's owner (its sibling by alias, or a RID in the owner's tree)."""
    owner = resource["owner"]
    if isinstance(reference, dict):
        rid = store.alias_target(owner, reference["alias"])
        named = show(reference["alias"])
    else:
        rid = reference if store.is_within(reference, owner) else None
        named = reference
    if rid is None:
        raise Invalid("preprocess operand: no resource %s" % named)
    point = store.latest_point(rid)
    if point is None:
        raise Invalid("preprocess operand %s has no value yet" % named)
    return point[1]


def store_points(store, now, rid, resource, stamped):
    """Store prepared [(timestamp, value), ...] in `rid`, note them in the
    arrival log, apply its retention, and publish the points to its
    subscribers."""
    _note_arrivals(store, now, rid, resource, stamped)
    _put(store, now, rid, resource, stamped)
    _publish(store, now, rid, stamped, (rid,))


def _note_arrivals(store, now, rid, resource, stamped):
    """Note each point as new, duplicate or replaced, judged against the
    store and the points before it in the same call."""
    if not stamped:
        return
    stored = store.values_at(rid, [timestamp for timestamp, _ in stamped])
    noted = []
    for timestamp, value in stamped:
        noted.append((timestamp, value, arrivals.seen(stored, timestamp, value)))
        stored[timestamp] = value
    store.arrivals.note(resource["owner"], rid, noted, now)


def _put(store, now, rid, resource, stamped):
    for timestamp, value in stamped:
        store.put_point(rid, timestamp, value)
    enforce_retention(store, now, rid, resource["description"])


def _publish(store, now, source, stamped, path):
    """Copy points into the dataports subscribed to `source`; a point that
    does not fit a subscriber is not copied there. `path` stops cycles."""
    for subscriber in store.subscribers(source):
        found = store.resource(subscriber)
        if subscriber in path or found is None or found["type"] != "dataport":
            continue
        copied = []
        for timestamp, value in stamped:
            try:
                copied.append((timestamp, prepare(store, found, value)))
            except Invalid:
                continue
        if copied:
            _put(store, now, subscriber, found, copied)
            _publish(store, now, subscriber, copied, path + (subscriber,))


def enforce_retention(store, now, rid, description):
    count, oldest = timeseries.retention_limits(description, now)
    if oldest is not None:
        store.delete_points(rid, olderthan=oldest)
    if count is not None:
        store.keep_newest(rid, count)
