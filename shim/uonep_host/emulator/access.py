"""Who is calling and what they may touch: the four auth forms, tokens'
access lists, shares, and the resolution of a <ResourceID>."""

import re

from .errors import RequestError, invalid, restricted
from .timeseries import show

HEX40 = re.compile(r"\A[0-9a-f]{40}\Z")

# What "read" and "write" in a grant's access list (and an activated share,
# for "read") allow. Any other procedure is allowed to a token only when its
# access list names it.
READ_PROCEDURES = ("read", "wait", "info", "listing", "lookup", "usage")
WRITE_PROCEDURES = ("write", "writegroup", "record", "recordbatch")
PROCEDURE_NAMES = READ_PROCEDURES + WRITE_PROCEDURES + (
    "flush", "create", "update", "drop", "move", "map", "unmap", "grant", "share", "revoke",
    "activate", "deactivate", "tag")
ACCESS_NAMES = ("read", "write") + PROCEDURE_NAMES


def is_key(text):
    """True for 40 lowercase hex characters (CIK, RID, token, share code)."""
    return isinstance(text, str) and bool(HEX40.match(text))


def mask(secret):
    """A CIK or token as it may appear in logs and pages: first 4 chars + "…"."""
    if not isinstance(secret, str):
        return "?"
    return secret[:4] + "\u2026"


class Caller:
    """The client a request acts as. `grants` is None for a CIK (full rights
    over its subtree) or {rid: {access, ...}} for a token from grant, which
    reaches each granted RID and its descendants; `token` is that token."""

    def __init__(self, client, grants=None, token=None):
        self.client = client
        self.grants = grants
        self.token = token

    @property
    def limited(self):
        return self.grants is not None

    def acting_as(self, client):
        """The same credentials acting as another client (a call's leading
        <ClientID> argument)."""
        return Caller(client, self.grants, self.token)


def refused(message="Invalid"):
    return RequestError(401, message, "auth")


def authenticate(store, auth, now):
    """The Caller for an auth object, or RequestError 401."""
    if "token" in auth:
        return _token_caller(store, auth.get("token"), now)
    cik = auth.get("cik")
    if not is_key(cik):
        raise refused()
    client = store.client_by_cik(cik)
    if client is None:
        raise refused()
    if client["status"] == "expired":
        raise refused("Expired")
    client_id = auth.get("client_id")
    resource_id = auth.get("resource_id")
    if client_id is not None and resource_id is not None:
        raise refused()
    if client_id is not None:
        return Caller(_descendant_client(store, client["rid"], client_id))
    if resource_id is not None:
        return Caller(_owner_of_descendant(store, client["rid"], resource_id))
    return Caller(client["rid"])


def _token_caller(store, token, now):
    record = store.token(token) if is_key(token) else None
    if record is None:
        raise refused()
    if record["expires"] <= now:
        raise refused("Expired")
    if store.resource(record["grantor"]) is None:
        raise refused()
    grants = {rid: set(access) for rid, access in record["grants"].items()}
    return Caller(record["grantor"], grants, token)


def _descendant_client(store, root, rid):
    """client_id: act as a client inside the CIK's subtree (itself included)."""
    found = store.resource(rid) if is_key(rid) else None
    if found is None or found["type"] != "client" or not store.is_within(rid, root):
        raise refused()
    return rid


def _owner_of_descendant(store, root, rid):
    """resource_id: act as the owner of a resource strictly below the CIK's client."""
    found = store.resource(rid) if is_key(rid) else None
    if found is None or rid == root or not store.is_within(rid, root):
        raise refused()
    return found["owner"]


def check_spec(spec):
    """True when `spec` has the shape of a <ResourceID>."""
    if isinstance(spec, str):
        return True
    return isinstance(spec, dict) and set(spec) == {"alias"} and isinstance(spec["alias"], str)


def permits(access, procedure):
    """True when an access list allows a procedure."""
    return (procedure in access
            or ("read" in access and procedure in READ_PROCEDURES)
            or ("write" in access and procedure in WRITE_PROCEDURES))


def resolve(store, caller, spec, procedure, what="resource"):
    """The RID `spec` names for `caller` running `procedure`, or CallFailure.

    - {"alias": ""} is the caller; {"alias": name} is looked up among the
      caller's aliases ("invalid" when unknown: "no dataport 'nosuch'").
    - A RID must be the caller or one of its descendants, or (for the
      procedures "read" allows) inside a resource shared with the caller
      and activated by it; else "restricted", including RIDs that do not
      exist: the caller cannot tell the difference.
    - A token reaches the RIDs it was granted and their descendants, for
      the procedures their access lists allow.
    """
    if isinstance(spec, dict):
        name = spec["alias"]
        rid = caller.client if name == "" else store.alias_target(caller.client, name)
        if rid is None:
            raise invalid("no %s %s" % (what, show(name)))
    elif is_key(spec):
        rid = spec
        if store.resource(rid) is None:
            # as for any RID out of reach: the caller cannot tell the difference
            raise restricted("%s is not in the calling client's tree nor shared with it" % rid)
    else:
        raise invalid("%s is neither a RID nor {\"alias\": name}" % show(spec))
    check_reach(store, caller, rid, procedure)
    return rid


def check_reach(store, caller, rid, procedure):
    """CallFailure "restricted" unless `caller` may run `procedure` on `rid`."""
    if caller.limited:
        for granted, access in caller.grants.items():
            if permits(access, procedure) and store.is_within(rid, granted):
                return
        raise restricted("the token does not allow %s on %s" % (procedure, rid))
    if store.is_within(rid, caller.client):
        return
    if procedure in READ_PROCEDURES and shared_with(store, caller.client, rid):
        return
    raise restricted("%s is not in the calling client's tree nor shared with it" % rid)


def shared_with(store, client, rid):
    """True when `rid` is inside a resource shared with `client` and activated by it."""
    current = rid
    while current is not None:
        if any(share["activator"] == client for share in store.shares_of(current)):
            return True
        found = store.resource(current)
        current = found["owner"] if found else None
    return False
