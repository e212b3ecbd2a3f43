"""Resource procedures: create (client, dataport, datarule, dispatch,
clone), update, info, listing, drop, move, usage."""

from . import descriptions
from .access import Caller, check_reach, is_key, resolve
from .calls import (NOTHING, SERIES, Context, arity, leading_client, lookup, options, spec,
                    timestamp, name)
from .errors import ArgumentError, CallFailure, invalid, restricted
from .ingest import enforce_retention
from .store import new_key
from .timeseries import show

CREATE_TYPES = descriptions.TYPES + ("clone",)
LISTING_TYPES = ("client", "dataport", "datarule", "dispatch", "token")
LISTING_OPTIONS = ("owned", "activated", "aliased", "public", "tagged")
INFO_KEYS = ("basic", "description", "storage", "aliases", "key", "counts", "usage",
             "shares", "subscribers", "tagged", "tags")
# what info's {} means: every option but "tagged" (documented as reserved)
INFO_ALL = tuple(key for key in INFO_KEYS if key != "tagged")
CLONE_OPTIONS = ("rid", "code", "noaliases", "nohistorical")


# -- create ---------------------------------------------------------------------

def parse_create(arguments):
    """[type, description], or the documented [<ClientID>, type, description]."""
    if len(arguments) == 2 and arguments[1] in CREATE_TYPES and arguments[0] not in CREATE_TYPES:
        arguments = arguments + [None]
    client, rest = leading_client(arguments, 2)
    kind, description = arity(rest, 1, 2)
    if kind not in CREATE_TYPES:
        raise ArgumentError("%s is not a resource type (%s)"
                            % (show(kind), ", ".join(CREATE_TYPES)))
    return client, kind, options(description)


def run_create(context, parsed):
    client, kind, given = parsed
    context = context.acting_as(client, "create")
    store, owner = context.store, context.caller.client
    check_reach(store, context.caller, owner, "create")
    if kind == "clone":
        return _clone(context, given)
    description = descriptions.describe(kind, given)
    if kind == "client":
        return store.add_resource("client", owner, description, context.now, cik=new_key())
    source = _subscription(context, owner, description)
    rid = store.add_resource(kind, owner, description, context.now)
    store.subscribe(rid, source)
    return rid


def _subscription(context, owner, description):
    """The RID a new or updated description subscribes to (None for none);
    an alias is resolved in the owner's namespace and stored as the RID."""
    wanted = description.get("subscribe")
    if wanted is None:
        return None
    store = context.store
    if isinstance(wanted, str) and not is_key(wanted):
        wanted = {"alias": wanted}
    if isinstance(wanted, dict):
        source = store.alias_target(owner, wanted["alias"])
        if source is None:
            raise invalid("subscribe: no resource %s" % show(wanted["alias"]))
    else:
        source = wanted
        if not store.is_within(source, owner):
            raise restricted("subscribe: %s is not in the owner's tree" % source)
    found = store.resource(source)
    if found["type"] not in SERIES:
        raise invalid("subscribe: %s is a %s, which has no points" % (source, found["type"]))
    description["subscribe"] = source
    return source


def _clone(context, given):
    """A copy of a client and everything under it, owned by the caller:
    from {"rid": ...} (in the caller's tree) or {"code": ...} (a share code
    nobody has activated). Aliases and points come along unless
    "noaliases" / "nohistorical"; the copy's CIK starts "notactivated"."""
    unknown = sorted(set(given) - set(CLONE_OPTIONS))
    if unknown:
        raise ArgumentError("create clone takes rid or code, noaliases, nohistorical, not %s"
                            % show(unknown[0]))
    if ("rid" in given) == ("code" in given):
        raise invalid("create clone takes either \"rid\" or \"code\"")
    store = context.store
    if "rid" in given:
        source, _ = lookup(context, given["rid"], "create", ("client",), "client")
    else:
        share = store.share(given["code"]) if is_key(given["code"]) else None
        if share is None:
            raise invalid("no share with that code")
        if share["activator"] is not None:
            raise invalid("that share code was activated; a clone needs one nobody activated")
        source = share["rid"]
        if store.resource(source)["type"] != "client":
            raise invalid("that share code is for a %s; only a client can be cloned"
                          % store.resource(source)["type"])
    return _copy_tree(context, source, bool(given.get("noaliases")),
                      bool(given.get("nohistorical")))


def clone_client(store, source, owner, now, noaliases=False, nohistorical=False):
    """A copy of client `source` and everything under it, owned by `owner`,
    its CIK "notactivated": what the provisioning API's enable makes from
    a model's clone template. Returns the copy's RID."""
    return _copy_tree(Context(store, Caller(owner), now), source, noaliases, nohistorical)


def _copy_tree(context, source, noaliases, nohistorical):
    store, owner = context.store, context.caller.client
    members = store.subtree(source)  # parents before children
    renamed = {old: new_key() for old in members}
    for old in members:
        found = store.resource(old)
        description = _renamed_references(found["description"], renamed)
        subscribe = description.get("subscribe")
        if subscribe is not None and not (subscribe in renamed.values()
                                          or store.is_within(subscribe, owner)):
            description["subscribe"] = subscribe = None
        client = found["type"] == "client"
        store.add_resource(found["type"], owner if old == source else renamed[found["owner"]],
                           description, context.now, cik=new_key() if client else None,
                           rid=renamed[old],
                           status="notactivated" if old == source else found["status"])
        store.update_resource(renamed[old], context.now, tags=found["tags"])
        store.subscribe(renamed[old], subscribe)
        if not nohistorical:
            store.copy_points(old, renamed[old])
        if client and not noaliases:
            for target, names in store.aliases_in(old).items():
                for alias in names:
                    store.add_alias(renamed[old], alias, renamed.get(target, target))
    return renamed[source]


def _renamed_references(description, renamed):
    """A copy of a description whose subscribe and preprocess RIDs inside
    the cloned tree point at their copies."""
    copy = dict(description)
    if copy.get("subscribe") in renamed:
        copy["subscribe"] = renamed[copy["subscribe"]]
    if isinstance(copy.get("preprocess"), list):
        copy["preprocess"] = [[step[0], renamed.get(step[1], step[1])]
                              if isinstance(step, list) and len(step) == 2
                              and isinstance(step[1], str) else step
                              for step in copy["preprocess"]]
    return copy


# -- update ---------------------------------------------------------------------

def parse_update(arguments):
    resource, description = arity(arguments, 2)
    if not isinstance(description, dict):
        raise ArgumentError("update takes a description object, not %s" % show(description))
    return spec(resource), description


def run_update(context, parsed):
    """Merges the given keys; a dataport's format cannot change; a client
    cannot update itself (its owner can)."""
    resource, changes = parsed
    store = context.store
    rid = resolve(store, context.caller, resource, "update")
    if rid == context.caller.client:
        raise restricted("a client cannot update itself; its owner can")
    found = store.resource(rid)
    description = descriptions.updated(found["type"], found["description"], changes)
    if found["type"] != "client" and "subscribe" in changes:
        store.subscribe(rid, _subscription(context, found["owner"], description))
    store.update_resource(rid, context.now, description=description)
    if found["type"] in SERIES:
        enforce_retention(store, context.now, rid, description)
    return NOTHING


# -- info -----------------------------------------------------------------------

def parse_info(arguments):
    resource, given = arity(arguments, 1, 2)
    given = options(given)
    unknown = sorted(set(given) - set(INFO_KEYS))
    if unknown:
        raise ArgumentError("%s is not an info option (%s)"
                            % (show(unknown[0]), ", ".join(INFO_KEYS)))
    return spec(resource), given


def run_info(context, parsed):
    resource, given = parsed
    store = context.store
    rid = resolve(store, context.caller, resource, "info")
    found = store.resource(rid)
    wanted = [key for key in INFO_KEYS if given.get(key)] if given else INFO_ALL
    # a share's reader and a token see no keys and share codes
    trusted = not context.caller.limited and store.is_within(rid, context.caller.client)
    answer = {}
    for key in wanted:
        if key == "key":
            # a client's CIK is told only to its owner
            if found["type"] == "client" and found["owner"] == context.caller.client and trusted:
                answer["key"] = found["cik"]
            continue
        if key == "shares" and not trusted:
            answer["shares"] = []
            continue
        answer[key] = INFO_PARTS[key](store, found)
    return answer


def _info_basic(store, found):
    basic = {"type": found["type"], "created": found["created"], "modified": found["modified"],
             "subscribers": len(store.subscribers(found["rid"]))}
    if found["type"] == "client":
        basic["status"] = found["status"]
    elif found["type"] == "dispatch":
        basic["status"] = "locked" if found["description"].get("locked") else "activated"
    return basic


def _info_storage(store, found):
    if found["type"] not in SERIES:
        return {}
    count, first, last, size = store.point_stats(found["rid"])
    return {"count": count, "first": first or 0, "last": last or 0, "size": size}


def _info_aliases(store, found):
    if found["type"] == "client":
        return store.aliases_in(found["rid"])
    return store.aliases_of(found["rid"])


def _info_counts(store, found):
    counts = {kind: len(store.children(found["rid"], kind)) for kind in descriptions.TYPES}
    counts["share"] = len(store.shares_of(found["rid"]))
    return counts


def _info_usage(store, found):
    usage = _info_counts(store, found)
    usage.update({"email": 0, "http": 0, "sms": 0, "xmpp": 0})
    return usage


def _info_shares(store, found):
    return [{"activator": share["activator"], "code": share["code"], "meta": share["meta"]}
            for share in store.shares_of(found["rid"])]


def _info_subscribers(store, found):
    return [[store.resource(rid)["type"], rid] for rid in store.subscribers(found["rid"])]


INFO_PARTS = {
    "basic": _info_basic,
    "description": lambda store, found: found["description"],
    "storage": _info_storage,
    "aliases": _info_aliases,
    "counts": _info_counts,
    "usage": _info_usage,
    "shares": _info_shares,
    "subscribers": _info_subscribers,
    "tagged": lambda store, found: [],
    "tags": lambda store, found: found["tags"],
}


# -- listing ----------------------------------------------------------------------

def parse_listing(arguments):
    """[<ResourceID>, types, options], or the older [types, options] (the
    caller). Without options (the deprecated forms [types] and
    [<ResourceID>, types]) the answer is a list of RID lists in type order.
    Options are an object, or a list of option names ([] is {})."""
    if arguments and isinstance(arguments[0], list):
        types, given = arity(arguments, 1, 2)
        resource = {"alias": ""}
    else:
        resource, types, given = arity(arguments, 2, 3)
    if not isinstance(types, list) or not types:
        raise ArgumentError("listing types are a non-empty list")
    for kind in types:
        if kind not in LISTING_TYPES:
            # documented: status "error" when a type is not a listing type
            raise CallFailure("error", "%s is not a listing type (%s)"
                              % (show(kind), ", ".join(LISTING_TYPES)))
    return spec(resource), types, _listing_options(given), given is None


def _listing_options(given):
    if isinstance(given, list):
        for option in given:
            if option not in LISTING_OPTIONS or option == "tagged":
                raise ArgumentError("%s is not a listing option (%s)"
                                    % (show(option), ", ".join(LISTING_OPTIONS[:4])))
        return {option: True for option in given}
    given = options(given)
    unknown = sorted(set(given) - set(LISTING_OPTIONS))
    if unknown:
        raise ArgumentError("%s is not a listing option (%s)"
                            % (show(unknown[0]), ", ".join(LISTING_OPTIONS)))
    tagged = given.get("tagged")
    if tagged is not None and (not isinstance(tagged, list)
                               or not all(isinstance(tag, str) for tag in tagged)):
        raise ArgumentError("tagged is a list of tags")
    return given


def run_listing(context, parsed):
    """{type: [rid, ...]} of what the options select: "owned" (the default),
    "activated" (shared with the client and activated by it), "aliased",
    "public"; "tagged" keeps those with one of the tags. Type "token": the
    tokens the client granted that have not expired (a token sees only itself)."""
    resource, types, given, deprecated = parsed
    rid, _ = lookup(context, resource, "listing", ("client",), "client")
    selected = [option for option in LISTING_OPTIONS[:4] if given.get(option)] or ["owned"]
    listed = {}
    for kind in types:
        if kind == "token":
            listed[kind] = _tokens(context, rid)
        else:
            listed[kind] = _select(context.store, rid, kind, selected, given.get("tagged"))
    return [listed[kind] for kind in types] if deprecated else listed


def _tokens(context, rid):
    caller, store = context.caller, context.store
    if caller.limited:
        return [caller.token] if caller.client == rid else []
    if not store.is_within(rid, caller.client):
        return []
    return store.tokens_of(rid, context.now)


def _select(store, client, kind, selected, tagged):
    found = []
    if "owned" in selected:
        found.extend(store.children(client, kind))
    if "activated" in selected:
        found.extend(share["rid"] for share in store.shares_activated_by(client)
                     if store.resource(share["rid"])["type"] == kind)
    if "aliased" in selected:
        found.extend(rid for rid in store.aliases_in(client)
                     if store.resource(rid)["type"] == kind)
    if "public" in selected:
        found.extend(resource["rid"] for resource in store.resources_of_type(kind)
                     if resource["description"].get("public") is True)
    unique = list(dict.fromkeys(found))
    if tagged is not None:
        unique = [rid for rid in unique if set(store.resource(rid)["tags"]) & set(tagged)]
    return unique


# -- drop, move, usage --------------------------------------------------------------

def parse_drop(arguments):
    (resource,) = arity(arguments, 1)
    return spec(resource)


def run_drop(context, resource):
    """Drops the resource and its subtree; a client cannot drop itself."""
    rid = resolve(context.store, context.caller, resource, "drop")
    if rid == context.caller.client:
        raise restricted("a client cannot drop itself; its owner can")
    context.store.drop(rid)
    return NOTHING


def parse_move(arguments):
    resource, destination, given = arity(arguments, 2, 3)
    given = options(given)
    return spec(resource), spec(destination), bool(given.get("aliases", True))


def run_move(context, parsed):
    """Gives a resource a new owner inside the caller's subtree; with
    aliases=true its names move along (unless taken there)."""
    resource, destination, keep_aliases = parsed
    store = context.store
    rid = resolve(store, context.caller, resource, "move")
    target, _ = lookup(context, destination, "move", ("client",), "client")
    if rid == context.caller.client:
        raise invalid("a client cannot move itself")
    if store.is_within(target, rid):
        raise invalid("%s cannot move into its own tree" % rid)
    old_owner = store.resource(rid)["owner"]
    store.update_resource(rid, context.now, owner=target)
    store.move_aliases(rid, old_owner, target, keep_aliases)
    return NOTHING


def parse_usage(arguments):
    resource, metric, starttime, endtime = arity(arguments, 4)
    return spec(resource), name(metric, "a metric"), timestamp(starttime), timestamp(endtime)


def run_usage(context, parsed):
    """Metering is not emulated: every metric is 0."""
    resolve(context.store, context.caller, parsed[0], "usage")
    return 0


PROCEDURES = {
    "create": (parse_create, run_create),
    "update": (parse_update, run_update),
    "info": (parse_info, run_info),
    "listing": (parse_listing, run_listing),
    "drop": (parse_drop, run_drop),
    "move": (parse_move, run_move),
    "usage": (parse_usage, run_usage),
}
