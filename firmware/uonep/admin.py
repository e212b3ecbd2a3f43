"""The management procedures: one builder per procedure, each returning
(procedure, arguments) like uonep.rpc's, checking its input first.

A sampling device never calls these, so they are not part of uonep.rpc:
this module is imported on the first Client.create(), info() ... call (and
by rpc.create and friends, which still reach these builders).
"""

from .builders import _choice, _count, _describe, _options, check_alias
from .errors import ValidationError
from .rpc import check_key, resource, timestamp

FORMATS = ("float", "integer", "string")
CREATE_TYPES = ("client", "dataport", "datarule", "dispatch", "clone")
LISTING_TYPES = ("client", "dataport", "datarule", "dispatch", "token")
LOOKUP_TYPES = ("alias", "aliased", "owner", "shared")
CODE_TYPES = ("client", "share")


def flush(spec, newerthan=None, olderthan=None):
    arguments = [resource(spec)]
    if newerthan is not None or olderthan is not None:
        window = {}
        if newerthan is not None:
            window["newerthan"] = timestamp(newerthan)
        if olderthan is not None:
            window["olderthan"] = timestamp(olderthan)
        arguments.append(window)
    return ("flush", arguments)


def create(kind, description=None):
    return ("create", [_choice(kind, CREATE_TYPES, "type"), _options(description)])


def dataport_description(format="float", name="", meta="", public=False,
                         preprocess=None, count="infinity", duration="infinity",
                         subscribe=None):
    """The full dataport description with the protocol's defaults filled in."""
    _choice(format, FORMATS, "format")
    for limit in (count, duration):
        if limit != "infinity":
            _count(limit, "retention", 0)
    return {"format": format, "name": name, "meta": meta, "public": bool(public),
            "preprocess": list(preprocess or ()),
            "retention": {"count": count, "duration": duration},
            "subscribe": subscribe}


def update(spec, description):
    return ("update", [resource(spec), _options(description)])


def info(spec, options=None):
    return ("info", [resource(spec), _options(options)])


def listing(spec, types, options=None):
    """options: {"owned": True, ...} or a list of option names."""
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, (list, tuple)) or not types:
        raise ValidationError("listing types must be a non-empty list")
    for kind in types:
        _choice(kind, LISTING_TYPES, "listing type")
    if isinstance(options, (list, tuple)):
        options = list(options)
    else:
        options = _options(options)
    return ("listing", [resource(spec), list(types), options])


def drop(spec):
    return ("drop", [resource(spec)])


def move(spec, destination, aliases=True):
    return ("move", [resource(spec), check_key(destination, "destination RID"),
                     {"aliases": bool(aliases)}])


def usage(spec, metric, starttime, endtime):
    if not isinstance(metric, str) or not metric:
        raise ValidationError("usage metric must be a non-empty string")
    return ("usage", [resource(spec), metric, timestamp(starttime), timestamp(endtime)])


def map(rid, alias):
    return ("map", ["alias", check_key(rid, "RID"), check_alias(alias)])


def unmap(alias):
    return ("unmap", ["alias", check_alias(alias)])


def lookup(key, kind="alias"):
    """kind "alias" or "aliased": key "" is the calling client itself."""
    _choice(kind, LOOKUP_TYPES, "lookup type")
    if kind[0] == "a":
        if key != "":
            check_alias(key)
    else:
        check_key(key, "RID" if kind == "owner" else "share code")
    return ("lookup", [kind, key])


def share(spec, options=None):
    return ("share", [resource(spec), _options(options)])


def _code_call(procedure, codetype, code):
    _choice(codetype, CODE_TYPES, "code type")
    return (procedure, [codetype, check_key(code, "code")])


def revoke(codetype, code):
    return _code_call("revoke", codetype, code)


def activate(codetype, code):
    return _code_call("activate", codetype, code)


def deactivate(codetype, code):
    return _code_call("deactivate", codetype, code)


def grant(spec, permissions, ttl=None):
    """permissions: {RID: ["read", "write", ...]} -> a token usable as auth."""
    if not isinstance(permissions, dict) or not permissions:
        raise ValidationError("grant permissions must be a non-empty {RID: [access, ...]}")
    for rid, access in permissions.items():
        check_key(rid, "granted RID")
        if not isinstance(access, (list, tuple)):
            raise ValidationError("grant access must be a list such as ['read']")
    options = {}
    if ttl is not None:
        options["ttl"] = _count(ttl, "ttl")
    return ("grant", [resource(spec), permissions, options])


def tag(spec, action, name):
    _choice(action, ("add", "remove"), "tag action")
    if not isinstance(name, str) or not name:
        raise ValidationError("a tag must be a non-empty string")
    return ("tag", [resource(spec), action, name])


# -- Client's methods: their argument shapes where they differ from the builders

def _self_or(spec):
    return {"alias": ""} if spec is None else spec


def _create_dataport(format="float", name="", retention_count="infinity",
                     retention_duration="infinity", **description):
    """Create a dataport with the protocol's defaults; returns its RID."""
    return create("dataport", dataport_description(
        format, name, count=retention_count, duration=retention_duration, **description))


def _info(resource=None, options=None):
    """Everything about a resource (the calling client by default)."""
    return info(_self_or(resource), options)


def _listing(types=("dataport",), resource=None, options=None):
    """{"dataport": [rid, ...], ...} for the calling client by default."""
    return listing(_self_or(resource), types, options)


def _usage(metric, starttime, endtime, resource=None):
    return usage(_self_or(resource), metric, starttime, endtime)


# Client and Batch method name -> the builder of its call.
PROCEDURES = {"create": create, "create_dataport": _create_dataport, "update": update,
              "info": _info, "listing": _listing, "drop": drop, "flush": flush, "move": move,
              "usage": _usage, "map": map, "unmap": unmap, "lookup": lookup, "share": share,
              "revoke": revoke, "activate": activate, "deactivate": deactivate,
              "grant": grant, "tag": tag}
