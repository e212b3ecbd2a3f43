"""The semantics of every JSON-RPC procedure, over the Store.

Each procedure is a pair: `parse(arguments)` checks the shape of the
arguments before any call of the request runs (raising ArgumentError, a
request-level 501) and returns what `run(context, parsed)` needs; `run`
does the work inside one database transaction and returns the result, or
NOTHING for procedures without one, or raises CallFailure.
"""

import math
import time

from . import timeseries
from .access import check_spec, is_key, resolve
from .errors import ArgumentError, CallFailure, not_implemented
from .store import new_key

NOTHING = object()
WAIT_DEFAULT_MS = 30000
WAIT_MAX_MS = 300000
GRANT_TTL_DEFAULT = 3600
LISTING_TYPES = ("client", "dataport", "datarule", "dispatch")
INFO_KEYS = ("basic", "description", "storage", "aliases", "key", "counts", "usage",
             "shares", "subscribers", "tags")
PERMISSIONS = ("read", "write")
UPDATABLE = ("name", "meta", "public", "retention", "preprocess", "subscribe", "limits",
             "locked", "format")


class Context:
    """What a running call can see: the store, the caller, the time."""

    def __init__(self, store, caller, now, stopping=None):
        self.store = store
        self.caller = caller
        self.now = now
        # set when the server stops, so a long poll gives up at once
        self.stopping = stopping


# -- argument checks ------------------------------------------------------------

def _arity(arguments, low, high=None):
    high = low if high is None else high
    if not isinstance(arguments, list) or not low <= len(arguments) <= high:
        raise ArgumentError("expected %d to %d arguments" % (low, high))
    return arguments + [None] * (high - len(arguments))


def _spec(item):
    if not check_spec(item):
        raise ArgumentError("a resource is a RID or {\"alias\": name}")
    return item


def _options(item):
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise ArgumentError("options must be an object")
    return item


def _timestamp(item, optional=False):
    if item is None and optional:
        return None
    item = _whole(item)
    if item is None:
        raise ArgumentError("a timestamp is an integer")
    return item


def _whole(item):
    """An int, or an integral float as an int; None for anything else."""
    if type(item) is float and math.isfinite(item) and item == int(item):
        return int(item)
    return item if type(item) is int else None


def _entries(item):
    if not isinstance(item, list):
        raise ArgumentError("entries must be a list of [timestamp, value]")
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 2:
            raise ArgumentError("each entry must be [timestamp, value]")
    return item


def _name(item):
    if not isinstance(item, str) or not item:
        raise ArgumentError("a name must be a non-empty string")
    return item


# -- shared steps -----------------------------------------------------------------

def _dataport(context, spec, need):
    """(rid, resource) for a spec that must name a dataport."""
    rid = resolve(context.store, context.caller, spec, need)
    found = context.store.resource(rid)
    if found is None or found["type"] != "dataport":
        raise CallFailure("invalid")
    return rid, found


def _client(context, spec, need=None):
    rid = resolve(context.store, context.caller, spec, need)
    found = context.store.resource(rid)
    if found is None or found["type"] != "client":
        raise CallFailure("invalid")
    return rid, found


def _coerce(value, dataport):
    try:
        return timeseries.coerce(value, dataport["description"].get("format"))
    except timeseries.Invalid:
        raise CallFailure("invalid")


def _absolute(timestamp, now):
    """Negative timestamps count back from now."""
    return now + timestamp if timestamp < 0 else timestamp


def _store_points(context, rid, dataport, stamped):
    for timestamp, value in stamped:
        context.store.put_point(rid, timestamp, value)
    _enforce_retention(context, rid, dataport["description"])


def _enforce_retention(context, rid, description):
    count, oldest = timeseries.retention_limits(description, context.now)
    if oldest is not None:
        context.store.delete_points(rid, olderthan=oldest)
    if count is not None:
        context.store.keep_newest(rid, count)


def _refuse_token(context):
    if context.caller.limited:
        raise CallFailure("restricted")


# -- time series ------------------------------------------------------------------

def parse_read(arguments):
    spec, options = _arity(arguments, 1, 2)
    options = _options(options)
    sort = options.get("sort", "desc")
    limit = options.get("limit", 1)
    selection = options.get("selection", "all")
    if sort not in ("asc", "desc") or selection not in ("all", "givenwindow", "autowindow"):
        raise ArgumentError("bad sort or selection")
    if type(limit) is not int or limit < 0:
        raise ArgumentError("limit must be a non-negative integer")
    starttime = _timestamp(options.get("starttime", 0))
    endtime = _timestamp(options.get("endtime"), optional=True)
    return _spec(spec), starttime, endtime, sort, limit, selection


def run_read(context, parsed):
    spec, starttime, endtime, sort, limit, selection = parsed
    rid, _ = _dataport(context, spec, "read")
    endtime = context.now if endtime is None else endtime
    points = context.store.points(rid, starttime, endtime)
    return timeseries.select(points, starttime, endtime, sort, limit, selection)


def parse_write(arguments):
    spec, value, options = _arity(arguments, 2, 3)
    _options(options)
    return _spec(spec), value


def run_write(context, parsed):
    spec, value = parsed
    rid, dataport = _dataport(context, spec, "write")
    _store_points(context, rid, dataport, [(context.now, _coerce(value, dataport))])
    return NOTHING


def parse_writegroup(arguments):
    (group,) = _arity(arguments, 1)
    if not isinstance(group, list) or not group:
        raise ArgumentError("writegroup takes [[resource, value], ...]")
    for pair in group:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ArgumentError("each writegroup entry is [resource, value]")
        _spec(pair[0])
    return group


def run_writegroup(context, group):
    """All or nothing: every value is checked before any is stored."""
    checked = []
    for spec, value in group:
        rid, dataport = _dataport(context, spec, "write")
        checked.append((rid, dataport, _coerce(value, dataport)))
    for rid, dataport, value in checked:
        _store_points(context, rid, dataport, [(context.now, value)])
    return NOTHING


def parse_record(arguments):
    spec, entries, options = _arity(arguments, 2, 3)
    _options(options)
    return _spec(spec), _entries(entries)


def run_record(context, parsed):
    """The deprecated record is all or nothing: one bad point -> "invalid", nothing stored."""
    spec, entries = parsed
    rid, dataport = _dataport(context, spec, "write")
    stamped, rejected = _stamp(entries, dataport, context.now)
    if rejected:
        raise CallFailure("invalid")
    _store_points(context, rid, dataport, stamped)
    return NOTHING


def parse_recordbatch(arguments):
    spec, entries = _arity(arguments, 2)
    return _spec(spec), _entries(entries)


def run_recordbatch(context, parsed):
    """Stores every acceptable point; the others are listed in the status as
    [timestamp as sent, "invalid"]."""
    spec, entries = parsed
    rid, dataport = _dataport(context, spec, "write")
    stamped, rejected = _stamp(entries, dataport, context.now)
    _store_points(context, rid, dataport, stamped)
    if rejected:
        raise CallFailure([[timestamp, "invalid"] for timestamp in rejected])
    return NOTHING


def _stamp(entries, dataport, now):
    stamped, rejected = [], []
    for timestamp, value in entries:
        try:
            if _whole(timestamp) is None:
                raise timeseries.Invalid()
            value = timeseries.coerce(value, dataport["description"].get("format"))
        except timeseries.Invalid:
            rejected.append(timestamp)
            continue
        stamped.append((_absolute(_whole(timestamp), now), value))
    return stamped, rejected


def parse_flush(arguments):
    spec, window = _arity(arguments, 1, 2)
    window = _options(window)
    if set(window) - {"newerthan", "olderthan"}:
        raise ArgumentError("flush takes newerthan and olderthan")
    return (_spec(spec), _timestamp(window.get("newerthan"), optional=True),
            _timestamp(window.get("olderthan"), optional=True))


def run_flush(context, parsed):
    spec, newerthan, olderthan = parsed
    rid, _ = _dataport(context, spec, None)  # tokens may not flush
    context.store.delete_points(rid, newerthan, olderthan)
    return NOTHING


def parse_wait(arguments):
    spec, options = _arity(arguments, 1, 2)
    options = _options(options)
    timeout = options.get("timeout", WAIT_DEFAULT_MS)
    if type(timeout) not in (int, float) or not 0 <= timeout < math.inf:
        raise ArgumentError("timeout is a number of milliseconds")
    return _spec(spec), min(timeout, WAIT_MAX_MS), _timestamp(options.get("since"), optional=True)


def run_wait(context, parsed):
    """Long poll. With `since`: the newest point with a timestamp after it (at
    once if one is already stored). Without: the newest point written after
    the call started. Status "expire" when the timeout passes first."""
    spec, timeout, since = parsed
    store = context.store
    rid, _ = _dataport(context, spec, "read")
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
                raise CallFailure("expire")
            store.condition.wait(remaining)


# -- resources --------------------------------------------------------------------

def parse_create(arguments):
    kind, description = _arity(arguments, 1, 2)
    if kind not in ("client", "dataport", "datarule", "dispatch", "clone"):
        raise ArgumentError("unknown resource type")
    return kind, _options(description)


def run_create(context, parsed):
    """client and dataport resources; the others answer a per-call 501."""
    kind, description = parsed
    _refuse_token(context)
    store = context.store
    if kind == "dataport":
        full = dataport_description(description)
        return store.add_resource("dataport", context.caller.client, full, context.now)
    if kind == "client":
        full = client_description(description)
        return store.add_resource("client", context.caller.client, full, context.now,
                                  cik=new_key())
    raise not_implemented("create " + kind)


def dataport_description(description):
    """A dataport description with defaults filled in; "invalid" if unusable."""
    full = {"format": None, "name": "", "meta": "", "public": False, "preprocess": [],
            "retention": {"count": "infinity", "duration": "infinity"}, "subscribe": None}
    full.update(description)
    if full["format"] not in timeseries.FORMATS or not timeseries.valid_retention(full["retention"]):
        raise CallFailure("invalid")
    full["retention"] = dict({"count": "infinity", "duration": "infinity"}, **full["retention"])
    return full


def client_description(description):
    full = {"name": "", "meta": "", "public": False, "limits": {}, "locked": False}
    full.update(description)
    return full


def parse_update(arguments):
    spec, description = _arity(arguments, 2)
    if not isinstance(description, dict):
        raise ArgumentError("update takes a description object")
    return _spec(spec), description


def run_update(context, parsed):
    """Merges the given keys; a dataport's format cannot change."""
    spec, changes = parsed
    _refuse_token(context)
    rid = resolve(context.store, context.caller, spec)
    found = context.store.resource(rid)
    description = dict(found["description"])
    if set(changes) - set(UPDATABLE):
        raise CallFailure("invalid")
    if "format" in changes and changes["format"] != description.get("format"):
        raise CallFailure("invalid")
    if "retention" in changes and not timeseries.valid_retention(changes["retention"]):
        raise CallFailure("invalid")
    description.update(changes)
    if "retention" in changes:
        description["retention"] = dict(found["description"].get("retention", {}),
                                        **changes["retention"])
    context.store.update_resource(rid, context.now, description=description)
    if found["type"] == "dataport":
        _enforce_retention(context, rid, description)
    return NOTHING


def parse_info(arguments):
    spec, options = _arity(arguments, 1, 2)
    options = _options(options)
    if set(options) - set(INFO_KEYS):
        raise ArgumentError("unknown info option")
    return _spec(spec), options


def run_info(context, parsed):
    spec, options = parsed
    rid = resolve(context.store, context.caller, spec, "read")
    found = context.store.resource(rid)
    wanted = [key for key in INFO_KEYS if options.get(key)] if options else list(INFO_KEYS)
    answer = {}
    for key in wanted:
        if key == "key":
            # a client's CIK is told only to its owner
            if found["type"] == "client" and found["owner"] == context.caller.client \
                    and not context.caller.limited:
                answer["key"] = found["cik"]
            continue
        answer[key] = INFO_PARTS[key](context, found)
    return answer


def _info_basic(context, found):
    return {"type": found["type"], "created": found["created"], "modified": found["modified"],
            "status": "activated", "subscribers": 0}


def _info_storage(context, found):
    if found["type"] != "dataport":
        return {}
    count, first, last, size = context.store.point_stats(found["rid"])
    return {"count": count, "first": first, "last": last, "size": size}


def _info_aliases(context, found):
    if found["type"] == "client":
        return context.store.aliases_in(found["rid"])
    return context.store.aliases_of(found["rid"])


def _info_counts(context, found):
    store = context.store
    counts = {kind: len(store.children(found["rid"], kind)) for kind in LISTING_TYPES}
    counts["share"] = len(store.shares_of(found["rid"]))
    return counts


def _info_usage(context, found):
    usage = _info_counts(context, found)
    usage.update({"email": 0, "http": 0, "sms": 0, "xmpp": 0})
    return usage


INFO_PARTS = {
    "basic": _info_basic,
    "description": lambda context, found: found["description"],
    "storage": _info_storage,
    "aliases": _info_aliases,
    "counts": _info_counts,
    "usage": _info_usage,
    "shares": lambda context, found: [{"code": share["code"],
                                       "activated": bool(share["activated"])}
                                      for share in context.store.shares_of(found["rid"])],
    "subscribers": lambda context, found: [],
    "tags": lambda context, found: found["tags"],
}


def parse_listing(arguments):
    """[RES, types, options] or the older [types] / [types, options] (the caller)."""
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], list):
        types, options = _arity(arguments, 1, 2)
        spec = {"alias": ""}
    else:
        spec, types, options = _arity(arguments, 2, 3)
    if not isinstance(types, list) or not types or set(types) - set(LISTING_TYPES):
        raise ArgumentError("listing types are client, dataport, datarule, dispatch")
    _options(options)
    return _spec(spec), types


def run_listing(context, parsed):
    spec, types = parsed
    rid, _ = _client(context, spec, "read")
    return {kind: context.store.children(rid, kind) for kind in types}


def parse_drop(arguments):
    (spec,) = _arity(arguments, 1)
    return _spec(spec)


def run_drop(context, spec):
    """Drops the resource and its subtree; a client cannot drop itself."""
    _refuse_token(context)
    rid = resolve(context.store, context.caller, spec)
    if rid == context.caller.client:
        raise CallFailure("restricted")
    context.store.drop(rid)
    return NOTHING


def parse_move(arguments):
    spec, destination, options = _arity(arguments, 2, 3)
    options = _options(options)
    return _spec(spec), _spec(destination), bool(options.get("aliases", True))


def run_move(context, parsed):
    """Gives a resource a new owner inside the caller's subtree; with
    aliases=true its names move along (unless taken there)."""
    spec, destination, keep_aliases = parsed
    _refuse_token(context)
    store = context.store
    rid = resolve(store, context.caller, spec)
    target, _ = _client(context, destination)
    if rid == context.caller.client or store.is_within(target, rid):
        raise CallFailure("invalid")
    old_owner = store.resource(rid)["owner"]
    store.update_resource(rid, context.now, owner=target)
    store.move_aliases(rid, old_owner, target, keep_aliases)
    return NOTHING


def parse_usage(arguments):
    spec, metric, starttime, endtime = _arity(arguments, 4)
    return _spec(spec), _name(metric), _timestamp(starttime), _timestamp(endtime)


def run_usage(context, parsed):
    """Metering is not emulated: every metric is 0."""
    resolve(context.store, context.caller, parsed[0], "read")
    return 0


# -- aliases ----------------------------------------------------------------------

def parse_map(arguments):
    kind, target, alias = _arity(arguments, 3)
    if kind != "alias":
        raise ArgumentError("map type must be alias")
    return _spec(target), _name(alias)


def run_map(context, parsed):
    """Names a direct child of the caller; an alias already naming another
    resource is "invalid" (mapping the same pair again is ok)."""
    target, alias = parsed
    _refuse_token(context)
    store = context.store
    rid = resolve(store, context.caller, target)
    if store.resource(rid)["owner"] != context.caller.client:
        raise CallFailure("invalid")
    current = store.alias_target(context.caller.client, alias)
    if current == rid:
        return NOTHING
    if current is not None:
        raise CallFailure("invalid")
    store.add_alias(context.caller.client, alias, rid)
    return NOTHING


def parse_unmap(arguments):
    kind, alias = _arity(arguments, 2)
    if kind != "alias":
        raise ArgumentError("unmap type must be alias")
    return _name(alias)


def run_unmap(context, alias):
    _refuse_token(context)
    if not context.store.remove_alias(context.caller.client, alias):
        raise CallFailure("invalid")
    return NOTHING


def parse_lookup(arguments):
    kind, key = _arity(arguments, 2)
    if kind not in ("alias", "owner", "shared") or not isinstance(key, str):
        raise ArgumentError("lookup takes alias, owner or shared and a string")
    return kind, key


def run_lookup(context, parsed):
    """alias -> RID ("" is the caller itself); owner -> the owner's RID of a
    resource in the caller's subtree; shared -> the RID behind an active share code."""
    kind, key = parsed
    store = context.store
    if kind == "alias":
        return resolve(store, context.caller, {"alias": key}, "read")
    if kind == "owner":
        rid = resolve(store, context.caller, key, "read")
        owner = store.resource(rid)["owner"]
        if owner is None:
            raise CallFailure("invalid")
        return owner
    share = store.share(key) if is_key(key) else None
    if share is None or not share["activated"]:
        raise CallFailure("invalid")
    return share["rid"]


# -- shares, tokens, tags ---------------------------------------------------------

def parse_grant(arguments):
    spec, permissions, options = _arity(arguments, 2, 3)
    options = _options(options)
    if not isinstance(permissions, dict) or not permissions:
        raise ArgumentError("grant takes {RID: [access, ...]}")
    for access in permissions.values():
        if not isinstance(access, list) or not access or set(access) - set(PERMISSIONS):
            raise ArgumentError("access is a list of read and write")
    ttl = options.get("ttl", GRANT_TTL_DEFAULT)
    if type(ttl) is not int or ttl <= 0:
        raise ArgumentError("ttl is a positive number of seconds")
    return _spec(spec), permissions, ttl


def run_grant(context, parsed):
    """A token acting as the granting client, limited to the listed RIDs
    (each inside the grantor's subtree) and access; it expires after ttl seconds."""
    spec, permissions, ttl = parsed
    _refuse_token(context)
    store = context.store
    grantor, _ = _client(context, spec)
    for rid in permissions:
        if not is_key(rid) or not store.is_within(rid, grantor):
            raise CallFailure("restricted")
    grants = {rid: sorted(set(access)) for rid, access in permissions.items()}
    return store.add_token(grantor, grants, context.now + ttl)


def parse_share(arguments):
    spec, options = _arity(arguments, 1, 2)
    _options(options)
    return _spec(spec)


def run_share(context, spec):
    """A share code for a resource (usable with lookup "shared")."""
    _refuse_token(context)
    rid = resolve(context.store, context.caller, spec)
    return context.store.add_share(rid, context.caller.client)


def parse_code(arguments):
    codetype, code = _arity(arguments, 2)
    if codetype not in ("client", "share") or not isinstance(code, str):
        raise ArgumentError("takes client or share and a code")
    return codetype, code


def _own_share(context, codetype, code, procedure):
    _refuse_token(context)
    if codetype == "client":
        raise not_implemented(procedure + " client")
    share = context.store.share(code) if is_key(code) else None
    if share is None or not context.store.is_within(share["owner"], context.caller.client):
        raise CallFailure("invalid")
    return share


def run_revoke(context, parsed):
    share = _own_share(context, parsed[0], parsed[1], "revoke")
    context.store.remove_share(share["code"])
    return NOTHING


def run_activate(context, parsed):
    share = _own_share(context, parsed[0], parsed[1], "activate")
    context.store.set_share_active(share["code"], True)
    return NOTHING


def run_deactivate(context, parsed):
    share = _own_share(context, parsed[0], parsed[1], "deactivate")
    context.store.set_share_active(share["code"], False)
    return NOTHING


def parse_tag(arguments):
    spec, action, name = _arity(arguments, 3)
    if action not in ("add", "remove"):
        raise ArgumentError("tag action is add or remove")
    return _spec(spec), action, _name(name)


def run_tag(context, parsed):
    spec, action, name = parsed
    _refuse_token(context)
    rid = resolve(context.store, context.caller, spec)
    tags = [tag for tag in context.store.resource(rid)["tags"] if tag != name]
    if action == "add":
        tags.append(name)
    context.store.update_resource(rid, context.now, tags=tags)
    return NOTHING


PROCEDURES = {
    "read": (parse_read, run_read),
    "write": (parse_write, run_write),
    "writegroup": (parse_writegroup, run_writegroup),
    "record": (parse_record, run_record),
    "recordbatch": (parse_recordbatch, run_recordbatch),
    "flush": (parse_flush, run_flush),
    "wait": (parse_wait, run_wait),
    "create": (parse_create, run_create),
    "update": (parse_update, run_update),
    "info": (parse_info, run_info),
    "listing": (parse_listing, run_listing),
    "drop": (parse_drop, run_drop),
    "move": (parse_move, run_move),
    "usage": (parse_usage, run_usage),
    "map": (parse_map, run_map),
    "unmap": (parse_unmap, run_unmap),
    "lookup": (parse_lookup, run_lookup),
    "grant": (parse_grant, run_grant),
    "share": (parse_share, run_share),
    "revoke": (parse_code, run_revoke),
    "activate": (parse_code, run_activate),
    "deactivate": (parse_code, run_deactivate),
    "tag": (parse_tag, run_tag),
}
