"""What every procedure module shares: the Context a call runs in, the
checks of argument shapes (each raising ArgumentError: that call alone
fails, status "fail", code 501) and the lookup of the resources a call
names."""

import math

from .access import check_spec, resolve
from .errors import ArgumentError, invalid
from .timeseries import show

# what a procedure returns when its answer has no "result"
NOTHING = object()
# resources that hold a time series
SERIES = ("dataport", "datarule", "dispatch")


class Context:
    """What a running call can see: the store, the caller, the time."""

    def __init__(self, store, caller, now, stopping=None):
        self.store = store
        self.caller = caller
        self.now = now
        # set when the server stops, so a long poll gives up at once
        self.stopping = stopping

    def acting_as(self, spec, procedure):
        """This context acting as the client `spec` names (the leading
        <ClientID> of create, listing, lookup, unmap, activate, deactivate);
        `spec` None: as it is."""
        if spec is None:
            return self
        rid, _ = lookup(self, spec, procedure, ("client",), "client")
        return Context(self.store, self.caller.acting_as(rid), self.now, self.stopping)


def lookup(context, spec, procedure, kinds, what):
    """(rid, resource) for a spec naming a resource of one of `kinds`."""
    rid = resolve(context.store, context.caller, spec, procedure, what)
    found = context.store.resource(rid)
    if found["type"] not in kinds:
        raise invalid("%s is a %s, not a %s" % (rid, found["type"], what))
    return rid, found


# -- argument shapes -----------------------------------------------------------

def arity(arguments, low, high=None):
    """The arguments padded with None to `high`, or ArgumentError."""
    high = low if high is None else high
    if not low <= len(arguments) <= high:
        expected = "%d" % low if low == high else "%d to %d" % (low, high)
        raise ArgumentError("expected %s arguments, got %d" % (expected, len(arguments)))
    return arguments + [None] * (high - len(arguments))


def leading_client(arguments, count):
    """(client spec or None, the other arguments) for procedures whose
    documented form starts with a <ClientID> and whose older form does not:
    the form with `count` + 1 arguments has one."""
    if len(arguments) == count + 1:
        return spec(arguments[0]), arguments[1:]
    return None, arguments


def spec(item):
    if not check_spec(item):
        raise ArgumentError("a resource is a RID or {\"alias\": name}, not %s" % show(item))
    return item


def options(item):
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise ArgumentError("options are an object, not %s" % show(item))
    return item


def timestamp(item, optional=False):
    if item is None and optional:
        return None
    whole_number = whole(item)
    if whole_number is None:
        raise ArgumentError("a timestamp is a whole number of seconds, not %s" % show(item))
    return whole_number


def whole(item):
    """An int, or an integral float as an int; None for anything else."""
    if type(item) is float and math.isfinite(item) and item == int(item):
        return int(item)
    return item if type(item) is int else None


def entries(item):
    if not isinstance(item, list):
        raise ArgumentError("entries are a list of [timestamp, value], not %s" % show(item))
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 2:
            raise ArgumentError("an entry is [timestamp, value], not %s" % show(entry))
    return item


def name(item, what="a name"):
    if not isinstance(item, str) or not item:
        raise ArgumentError("%s is a non-empty string, not %s" % (what, show(item)))
    return item

