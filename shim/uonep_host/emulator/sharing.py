"""Shares, keys and tags: share, revoke, activate, deactivate, grant, tag.

A share code lets another client read a resource (and what is under it):
the receiving client activates it, then reads through it with the
procedures "read" allows; "activated" listings show it; deactivate (by
that client) or revoke (by the sharing side) ends it. A client code is a
CIK: its owner activates it, deactivate expires it (it stops
authenticating), revoke replaces it by a new, not yet activated CIK.
"""

from .access import ACCESS_NAMES, check_reach, is_key, resolve
from .calls import NOTHING, arity, leading_client, lookup, name, options, spec
from .errors import ArgumentError, invalid, noauth, restricted
from .store import new_key
from .timeseries import show

GRANT_TTL_DEFAULT = 3600
CODE_TYPES = ("client", "share")


def parse_share(arguments):
    resource, given = arity(arguments, 1, 2)
    given = options(given)
    unknown = sorted(set(given) - {"meta", "code"})
    if unknown:
        raise ArgumentError("share takes meta and code, not %s" % show(unknown[0]))
    if not isinstance(given.get("meta", ""), str):
        raise ArgumentError("a share's meta is a string")
    return spec(resource), given.get("meta"), given.get("code")


def run_share(context, parsed):
    """A new share code for a resource, or (with "code") the meta of an
    existing share changed."""
    resource, meta, code = parsed
    store = context.store
    rid = resolve(store, context.caller, resource, "share")
    if code is None:
        return store.add_share(rid, context.caller.client, meta or "")
    share = store.share(code) if is_key(code) else None
    if share is None or share["rid"] != rid:
        raise invalid("no share of %s with that code" % rid)
    if meta is not None:
        store.set_share(code, meta=meta)
    return code


def parse_code(arguments):
    """[type, code], or the documented [<ClientID>, type, code]."""
    client, rest = leading_client(arguments, 2)
    codetype, code = arity(rest, 2)
    if codetype not in CODE_TYPES:
        raise ArgumentError("the code type is \"client\" or \"share\", not %s" % show(codetype))
    if not isinstance(code, str):
        raise ArgumentError("a code is a string, not %s" % show(code))
    return client, codetype, code


def _acting(context, client, procedure):
    context = context.acting_as(client, procedure)
    check_reach(context.store, context.caller, context.caller.client, procedure)
    return context


def _share(context, code):
    share = context.store.share(code) if is_key(code) else None
    if share is None:
        raise invalid("no share with that code")
    return share


def _owned_client(context, code, procedure):
    """The client whose CIK is `code`; the calling client must own it."""
    client = context.store.client_by_cik(code) if is_key(code) else None
    if client is None:
        raise invalid("no client with that CIK")
    if client["owner"] != context.caller.client:
        raise noauth("only the owner of a client may %s its CIK" % procedure)
    return client


def run_revoke(context, parsed):
    client, codetype, code = parsed
    context = _acting(context, client, "revoke")
    store = context.store
    if codetype == "share":
        share = _share(context, code)
        if not store.is_within(share["rid"], context.caller.client):
            raise noauth("the shared resource is not in the calling client's tree")
        store.remove_share(code)
    else:
        owned = _owned_client(context, code, "revoke")
        store.set_client_key(owned["rid"], cik=new_key(), status="notactivated")
    return NOTHING


def run_activate(context, parsed):
    client, codetype, code = parsed
    context = _acting(context, client, "activate")
    store, activator = context.store, context.caller.client
    if codetype == "client":
        owned = _owned_client(context, code, "activate")
        if owned["status"] != "notactivated":
            raise invalid("that CIK is %s" % owned["status"])
        store.set_client_key(owned["rid"], status="activated")
        return NOTHING
    share = _share(context, code)
    if share["activator"] == activator:
        raise invalid("this client already activated that share")
    if share["activator"] is not None:
        raise invalid("that share code was activated by another client")
    if any(other["activator"] == activator for other in store.shares_of(share["rid"])):
        raise invalid("this client already activated a share of %s" % share["rid"])
    store.set_share(code, activator=activator)
    return NOTHING


def run_deactivate(context, parsed):
    """A share (its code, or the shared RID) stops being activated by the
    client; a client's CIK expires."""
    client, codetype, code = parsed
    context = _acting(context, client, "deactivate")
    store, activator = context.store, context.caller.client
    if codetype == "client":
        owned = _owned_client(context, code, "deactivate")
        store.set_client_key(owned["rid"], status="expired")
        return NOTHING
    share = store.share(code)
    shares = [share] if share else store.shares_of(code)
    mine = [share for share in shares if share["activator"] == activator]
    if not mine:
        raise invalid("this client has not activated that share")
    for share in mine:
        store.set_share(share["code"], clear=True)
    return NOTHING


def parse_grant(arguments):
    resource, permissions, given = arity(arguments, 2, 3)
    given = options(given)
    if not isinstance(permissions, dict) or not permissions:
        raise ArgumentError("grant takes {RID: [access, ...]}")
    for access in permissions.values():
        if not isinstance(access, list) or not access:
            raise ArgumentError("an access list is a non-empty list such as [\"read\"]")
        unknown = [item for item in access if item not in ACCESS_NAMES]
        if unknown:
            raise ArgumentError("%s is neither read, write nor a procedure" % show(unknown[0]))
    ttl = given.get("ttl", GRANT_TTL_DEFAULT)
    if type(ttl) is not int or ttl <= 0:
        raise ArgumentError("ttl is a positive number of seconds, not %s" % show(ttl))
    return spec(resource), permissions, ttl


def run_grant(context, parsed):
    """A token acting as the granting client, reaching each listed RID (the
    client or anything under it) and its descendants with the listed access:
    "read", "write" or procedure names. It expires after ttl seconds."""
    resource, permissions, ttl = parsed
    if context.caller.limited:
        raise restricted("a token cannot grant tokens")
    store = context.store
    grantor, _ = lookup(context, resource, "grant", ("client",), "client")
    for rid in permissions:
        if not is_key(rid) or not store.is_within(rid, grantor):
            raise restricted("%s is not in the tree of the client the token acts as"
                             % show(rid))
    grants = {rid: sorted(set(access)) for rid, access in permissions.items()}
    return store.add_token(grantor, grants, context.now + ttl)


def parse_tag(arguments):
    resource, action, tag = arity(arguments, 3)
    if action not in ("add", "remove"):
        raise ArgumentError("a tag's action is \"add\" or \"remove\", not %s" % show(action))
    return spec(resource), action, name(tag, "a tag")


def run_tag(context, parsed):
    resource, action, tag = parsed
    store = context.store
    rid = resolve(store, context.caller, resource, "tag")
    tags = [other for other in store.resource(rid)["tags"] if other != tag]
    if action == "add":
        tags.append(tag)
    store.update_resource(rid, context.now, tags=tags)
    return NOTHING


PROCEDURES = {
    "share": (parse_share, run_share),
    "revoke": (parse_code, run_revoke),
    "activate": (parse_code, run_activate),
    "deactivate": (parse_code, run_deactivate),
    "grant": (parse_grant, run_grant),
    "tag": (parse_tag, run_tag),
}
