"""Alias procedures: map, unmap, lookup."""

from .access import check_reach, resolve
from .calls import NOTHING, arity, leading_client, name, spec
from .errors import ArgumentError, invalid, restricted
from .timeseries import show

LOOKUP_TYPES = ("alias", "aliased", "owner", "shared")


def parse_map(arguments):
    kind, target, alias = arity(arguments, 3)
    if kind != "alias":
        raise ArgumentError("map's type is \"alias\", not %s" % show(kind))
    return spec(target), name(alias, "an alias")


def run_map(context, parsed):
    """Names a direct child of the caller; an alias already naming another
    resource is "invalid" (mapping the same pair again is ok)."""
    target, alias = parsed
    store = context.store
    rid = resolve(store, context.caller, target, "map")
    owner = store.resource(rid)["owner"]
    if owner != context.caller.client:
        raise invalid("%s is not the calling client's own resource (only those get aliases)"
                      % rid)
    current = store.alias_target(context.caller.client, alias)
    if current == rid:
        return NOTHING
    if current is not None:
        raise invalid("alias %s already names %s" % (show(alias), current))
    store.add_alias(context.caller.client, alias, rid)
    return NOTHING


def parse_unmap(arguments):
    """["alias", alias], or the documented [<ClientID>, "alias", alias]."""
    client, rest = leading_client(arguments, 2)
    kind, alias = arity(rest, 2)
    if kind != "alias":
        raise ArgumentError("unmap's type is \"alias\", not %s" % show(kind))
    return client, name(alias, "an alias")


def run_unmap(context, parsed):
    """Removes the alias; an alias that is not mapped is fine too ("ok")."""
    client, alias = parsed
    context = context.acting_as(client, "unmap")
    check_reach(context.store, context.caller, context.caller.client, "unmap")
    context.store.remove_alias(context.caller.client, alias)
    return NOTHING


def parse_lookup(arguments):
    """[type, key], or the documented [<ClientID>, type, key]."""
    client, rest = leading_client(arguments, 2)
    kind, key = arity(rest, 2)
    if kind not in LOOKUP_TYPES:
        raise ArgumentError("lookup's type is one of %s, not %s"
                            % (", ".join(LOOKUP_TYPES), show(kind)))
    if not isinstance(key, str):
        raise ArgumentError("lookup's key is a string, not %s" % show(key))
    return client, kind, key


def run_lookup(context, parsed):
    """alias, aliased -> the RID (key "": the caller itself); owner -> the
    owner of a resource in the caller's subtree (not of the caller itself);
    shared -> the RID a share code is for."""
    client, kind, key = parsed
    context = context.acting_as(client, "lookup")
    store = context.store
    if kind in ("alias", "aliased"):
        return resolve(store, context.caller, {"alias": key}, "lookup")
    if kind == "owner":
        rid = resolve(store, context.caller, key, "lookup")
        if not store.is_within(rid, context.caller.client):
            raise restricted("%s is not in the calling client's tree" % rid)
        if rid == context.caller.client:
            raise restricted("a client cannot look up its own owner")
        return store.resource(rid)["owner"]
    share = store.share(key)
    if share is None:
        raise invalid("no share with that code")
    return share["rid"]


PROCEDURES = {
    "map": (parse_map, run_map),
    "unmap": (parse_unmap, run_unmap),
    "lookup": (parse_lookup, run_lookup),
}
