"""Who is calling and what they may touch: the four auth forms and the
resolution of a <ResourceID> inside the caller's subtree."""

import re

from .errors import CallFailure, RequestError

HEX40 = re.compile(r"\A[0-9a-f]{40}\Z")


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
    over its subtree) or {rid: {"read", "write"}} for a token from grant."""

    def __init__(self, client, grants=None):
        self.client = client
        self.grants = grants

    @property
    def limited(self):
        return self.grants is not None


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
    return Caller(record["grantor"], grants)


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
    """True when `spec` has the shape of a <ResourceID> (checked before any call runs)."""
    if isinstance(spec, str):
        return True
    return isinstance(spec, dict) and set(spec) == {"alias"} and isinstance(spec["alias"], str)


def resolve(store, caller, spec, need=None):
    """The RID `spec` names for `caller`, or CallFailure.

    - {"alias": ""} is the caller; {"alias": name} is looked up among the
      caller's aliases ("invalid" when unknown).
    - A RID must be the caller or one of its descendants ("restricted" if not,
      including RIDs that do not exist: the caller cannot tell the difference).
    - A token caller needs `need` ("read" or "write") granted on that RID;
      procedures that manage resources (need=None) are refused to tokens.
    """
    if isinstance(spec, dict):
        name = spec["alias"]
        rid = caller.client if name == "" else store.alias_target(caller.client, name)
        if rid is None:
            raise CallFailure("invalid")
    elif is_key(spec):
        rid = spec
        if not store.is_within(rid, caller.client):
            raise CallFailure("restricted")
    else:
        raise CallFailure("invalid")
    if caller.limited and (need is None or need not in caller.grants.get(rid, ())):
        raise CallFailure("restricted")
    return rid
